"""The configuration reference in docs/configuration.md is generated from the code and must be up to date."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

from cmek_component.component import args
from cmek_component.stack.keys import STACK_KEYS
from cmek_component.stack.schema import cluster_fields, schema_fields
from tests.support.generated_pages import ROOT, check_then_rewrite_stale_page, load_script


def load_generator() -> ModuleType:
    return load_script("gen_config_reference")


def test_committed_reference_is_what_the_generator_writes() -> None:
    generator = load_generator()

    committed = generator.committed_block(generator.OUTPUT.read_text())

    assert committed == generator.render(), "run: venv/bin/python scripts/gen_config_reference.py"
    assert generator.main(["--check"]) == 0


def test_the_reference_is_on_its_own_page_not_in_the_readme() -> None:
    generator = load_generator()

    assert generator.OUTPUT == ROOT / "docs" / "configuration.md"
    assert generator.BEGIN in generator.OUTPUT.read_text()
    assert generator.BEGIN not in (ROOT / "README.md").read_text()


def test_a_stale_reference_fails_the_check_and_is_rewritten(tmp_path: Path) -> None:
    generator = load_generator()
    page = tmp_path / "configuration.md"
    assert check_then_rewrite_stale_page(generator, page, "`cmek:clusters`", "`cmek:cluster`") == (1, 0, 0)
    assert generator.committed_block(page.read_text()) == generator.render()


def test_reference_has_a_row_for_every_key_with_type_and_default() -> None:
    generator = load_generator()
    text = generator.committed_block(generator.OUTPUT.read_text())
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
