"""The Pulumi package schema of ``cockroach-cmek``, generated from the Python library's own types.

Every description is the docstring under the field in the source (``component/args.py``: the arguments of
``ClusterCmek`` and its option groups; ``component/cluster_cmek.py``: its outputs; ``activation/dynamic.py``: the
inputs of ``CmekActivation``), so the schema and the Python library document the same words.
Property names are camelCase as in every Pulumi package (``clusterId``, ``aws.keyMode``): the
library's snake_case names through :mod:`.names`, renamed back by the provider.
"""

from __future__ import annotations

import ast
import json
import re
import typing
from collections.abc import Mapping
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any, Literal, NotRequired, Required, get_args, get_origin

from cmek_component.component import args as args_module

from .names import camel

PACKAGE = "cockroach-cmek"
COMPONENT_TOKEN = f"{PACKAGE}:index:ClusterCmek"
ACTIVATION_TOKEN = f"{PACKAGE}:index:CmekActivation"
API_KEY_SETTING = f"{PACKAGE}:apiKey"
"""The provider setting of the API key (``pulumi config set --secret cockroach-cmek:apiKey <key>``)."""
SOURCE = Path(__file__).resolve().parent.parent

GROUPS = frozenset({"aws", "gcp", "vault", "activation"})
"""Arguments of ``ClusterCmek`` that are option groups (library names): their fields are
properties too (renamed), not map keys."""

OPTION_TYPES: dict[str, type] = {
    "AwsKeyOptions": args_module.AwsKeyOptions,
    "GcpKeyOptions": args_module.GcpKeyOptions,
    "VaultKeyOptions": args_module.VaultKeyOptions,
    "ActivationOptions": args_module.ActivationOptions,
}
"""Option groups of ``ClusterCmekArgs``: each an object type of the schema."""

ACTIVATION_OUTPUTS: dict[str, tuple[dict[str, Any], str]] = {
    "status": ({"type": "string"}, "The cluster's CMEK status from the Cloud API (ENABLED, ENABLING, REVOKED ...)."),
    "regions": (
        {"type": "array", "items": {"$ref": "pulumi.json#/Any"}},
        "Per cluster region: region, status, key_uri, key_status, user_message, created_at, updated_at.",
    ),
    "key_history": (
        {"type": "object", "additionalProperties": {"type": "array", "items": {"$ref": "pulumi.json#/Any"}}},
        "Region -> every key the Cloud API lists for it, old ones DISABLED.",
    ),
}

CONFIG: dict[str, dict[str, Any]] = {
    "apiKey": {
        "type": "string",
        "secret": True,
        "description": "CockroachDB Cloud API key of a service account with the Cluster Admin role. Set it with "
        "`pulumi config set --secret cockroach-cmek:apiKey <key>`; default: env COCKROACH_API_KEY. Never "
        "a resource input: it reaches no state, output or log.",
    },
    "apiUrl": {
        "type": "string",
        "description": "CockroachDB Cloud API base URL. Default: env COCKROACH_SERVER, else https://cockroachlabs.cloud.",
    },
}


def _field_names() -> frozenset[str]:
    names: set[str] = set(args_module.ClusterCmekArgs.__annotations__)
    for cls in OPTION_TYPES.values():
        names.update(cls.__annotations__)
    outputs = field_docs(SOURCE / "component" / "cluster_cmek.py", "ClusterCmek")
    return frozenset(names | set(ACTIVATION_INPUTS) | set(ACTIVATION_OUTPUTS) | set(outputs))


_CODE = re.compile(r"``([a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)*)``", re.ASCII)


def schema_text(text: str) -> str:
    """A library docstring for the schema: the field names it quotes (````aws.key_mode````) in
    the schema's spelling (````aws.keyMode````); other quoted names (functions, files) unchanged."""
    known = _field_names()

    def named(match: re.Match[str]) -> str:
        parts = match.group(1).split(".")
        if not all(part in known for part in parts):
            return match.group(0)
        return "``" + ".".join(camel(part) for part in parts) + "``"

    return _CODE.sub(named, text)


@cache
def field_docs(path: Path, class_name: str) -> dict[str, str]:
    """Field name -> the docstring right under it in ``class_name`` of ``path``."""
    tree = ast.parse(path.read_text())
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == class_name:
            docs: dict[str, str] = {}
            body = node.body
            for index, item in enumerate(body):
                if not (isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name)):
                    continue
                following = body[index + 1] if index + 1 < len(body) else None
                if isinstance(following, ast.Expr) and isinstance(following.value, ast.Constant) and isinstance(
                    following.value.value, str
                ):
                    docs[item.target.id] = " ".join(following.value.value.split())
            return docs
    raise LookupError(f"{class_name}: no such class in {path}")


def type_spec(annotation: Any) -> dict[str, Any]:
    """A Python annotation of the library as a schema type."""
    origin = get_origin(annotation)
    if origin in (Required, NotRequired):
        return type_spec(get_args(annotation)[0])
    if annotation is str:
        return {"type": "string"}
    if annotation is bool:
        return {"type": "boolean"}
    if annotation is int:
        return {"type": "integer"}
    if annotation is float:
        return {"type": "number"}
    if origin is Literal:
        return {"type": "string"}
    if origin is list:
        return {"type": "array", "items": type_spec(get_args(annotation)[0])}
    if origin is dict:
        return {"type": "object", "additionalProperties": type_spec(get_args(annotation)[1])}
    name = getattr(annotation, "__name__", "")
    if name in OPTION_TYPES:
        return {"$ref": f"#/types/{PACKAGE}:index:{name}"}
    return {"$ref": "pulumi.json#/Any"}


