"""Writes docs/configuration.md: every stack configuration key, its type, valid values, default
and description, generated from the TypedDicts in ``cmek_component/args.py`` (types, enum
values, field docstrings) and the value rules in ``cmek_component/config.py``.

    venv/bin/python scripts/gen_config_reference.py           # rewrite docs/configuration.md
    venv/bin/python scripts/gen_config_reference.py --check   # exit 1 if it is out of date

``tests/test_config_reference.py`` fails when the committed file differs from what this script
writes, so the reference cannot drift from the code.
"""

from __future__ import annotations

import argparse
import ast
import inspect
import re
import sys
from pathlib import Path
from typing import Any, Literal, get_args, get_origin, is_typeddict

from cmek_component import args as args_module
from cmek_component import config

OUTPUT = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"


# ---------------------------------------------------------------------------------------------
# Field docstrings (attribute docstrings are not kept by Python: read them from the source)
# ---------------------------------------------------------------------------------------------


def field_docs() -> dict[str, dict[str, str]]:
    """TypedDict name -> field name -> docstring, from ``args.py``'s source."""
    tree = ast.parse(inspect.getsource(args_module))
    docs: dict[str, dict[str, str]] = {}
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        fields: dict[str, str] = {}
        body = node.body
        for index, statement in enumerate(body):
            if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
                following = body[index + 1] if index + 1 < len(body) else None
                if (
                    isinstance(following, ast.Expr)
                    and isinstance(following.value, ast.Constant)
                    and isinstance(following.value.value, str)
                ):
                    fields[statement.target.id] = inspect.cleandoc(following.value.value)
                else:
                    fields[statement.target.id] = ""
        docs[node.name] = fields
    return docs


def markdown(text: str) -> str:
    """RST-flavoured docstring text -> one line of Markdown for a table cell."""
    text = " ".join(text.split())
    text = text.replace("``", "`")
    return text.replace("|", "\\|")


def _skip_code(text: str, index: int) -> int:
    """Index after the code span starting at ``index`` (Markdown backticks)."""
    end = text.find("`", index + 1)
    return len(text) if end < 0 else end + 1


def _clause(text: str, start: int) -> str:
    """From ``start`` to the end of the clause: '.' + space + capital, ';', ': ', or the end;
    never inside a code span."""
    index = start
    while index < len(text):
        char = text[index]
        if char == "`":
            index = _skip_code(text, index)
            continue
        rest = text[index + 1 :]
        if char == ";" or (char == ":" and rest.startswith(" ")):
            break
        if char == "." and (not rest.strip() or re.match(r"\s+[A-Z]", rest)):
            break
        index += 1
    return text[start:index].strip()


def documented_default(doc: str) -> str | None:
    """The default a field's docstring states, in one of the forms args.py uses:
    "Default: X.", "Default X.", "(default: X)", "X (default ...", "X, the default"."""
    text = markdown(doc)
    for match in re.finditer(r"\bDefault\b:?\s*", text):
        value = _clause(text, match.end())
        if value:
            return value
    for pattern in (r"\(default: ([^)]*)\)", r"(`[^`]+`|\S+) \(default\b", r"(`[^`]+`), the default\b"):
        found = re.search(pattern, text)
        if found:
            return found.group(1)
    return None


# ---------------------------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------------------------


def valid_values(tp: Any, schema_path: str) -> str:
    origin = get_origin(tp)
    if origin is Literal:
        return ", ".join(f"`{v}`" for v in get_args(tp))
    if tp is int:
        return config.int_form(schema_path).removeprefix("an ").removeprefix("integer").strip() or "any integer"
    if tp is bool:
        return "`true`, `false`"
    if tp is str:
        rule = config.STRING_RULES.get(schema_path)
        return markdown(rule.form) if rule else "any string"
    if origin is list:
        return valid_values(get_args(tp)[0], f"{schema_path}[]") + " (each)"
    if origin is dict:
        keys = "cluster regions" if schema_path in config.REGION_KEYED else "strings"
        return f"keys: {keys}; values: " + valid_values(get_args(tp)[1], f"{schema_path}.*")
    if is_typeddict(tp):
        return "see below"
    return ""


DEFAULT_OVERRIDES: dict[str, str] = {
    "vault.key_collection": "AWS: each cluster region itself; GCP: none (give it, or `key_collections`)",
}
"""Defaults whose docstring states one per cloud, which the patterns above cannot split."""


