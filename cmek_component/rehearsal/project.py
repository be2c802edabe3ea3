"""The project the rehearsal runs the real CLI in: a copy, under the state dir, never the user's files.

``write_project(config, directory, api_url)`` writes

- ``Pulumi.yaml``: the project's name, runtime python with ``virtualenv:`` this Python's
  environment (the repository's venv) and ``stackConfigDir: stacks``;
- ``__main__.py``: a copy of the stack program;
- ``stacks/Pulumi.<stack>.yaml``: the user's stack config with the ``--set`` overrides applied and
  ``cockroach:apiUrl`` pointing at the simulator; the ``encryptionsalt`` the CLI wrote there at
  ``stack init`` is kept from one step to the next.

Secret values (``secure:``) of the user's file are left out: they are encrypted for the user's
own secrets provider, which the rehearsal's stack does not share. ``cockroach:apiKey`` is never
written: the program gets the simulator's key from ``COCKROACH_API_KEY``.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

import yaml

from .stack_config import StackConfig

API_KEY_CONFIG = "cockroach:apiKey"
API_URL_CONFIG = "cockroach:apiUrl"


def stack_file(directory: Path, stack: str) -> Path:
    return directory / "stacks" / f"Pulumi.{stack}.yaml"


def write_project(config: StackConfig, directory: Path, api_url: str) -> list[str]:
    """Writes the project copy (see the module docstring); returns the secret keys left out."""
    (directory / "stacks").mkdir(parents=True, exist_ok=True)
    (directory / "Pulumi.yaml").write_text(yaml.safe_dump({
        "name": config.project,
        "description": "cmek rehearsal: a copy of the project, run by the real Pulumi CLI against stand-ins",
        "runtime": {"name": "python", "options": {"toolchain": "pip", "virtualenv": sys.prefix}},
        "stackConfigDir": "stacks",
    }, sort_keys=False))
    shutil.copyfile(config.main, directory / "__main__.py")
    path = stack_file(directory, config.stack)
    document: dict[str, Any] = {}
    if path.exists():
        previous = yaml.safe_load(path.read_text()) or {}
        if isinstance(previous, dict) and previous.get("encryptionsalt"):
            document["encryptionsalt"] = previous["encryptionsalt"]
    values = {key: value for key, value in config.values.items() if key != API_KEY_CONFIG}
    values[API_URL_CONFIG] = api_url
    document["config"] = values
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return [key for key in config.secret_keys if key != API_KEY_CONFIG]
