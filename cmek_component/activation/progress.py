"""Whether a CMEK wait is done, failed or still pending, from one ``GET cmek`` answer.

Pure logic: no Pulumi, no network. ``ActivationRunner`` polls ``GET cmek`` and asks
``cmek_progress`` after each answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from cmek_component.activation.plan import enabled_specs
from cmek_component.cloud_api.models import CmekInfo, KeyInfo, RegionInfo
from cmek_component.manifest.region_specs import KeySpec

__all__ = ["CmekProgress", "cmek_progress"]


@dataclass(frozen=True)
class CmekProgress:
    """One look at ``GET cmek`` during a wait."""

    done: bool
    failure: str | None
    summary: str


def _user_message(info: RegionInfo) -> str | None:
    keys: list[KeyInfo] = list(info.key_infos)
    current = info.current_key
    if current is not None:
        keys.insert(0, current)
    for key in keys:
        if key.user_message:
            return key.user_message
    return None


def cmek_progress(cmek: CmekInfo | None, target: str, expected: Mapping[str, KeySpec | None]) -> CmekProgress:
    """Whether CMEK reached ``target`` (``ENABLED`` or ``REVOKED``) in the cluster and in every
    region of ``expected``; for ENABLED, each region's ENABLED key must have the expected spec
    (``None``: any). Any ``*_FAILED`` status is a failure carrying the region's
    ``user_message``. An empty ``region_infos`` is never success."""
    if cmek is None:
        return CmekProgress(False, None, "no CMEK configuration reported yet")
    parts = [f"cluster {cmek.status or 'UNKNOWN'}"]
    by_region = {info.region: info for info in cmek.region_infos}
    for info in cmek.region_infos:
        if info.status.endswith("_FAILED"):
            message = _user_message(info) or "the API gave no user_message"
            return CmekProgress(False, f"CMEK {info.status} in region {info.region}: {message}", "")
    if cmek.status.endswith("_FAILED"):
        return CmekProgress(False, f"CMEK {cmek.status} on the cluster (no region reports a failure)", "")
    done = bool(cmek.region_infos) and cmek.status == target
    enabled = enabled_specs(cmek)
    for region in sorted(set(expected) | set(by_region)):
        reported = by_region.get(region)
        if reported is None:
            parts.append(f"{region} not reported yet")
            done = False
            continue
        parts.append(f"{region} {reported.status or 'UNKNOWN'}")
        if region not in expected:
            continue
        if reported.status != target:
            done = False
        wanted = expected[region]
        if target == "ENABLED" and wanted is not None and enabled.get(region) != wanted:
            done = False
    if not cmek.region_infos:
        parts.append("no region reported yet")
    return CmekProgress(done, None, ", ".join(parts))