def _properties(cls: type, path: Path) -> tuple[dict[str, Any], list[str]]:
    hints = typing.get_type_hints(cls, include_extras=True)
    docs = field_docs(path, cls.__name__)
    properties = {}
    for name, annotation in hints.items():
        spec = type_spec(annotation)
        description = docs.get(name)
        if not description:
            raise LookupError(f"{cls.__name__}.{name}: no docstring in {path}: every schema property is documented")
        properties[camel(name)] = {**spec, "description": schema_text(description)}
    total = bool(getattr(cls, "__total__", True))
    required = [
        camel(name) for name, annotation in hints.items()
        if get_origin(annotation) is Required or (total and get_origin(annotation) is not NotRequired)
    ]
    return properties, sorted(required)


COMPONENT_REQUIRED_OUTPUTS = ("auth_principal", "key_uris", "region_specs", "cmek_config_json", "status",
                              "region_statuses")
"""Outputs every cluster has (the others are null on one of the clouds)."""


def described(specs: Mapping[str, dict[str, Any]], docs: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """Each property of ``specs`` (snake_case name -> schema type) under its camelCase name, with
    its description from ``docs`` (name -> text, as written in the source)."""
    return {camel(name): {**spec, "description": schema_text(docs[name])} for name, spec in specs.items()}


def _component_outputs() -> tuple[dict[str, Any], list[str]]:
    docs = field_docs(SOURCE / "component" / "cluster_cmek.py", "ClusterCmek")
    outputs: dict[str, dict[str, Any]] = {
        "auth_principal": {"type": "string"},
        "key_uris": {"type": "object", "additionalProperties": {"type": "string"}},
        "role_arn": {"type": "string"},
        "key_arns": {"type": "object", "additionalProperties": {"type": "string"}},
        "aliases": {"type": "array", "items": {"type": "string"}},
        "key_policy": {"type": "string"},
        "service_account_email": {"type": "string"},
        "region_specs": {"$ref": "pulumi.json#/Any"},
        "cmek_config_json": {"type": "string"},
        "status": {"type": "string"},
        "region_statuses": {"type": "object", "additionalProperties": {"type": "string"}},
    }
    return (
        described(outputs, docs),
        [camel(name) for name in COMPONENT_REQUIRED_OUTPUTS],
    )


ACTIVATION_INPUTS: dict[str, dict[str, Any]] = {
    "cluster_id": {"type": "string"},
    "region_specs": {"type": "array", "items": {"$ref": "pulumi.json#/Any"}},
    "new_region_nodes": {"type": "object", "additionalProperties": {"type": "integer"}},
    "rotation_trigger": {"type": "string"},
    "revoke": {"type": "boolean"},
    "wait_timeout_seconds": {"type": "integer"},
    "iam_propagation_timeout_seconds": {"type": "integer"},
}
"""The inputs of ``CmekActivation`` (``CmekActivationArgs``) as schema types."""


def _activation() -> dict[str, Any]:
    docs = field_docs(SOURCE / "activation" / "dynamic.py", "CmekActivationArgs")
    inputs = described(ACTIVATION_INPUTS, docs)
    outputs = {**inputs, **{camel(name): {**spec, "description": schema_text(text)}
                            for name, (spec, text) in ACTIVATION_OUTPUTS.items()}}
    return {
        "description": "CMEK on one CockroachDB Cloud cluster: enables, rotates, adds regions and (only when asked) "
        "revokes through the Cloud API, and waits until every region reports ENABLED. Delete makes no API call.",
        "inputProperties": inputs,
        "requiredInputs": ["clusterId", "regionSpecs"],
        "properties": outputs,
        "required": sorted([*inputs, *map(camel, ACTIVATION_OUTPUTS)]),
    }


def package_version() -> str:
    """The plugin's version: the ``cmek-component`` distribution's."""
    return metadata.version("cmek-component")


@cache
def schema() -> dict[str, Any]:
    """The package schema (a JSON document as a dict)."""
    inputs, required = _properties(args_module.ClusterCmekArgs, SOURCE / "component" / "args.py")
    outputs, output_required = _component_outputs()
    types = {}
    for name, cls in OPTION_TYPES.items():
        properties, _ = _properties(cls, SOURCE / "component" / "args.py")
        types[f"{PACKAGE}:index:{name}"] = {
            "type": "object",
            "description": schema_text(" ".join((cls.__doc__ or name).split())),
            "properties": properties,
        }
    return {
        "name": PACKAGE,
        "displayName": "CockroachDB Cloud CMEK",
        "version": package_version(),
        "description": "Customer-managed encryption keys (CMEK) for CockroachDB Cloud clusters.",
        "meta": {"moduleFormat": "(.*)"},
        "config": {"variables": CONFIG},
        "provider": {
            "description": "The cockroach-cmek provider: its Cloud API key and URL.",
            "inputProperties": CONFIG,
            "properties": CONFIG,
        },
        "resources": {
            COMPONENT_TOKEN: {
                "isComponent": True,
                "description": "A CockroachDB Cloud cluster's customer-managed encryption keys: the identity "
                "CockroachDB Cloud impersonates, one key per cluster region, and the CMEK activation (a "
                "CmekActivation child). The same arguments, defaults, validation, children and outputs as the "
                "Python library's ClusterCmek.",
                "inputProperties": inputs,
                "requiredInputs": required,
                "properties": outputs,
                "required": output_required,
            },
            ACTIVATION_TOKEN: _activation(),
        },
        "types": types,
        "language": {"python": {"respectSchemaVersion": True}},
    }


def schema_json() -> str:
    """:func:`schema` as the text ``GetSchema`` returns."""
    return json.dumps(schema(), indent=2, sort_keys=True)
