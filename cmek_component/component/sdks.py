"""Whether the cloud SDKs a cluster needs are installed: :func:`sdk_problems` imports them (only
the ones that cluster needs), so this module is an adapter, not pure logic."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from cmek_component.manifest.problems import Problem

SDK_EXTRAS: dict[str, str] = {"pulumi_aws": "aws", "pulumi_gcp": "gcp", "pulumi_vault": "vault"}
"""Each cloud SDK and the extra of this package that installs it (``pyproject.toml``)."""


def sdk_problems(cloud: str, args: Mapping[str, Any]) -> list[Problem]:
    """The cloud SDKs this cluster needs and the environment lacks (``pulumi_aws`` for AWS,
    ``pulumi_gcp`` for GCP, ``pulumi_vault`` with ``vault``), each with the extra to install.
    Only the SDKs the cluster needs are imported: an AWS stack never loads ``pulumi_gcp``."""
    needed = [("cloud", "pulumi_aws" if cloud == "AWS" else "pulumi_gcp", f"a {cloud} cluster")]
    if args.get("vault") is not None:
        needed.append(("vault", "pulumi_vault", "Vault key material"))
    problems: list[Problem] = []
    for field_name, module, what in needed:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as error:
            if error.name != module:
                raise
            extra = SDK_EXTRAS[module]
            problems.append(
                Problem(
                    field_name,
                    f"{what} needs the {module.replace('_', '-')} package, which is not installed: "
                    f"install this package with its {extra!r} extra (`pip install "
                    f"'cmek-component[{extra}]'`; from a checkout `venv/bin/pip install -e '.[{extra}]'`)",
                )
            )
    return problems
