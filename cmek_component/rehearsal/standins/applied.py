"""What a stand-in provider answers after it applies a resource: the resource id and its outputs.

Shared by the AWS, GCP and Vault stand-ins and by :mod:`.provider_base`, which turns it into the
engine's create, update and read responses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class Applied:
    """The result of a create or update: the resource id and its outputs (camelCase)."""

    id: str
    outputs: dict[str, Any]
