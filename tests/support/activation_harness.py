"""The activation provider run in this process on the simulator's simulated clock.

``SimulatedActivation`` configures a ``CmekActivationProvider`` exactly like the plugin host
does (``configure()`` with stack config) and swaps the provider's runtime
(``activation.use_runtime``) so that every wait of the provider and of its API client advances
the simulator's ``ManualClock`` instead of sleeping. Simulated minutes therefore take
milliseconds, and figures such as "GET requests during a 10-minute enable" are exact.

``measure_simulated_enable`` is the benchmark of a long enable (used by a test, and meant to be
called from ``benchmarks/``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pulumi.dynamic import Config, ConfigureRequest

from cmek_component.activation.dynamic import CmekActivationProvider, ProviderRuntime, use_runtime
from cmek_component.activation.waiting import TERRAFORM_SCHEDULE, poll_times
from cmek_component.cloud_api.client import CloudApiClient
from cmek_component.cloud_api.models import CmekInfo


class _TimedClient(CloudApiClient):
    """A client that notes the simulated time of each POST (to measure delays after it)."""

    post_times: list[float]
    now: Callable[[], float]

    def enable_cmek(self, cluster_id: str, region_specs: Any) -> CmekInfo:
        self.post_times.append(self.now())
        return super().enable_cmek(cluster_id, region_specs)


@dataclass
class SimulatedActivation:
    """``CmekActivationProvider`` driven in-process against ``server`` (a ``SimulatorServer``
    whose simulator runs on a ``ManualClock``)."""

    server: Any
    api_key: str
    infos: list[tuple[float, str]] = field(default_factory=list)
    """``pulumi.log.info`` lines with the simulated time they were written."""
    warnings: list[str] = field(default_factory=list)
    post_times: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.provider = CmekActivationProvider()
        config = {"cockroach:apiKey": self.api_key, "cockroach:apiUrl": self.server.url}
        self.provider.configure(ConfigureRequest(Config(config, "cmek")))
        simulator = self.server.simulator
        self.runtime = ProviderRuntime(
            clock=simulator.clock.now,
            sleep=simulator.advance,
            make_client=self._client,
            info=lambda line: self.infos.append((self.now(), line)),
            warn=self.warnings.append,
        )

    def _client(self, api_key: str | None, api_url: str | None, sleep: Callable[[float], None], clock: Callable[[], float]) -> CloudApiClient:
        client = _TimedClient(api_key, api_url, sleep=sleep, clock=clock)
        client.post_times = self.post_times
        client.now = clock
        return client

    def now(self) -> float:
        return float(self.server.simulator.clock.now())

    def create(self, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        with use_runtime(self.runtime):
            result = self.provider.create(dict(props))
        return str(result.id), dict(result.outs or {})

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> dict[str, Any]:
        with use_runtime(self.runtime):
            return dict(self.provider.update(id_, dict(olds), dict(news)).outs or {})

    def read(self, id_: str, props: dict[str, Any]) -> Any:
        with use_runtime(self.runtime):
            return self.provider.read(id_, dict(props))


@dataclass(frozen=True)
class EnableMeasurement:
    """One simulated enable: requests made and how late create noticed ENABLED."""

    enable_seconds: float
    get_requests: int
    cmek_polls: int
    seconds_after_enabled: float
    terraform_polls: int
    terraform_seconds_after_enabled: float

    def summary(self) -> str:
        return (
            f"{self.enable_seconds:g} s simulated enable: {self.get_requests} GET requests "
            f"({self.cmek_polls} GET cmek polls after the POST), create returned "
            f"{self.seconds_after_enabled:.2f} s after ENABLED; Terraform's schedule (0.5 s doubling to 10 s): "
            f"{self.terraform_polls} polls, {self.terraform_seconds_after_enabled:.2f} s after ENABLED"
        )


def measure_simulated_enable(server: Any, cluster_id: str, region_specs: list[dict[str, Any]], api_key: str) -> EnableMeasurement:
    """Creates an activation on ``server`` (its ``enable_seconds`` set by the caller) and
    measures GET requests and the delay between ENABLED and the end of create.

    Terraform's figures are computed from its schedule for the same enable duration: a first
    poll right after the POST, then 0.5, 1, 2, 4, 8, 10, 10 ... seconds.
    """
    simulator = server.simulator
    enable_seconds = float(simulator.settings.enable_seconds)
    before = len(simulator.requests)
    activation = SimulatedActivation(server, api_key)
    activation.create({"cluster_id": cluster_id, "region_specs": region_specs})
    finished = activation.now()
    requests = simulator.requests[before:]
    gets = [r for r in requests if r.method == "GET"]
    post_index = next(i for i, r in enumerate(requests) if r.method == "POST")
    polls = [r for r in requests[post_index + 1 :] if r.method == "GET" and r.path.endswith("/cmek")]
    enabled_at = activation.post_times[0] + enable_seconds
    terraform = poll_times(TERRAFORM_SCHEDULE, enable_seconds)
    return EnableMeasurement(
        enable_seconds=enable_seconds,
        get_requests=len(gets),
        cmek_polls=len(polls),
        seconds_after_enabled=finished - enabled_at,
        terraform_polls=len(terraform),
        terraform_seconds_after_enabled=terraform[-1] - enable_seconds,
    )

