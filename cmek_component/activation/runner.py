"""Carries out the activation against the Cloud API: preflight, mutations, waits.

No Pulumi here: ``activation/dynamic.py`` builds an ``ActivationRunner`` per call with a client, a
``Waiter`` (real time, or a test's simulated clock) and log functions, and turns what it
returns into Pulumi outputs. Decisions come from ``activation.plan``; this module only makes
the calls, in order, with these rules for every mutation (POST, PUT, PATCH cmek, PATCH cluster):

- 400/401/403 whose message says CockroachDB Cloud could not use the KMS key or identity:
  retried until the IAM-propagation window (``iam_propagation_timeout_seconds``) has passed
  since the first such answer, then fails with the API's message;
- any other 400/401/403: fails at once with the API's message;
- 503, or an answer saying the cluster is locked: waits for the cluster to be ``CREATED``
  again, looks whether the call took effect meanwhile (another run, or an earlier attempt whose
  answer was lost, may have done it), and retries only if it did not (within
  ``wait_timeout_seconds``);
- 429: waits ``Retry-After`` (or the backoff), then retries;
- no answer or a 5xx: looks whether the call took effect (``GET``); if it did, carries on,
  otherwise retries a few times.

"Took effect" is, per call: enable, the declared keys are ENABLING or ENABLED; rotate, every
rotated region already shows the new key and is ROTATING or ENABLED (``rotation_took_effect``);
revoke, REVOKING or REVOKED; add regions, the cluster has them. The transport never resends
these calls after a connection error, so this look is the only repeat logic.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from cmek_component.activation.inputs import ActivationError, ActivationInputs
from cmek_component.activation.plan import (
    cluster_wait_needed,
    create_action,
    create_revoked_action,
    is_cluster_locked_message,
    is_kms_access_message,
    no_live_specs_problem,
    plan_update,
    preflight_problems,
    rotation_took_effect,
)
from cmek_component.activation.progress import CmekProgress, cmek_progress
from cmek_component.activation.waiting import Waiter, WaitTimeout
from cmek_component.cloud_api.client import CloudApiClient
from cmek_component.cloud_api.errors import (
    ApiConnectionError,
    CloudApiError,
    ConflictError,
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    ServerError,
    UnauthenticatedError,
    UnavailableError,
)
from cmek_component.cloud_api.models import Cluster, CmekInfo
from cmek_component.manifest.region_specs import KeySpec, RegionSpec

T = TypeVar("T")

UNANSWERED_RETRIES = 3
"""Retries of a mutation that got no answer (or a 5xx) and visibly did not take effect."""

_TRANSIENT_READ_ERRORS = (ApiConnectionError, ServerError, UnavailableError, RateLimitedError)


@dataclass
class ActivationRunner:
    """One activation operation on one cluster. ``info``/``warn`` receive user-facing lines."""

    client: CloudApiClient
    waiter: Waiter
    inputs: ActivationInputs
    info: Callable[[str], None]
    warn: Callable[[str], None]

    @property
    def cluster_id(self) -> str:
        return self.inputs.cluster_id

    # -- operations -------------------------------------------------------------------------

    def create(self) -> CmekInfo:
        """Preflight, then adopt (same keys already enabled or enabling) or POST, then wait.
        With ``revoke`` true: adopt a revoked configuration, or adopt and revoke (PATCH cmek)."""
        cluster = self._get_cluster()
        problems = preflight_problems(cluster, self.inputs, creating=True)
        if problems:
            raise ActivationError("; ".join(problems))
        if cluster_wait_needed(cluster):
            self._await_cluster_created()
        cmek = self.client.get_cmek(self.cluster_id)
        if self.inputs.revoke:
            return self._create_revoked(cmek)
        if create_action(cmek, self.inputs) == "adopt":
            assert cmek is not None
            self.info(f"cluster {self.cluster_id}: CMEK is already {cmek.status} with these keys; adopting it")
            first: CmekInfo | None = cmek
        else:
            specs = list(self.inputs.region_specs)
            first = self._mutate(
                "enable CMEK",
                lambda: self.client.enable_cmek(self.cluster_id, specs),
                took_effect=self._cmek_has_declared_keys,
            )
        return self._await_cmek("ENABLED", dict(self.inputs.specs_by_region), first)

    def _create_revoked(self, cmek: CmekInfo | None) -> CmekInfo:
        """Creating with ``revoke`` true: adopt a revoke under way or done, or adopt the declared
        keys (waiting for ENABLED while they are still enabling) and revoke them."""
        action = create_revoked_action(cmek, self.inputs)
        assert cmek is not None
        first: CmekInfo | None = cmek
        if action == "adopt":
            self.info(f"cluster {self.cluster_id}: CMEK is already {cmek.status}; adopting it (revoke: true)")
        else:
            if action == "await-enabled":
                cmek = self._await_cmek("ENABLED", dict(self.inputs.specs_by_region), cmek)
            self.info(f"cluster {self.cluster_id}: CMEK is {cmek.status} with these keys; adopting it and revoking it (revoke: true)")
            first = self._mutate(
                "revoke CMEK", lambda: self.client.revoke_cmek(self.cluster_id), took_effect=self._cmek_revoked
            )
        return self._await_cmek("REVOKED", {info.region: None for info in cmek.region_infos}, first)

    def update(self, old: ActivationInputs) -> CmekInfo:
        """Add regions (PATCH cluster), rotate (PUT), or revoke (PATCH cmek); then wait."""
        cluster = self._get_cluster()
        if cluster_wait_needed(cluster):
            cluster = self._await_cluster_created()
        cmek = self.client.get_cmek(self.cluster_id)
        plan = plan_update(old, self.inputs, cluster, cmek)
        assert cmek is not None
        if self.inputs.revoke:
            first: CmekInfo | None = cmek
            if plan.revoke:
                first = self._mutate(
                    "revoke CMEK", lambda: self.client.revoke_cmek(self.cluster_id), took_effect=self._cmek_revoked
                )
            return self._await_cmek("REVOKED", {info.region: None for info in cmek.region_infos}, first)
        latest: CmekInfo | None = cmek
        if plan.add:
            added = {spec.region: spec.key_spec for spec in plan.add}
            self.info(f"cluster {self.cluster_id}: adding regions {', '.join(sorted(added))} with their keys")
            self._mutate(
                f"add regions {', '.join(sorted(added))}",
                lambda: self.client.add_regions(self.cluster_id, plan.region_nodes, list(plan.add)),
                took_effect=lambda: self._cluster_has_regions(added),
            )
            expected: dict[str, KeySpec | None] = {info.region: None for info in cmek.region_infos}
            expected.update(added)
            latest = self._await_cmek("ENABLED", expected, None)
            self._await_cluster_created()
        if plan.rotate:
            regions = ", ".join(spec.region for spec in plan.rotate)
            self.info(f"cluster {self.cluster_id}: rotating CMEK keys in {regions}")
            before = latest
            latest = self._mutate(
                f"rotate CMEK keys in {regions}",
                lambda: self.client.update_cmek(self.cluster_id, list(plan.rotate)),
                took_effect=lambda: self._rotation_applied(before, plan.rotate),
            )
        return self._await_cmek("ENABLED", dict(self.inputs.specs_by_region), latest)

    def read(self) -> CmekInfo | None:
        """``GET cmek``: the live configuration, ``None`` when the cluster has none. A read by id
        whose answer lists no region with a key fails, saying so (``no_live_specs_problem``)."""
        try:
            cmek = self.client.get_cmek(self.cluster_id)
        except CloudApiError as exc:
            raise ActivationError(f"could not read CMEK of cluster {self.cluster_id}: {exc}") from None
        problem = None if cmek is None else no_live_specs_problem(cmek, self.inputs.region_specs, self.cluster_id)
        if problem is not None:
            raise ActivationError(problem)
        return cmek

    # -- mutations --------------------------------------------------------------------------

    def _mutate(self, what: str, call: Callable[[], T], *, took_effect: Callable[[], T | None] | None) -> T:
        """Runs one mutating call with the module's retry rules (see the module docstring).

        ``took_effect`` looks (with a GET) whether the call's effect is already there; it is
        consulted when no answer came back, and before failing on a refusal (another run may
        have done the same thing, e.g. "already enabled" with these keys)."""
        clock = self.waiter.clock
        deadline = clock() + self.inputs.wait_timeout_seconds
        delays = self.waiter.delays()
        iam = _IamWindow(self.inputs.iam_propagation_timeout_seconds)
        unanswered = 0
        while True:
            try:
                return call()
            except RateLimitedError as exc:
                self._pause(what, exc, deadline, exc.retry_after or next(delays))
            except (InvalidArgumentError, UnauthenticatedError, PermissionDeniedError, ConflictError) as exc:
                if not isinstance(exc, ConflictError) and is_kms_access_message(exc.message):
                    self._wait_for_iam(what, exc, iam, next(delays))
                elif is_cluster_locked_message(exc.message):
                    self._pause(what, exc, deadline, next(delays))
                    self._await_cluster_created()
                    result = took_effect() if took_effect is not None else None
                    if result is not None:
                        return result
                else:
                    result = took_effect() if took_effect is not None else None
                    if result is not None:
                        return result
                    raise ActivationError(f"could not {what}: {exc.message}{api_key_hint(exc)}") from None
            except UnavailableError as exc:
                self._pause(what, exc, deadline, next(delays))
                self._await_cluster_created()
                result = took_effect() if took_effect is not None else None
                if result is not None:
                    return result
            except (ApiConnectionError, ServerError) as exc:
                result = took_effect() if took_effect is not None else None
                if result is not None:
                    return result
                unanswered += 1
                if unanswered > UNANSWERED_RETRIES:
                    raise ActivationError(
                        f"could not {what}: {exc}; it did not take effect. Running the update again is safe"
                    ) from None
                self._pause(what, exc, deadline, next(delays))
            except NotFoundError as exc:
                raise ActivationError(f"could not {what}: cluster {self.cluster_id} not found: {exc.message}") from None

    def _wait_for_iam(self, what: str, exc: CloudApiError, iam: _IamWindow, delay: float) -> None:
        """One more wait inside the IAM-propagation window, or the final error once it is over."""
        now = self.waiter.clock()
        if iam.since is None:
            iam.since = iam.reported = now
            self.info(
                f"cluster {self.cluster_id}: CockroachDB Cloud cannot use the key yet ({exc.message}); "
                f"retrying for up to {iam.window:g} s while cloud IAM changes propagate"
            )
        elapsed = now - iam.since
        if elapsed >= iam.window:
            raise ActivationError(
                f"could not {what}: KMS access still failing after the IAM-propagation window "
                f"of {iam.window:g} s: {exc.message}"
            ) from None
        delay = min(delay, iam.window - elapsed)
        if iam.reported is not None and now + delay - iam.reported > self.waiter.progress_interval:
            self.info(f"cluster {self.cluster_id}: KMS access still refused after {elapsed:.0f} s of {iam.window:g} s; retrying")
            iam.reported = now
        self.waiter.sleep(delay)

    def _pause(self, what: str, exc: CloudApiError, deadline: float, delay: float) -> None:
        now = self.waiter.clock()
        if now + delay > deadline:
            raise ActivationError(
                f"could not {what} within wait_timeout_seconds={self.inputs.wait_timeout_seconds:g}: {exc}"
            ) from None
        self.waiter.sleep(delay)

    def _cmek_has_declared_keys(self) -> CmekInfo | None:
        cmek = self._read_quietly()
        if cmek is not None and create_action(cmek, self.inputs) == "adopt":
            return cmek
        return None

    def _rotation_applied(self, before: CmekInfo | None, rotated: Sequence[RegionSpec]) -> CmekInfo | None:
        cmek = self._read_quietly()
        if rotation_took_effect(before, cmek, rotated):
            self.info(f"cluster {self.cluster_id}: the rotation already took effect; not sending it again")
            return cmek
        return None

    def _cmek_revoked(self) -> CmekInfo | None:
        cmek = self._read_quietly()
        return cmek if cmek is not None and cmek.status in ("REVOKING", "REVOKED") else None

    def _cluster_has_regions(self, regions: Mapping[str, KeySpec]) -> Cluster | None:
        try:
            cluster = self.client.get_cluster(self.cluster_id)
        except CloudApiError:
            return None
        names = {region.name for region in cluster.regions}
        return cluster if set(regions) <= names else None

    def _read_quietly(self) -> CmekInfo | None:
        try:
            return self.client.get_cmek(self.cluster_id)
        except CloudApiError:
            return None

    # -- waits ------------------------------------------------------------------------------

    def _get_cluster(self) -> Cluster:
        try:
            return self.client.get_cluster(self.cluster_id)
        except NotFoundError:
            raise ActivationError(
                f"cluster_id: no cluster {self.cluster_id!r} is visible to this API key "
                "(GET /api/v1/clusters/{id} returned 404)"
            ) from None
        except CloudApiError as exc:
            raise ActivationError(f"could not read cluster {self.cluster_id}: {exc}{api_key_hint(exc)}") from None

    def _await_cluster_created(self) -> Cluster:
        def done(cluster: Cluster) -> bool:
            if cluster.state in ("CREATION_FAILED", "DELETED"):
                raise ActivationError(f"cluster {self.cluster_id}: expected state CREATED, got {cluster.state!r}")
            return cluster.state == "CREATED"

        return self._poll(
            self._get_cluster,
            done,
            what=f"waiting for cluster {self.cluster_id} to be CREATED",
            describe=lambda c: f"state {c.state}, operation {c.operation_status or 'none'}",
        )

    def _await_cmek(self, target: str, expected: dict[str, KeySpec | None], first: CmekInfo | None) -> CmekInfo:
        """Polls ``GET cmek`` until ``target`` everywhere; ``first`` (a mutation's answer, or a
        fresh GET) counts as the first poll."""
        pending: Iterator[CmekInfo | None] = iter([first] if first is not None else [])
        last: list[CmekInfo | None] = [None]
        progress: list[CmekProgress] = []

        def probe() -> CmekInfo | None:
            try:
                last[0] = next(pending)
            except StopIteration:
                try:
                    last[0] = self.client.get_cmek(self.cluster_id)
                except _TRANSIENT_READ_ERRORS as exc:
                    self.info(f"cluster {self.cluster_id}: reading CMEK status failed ({exc}); still waiting")
            return last[0]

        def done(cmek: CmekInfo | None) -> bool:
            result = cmek_progress(cmek, target, expected)
            progress[:] = [result]
            if result.failure:
                raise ActivationError(f"cluster {self.cluster_id}: {result.failure}")
            return result.done

        cmek = self._poll(
            probe,
            done,
            what=f"waiting for CMEK {target} on cluster {self.cluster_id}",
            describe=lambda _c: progress[0].summary if progress else "no status yet",
        )
        assert cmek is not None
        return cmek

    def _poll(self, probe: Callable[[], T], done: Callable[[T], bool], *, what: str, describe: Callable[[T], str]) -> T:
        try:
            return self.waiter.poll(probe, done, timeout=self.inputs.wait_timeout_seconds, what=what, describe=describe)
        except WaitTimeout as exc:
            raise ActivationError(
                f"{exc} (wait_timeout_seconds); the operation goes on in CockroachDB Cloud: "
                "run the update again to keep waiting"
            ) from None


@dataclass
class _IamWindow:
    """When KMS access was first refused during one mutation, and when that was last reported."""

    window: float
    since: float | None = None
    reported: float | None = None


def api_key_hint(exc: CloudApiError) -> str:
    """What to check when the API refused the key itself (401) or its role (403); else empty."""
    if isinstance(exc, UnauthenticatedError):
        return " (check the API key: `pulumi config set --secret cockroach:apiKey <key>` or COCKROACH_API_KEY)"
    if isinstance(exc, PermissionDeniedError):
        return " (the API key's service account needs CLUSTER_ADMIN or CLUSTER_OPERATOR_WRITER on the cluster)"
    return ""
