"""The activation's inputs: defaults, validation (``check``) and comparison (``diff``).

Pure logic: no Pulumi, no network. ``check_problems`` and ``diff_inputs`` accept an
``is_unknown`` predicate, so preview-time unknown values pass validation and count as changes
without this module knowing Pulumi's types.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cmek_component.manifest.identifiers import cluster_id_problem
from cmek_component.manifest.problems import Problem, SpecProblems, shown
from cmek_component.manifest.region_specs import KeySpec, RegionSpec, region_specs_problems

DEFAULT_WAIT_TIMEOUT_SECONDS = 7200
DEFAULT_IAM_PROPAGATION_TIMEOUT_SECONDS = 600
MAX_WAIT_TIMEOUT_SECONDS = 7 * 24 * 3600
"""Upper bound of ``wait_timeout_seconds``: one week. CMEK operations take minutes (an added
region: up to a few hours); a longer wait only keeps ``pulumi up`` hanging, and running it
again resumes the wait anyway."""
MAX_IAM_PROPAGATION_TIMEOUT_SECONDS = 24 * 3600
"""Upper bound of ``iam_propagation_timeout_seconds``: one day. IAM and KMS grants propagate in
seconds to minutes (GCP documents up to 7 minutes, usually much less); an error that lasts a
day is a missing grant, not propagation."""
TIMEOUT_LIMITS: dict[str, int] = {
    "wait_timeout_seconds": MAX_WAIT_TIMEOUT_SECONDS,
    "iam_propagation_timeout_seconds": MAX_IAM_PROPAGATION_TIMEOUT_SECONDS,
}
"""Each wait limit and its upper bound (seconds)."""
MIN_REGION_NODES = 3

INPUT_DEFAULTS: dict[str, Any] = {
    "new_region_nodes": {},
    "rotation_trigger": "",
    "revoke": False,
    "wait_timeout_seconds": DEFAULT_WAIT_TIMEOUT_SECONDS,
    "iam_propagation_timeout_seconds": DEFAULT_IAM_PROPAGATION_TIMEOUT_SECONDS,
}
INPUT_NAMES = ("cluster_id", "region_specs", *INPUT_DEFAULTS)
"""Every input of the activation, in documentation order."""

OUTPUT_NAMES = ("status", "regions", "key_history")
"""Outputs added to the inputs: live CMEK status, per-region state, per-region key history."""

IsUnknown = Callable[[object], bool]


def _never_unknown(_value: object) -> bool:
    return False


class ActivationError(Exception):
    """An activation that cannot proceed; the message says why and what to do."""


class IrreversibleRevoke(ActivationError):
    """``revoke`` set back to false: only CockroachDB support can re-enable a revoked CMEK."""


REVOKE_IRREVERSIBLE = (
    "revoke: cannot be set back to false: a revoked CMEK configuration can only be re-enabled "
    "by CockroachDB support (contact your account team or open a support ticket), got False"
)


# --------------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------------


def contains_unknown(value: object, is_unknown: IsUnknown) -> bool:
    """True if ``value`` or anything nested in it is a preview-time unknown."""
    if is_unknown(value):
        return True
    if isinstance(value, Mapping):
        return any(contains_unknown(item, is_unknown) for item in value.values())
    if isinstance(value, (list, tuple)):
        return any(contains_unknown(item, is_unknown) for item in value)
    return False


def with_defaults(props: Mapping[str, Any]) -> dict[str, Any]:
    """``props`` with every optional input that is absent or ``None`` set to its default."""
    out = dict(props)
    for name, default in INPUT_DEFAULTS.items():
        if out.get(name) is None:
            out[name] = dict(default) if isinstance(default, dict) else default
    return out


def _whole(value: object) -> int | None:
    """``value`` as an int when it is a whole number (Pulumi sends every number as a float)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


@dataclass(frozen=True)
class ActivationInputs:
    """The activation's inputs, validated, with defaults applied (see ``CmekActivationArgs``)."""

    cluster_id: str
    region_specs: tuple[RegionSpec, ...]
    new_region_nodes: Mapping[str, int] = field(default_factory=dict)
    rotation_trigger: str = ""
    revoke: bool = False
    wait_timeout_seconds: float = DEFAULT_WAIT_TIMEOUT_SECONDS
    iam_propagation_timeout_seconds: float = DEFAULT_IAM_PROPAGATION_TIMEOUT_SECONDS

    @classmethod
    def from_props(cls, props: Mapping[str, Any]) -> ActivationInputs:
        """Parses known (non-preview) inputs; raises ``SpecProblems`` listing every problem."""
        full = with_defaults(props)
        problems = input_problems(full)
        if problems:
            raise SpecProblems(problems)
        return cls(
            cluster_id=str(full["cluster_id"]),
            region_specs=tuple(RegionSpec.from_api(item) for item in full["region_specs"]),
            new_region_nodes={str(k): int(v) for k, v in full["new_region_nodes"].items()},
            rotation_trigger=str(full["rotation_trigger"]),
            revoke=bool(full["revoke"]),
            wait_timeout_seconds=float(full["wait_timeout_seconds"]),
            iam_propagation_timeout_seconds=float(full["iam_propagation_timeout_seconds"]),
        )

    @property
    def specs_by_region(self) -> dict[str, KeySpec]:
        return {spec.region: spec.key_spec for spec in self.region_specs}

    def to_props(self) -> dict[str, Any]:
        """The inputs in API/Pulumi shape (what ``create``/``update`` return beside the outputs)."""
        return {
            "cluster_id": self.cluster_id,
            "region_specs": [spec.to_api() for spec in self.region_specs],
            "new_region_nodes": dict(self.new_region_nodes),
            "rotation_trigger": self.rotation_trigger,
            "revoke": self.revoke,
            "wait_timeout_seconds": self.wait_timeout_seconds,
            "iam_propagation_timeout_seconds": self.iam_propagation_timeout_seconds,
        }


