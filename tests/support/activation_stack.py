"""A small "engine" for the activation's gRPC tests: one plugin host, one real-time simulator,
and the Check -> Diff -> Create/Update order the Pulumi engine follows."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cmek_component.simulator import SimulatorServer, SimulatorSettings, seeds
from cmek_component.simulator.settings import default_api_keys

if TYPE_CHECKING:
    from tests.support.grpc_fixtures import ProviderHost

SECRET_API_KEY = "cc-test-SECRET-4f7d2a9be1c84035a6d1"
"""The API key of every gRPC test: distinctive, so a leak anywhere is found by a plain search."""
REALTIME_SECONDS = 0.2
WAIT_LIMIT_SECONDS = 60
"""``wait_timeout_seconds`` of the tests' inputs: a hang fails within a minute, not two hours."""


def realtime_settings(**overrides: Any) -> SimulatorSettings:
    """Short real-time delays, no rate limit, and ``SECRET_API_KEY`` as a CLUSTER_ADMIN key."""
    values: dict[str, Any] = {
        "enable_seconds": REALTIME_SECONDS,
        "rotate_seconds": REALTIME_SECONDS,
        "revoke_seconds": REALTIME_SECONDS,
        "add_region_seconds": REALTIME_SECONDS,
        "disable_seconds": REALTIME_SECONDS,
        "rate_limit_per_second": None,
        "api_keys": {**default_api_keys(), SECRET_API_KEY: "CLUSTER_ADMIN"},
    }
    values.update(overrides)
    return SimulatorSettings(**values)


def activation_props(cluster_id: str, generation: int = 1, **extra: Any) -> dict[str, Any]:
    """Inputs for a seeded cluster: every region with the seed's generation-``generation`` key."""
    props: dict[str, Any] = {
        "cluster_id": cluster_id,
        "region_specs": seeds.region_specs(cluster_id, generation),
        "wait_timeout_seconds": WAIT_LIMIT_SECONDS,
    }
    props.update(extra)
    return props


@dataclass
class ActivationStack:
    """A configured plugin and the simulator it talks to."""

    host: ProviderHost
    server: SimulatorServer
    checked: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def sim(self) -> Any:
        return self.server.simulator

    def create(self, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """Check, then Create with the checked inputs (as the engine does on ``pulumi up``)."""
        check = self.host.check({}, props)
        assert check.failures == []
        id_, outs = self.host.create(check.inputs)
        self.checked[id_] = check.inputs
        return id_, outs

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> dict[str, Any]:
        """Check against the old inputs, Diff against the old outputs, then Update."""
        check = self.host.check(self.checked[id_], news)
        assert check.failures == []
        diff = self.host.diff(id_, olds, check.inputs)
        assert diff.changes == "SOME" and diff.replaces == []
        outs = self.host.update(id_, olds, check.inputs)
        self.checked[id_] = check.inputs
        return outs

    def mutations(self) -> list[tuple[str, str]]:
        """(method, path) of every POST/PUT/PATCH the simulator answered so far."""
        return [(r.method, r.path) for r in self.sim.mutating_requests()]
