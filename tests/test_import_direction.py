"""The package's one import direction, read from the source (every ``import``, at module level or
inside a function, followed through ``cmek_component``'s own modules):

- the pure layers (region and key specs, policies, naming rules and plans, the activation's
  decisions, the stack configuration, the component's arguments, the Cloud API's models) import
  neither Pulumi nor its cloud SDKs nor the network;
- the AWS layer never reaches GCP's SDK or layer, nor GCP AWS's;
- nothing of the product (everything but the simulator, the rehearsal and the ``cmek`` command
  that runs them) imports the simulator or the rehearsal.

A module new to a pure folder is pure unless listed below as one of the folder's adapters, so a
Pulumi import in, say, a new ``gcp/`` module fails here until someone decides it is an adapter.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "cmek_component"

PURE_FOLDERS: dict[str, set[str]] = {
    # folder -> its modules that declare resources or talk to the network (the adapters)
    "manifest": set(),
    "stack": {"last_update"},
    "component": {"cluster_cmek", "cluster_facts", "activation_child", "sdks"},
    "activation": {"runner", "operations", "dynamic", "dynamic_host"},
    "cloud_api": {"client", "transport", "attempt", "retry"},
    "aws": {"resources", "vault_access"},
    "gcp": {"resources", "vault_access"},
    "vault": {"resources"},
}
"""Where pure modules live, and the few modules of each folder that are not pure."""

IMPURE_EXTERNALS = ("pulumi", "pulumi_aws", "pulumi_gcp", "pulumi_vault", "requests", "urllib3", "grpc",
                    "greenlet", "socket", "http.client", "http.server", "werkzeug", "boto3", "moto")
"""Packages a pure module may not reach: Pulumi and its SDKs, the network (``http.HTTPStatus``,
a table of status phrases, is allowed; ``http.client`` and ``http.server`` are not)."""


def is_impure(name: str) -> bool:
    """Whether the imported ``name`` is, or lies inside, one of :data:`IMPURE_EXTERNALS`."""
    return any(name == bad or name.startswith(bad + ".") for bad in IMPURE_EXTERNALS)

NOT_PRODUCT = ("simulator", "rehearsal")
TOOLS = {"cmek_component.cli"}
"""The ``cmek`` command: it runs the rehearsal and the simulator, so it may import them."""


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def resolve(current: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    is_package = MODULES[current].name == "__init__.py"
    base = current.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def import_nodes(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """The imports that can run: not those under ``if TYPE_CHECKING:`` and not those of a
    module's lazy ``__getattr__`` (they run only when the attribute is asked for, and the names
    they load are checked as modules of their own)."""
    nodes: list[ast.Import | ast.ImportFrom] = []
    module_level = list(ast.iter_child_nodes(tree))
    todo = list(module_level)
    while todo:
        node = todo.pop()
        if isinstance(node, ast.If) and ast.unparse(node.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING"):
            todo.extend(node.orelse)
            continue
        if isinstance(node, ast.FunctionDef) and node.name == "__getattr__" and node in module_level:
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            nodes.append(node)
        todo.extend(ast.iter_child_nodes(node))
    return nodes


@cache
def direct_imports(module: str) -> frozenset[str]:
    """Every module ``module`` names in an import (package parents included)."""
    found: set[str] = set()
    for node in import_nodes(ast.parse(MODULES[module].read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            target = resolve(module, node)
            found.add(target)
            # ``from http import client`` reaches ``http.client``; our own names count only when modules
            outside = not target.startswith("cmek_component")
            found.update(f"{target}.{alias.name}" for alias in node.names
                         if outside or f"{target}.{alias.name}" in MODULES)
    with_parents = set(found)
    for name in found:
        parts = name.split(".")
        with_parents.update(".".join(parts[:i]) for i in range(1, len(parts)))
    return frozenset(with_parents)


@cache
def reach(module: str) -> frozenset[str]:
    """Everything ``module`` imports, followed through the package's own modules."""
    seen: set[str] = set()
    todo = [module]
    while todo:
        current = todo.pop()
        for name in direct_imports(current):
            if name not in seen:
                seen.add(name)
                if name in MODULES:
                    todo.append(name)
    return frozenset(seen)


def pure_modules() -> list[str]:
    pure = []
    for name in MODULES:
        parts = name.split(".")
        if len(parts) >= 2 and parts[1] in PURE_FOLDERS:
            if len(parts) == 2 or parts[2] not in PURE_FOLDERS[parts[1]]:
                pure.append(name)
    return pure