def timeout_problem(name: str, value: object) -> Problem | None:
    """Checks a wait limit: a finite number of seconds above 0 and at most its bound
    (:data:`TIMEOUT_LIMITS`); NaN and infinity are refused (a wait that never ends)."""
    limit = TIMEOUT_LIMITS[name]
    if (
        not isinstance(value, bool)
        and isinstance(value, (int, float))
        and (not isinstance(value, float) or math.isfinite(value))
        and 0 < value <= limit
    ):
        return None
    return Problem(name, f"expected a number of seconds greater than 0 and at most {limit}, got {shown(value)}")


def input_problems(props: Mapping[str, Any], is_unknown: IsUnknown = _never_unknown) -> list[Problem]:
    """Problems with one set of inputs (defaults already applied); unknown values pass."""
    problems: list[Problem] = []
    cluster_id = props.get("cluster_id")
    if not is_unknown(cluster_id):
        problem = cluster_id_problem("cluster_id", cluster_id)
        if problem:
            problems.append(problem)
    specs = props.get("region_specs")
    problems.extend(region_specs_problems(specs, is_unknown=is_unknown))
    problems.extend(_new_region_nodes_problems(props.get("new_region_nodes"), specs, is_unknown))
    trigger = props.get("rotation_trigger")
    if not is_unknown(trigger) and not isinstance(trigger, str):
        problems.append(Problem("rotation_trigger", f"expected a string (any value; change it to re-wrap every region), got {shown(trigger)}"))
    revoke = props.get("revoke")
    if not is_unknown(revoke) and not isinstance(revoke, bool):
        problems.append(Problem("revoke", f"expected true or false, got {shown(revoke)}"))
    for name in TIMEOUT_LIMITS:
        value = props.get(name)
        if is_unknown(value):
            continue
        problem = timeout_problem(name, value)
        if problem:
            problems.append(problem)
    return problems


def _new_region_nodes_problems(raw: object, specs: object, is_unknown: IsUnknown) -> list[Problem]:
    if is_unknown(raw):
        return []
    if not isinstance(raw, Mapping):
        return [Problem("new_region_nodes", f"expected a map of region name to node count, got {shown(raw)}")]
    spec_regions: set[str] | None = None
    if isinstance(specs, Sequence) and not isinstance(specs, str) and not contains_unknown(specs, is_unknown):
        spec_regions = {str(item.get("region")) for item in specs if isinstance(item, Mapping)}
    problems: list[Problem] = []
    for region, count in raw.items():
        field_name = f"new_region_nodes[{shown(region)}]"
        if is_unknown(count):
            continue
        nodes = _whole(count)
        if nodes is None or nodes < MIN_REGION_NODES:
            problems.append(Problem(field_name, f"expected a node count of at least {MIN_REGION_NODES}, got {shown(count)}"))
        if spec_regions is not None and region not in spec_regions:
            problems.append(
                Problem(field_name, f"a region being added needs its key in region_specs, got region {shown(region)} with no spec")
            )
    return problems


STATE_HINT = (
    "in the activation's stored state: remove the activation from the state "
    "(`pulumi state delete <urn>`, `pulumi stack --show-urns` lists it) and run `pulumi up`; its "
    "create adopts the live configuration when it uses the declared keys"
)


def spec_shape_problems(raw: object, field: str = "region_specs", is_unknown: IsUnknown = _never_unknown) -> list[Problem]:
    """Problems with the shape of ``region_specs`` that keep two sets of inputs from being
    compared: not a list, an item that is not an object, a ``key_spec`` that is not an object
    (formats are :func:`region_specs_problems`' job). Unknown values pass."""
    if is_unknown(raw) or raw is None:
        return []
    if not isinstance(raw, Sequence) or isinstance(raw, (str, bytes)):
        return [Problem(field, f"expected a list of {{region, key_spec}} objects, got {shown(raw)}")]
    problems: list[Problem] = []
    for index, item in enumerate(raw):
        if is_unknown(item):
            continue
        if not isinstance(item, Mapping):
            problems.append(Problem(f"{field}[{index}]", f"expected an object with region and key_spec, got {shown(item)}"))
            continue
        key_spec = item.get("key_spec")
        if not is_unknown(key_spec) and not isinstance(key_spec, Mapping):
            problems.append(
                Problem(
                    f"{field}[{index}].key_spec",
                    f"expected an object with type, uri and auth_principal, got {shown(key_spec)}",
                )
            )
    return problems


