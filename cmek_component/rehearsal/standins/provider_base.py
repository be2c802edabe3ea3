"""What every stand-in provider does the same way, on ``pulumi.provider.experimental``.

A stand-in serves a fixed list of resource types (:class:`ResourceKind`) and invokes; any other
type or invoke is refused with a message naming it. For each resource:

- ``check`` is pure: it fills in the autonamed property as Pulumi does (``<logical name>-`` and 7
  random lowercase hex digits, from the engine's random seed, so preview and update agree; an
  existing resource keeps its name);
- ``diff`` is pure: each input compared with the state; a changed input listed in
  ``ResourceKind.replace_on`` (the real provider's replace-on-change properties) is a replacement;
  an optional input the provider computes (``ResourceKind.computed``) that is no longer set is no
  change, as with the real providers;
- ``create``/``update`` with ``preview=True`` answer with the planned outputs (the inputs, and
  unknowns for what the backend would compute) and never call the backend;
- otherwise the subclass's ``apply_*`` methods call the backend (in a worker thread).

Secret inputs give secret outputs of the same name.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pulumi.provider.experimental.property_value import PropertyValue
from pulumi.provider.experimental.provider import (
    CheckRequest,
    CheckResponse,
    ConfigureRequest,
    ConfigureResponse,
    CreateRequest,
    CreateResponse,
    DeleteRequest,
    DiffRequest,
    DiffResponse,
    InvokeRequest,
    InvokeResponse,
    PropertyDiff,
    PropertyDiffKind,
    Provider,
    ReadRequest,
    ReadResponse,
    UpdateRequest,
    UpdateResponse,
)

from cmek_component.plugin.property_values import UNKNOWN, contains_unknown, plain_map, property_map

from ..errors import RehearsalError
from .applied import Applied


@dataclass(frozen=True)
class ResourceKind:
    """One resource type a stand-in serves."""

    token: str
    """``aws:kms/key:Key``."""
    replace_on: tuple[str, ...] = ()
    """Inputs whose change the real provider answers with a replacement."""
    computed: tuple[str, ...] = ()
    """Outputs the provider computes (some also optional inputs): unknown in a preview's create."""
    autoname: tuple[str, int] | None = None
    """(property, maximum length) Pulumi fills in when the program leaves it out."""
    autoname_unless: tuple[str, ...] = ()
    """Inputs that turn autonaming off (``namePrefix``)."""


def autoname(logical_name: str, seed: bytes, limit: int) -> str:
    """Pulumi's auto-name: ``<logical name>-<7 random lowercase hex digits>``."""
    suffix = hashlib.sha256(seed or logical_name.encode()).hexdigest()[:7]
    return f"{logical_name[: limit - len(suffix) - 1]}-{suffix}"


def _same(old: Any, new: Any) -> bool:
    if isinstance(old, float | int) and isinstance(new, float | int) and not isinstance(old, bool):
        return float(old) == float(new)
    return bool(old == new)


def changed_properties(kind: ResourceKind, old_state: Mapping[str, Any], news: Mapping[str, Any]) -> list[str]:
    """Inputs whose value differs from the state, and inputs the program no longer sets."""
    changed = [key for key, value in news.items() if contains_unknown(value) or not _same(old_state.get(key), value)]
    for key, value in old_state.items():
        if key in news or key in kind.computed or value in (None, "", [], {}):
            continue
        changed.append(key)
    return sorted(set(changed))