def path_to(module: str, target: str) -> list[str]:
    """The chain of imports from ``module`` to ``target`` (for the failure message)."""
    previous: dict[str, str] = {}
    todo = [module]
    while todo:
        current = todo.pop(0)
        for name in sorted(direct_imports(current)):
            if name not in previous and name != module:
                previous[name] = current
                if name == target or name.startswith(target + "."):
                    chain = [name]
                    while chain[-1] != module:
                        chain.append(previous[chain[-1]])
                    return chain[::-1]
                if name in MODULES:
                    todo.append(name)
    return [module, target]


def test_the_rules_see_the_package_as_it_is() -> None:
    """The graph is not empty and the lists above name modules that exist (a rename would
    otherwise leave a rule checking nothing)."""
    assert "cmek_component.manifest.region_specs" in MODULES
    for folder, adapters in PURE_FOLDERS.items():
        assert f"cmek_component.{folder}" in MODULES, folder
        for adapter in adapters:
            assert f"cmek_component.{folder}.{adapter}" in MODULES, (folder, adapter)
    assert "pulumi_aws" in reach("cmek_component.aws.resources")
    assert len(pure_modules()) >= 15


def test_the_network_is_told_from_the_status_table() -> None:
    """``http.HTTPStatus`` is a table; ``http.client`` (either way of importing it) is the network;
    a package whose name only starts like Pulumi's is not Pulumi."""
    assert not is_impure("http")
    assert is_impure("http.client") and is_impure("http.server.HTTPServer")
    assert is_impure("pulumi_aws.kms") and is_impure("pulumi")
    assert not is_impure("pulumiish")


def dynamic_imports(module: str) -> list[str]:
    """The places ``module`` imports by name at run time (``importlib.import_module``,
    ``__import__``): the graph above cannot follow them, so a pure module may have none."""
    found = []
    for node in ast.walk(ast.parse(MODULES[module].read_text())):
        if isinstance(node, ast.Call):
            called = ast.unparse(node.func)
            if called in ("importlib.import_module", "import_module", "__import__"):
                found.append(f"line {node.lineno}: {ast.unparse(node)}")
    return found


@pytest.mark.parametrize("module", pure_modules())
def test_a_pure_module_imports_nothing_by_name_at_run_time(module: str) -> None:
    assert not dynamic_imports(module), f"{module} imports at run time: {dynamic_imports(module)}"


def test_a_run_time_import_is_seen() -> None:
    """The rule above sees the one adapter that imports by name (the SDK check)."""
    assert [found.split(": ", 1)[1] for found in dynamic_imports("cmek_component.component.sdks")] == [
        "importlib.import_module(module)"]


@pytest.mark.parametrize("module", pure_modules())
def test_a_pure_module_imports_neither_pulumi_nor_the_network(module: str) -> None:
    reached = reach(module)
    bad = sorted(name for name in reached if is_impure(name))
    assert not bad, f"{module} reaches {bad[0]}: {' -> '.join(path_to(module, bad[0]))}"
    impure_own = sorted(name for name in reached if name in MODULES and name not in pure_modules()
                        and name.count(".") >= 2)
    assert not impure_own, f"{module} imports the adapter {impure_own[0]}"


@pytest.mark.parametrize(("cloud", "other"), [("aws", "gcp"), ("gcp", "aws")])
def test_one_clouds_layer_never_reaches_the_others(cloud: str, other: str) -> None:
    for name in MODULES:
        if name.startswith(f"cmek_component.{cloud}"):
            reached = reach(name)
            for forbidden in (f"pulumi_{other}", f"cmek_component.{other}"):
                assert forbidden not in reached, f"{name}: {' -> '.join(path_to(name, forbidden))}"


def test_nothing_of_the_product_imports_the_simulator_or_the_rehearsal() -> None:
    product = [name for name in MODULES
               if name.split(".")[1:2] and name.split(".")[1] not in NOT_PRODUCT and name not in TOOLS]
    assert "cmek_component.plugin.provider" in product and "cmek_component.component.cluster_cmek" in product
    for name in product:
        for layer in NOT_PRODUCT:
            target = f"cmek_component.{layer}"
            assert target not in reach(name), f"{name}: {' -> '.join(path_to(name, target))}"
