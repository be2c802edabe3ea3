"""Stack configuration as the Pulumi CLI would hand it to the program: read, overridden, flattened.

Pure logic (PyYAML only). A stack file ``Pulumi.<stack>.yaml`` holds ``config:`` entries keyed
``<namespace>:<name>``; keys without a namespace belong to the project (``name`` in
``Pulumi.yaml``). The program receives every value as a string: strings as they are, everything
else JSON-encoded, exactly as ``PULUMI_CONFIG`` carries them.

Overrides use the CLI's ``--path`` syntax: ``clusters[0].key_generation=2`` sets one nested value
(the value is read as YAML, so ``2`` is a number, ``true`` a boolean and ``{eu-west-1: 3}`` a
mapping); ``aws:region=us-west-2`` sets a namespaced key.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

_SEGMENT_RE = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


class StackConfigError(ValueError):
    """A stack file or override that cannot be used; the message names the file or the override."""


@dataclass
class StackConfig:
    """A stack's configuration: project, stack, program directory and namespaced values."""

    project: str
    stack: str
    project_dir: Path
    main: Path
    values: dict[str, Any] = field(default_factory=dict)
    """Namespaced key -> value as written in YAML (structured values stay structured)."""
    secret_keys: list[str] = field(default_factory=list)
    """Keys whose values are secrets (``secure:`` in the file); their values are not readable here."""

    def flat(self) -> dict[str, str]:
        """Every value as the program sees it: strings as they are, the rest JSON-encoded."""
        return {key: _as_config_string(value) for key, value in sorted(self.values.items())}

    def get(self, key: str) -> Any:
        return self.values.get(self.qualify(key))

    def qualify(self, key: str) -> str:
        """``name`` -> ``<project>:name``; ``ns:name`` stays."""
        return key if ":" in key.split(".", 1)[0].split("[", 1)[0] else f"{self.project}:{key}"


def _as_config_string(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), sort_keys=False)


def find_project_dir(start: Path) -> Path:
    """The nearest directory at or above ``start`` holding ``Pulumi.yaml``."""
    start = start.resolve()
    for candidate in (start, *start.parents):
        if (candidate / "Pulumi.yaml").is_file():
            return candidate
    raise StackConfigError(f"{start}: no Pulumi.yaml here or in any parent directory")


def load_stack_config(stack_file: Path, project_dir: Path | None = None) -> StackConfig:
    """Reads ``Pulumi.<stack>.yaml`` and its project's ``Pulumi.yaml``.

    The stack name comes from the file name (``Pulumi.local.yaml`` -> ``local``); the program is
    ``main`` from ``Pulumi.yaml`` (default ``__main__.py`` in the project directory).
    """
    stack_file = Path(stack_file)
    if not stack_file.is_file():
        raise StackConfigError(f"{stack_file}: no such stack file")
    match = re.fullmatch(r"Pulumi\.(?P<stack>[A-Za-z0-9_.-]+)\.ya?ml", stack_file.name)
    if not match:
        raise StackConfigError(f"{stack_file}: expected a file named Pulumi.<stack>.yaml")
    project_dir = Path(project_dir) if project_dir else find_project_dir(stack_file.parent)
    project_doc = _read_yaml(project_dir / "Pulumi.yaml")
    project = project_doc.get("name")
    if not isinstance(project, str) or not project:
        raise StackConfigError(f"{project_dir / 'Pulumi.yaml'}: name: expected the project name, got {project!r}")
    main = project_dir / str(project_doc.get("main") or "")
    if main.is_dir() or not str(project_doc.get("main") or ""):
        main = main / "__main__.py"
    stack_doc = _read_yaml(stack_file)
    raw = stack_doc.get("config") or {}
    if not isinstance(raw, Mapping):
        raise StackConfigError(f"{stack_file}: config: expected a mapping of key -> value, got {raw!r}")
    config = StackConfig(project=project, stack=match.group("stack"), project_dir=project_dir, main=main)
    for key, value in raw.items():
        qualified = config.qualify(str(key))
        if isinstance(value, Mapping) and set(value) == {"secure"}:
            config.secret_keys.append(qualified)
            continue
        config.values[qualified] = value
    return config


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        loaded = yaml.safe_load(path.read_text())
    except OSError as error:
        raise StackConfigError(f"{path}: cannot read ({error.strerror})") from None
    except yaml.YAMLError as error:
        raise StackConfigError(f"{path}: not valid YAML ({error})") from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise StackConfigError(f"{path}: expected a YAML mapping, got {type(loaded).__name__}")
    return loaded


def parse_path(path: str) -> list[str | int]:
    """``clusters[0].key_generation`` -> ``['clusters', 0, 'key_generation']``."""
    segments: list[str | int] = []
    for part in path.split("."):
        if not part:
            raise StackConfigError(f"{path!r}: empty segment in config path")
        consumed = 0
        for match in _SEGMENT_RE.finditer(part):
            if match.start() != consumed:
                break
            consumed = match.end()
            segments.append(int(match.group(2)) if match.group(2) is not None else match.group(1))
        if consumed != len(part):
            raise StackConfigError(f"{path!r}: expected a config path such as 'clusters[0].key_generation'")
    if not segments or not isinstance(segments[0], str):
        raise StackConfigError(f"{path!r}: a config path starts with a key name")
    return segments


def apply_override(config: StackConfig, assignment: str) -> StackConfig:
    """A copy of ``config`` with ``path=value`` applied (value read as YAML)."""
    path, sep, text = assignment.partition("=")
    if not sep or not path:
        raise StackConfigError(f"--set {assignment!r}: expected <path>=<value>, e.g. clusters[0].key_generation=2")
    try:
        value = yaml.safe_load(text) if text != "" else ""
    except yaml.YAMLError as error:
        raise StackConfigError(f"--set {assignment!r}: the value is not valid YAML ({error})") from None
    segments = parse_path(path.strip())
    head = config.qualify(str(segments[0]))
    updated = copy.deepcopy(config)
    if len(segments) == 1:
        updated.values[head] = value
        return updated
    root = updated.values.get(head)
    if root is None:
        root = [] if isinstance(segments[1], int) else {}
    updated.values[head] = _set_in(root, segments[1:], value, f"--set {assignment!r}", str(segments[0]))
    return updated


def _set_in(container: Any, segments: Sequence[str | int], value: Any, where: str, walked: str) -> Any:
    key = segments[0]
    rest = segments[1:]
    if isinstance(key, int):
        if not isinstance(container, list):
            raise StackConfigError(f"{where}: {walked} is not a list (got {container!r})")
        if key > len(container):
            raise StackConfigError(f"{where}: {walked}[{key}] is past the end of a list of {len(container)}")
        if key == len(container):
            container.append([] if rest and isinstance(rest[0], int) else {})
        label = f"{walked}[{key}]"
    else:
        if not isinstance(container, dict):
            raise StackConfigError(f"{where}: {walked} is not a mapping (got {container!r})")
        if key not in container or container[key] is None:
            container[key] = [] if rest and isinstance(rest[0], int) else {}
        label = f"{walked}.{key}"
    if not rest:
        container[key] = value
        return container
    container[key] = _set_in(container[key], rest, value, where, label)
    return container