class StandinProvider(Provider):
    """A stand-in provider: ``kinds`` and ``invokes`` it serves, ``apply_*`` for the backend."""

    package = ""
    kinds: Mapping[str, ResourceKind] = {}
    invokes: tuple[str, ...] = ()

    def __init__(self) -> None:
        self.config: dict[str, Any] = {}

    # ------------------------------------------------------------------ backend (subclasses)

    def apply_create(self, kind: ResourceKind, name: str, urn: str, inputs: dict[str, Any]) -> Applied:
        raise NotImplementedError

    def apply_update(self, kind: ResourceKind, id_: str, olds: dict[str, Any], news: dict[str, Any],
                     changed: list[str]) -> Applied:
        raise NotImplementedError

    def apply_delete(self, kind: ResourceKind, id_: str, state: dict[str, Any]) -> None:
        raise NotImplementedError

    def apply_invoke(self, token: str, args: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def apply_read(self, kind: ResourceKind, id_: str, inputs: dict[str, Any], state: dict[str, Any]) -> Applied | None:
        """The resource as the backend holds it (``None``: gone); default: the state unchanged."""
        return Applied(id_, state)

    # ------------------------------------------------------------------ engine methods

    def kind(self, token: str) -> ResourceKind:
        """The kind of a request's type (the SDK's ``request.type`` keeps the parents' types in
        front, ``parent$aws:iam/role:Role``: the resource's own is the last)."""
        token = token.rsplit("$", 1)[-1]
        found = self.kinds.get(token)
        if found is None:
            raise RehearsalError(
                f"the {self.package} stand-in provider does not serve the resource type {token} "
                f"(it serves {', '.join(sorted(self.kinds))}); add it in cmek_component/rehearsal/standins"
            )
        return found

    async def configure(self, request: ConfigureRequest) -> ConfigureResponse:
        self.config, _ = plain_map(request.args)
        return ConfigureResponse(accept_secrets=True, supports_preview=True)

    async def check(self, request: CheckRequest) -> CheckResponse:
        kind = self.kind(request.type)
        olds, _ = plain_map(request.old_inputs)
        news = dict(request.new_inputs)
        if kind.autoname is not None:
            prop, limit = kind.autoname
            if news.get(prop, PropertyValue.null()).value is None and not any(
                news.get(key, PropertyValue.null()).value is not None for key in kind.autoname_unless
            ):
                name = olds.get(prop) if isinstance(olds.get(prop), str) else None
                news[prop] = PropertyValue(name or autoname(request.name, request.random_seed, limit))
        return CheckResponse(inputs=news)

    async def diff(self, request: DiffRequest) -> DiffResponse:
        kind = self.kind(request.type)
        olds, _ = plain_map(request.old_state)
        news, _ = plain_map(request.new_inputs)
        for key in request.ignore_changes:
            top = key.split(".", 1)[0].split("[", 1)[0]
            if top in olds:
                news[top] = olds[top]
        changed = changed_properties(kind, olds, news)
        replaces = [key for key in changed if key in kind.replace_on]
        detailed = {
            key: PropertyDiff(
                PropertyDiffKind.UPDATE_REPLACE if key in replaces else PropertyDiffKind.UPDATE, input_diff=True
            )
            for key in changed
        }
        return DiffResponse(changes=bool(changed), replaces=replaces, diffs=changed, detailed_diff=detailed)

    async def create(self, request: CreateRequest) -> CreateResponse:
        kind = self.kind(request.type)
        inputs, secret = plain_map(request.properties)
        if request.preview:
            planned = {**{key: UNKNOWN for key in kind.computed if inputs.get(key) is None}, **inputs}
            return CreateResponse(resource_id="", properties=property_map(planned, secret))
        applied = await self._backend(self.apply_create, kind, request.name, request.urn, inputs)
        return CreateResponse(resource_id=applied.id, properties=property_map(applied.outputs, secret))

    async def update(self, request: UpdateRequest) -> UpdateResponse:
        kind = self.kind(request.type)
        olds, _ = plain_map(request.olds)
        news, secret = plain_map(request.news)
        if request.preview:
            return UpdateResponse(properties=property_map({**olds, **news}, secret))
        changed = changed_properties(kind, olds, news)
        applied = await self._backend(self.apply_update, kind, request.resource_id, olds, news, changed)
        return UpdateResponse(properties=property_map(applied.outputs, secret))

    async def delete(self, request: DeleteRequest) -> None:
        kind = self.kind(request.type)
        state, _ = plain_map(request.properties)
        await self._backend(self.apply_delete, kind, request.resource_id, state)

    async def read(self, request: ReadRequest) -> ReadResponse:
        """``pulumi refresh``: outputs and inputs as the backend holds them; an empty id when gone."""
        kind = self.kind(request.type)
        state, secret = plain_map(request.properties)
        inputs, input_secret = plain_map(request.inputs)
        found = await self._backend(self.apply_read, kind, request.resource_id, inputs or state, state)
        if found is None:
            return ReadResponse(resource_id="")
        refreshed = {key: found.outputs.get(key, value) for key, value in inputs.items()}
        return ReadResponse(resource_id=found.id, properties=property_map(found.outputs, secret),
                            inputs=property_map(refreshed, input_secret))

    async def invoke(self, request: InvokeRequest) -> InvokeResponse:
        if request.tok not in self.invokes:
            raise RehearsalError(
                f"the {self.package} stand-in provider does not serve the invoke {request.tok} "
                f"(it serves {', '.join(sorted(self.invokes))})"
            )
        args, _ = plain_map(request.args)
        result = await self._backend(self.apply_invoke, request.tok, args)
        return InvokeResponse(return_value=property_map(result))

    async def _backend(self, method: Any, *args: Any) -> Any:
        """A backend call in a worker thread (boto3 and file I/O block)."""
        return await asyncio.to_thread(method, *args)