def field_rows(typed_dict: type, key_prefix: str, schema_prefix: str, docs: dict[str, str]) -> list[str]:
    rows = []
    for name, field in config.schema_fields(typed_dict).items():
        schema_path = f"{schema_prefix}{name}"
        doc = docs.get(name, "")
        if field.required:
            default = "**required**"
        else:
            default = DEFAULT_OVERRIDES.get(schema_path) or documented_default(doc) or "none"
            default = default.replace("`True`", "`true`").replace("`False`", "`false`")
        values = valid_values(field.type, schema_path)
        rows.append(
            f"| `{key_prefix}{name}` | {config.type_label(field.type)} | {values} | {default} | {markdown(doc)} |"
        )
    return rows


HEADER = "| Key | Type | Valid values | Default | Description |\n|---|---|---|---|---|"


def section(title: str, intro: str, rows: list[str]) -> str:
    return f"## {title}\n\n{intro}\n\n{HEADER}\n" + "\n".join(rows) + "\n"


RULES: tuple[str, ...] = (
    "Every problem is reported at once, before any resource is declared, each line naming the full "
    "key, the rule and the value: `cmek:clusters[0].key_generation: expected an integer >= 1, got 'two'`.",
    "Unknown keys are refused anywhere (`cmek:*`, `cockroach:*`, `cmek-vault:*` and inside every "
    "object), with the closest valid key suggested: `cmek:clusters[1].aws.key_mod: unknown key; did "
    "you mean 'key_mode'?`. Keys of other namespaces (`aws:region`, `gcp:project`, `vault:address` ...) "
    "belong to their providers and are not checked here.",
    "Types are strict. `pulumi config set --path` stores `true`/`false` as booleans and digits as "
    "numbers, so a string made of digits (an AWS `account_id`, a tag value) must be set with "
    "`pulumi config set --path --type string ...` or quoted in the stack file; a number written in "
    "quotes is refused for integer keys.",
    "`cluster_id` values are unique in a stack, and so are resource names (`name`, or the default "
    "`cluster-<first 8 characters of cluster_id>`: two ids sharing their first 8 characters need an "
    "explicit `name`).",
    "`regions` are unique and spelled in the cluster's cloud (AWS `us-east-1`, GCP `us-east1`; the "
    "other spelling is suggested). `add_regions`, `region_key_generations`, `aws.byo_keys`, "
    "`gcp.byo_keys`, `gcp.key_locations` and `vault.key_collections` must name cluster regions "
    "(`regions` plus `add_regions`) when `regions` is given; `add_regions` must not repeat a region "
    "of `regions`.",
    "`revoke: true` cannot be combined with `add_regions`. A revoke combined with any other change "
    "(a raised `key_generation`, a new `rotation_trigger`, other keys) cannot be seen in one "
    "configuration, because only the previous state shows what changed: the activation's provider "
    "refuses it at preview time (`revoke: cannot be combined with a change of region_specs: ...`), "
    "and refuses to set `revoke` back to `false`.",
    "`aws.byo_keys` / `gcp.byo_keys` give a key for every cluster region, and cannot be combined "
    "with `vault`. On GCP, `vault` needs `key_collection`, or `key_collections` for every region.",
    "On AWS, `region_key_generations` needs `aws.key_mode: per-region`; `aws.primary_region` is "
    "used only with `multi-region` and must be a cluster region.",
    "With `cloud` given, options for the other cloud (`aws` on a GCP cluster, `gcp` on an AWS "
    "cluster) are refused.",
    "Stack-wide `cmek:aws` / `cmek:gcp` cannot hold options that name or locate one cluster's "
    "resources: " + ", ".join(f"`aws.{k}`" for k in config.PER_CLUSTER_ONLY["aws"]) + ", "
    + ", ".join(f"`gcp.{k}`" for k in config.PER_CLUSTER_ONLY["gcp"]) + ". Explicit `aws.alias` "
    "and `aws.role_name` are unique among the stack's clusters, `gcp.service_account_id` and "
    "`gcp.key_ring_name` per project.",
    "Secrets: `cockroach:apiKey`, `cmek-vault:*` and `vault:token` must be set with `--secret`; "
    "an API key under the project namespace (`cmek:apiKey`) is refused with the command to use "
    "instead. Values of secret keys never appear in an error.",
    "After these checks the program runs the component's own checks for every cluster (cluster "
    "facts, then the AWS or GCP key plan), still before declaring anything; their problems are "
    "reported under the cluster's key too (`cmek:clusters[1].aws.alias: has no effect with "
    "aws.byo_keys ...`).",
)


