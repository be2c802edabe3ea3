"""The configuration reference in README.md is generated from the code and must be up to date."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from cmek_component.component import args
from cmek_component.stack.keys import STACK_KEYS
from cmek_component.stack.schema import cluster_fields, schema_fields

ROOT = Path(__file__).resolve().parents[1]


def load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_config_reference", ROOT / "scripts" / "gen_config_reference.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_reference_is_what_the_generator_writes() -> None:
    generator = load_generator()

    committed = generator.committed_block((ROOT / "README.md").read_text())

    assert committed == generator.render(), "run: venv/bin/python scripts/gen_config_reference.py"
    assert generator.main(["--check"]) == 0


def test_reference_has_a_row_for_every_key_with_type_and_default() -> None:
    text = load_generator().committed_block((ROOT / "README.md").read_text())
    rows = {line.split(" | ")[0].strip("| `"): line.split(" | ") for line in text.splitlines() if line.startswith("| `")}
    expected = [key.key for key in STACK_KEYS] + [f"clusters[i].{name}" for name in cluster_fields()]
    for prefix, typed_dict in (
        ("aws", args.AwsKeyOptions),
        ("gcp", args.GcpKeyOptions),
        ("vault", args.VaultKeyOptions),
        ("activation", args.ActivationOptions),
    ):
        expected += [f"clusters[i].{prefix}.{name}" for name in schema_fields(typed_dict)]

    assert sorted(rows) == sorted(expected)
    for key in expected:
        if key in {k.key for k in STACK_KEYS}:
            continue
        _, type_label, valid_values, default, description = rows[key][:5]
        assert type_label and valid_values and default and description.strip(" |"), key
    assert rows["clusters[i].cluster_id"][3] == "**required**"
    assert rows["clusters[i].aws.key_mode"][2] == "`multi-region`, `per-region`, `single`"
    assert rows["clusters[i].aws.key_mode"][3] == "`multi-region`"
    assert rows["clusters[i].aws.deletion_window_in_days"][2] == "from 7 to 30"
    assert rows["clusters[i].revoke"][3] == "`false`"
