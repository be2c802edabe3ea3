"""Checks of single option values that the AWS, GCP and Vault plans share: pure logic, no Pulumi.

Each check returns ``None`` or a :class:`~cmek_component.manifest.problems.Problem` naming the
field, the rule and the value, in the words every plan uses::

    vault.protection: expected one of hsm, software, got 'HSM'
    gcp.protect: expected true or false, got 'yes'

A plan lists its checks in :func:`problems_found`, which keeps the problems in that order.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from cmek_component.manifest.generations import is_whole_number
from cmek_component.manifest.identifiers import matches
from cmek_component.manifest.problems import Problem, SpecError, shown


def problems_found(*checks: Problem | None) -> list[Problem]:
    """The problems among the results of ``checks``, in order (``None`` means the value is fine)."""
    return [problem for problem in checks if problem is not None]


def spec_error_problem(error: SpecError) -> Problem:
    """The problem a :class:`~cmek_component.manifest.problems.SpecError` reports:
    ``<field>: <rule>, got <value>``."""
    return Problem(error.field, f"{error.rule}, got {shown(error.value)}")


def pattern_problem(field_name: str, value: object, pattern: re.Pattern[str], rule: str) -> Problem | None:
    """``<rule>, got <value>`` unless ``value`` is a string that ``pattern`` matches whole."""
    return None if matches(pattern, value) else Problem(field_name, f"{rule}, got {shown(value)}")


def choice_problem(field_name: str, value: object, choices: Sequence[str]) -> Problem | None:
    """``expected one of <choices>, got <value>`` unless ``value`` is one of ``choices``."""
    if value in choices:
        return None
    return Problem(field_name, f"expected one of {', '.join(choices)}, got {shown(value)}")


def whole_number_problem(field_name: str, value: object, rule: str, low: int, high: int | None = None) -> Problem | None:
    """``<rule>, got <value>`` unless ``value`` is a whole number (not a bool) from ``low`` to
    ``high`` (no upper bound when ``high`` is ``None``)."""
    if is_whole_number(value) and low <= value and (high is None or value <= high):  # type: ignore[operator]
        return None
    return Problem(field_name, f"{rule}, got {shown(value)}")


def flag_values(
    section: str, options: Mapping[str, Any], defaults: Mapping[str, bool], problems: list[Problem]
) -> dict[str, bool]:
    """Flag name -> its value in ``options`` (``defaults`` names every flag with its default).
    A value that is not true or false adds ``<section>.<flag>: expected true or false`` to
    ``problems`` and counts as the default."""
    flags: dict[str, bool] = {}
    for flag, default in defaults.items():
        value = options.get(flag, default)
        if not isinstance(value, bool):
            problems.append(Problem(f"{section}.{flag}", f"expected true or false, got {shown(value)}"))
            value = default
        flags[flag] = value
    return flags
