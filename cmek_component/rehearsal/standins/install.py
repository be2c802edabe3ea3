"""Installs the stand-in provider plugins into a private ``PULUMI_HOME`` (never a user's).

``install_standins(home)`` writes ``<home>/plugins/resource-<name>-v<version>/pulumi-resource-<name>``
for ``aws``, ``gcp`` and ``vault``, each version exactly the one the project's pinned SDK asks the
engine for (``pulumi-aws`` 7.51.1 asks for ``resource-aws-v7.51.1``). Each is a small sh script
exec'ing this environment's Python on the stand-in's module; the engine finds it in its plugin
cache as it would a downloaded provider.
"""

from __future__ import annotations

import sys
from importlib import metadata
from pathlib import Path

PLUGINS: dict[str, tuple[str, str]] = {
    "aws": ("pulumi-aws", "cmek_component.rehearsal.standins.aws_plugin"),
    "gcp": ("pulumi-gcp", "cmek_component.rehearsal.standins.gcp_plugin"),
    "vault": ("pulumi-vault", "cmek_component.rehearsal.standins.vault_plugin"),
}
"""Plugin name -> (the SDK distribution whose version it must carry, the module it runs)."""

SCRIPT = """#!/bin/sh
# Stand-in for pulumi-resource-{name} v{version}: cmek_component's offline provider ({module}),
# installed into a private PULUMI_HOME by cmek_component.rehearsal.standins.install. Not the real provider.
exec "{python}" -u -m {module} "$@"
"""


def plugin_directory(home: Path, name: str) -> Path:
    """``<home>/plugins/resource-<name>-v<version of the pinned SDK>``."""
    distribution, _ = PLUGINS[name]
    return home / "plugins" / f"resource-{name}-v{metadata.version(distribution)}"


def install_standins(home: Path, python: Path | None = None) -> dict[str, Path]:
    """Installs (or refreshes) the three stand-ins under ``home``; returns name -> plugin directory.

    ``home`` must be a private ``PULUMI_HOME`` (the tests' or the rehearsal's), never ``~/.pulumi``.
    """
    if home.resolve() == (Path.home() / ".pulumi").resolve():
        raise ValueError(f"home: expected a private PULUMI_HOME, got the user's own {home}")
    interpreter = python or Path(sys.executable)
    installed: dict[str, Path] = {}
    for name, (distribution, module) in PLUGINS.items():
        directory = plugin_directory(home, name)
        directory.mkdir(parents=True, exist_ok=True)
        script = directory / f"pulumi-resource-{name}"
        script.write_text(SCRIPT.format(name=name, version=metadata.version(distribution), module=module,
                                        python=interpreter))
        script.chmod(0o755)
        installed[name] = directory
    return installed
