"""The plugin's schema reference in docs/schema.md is generated from the schema the plugin serves
and must be up to date; every property of the schema has a row with its three spellings."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

from cmek_component.plugin.schema import ACTIVATION_TOKEN, COMPONENT_TOKEN, schema
from tests.support.generated_pages import ROOT, check_then_rewrite_stale_page, load_script


def load_generator() -> ModuleType:
    return load_script("gen_schema_reference")


def test_committed_reference_is_what_the_generator_writes() -> None:
    generator = load_generator()
    committed = generator.committed_block(generator.OUTPUT.read_text())
    assert committed == generator.render(), "run: venv/bin/python scripts/gen_schema_reference.py"
    assert generator.main(["--check"]) == 0


def test_a_stale_reference_fails_the_check_and_is_rewritten(tmp_path: Path) -> None:
    generator = load_generator()
    page = tmp_path / "schema.md"
    assert check_then_rewrite_stale_page(generator, page, "`clusterId`", "`clusterIdentifier`") == (1, 0, 0)
    assert "`clusterIdentifier`" not in page.read_text()


def test_the_reference_is_on_its_own_page_not_in_the_readme() -> None:
    generator = load_generator()
    assert generator.OUTPUT == ROOT / "docs" / "schema.md"
    assert generator.BEGIN in generator.OUTPUT.read_text()
    assert generator.BEGIN not in (ROOT / "README.md").read_text()


def _rows(text: str, heading: str) -> dict[str, list[str]]:
    section = text.split(heading, 1)[1].split("\n## ", 1)[0]
    return {line.split(" | ")[0].strip("| `"): [cell.strip() for cell in line.split(" | ")]
            for line in section.splitlines() if line.startswith("| `")}


def test_every_property_has_a_row_with_its_spellings_type_and_description() -> None:
    generator = load_generator()
    text = generator.committed_block(generator.OUTPUT.read_text())
    document = schema()
    component = document["resources"][COMPONENT_TOKEN]
    inputs = _rows(text, f"## `{COMPONENT_TOKEN}`: inputs")
    assert sorted(inputs) == sorted(component["inputProperties"])
    assert inputs["clusterId"][1:5] == ["`ClusterId`", "`cluster_id`", "string", "yes"]
    assert inputs["aws"][3] == "`AwsKeyOptions`"
    assert inputs["addRegions"][3] == "map of integer"
    outputs = _rows(text, f"## `{COMPONENT_TOKEN}`: outputs")
    assert sorted(outputs) == sorted(component["properties"])
    assert outputs["keyUris"][2] == "`key_uris`"
    aws = _rows(text, "## `AwsKeyOptions`")
    assert sorted(aws) == sorted(document["types"]["cockroach-cmek:index:AwsKeyOptions"]["properties"])
    assert aws["keyMode"][2] == "`key_mode`"
    activation = _rows(text, f"## `{ACTIVATION_TOKEN}`")
    assert sorted(activation) == sorted(document["resources"][ACTIVATION_TOKEN]["properties"])
    settings = _rows(text, "## Provider settings")
    assert settings["apiKey"][3] == "string, secret"
    for table in (inputs, outputs, aws, activation, settings):
        for name, row in table.items():
            assert len(row[5].strip(" |")) > 10, name
