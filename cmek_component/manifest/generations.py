"""Key generations: ``key_generation`` and ``region_key_generations``, read and checked.

Pure logic: no Pulumi, no network. Raising a region's generation declares a new key for it;
every older generation stays declared, since data written with an old key needs it forever.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cmek_component.manifest.problems import Problem, region_mapping, shown, shown_names

MAX_KEY_GENERATION = 100
"""Upper bound of ``key_generation`` and of each ``region_key_generations`` value. Every
generation stays declared (data written with an old key needs it forever), so generation ``n``
means ``n`` keys per region (plus aliases, replicas or grants): 100 generations is a rotation
every month for eight years, or every year for a century, and already 600 keys for a
six-region cluster. Larger values are refused at once instead of planning thousands of keys."""


def is_whole_number(value: object) -> bool:
    """An ``int`` that is not a ``bool`` (YAML and JSON ``true`` must not count as 1)."""
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class KeyGenerations:
    """``key_generation`` and ``region_key_generations`` read from the component's arguments.

    ``base``: the generation of every region (1 when absent or invalid); ``overrides``: the valid
    per-region overrides; ``raw_overrides``: the mapping as given (``{}`` when absent);
    ``problems``: every rule broken, each naming the field, the rule and the value.
    """

    base: int
    overrides: dict[str, int]
    raw_overrides: Mapping[str, object]
    problems: list[Problem]

    def of(self, region: str) -> int:
        """The generation ``region`` uses now."""
        return self.overrides.get(region, self.base)


GENERATION_RULE = f"expected a whole number from 1 to {MAX_KEY_GENERATION}"
"""The rule of ``key_generation`` and ``region_key_generations`` values (see :data:`MAX_KEY_GENERATION`)."""


def generation_problem(field: str, value: object) -> Problem | None:
    """Checks one key generation: a whole number from 1 to :data:`MAX_KEY_GENERATION`."""
    if is_whole_number(value) and 1 <= value <= MAX_KEY_GENERATION:  # type: ignore[operator]
        return None
    return Problem(field, f"{GENERATION_RULE} (every generation stays declared), got {shown(value)}")


def key_generations(args: Mapping[str, Any], regions: Sequence[str]) -> KeyGenerations:
    """Reads the key generations: ``key_generation`` a whole number from 1 to
    :data:`MAX_KEY_GENERATION` (default 1), and ``region_key_generations`` a mapping of cluster
    region -> whole number in the same range."""
    problems: list[Problem] = []
    base = args.get("key_generation", 1)
    problem = generation_problem("key_generation", base)
    if problem:
        problems.append(problem)
        base = 1
    raw = region_mapping(args.get("region_key_generations"), "region_key_generations", "generation", problems)
    overrides: dict[str, int] = {}
    for region, value in raw.items():
        where = f"region_key_generations.{region}"
        if region not in regions:
            problems.append(Problem(where, f"expected a cluster region as key ({shown_names(regions)}), got {shown(region)}"))
            continue
        problem = generation_problem(where, value)
        if problem:
            problems.append(problem)
        else:
            overrides[region] = value
    return KeyGenerations(base=base, overrides=overrides, raw_overrides=raw, problems=problems)
