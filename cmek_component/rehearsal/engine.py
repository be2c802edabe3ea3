"""A tiny deployment engine behind ``pulumi.runtime.set_mocks``.

The real stack program registers its resources with the Pulumi SDK as under ``pulumi up``; a
``MockMonitor`` subclass receives every registration (with its options: parent, provider,
dependencies, ``protect``, ``retain_on_delete``, ``ignore_changes``) and hands it to
``Engine.register``, which does what the Pulumi engine does for one resource:

1. compare the new inputs with the inputs recorded in the state file for the same URN
   (``ignore_changes`` applied first); for ``CmekActivation`` this is the real provider's
   ``Check`` (olds = previous inputs) and ``Diff`` (olds = previous outputs) over gRPC;
2. decide the operation: create, update, replace (an input the provider cannot change in place)
   or same;
3. in a preview, stop there: unchanged resources answer with their recorded outputs, others
   with their inputs only, so values the cloud would compute stay unknown downstream, as in
   ``pulumi preview``; no stand-in receives a mutating call;
4. otherwise apply it through the stand-in (moto, the GCP validator, the dynamic provider host
   against the Cloud API simulator) and answer with the outputs, which flow back into the
   program like real outputs.

Resources in the state that the program no longer registers are deleted afterwards, in reverse
order (or only forgotten when ``retain_on_delete``); replaced resources are deleted the same way
after their replacements exist (Pulumi's create-before-delete).

Registrations arrive on the SDK's executor thread; the run pins that executor to one worker, so
resources are handled one at a time in a deterministic order.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.output import Unknown
from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockCallArgs, MockMonitor, MockResourceArgs, Mocks
from pulumi.runtime.proto import resource_pb2
from pulumi.runtime.sync_await import _ensure_event_loop, _sync_await

from cmek_component.last_update import READ_STACK_OUTPUTS

from . import aws_world, gcp_world
from .aws_world import Applied, AwsWorld
from .dynamic_host import DynamicProviderHost
from .errors import RehearsalError
from .gcp_world import GcpWorld
from .plan import DONE, SYMBOLS, PlanStep, changed_keys, contains_unknown, short_type
from .state import ResourceState, StackState, reveal

DYNAMIC_PREFIX = "pulumi-python:dynamic"
ORGANIZATION = "organization"
"""The organization the program is told it runs in (what a self-managed backend reports)."""
PROVIDER_PREFIX = "pulumi:providers:"
PROVIDER_KEY = "__provider"


@dataclass
class Registration:
    """One ``RegisterResource`` request, decoded."""

    urn: str
    type: str
    name: str
    custom: bool
    inputs: dict[str, Any]
    parent: str = ""
    provider: str = ""
    dependencies: list[str] = field(default_factory=list)
    protect: bool = False
    retain_on_delete: bool = False
    ignore_changes: list[str] = field(default_factory=list)
    delete_before_replace: bool = False


def _unknown_to_sentinel(value: Any) -> Any:
    if isinstance(value, Unknown):
        return rpc.UNKNOWN
    if isinstance(value, dict):
        return {k: _unknown_to_sentinel(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unknown_to_sentinel(v) for v in value]
    return value


class RehearsalMonitor(MockMonitor):
    """A ``MockMonitor`` that keeps unknowns (previews) and resource options, and hands every
    registration to the ``Engine``."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        self.engine = engine

    def RegisterResource(self, request: Any) -> Any:
        urn = self.make_urn(request.parent, request.type, request.name)
        if request.type == "pulumi:pulumi:Stack":
            return resource_pb2.RegisterResourceResponse(urn=urn)
        _ensure_event_loop()
        registration = Registration(
            urn=urn,
            type=request.type,
            name=request.name,
            custom=bool(request.custom),
            inputs=dict(rpc.deserialize_properties(request.object, keep_unknowns=True)),
            parent=request.parent,
            provider=request.provider,
            dependencies=sorted(request.dependencies),
            protect=bool(request.protect),
            retain_on_delete=bool(request.retainOnDelete),
            ignore_changes=list(request.ignoreChanges),
            delete_before_replace=bool(request.deleteBeforeReplace),
        )
        id_, state = self.engine.register(registration)
        state = _unknown_to_sentinel(state)
        obj_proto = _sync_await(rpc.serialize_properties(state, {}))
        self.resources[urn] = MockMonitor.ResourceRegistration(urn, id_, state)
        return resource_pb2.RegisterResourceResponse(urn=urn, id=id_, object=obj_proto)


Watch = Callable[[Registration], AbstractContextManager[None]]
"""Called around a long provider operation (the activation); prints progress while it runs."""