def render() -> str:
    docs = field_docs()
    stack_rows = [
        f"| `{key.key}` | {key.type} | {key.default} | {key.description} |" for key in config.STACK_KEYS
    ]
    cluster_rows = field_rows(args_module.ClusterCmekArgs, "clusters[i].", "", docs["ClusterCmekArgs"])
    cluster_rows.append(
        f"| `clusters[i].name` | string | {markdown(config.STRING_RULES[config.NAME].form)} | "
        f"`cluster-<first 8 of cluster_id>` | {config.NAME_DOC} |"
    )
    option_sections = [
        ("AWS options", "aws", args_module.AwsKeyOptions, "AwsKeyOptions",
         "`cmek:clusters[i].aws.<key>`, and stack-wide defaults in `cmek:aws.<key>` (merged under each "
         "AWS cluster's own; `tags` are merged key by key). Ignored on GCP."),
        ("GCP options", "gcp", args_module.GcpKeyOptions, "GcpKeyOptions",
         "`cmek:clusters[i].gcp.<key>`, and stack-wide defaults in `cmek:gcp.<key>`. Ignored on AWS."),
        ("Vault options", "vault", args_module.VaultKeyOptions, "VaultKeyOptions",
         "`cmek:clusters[i].vault.<key>`. " + markdown(args_module.VaultKeyOptions.__doc__ or "")),
        ("Activation options", "activation", args_module.ActivationOptions, "ActivationOptions",
         "`cmek:clusters[i].activation.<key>`: how long the CMEK activation waits."),
    ]
    parts = [
        "# Configuration reference\n",
        "<!-- Generated by scripts/gen_config_reference.py from cmek_component/args.py and "
        "cmek_component/config.py. Do not edit: run `venv/bin/python scripts/gen_config_reference.py`. -->\n",
        "The stack program (`__main__.py`) reads these keys from `stacks/Pulumi.<stack>.yaml`. The "
        "project is `cmek`, so project keys are `cmek:<key>`. A stack holds one or more clusters in "
        "`cmek:clusters`, one `ClusterCmek` each; every key of a cluster object mirrors an argument "
        "of `ClusterCmek` (`cmek_component/args.py`). Examples: `stacks/Pulumi.aws-example.yaml`, "
        "`stacks/Pulumi.gcp-example.yaml`, `stacks/Pulumi.local.yaml`.\n",
        "```sh\n"
        "pulumi config set --path 'clusters[0].cluster_id' 9b3f6c1e-5d2a-4f8e-a7c4-2e61d0b8f3a9\n"
        "pulumi config set --path 'clusters[0].cloud' AWS\n"
        "pulumi config set --path 'clusters[0].regions[0]' us-east-1\n"
        "pulumi config set --path --type string 'clusters[0].account_id' 548012347802\n"
        "pulumi config set --path 'clusters[0].aws.key_mode' per-region\n"
        "pulumi config set --secret cockroach:apiKey <CockroachDB Cloud API key>\n"
        "```\n",
        "Giving `cloud`, `regions`, `account_id` (and on AWS `organization_id`) for every cluster "
        "means the program makes no Cloud API call while it runs, so a `pulumi preview` works where "
        "the Cloud API is unreachable; left out, they are read with `GET /api/v1/clusters/{id}` and "
        "`GET /api/v1/organization`.\n",
        "## Stack keys\n\n| Key | Type | Default | Description |\n|---|---|---|---|\n" + "\n".join(stack_rows) + "\n",
        section(
            "Cluster keys",
            "Each entry of `cmek:clusters` (`cmek:clusters[i].<key>`).",
            cluster_rows,
        ),
    ]
    for title, key, typed_dict, doc_name, intro in option_sections:
        parts.append(section(title, intro, field_rows(typed_dict, f"clusters[i].{key}.", f"{key}.", docs[doc_name])))
    parts.append("## Validation rules\n\n" + "\n".join(f"- {rule}" for rule in RULES) + "\n")
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="exit 1 if docs/configuration.md is out of date")
    options = parser.parse_args(argv)
    text = render()
    if options.check:
        current = OUTPUT.read_text() if OUTPUT.exists() else ""
        if current != text:
            print(f"{OUTPUT} is out of date: run venv/bin/python scripts/gen_config_reference.py", file=sys.stderr)
            return 1
        return 0
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(text)
    print(f"wrote {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
