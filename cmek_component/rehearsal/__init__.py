"""Rehearsal of a stack on this machine: the real Pulumi CLI, stand-in providers, the simulator.

``cmek rehearse stacks/Pulumi.local.yaml`` runs one step of a stack's life with the real
``pulumi`` (``preview --diff``, ``up``, ``refresh``, ``destroy``) on a copy of the project under
``.rehearsal/<stack>/``, with a local file backend, the stand-in provider plugins
(``standins/``: AWS on moto in server mode, GCP on a local store) and the standalone CockroachDB
Cloud API simulator, whose world is kept between steps. Nothing leaves the machine; no cloud
account is needed. See :mod:`.runner`.
"""

from __future__ import annotations

from .errors import RehearsalError
from .report import RehearsalReport
from .runner import RehearsalOptions, rehearse
from .simulator_process import Timings

__all__ = ["RehearsalError", "RehearsalOptions", "RehearsalReport", "Timings", "rehearse"]