def _state_problems(olds: Mapping[str, Any]) -> list[Problem]:
    """Shape problems of the previous inputs (the stored state), each saying where it is."""
    return [Problem(p.field, f"{p.message} ({STATE_HINT})") for p in spec_shape_problems(olds.get("region_specs"))]


def _canonical_specs(raw: object) -> object:
    """Region specs as a sorted tuple, so that region order never counts as a change. Items of
    the wrong shape compare by their ``repr`` (never equal to a well-formed spec)."""
    if not isinstance(raw, Sequence) or isinstance(raw, str):
        return raw
    items = []
    for item in raw:
        if isinstance(item, Mapping) and isinstance(item.get("key_spec"), Mapping):
            spec = RegionSpec.from_api(item)
            items.append((spec.region, spec.key_spec.type, spec.key_spec.uri, spec.key_spec.auth_principal))
        else:
            items.append((repr(item), "", "", ""))
    return tuple(sorted(items))


def _canonical_nodes(raw: object) -> object:
    if isinstance(raw, Mapping):
        return tuple(sorted((str(k), _whole(v) if _whole(v) is not None else v) for k, v in raw.items()))
    return raw


def _same(name: str, old: object, new: object) -> bool:
    if name == "region_specs":
        return _canonical_specs(old) == _canonical_specs(new)
    if name == "new_region_nodes":
        return _canonical_nodes(old) == _canonical_nodes(new)
    return old == new


_REVOKE_EXCLUSIVE = ("region_specs", "new_region_nodes", "rotation_trigger")


def check_problems(olds: Mapping[str, Any], news: Mapping[str, Any], is_unknown: IsUnknown = _never_unknown) -> list[Problem]:
    """Every problem ``check`` reports: the inputs' own rules, then the rules on the change from
    ``olds`` (previous inputs, empty on create): no revoke together with other changes, and no
    way back from a revoke."""
    news = with_defaults(news)
    problems = input_problems(news, is_unknown)
    if not olds:
        return problems
    olds = with_defaults(olds)
    problems.extend(_state_problems(olds))
    old_revoke, new_revoke = olds.get("revoke"), news.get("revoke")
    if old_revoke is True and new_revoke is False:
        problems.append(Problem("revoke", REVOKE_IRREVERSIBLE.removeprefix("revoke: ")))
    if new_revoke is True and old_revoke is False:
        for name in _REVOKE_EXCLUSIVE:
            old, new = olds.get(name), news.get(name)
            if contains_unknown(new, is_unknown) or not _same(name, old, new):
                problems.append(
                    Problem(
                        "revoke",
                        f"cannot be combined with a change of {name}: apply the {name} change first, "
                        f"then set revoke alone, got revoke=True with {name} changed",
                    )
                )
    return problems


# --------------------------------------------------------------------------------------------
# Diff
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InputDiff:
    """Inputs that changed, and those among them that force a replacement."""

    changed: tuple[str, ...] = ()
    replaces: tuple[str, ...] = ()

    @property
    def changes(self) -> bool:
        return bool(self.changed)


def diff_inputs(olds: Mapping[str, Any], news: Mapping[str, Any], is_unknown: IsUnknown = _never_unknown) -> InputDiff:
    """Compares previous inputs (``olds`` may be the old outputs) with new ones.

    ``cluster_id`` changed (or unknown) replaces; anything else changed updates; an unknown
    value counts as changed; region order is ignored. Raises ``IrreversibleRevoke`` when
    ``revoke`` goes from true to false, and ``SpecProblems`` naming the field when a
    ``region_specs`` item (new, or in the stored state) is not shaped like a region spec.
    """
    olds, news = with_defaults(olds), with_defaults(news)
    problems = spec_shape_problems(news.get("region_specs"), is_unknown=is_unknown) + _state_problems(olds)
    if problems:
        raise SpecProblems(problems)
    changed = []
    for name in INPUT_NAMES:
        old, new = olds.get(name), news.get(name)
        if contains_unknown(new, is_unknown) or not _same(name, old, new):
            changed.append(name)
    if olds.get("revoke") is True and news.get("revoke") is False:
        raise IrreversibleRevoke(REVOKE_IRREVERSIBLE)
    replaces = tuple(name for name in changed if name == "cluster_id")
    return InputDiff(tuple(changed), replaces)


def changed_besides_revoke(old: ActivationInputs, new: ActivationInputs) -> list[str]:
    """The inputs a revoke must not be combined with that differ between ``old`` and ``new``."""
    olds = {**old.to_props()}
    news = {**new.to_props()}
    return [name for name in _REVOKE_EXCLUSIVE if not _same(name, olds[name], news[name])]