class Engine(Mocks):
    """Plans and (unless ``preview``) applies each registered resource; see the module docstring."""

    def __init__(
        self,
        *,
        prior: StackState,
        preview: bool,
        aws: Callable[[], AwsWorld],
        gcp: Callable[[], GcpWorld],
        dynamic: Callable[[], DynamicProviderHost],
        config: Mapping[str, Any],
        out: Callable[[str], None],
        watch: Watch | None = None,
        checkpoint: Callable[[StackState], None] | None = None,
    ) -> None:
        self.prior = prior
        self.prior_by_urn = prior.by_urn()
        self.preview = preview
        self._aws = aws
        self._gcp = gcp
        self._dynamic = dynamic
        self.config = dict(config)
        self.out = out
        self.watch = watch
        self.checkpoint = checkpoint
        self.steps: list[PlanStep] = []
        self.registered: dict[str, ResourceState] = {}
        self.replaced: list[ResourceState] = []
        self.invokes: list[str] = []
        self.errors: list[str] = []
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ Mocks API

    def call(self, args: MockCallArgs) -> Any:
        with self._lock:
            token = args.token
            self.invokes.append(token)
            if token == READ_STACK_OUTPUTS:
                return self._read_stack_outputs(str(args.args.get("name", "")))
            try:
                if token.startswith("aws:"):
                    return self._aws().invoke(token, args.args)
                if token.startswith("gcp:"):
                    return self._gcp().invoke(token, args.args)
            except RehearsalError as error:
                self.errors.append(str(error))
                raise
            missing = RehearsalError(f"the rehearsal has no stand-in for the invoke {token}")
            self.errors.append(str(missing))
            raise missing

    def _read_stack_outputs(self, name: str) -> Any:
        """The engine's ``readStackOutputs`` for this stack: its outputs as of the last run
        (what the state file holds; secrets stay sealed). Another stack's name fails the invoke."""
        own = {self.prior.stack, f"{ORGANIZATION}/{self.prior.project}/{self.prior.stack}"}
        if name not in own:
            return {}, [("name", f"the rehearsal reads only its own stack's outputs, not {name!r}")]
        return {"name": name, "outputs": dict(self.prior.outputs), "secretOutputNames": []}

    def new_resource(self, args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
        raise RehearsalError(f"{args.typ} {args.name}: reading existing resources (get/import) is not rehearsed")

    # ------------------------------------------------------------------ registration

    def register(self, reg: Registration) -> tuple[str, dict[str, Any]]:
        with self._lock:
            try:
                return self._register(reg)
            except RehearsalError as error:
                self.errors.append(str(error))
                raise
            except Exception as error:
                self.errors.append(f"{reg.name}: {type(error).__name__}: {error}")
                raise

    def _register(self, reg: Registration) -> tuple[str, dict[str, Any]]:
        old = self.prior_by_urn.get(reg.urn)
        inputs = dict(reg.inputs)
        if old is not None:
            for key in reg.ignore_changes:
                top = key.split(".", 1)[0].split("[", 1)[0]
                if top in old.inputs:
                    inputs[top] = old.inputs[top]
                else:
                    inputs.pop(top, None)
        if not reg.custom:
            return self._component(reg, old, inputs)
        if reg.type.startswith(PROVIDER_PREFIX):
            return self._provider(reg, old, inputs)
        if reg.type.startswith(DYNAMIC_PREFIX):
            return self._dynamic_resource(reg, old, inputs)
        if reg.type in aws_world.RESOURCE_TYPES or reg.type in gcp_world.RESOURCE_TYPES:
            return self._cloud_resource(reg, old, inputs)
        raise RehearsalError(
            f"{reg.name}: the rehearsal has no stand-in for resource type {reg.type} "
            "(add one in cmek_component/rehearsal)"
        )

    def _record(self, reg: Registration, id_: str, inputs: dict[str, Any], outputs: dict[str, Any]) -> None:
        self.registered[reg.urn] = ResourceState(
            urn=reg.urn,
            type=reg.type,
            name=reg.name,
            custom=reg.custom,
            id=id_,
            inputs=inputs,
            outputs=outputs,
            parent=reg.parent,
            provider=reg.provider,
            dependencies=reg.dependencies,
            protect=reg.protect,
            retain_on_delete=reg.retain_on_delete,
        )
        if not self.preview and self.checkpoint is not None:
            self.checkpoint(self.partial_state())

    def partial_state(self) -> StackState:
        """What the state file holds mid-run: every resource handled so far, then the previous
        ones not yet met (so an interrupted run still knows everything it owns)."""
        resources = list(self.registered.values())
        resources += [r for r in self.prior.resources if r.urn not in self.registered]
        resources += [r for r in self.replaced if r not in resources]
        return StackState(self.prior.project, self.prior.stack, resources, self.prior.outputs)

    def _step(self, step: PlanStep) -> None:
        self.steps.append(step)

    def _done(self, step: PlanStep, started: float) -> None:
        if self.preview or step.op == "same":
            return
        note = f"  {step.note}" if step.note else ""
        self.out(f"  {SYMBOLS[step.op]:2} {short_type(step.type)}  {step.name}  {DONE[step.op]} "
                 f"({time.monotonic() - started:.1f}s){note}")

    # --- components and providers

    def _component(self, reg: Registration, old: ResourceState | None, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        self._step(PlanStep("same" if old else "create", reg.urn, reg.type, reg.name))
        self._record(reg, "", inputs, {})
        return "", {}

    def _provider(self, reg: Registration, old: ResourceState | None, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        changes = changed_keys(reveal(old.inputs), reveal(inputs)) if old else []
        op = "create" if old is None else ("update" if changes else "same")
        id_ = old.id if old else str(uuid.uuid5(uuid.NAMESPACE_URL, reg.urn))
        self._step(PlanStep(op, reg.urn, reg.type, reg.name, changes))
        self._record(reg, id_, inputs, inputs)
        return id_, inputs

    # --- AWS and GCP resources

    def _region(self, typ: str, inputs: Mapping[str, Any], provider: str) -> str:
        if inputs.get("region") and not contains_unknown(inputs.get("region")):
            return str(inputs["region"])
        provider_urn = provider.rsplit("::", 1)[0] if "::" in provider else ""  # "<urn>::<id>"
        provider_state = self.registered.get(provider_urn) or self.prior_by_urn.get(provider_urn)
        if provider_state is not None and provider_state.inputs.get("region"):
            return str(provider_state.inputs["region"])
        namespace = "aws" if typ.startswith("aws:") else "gcp"
        return str(self.config.get(f"{namespace}:region") or ("us-east-1" if namespace == "aws" else ""))

    def _cloud_resource(self, reg: Registration, old: ResourceState | None, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        is_aws = reg.type.startswith("aws:")
        replace_on = (aws_world.REPLACE_ON if is_aws else gcp_world.REPLACE_ON).get(reg.type, ())
        if old is None:
            step = PlanStep("create", reg.urn, reg.type, reg.name)
        else:
            changes = changed_keys(reveal(old.inputs), reveal(inputs))
            replaces = [key for key in changes if key in replace_on]
            op = "replace" if replaces else ("update" if changes else "same")
            step = PlanStep(op, reg.urn, reg.type, reg.name, changes, replaces)
        self._step(step)
        if step.op == "same":
            assert old is not None
            self._record(reg, old.id, inputs, old.outputs)
            return old.id, old.outputs
        if self.preview:
            known = dict(inputs)
            if step.op == "update":
                assert old is not None
                known = {**old.outputs, **inputs}
            id_ = old.id if old and step.op == "update" else ""
            self._record(reg, id_, inputs, known)
            return id_, known
        started = time.monotonic()
        plain = reveal(inputs)
        region = self._region(reg.type, plain, reg.provider)
        if step.op == "create" or step.op == "replace":
            if is_aws:
                applied = self._aws().create(reg.type, reg.name, reg.urn, plain, region)
            else:
                applied = self._gcp().create(reg.type, reg.name, plain)
            if step.op == "replace" and old is not None:
                self.replaced.append(old)
        else:
            assert old is not None
            if is_aws:
                applied = self._aws().update(reg.type, old.id, reveal(old.inputs), old.outputs, plain, region, step.changes)
            else:
                applied = self._gcp().update(reg.type, old.id, reveal(old.inputs), plain, step.changes)
        outputs = _reseal(applied, inputs)
        self._record(reg, applied.id, inputs, outputs)
        self._done(step, started)
        return applied.id, outputs

    # --- dynamic resources (CmekActivation)

    def _dynamic_resource(self, reg: Registration, old: ResourceState | None, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        host = self._dynamic()
        olds = reveal(old.inputs) if old else {}
        checked, failures = host.check(reg.urn, olds, reveal(inputs))
        if failures:
            raise RehearsalError(f"{reg.name}: the provider refused the inputs: " + "; ".join(failures))
        if old is None:
            step = PlanStep("create", reg.urn, reg.type, reg.name)
        else:
            diff = host.diff(reg.urn, old.id, reveal(old.outputs), checked)
            changes = changed_keys(reveal(old.inputs), checked)
            if diff.changes == "none":
                step = PlanStep("same", reg.urn, reg.type, reg.name)
            elif diff.replaces:
                step = PlanStep("replace", reg.urn, reg.type, reg.name, sorted(set(changes) | set(diff.replaces)),
                                list(diff.replaces))
            elif diff.changes == "some" or changes:
                step = PlanStep("update", reg.urn, reg.type, reg.name, changes)
            else:
                step = PlanStep("same", reg.urn, reg.type, reg.name)
        self._step(step)
        if step.op == "same":
            assert old is not None
            self._record(reg, old.id, old.inputs, old.outputs)
            return old.id, old.outputs
        if self.preview:
            # The python dynamic provider does not support preview: the engine answers with the
            # checked inputs, so its computed outputs are unknown downstream.
            id_ = old.id if old and step.op == "update" else ""
            self._record(reg, id_, checked, checked)
            return id_, checked
        started = time.monotonic()
        verb = {"create": "creating", "update": "updating", "replace": "replacing"}[step.op]
        self.out(f"  {SYMBOLS[step.op]:2} {short_type(reg.type)}  {reg.name}  {verb}...")
        with self.watch(reg) if self.watch else nullcontext():
            if step.op == "update":
                assert old is not None
                id_ = old.id
                outputs = host.update(reg.urn, old.id, reveal(old.outputs), checked)
            else:
                if step.op == "replace" and old is not None:
                    self.replaced.append(old)
                id_, outputs = host.create(reg.urn, checked)
        self._record(reg, id_, checked, outputs)
        self._done(step, started)
        return id_, outputs

    # ------------------------------------------------------------------ deletes

    def plan_deletes(self, destroying: bool = False) -> list[tuple[PlanStep, ResourceState]]:
        """Resources to delete or retain after the program ran (or all of them on destroy), in
        reverse registration order: dependents before what they depend on."""
        gone = [r for r in self.prior.resources if destroying or r.urn not in self.registered]
        gone = list(reversed(gone))
        gone += list(reversed(self.replaced))
        planned: list[tuple[PlanStep, ResourceState]] = []
        for resource in gone:
            op = "retain" if resource.retain_on_delete else "delete"
            note = ""
            if resource in self.replaced:
                note = "replaced: the old one"
            planned.append((PlanStep(op, resource.urn, resource.type, resource.name, note=note), resource))
        return planned

    def apply_deletes(self, planned: list[tuple[PlanStep, ResourceState]]) -> None:
        protected = [r.name for step, r in planned if step.op == "delete" and r.protect]
        if protected:
            raise RehearsalError(
                "refusing to delete protected resources (protect=True): " + ", ".join(protected)
                + "; set protect to false first, as `pulumi destroy` requires"
            )
        for step, resource in planned:
            self._step(step)
            if self.preview:
                continue
            started = time.monotonic()
            if step.op == "delete":
                note = self._delete(resource)
                if note:
                    step.note = note
            self._done(step, started)
            self._forget(resource)

    def _forget(self, resource: ResourceState) -> None:
        if resource in self.replaced:
            self.replaced.remove(resource)
        self.prior.resources = [r for r in self.prior.resources if r is not resource]
        self.prior_by_urn = self.prior.by_urn()
        if self.checkpoint is not None:
            self.checkpoint(self.partial_state())

    def _delete(self, resource: ResourceState) -> str:
        if not resource.custom or resource.type.startswith(PROVIDER_PREFIX):
            return ""
        if resource.type.startswith(DYNAMIC_PREFIX):
            self._dynamic().delete(resource.urn, resource.id, reveal(resource.outputs))
            return ""
        if resource.type in aws_world.RESOURCE_TYPES:
            region = self._region(resource.type, resource.inputs, resource.provider)
            self._aws().delete(resource.type, resource.id, resource.outputs, region)
            return ""
        if resource.type in gcp_world.RESOURCE_TYPES:
            result = self._gcp().delete(resource.type, resource.id, resource.outputs)
            return "" if result == "deleted" else result
        raise RehearsalError(f"{resource.name}: the rehearsal cannot delete resource type {resource.type}")

    # ------------------------------------------------------------------ result

    def final_state(self, outputs: dict[str, Any]) -> StackState:
        resources = list(self.registered.values())
        return StackState(self.prior.project, self.prior.stack, resources, outputs)


def _reseal(applied: Applied, inputs: Mapping[str, Any]) -> dict[str, Any]:
    """Outputs with the secret-ness of same-named inputs restored (what the engine does)."""
    outputs = dict(applied.outputs)
    for key, value in inputs.items():
        if isinstance(value, dict) and value.get(rpc._special_sig_key) == rpc._special_secret_sig:
            outputs[key] = value
    return outputs


def stack_outputs(root: pulumi.Resource | None) -> dict[str, Any]:
    """The stack's exports, resolved (secret ones wrapped as secrets, unknown ones as Unknown)."""
    if root is None:
        return {}
    exported: dict[str, Any] = getattr(root, "outputs", {}) or {}
    resolved: dict[str, Any] = {}
    for name, value in exported.items():
        output = pulumi.Output.from_input(value)
        known = _sync_await(output.is_known())
        if not known:
            resolved[name] = Unknown()
            continue
        plain = _sync_await(output.future())
        if _sync_await(output.is_secret()):
            plain = {rpc._special_sig_key: rpc._special_secret_sig, "value": plain}
        resolved[name] = plain
    return resolved
