"""Offline rehearsal of a stack: the real program, Pulumi's Python runtime, embedded stand-ins.

``cmek rehearse stacks/Pulumi.local.yaml`` runs the stack program under
``pulumi.runtime.set_mocks`` with a small engine (:mod:`.engine`) that plans each resource
against the previous run's state file and applies it: AWS resources to moto, GCP resources to
an offline validator, ``CmekActivation`` through the real dynamic provider host
(``python -m pulumi.dynamic`` over gRPC) against the CockroachDB Cloud API simulator. Nothing
leaves the machine; no cloud account and no Pulumi CLI are needed.
"""

from __future__ import annotations

from .cloud_world import Timings
from .errors import RehearsalError
from .plan import PlanStep
from .report import RehearsalReport
from .runner import RehearsalOptions, rehearse

__all__ = ["PlanStep", "RehearsalError", "RehearsalOptions", "RehearsalReport", "Timings", "rehearse"]
