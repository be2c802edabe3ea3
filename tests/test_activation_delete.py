"""The activation's delete: no API call, and a warning that says what stays on the cluster."""

from __future__ import annotations

from cmek_component.activation.dynamic import CmekActivationProvider, ProviderRuntime, use_runtime
from cmek_component.simulator import seeds


def _not_called(*_: object) -> None:
    raise AssertionError("delete made an API client")


def delete_warnings(props: dict[str, object]) -> list[str]:
    """The warnings of ``CmekActivationProvider.delete`` for a state ``props``; no client may be made."""
    warnings: list[str] = []
    with use_runtime(ProviderRuntime(make_client=_not_called, warn=warnings.append)):
        CmekActivationProvider().delete(seeds.AWS_SINGLE, props)
    return warnings


def test_deleting_an_enabled_activation_warns_that_cmek_stays_enabled() -> None:
    [warning] = delete_warnings({"cluster_id": seeds.AWS_SINGLE, "revoke": False, "status": "ENABLED"})
    assert warning.startswith(f"CmekActivation: CMEK stays enabled on cluster {seeds.AWS_SINGLE}: ")


def test_deleting_a_revoked_activation_says_cmek_stays_revoked_not_enabled() -> None:
    for props in ({"revoke": True, "status": "REVOKED"}, {"revoke": False, "status": "REVOKED"},
                  {"revoke": True, "status": "REVOKING"}):
        [warning] = delete_warnings({"cluster_id": seeds.AWS_SINGLE, **props})
        assert warning.startswith(
            f"CmekActivation: CMEK stays revoked on cluster {seeds.AWS_SINGLE} (status {props['status']}): "
        )
        assert "enabled" not in warning.split("re-enable")[0]
