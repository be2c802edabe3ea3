"""A stack created by the package as it was before its modules were grouped into folders sees
no change with the package as it is now: the same preview, then refresh, up and destroy work on
the state the old package wrote.

``fixtures/before_layout.tar.gz`` is ``cmek_component/`` and ``__main__.py`` of commit
``b3cc914`` (the last one with the flat layout), made with
``git archive b3cc914 cmek_component __main__.py | gzip -9n``. The old package runs from that
copy (``PYTHONPATH`` puts it ahead of the installed one, in the program, the dynamic-provider
host and the stand-ins alike); the new one is the repository's. The state holds the old
package's reference to its dynamic provider (``cmek_component.activation.CmekActivationProvider``),
which a refresh and a destroy load; an up stores it under the same name, byte for byte, so the
old package still reads the state the new one wrote (a rollback).
"""

from __future__ import annotations

import base64
import json
import shutil
import tarfile
from pathlib import Path
from typing import Any

from cmek_component.simulator import seeds

from .conftest import (
    STACK_PROGRAM,
    ProgramStack,
    RunningSimulator,
    counts,
    local_stack_config,
    make_program_stack,
)

FIXTURE = Path(__file__).parent / "fixtures" / "before_layout.tar.gz"


def old_package(tmp_path: Path) -> Path:
    """The flat-layout package and stack program, unpacked under ``tmp_path/before``."""
    target = tmp_path / "before"
    with tarfile.open(FIXTURE) as archive:
        archive.extractall(target, filter="data")
    assert (target / "cmek_component" / "activation.py").is_file()  # the flat layout
    assert not (target / "cmek_component" / "activation").exists()
    return target


def preview_steps(stack: ProgramStack, env: dict[str, str]) -> list[tuple[str, str, str]]:
    """(operation, URN, the provider's diff) of every step of ``pulumi preview --json``."""
    done = stack.workspace.run("preview", "--json", "--show-sames", env=env).check()
    steps = json.loads(done.stdout)["steps"]
    return sorted((s["op"], s["urn"], json.dumps(s.get("detailedDiff") or {}, sort_keys=True)) for s in steps)


def provider_reference(stack: ProgramStack) -> bytes:
    """The activation's stored ``__provider``, decoded: the pickled reference to the provider
    class, whose module name it holds as text."""
    resources = json.loads(stack.workspace.run("stack", "export").check().stdout)["deployment"]["resources"]
    [activation] = [r for r in resources if r["type"].endswith("CmekActivation")]
    return base64.b64decode(activation["inputs"]["__provider"])


def test_a_stack_of_the_flat_layout_sees_no_change_and_still_refreshes_and_destroys(
    tmp_path: Path, pulumi_cli: Path, simulator: RunningSimulator, backends: Any
) -> None:
    before = old_package(tmp_path)
    old = {"PYTHONPATH": str(before)}
    stack = make_program_stack(tmp_path, pulumi_cli, simulator, backends, local_stack_config())
    program = stack.workspace.project_dir / "__main__.py"
    shutil.copy(before / "__main__.py", program)

    # The old package creates the stack, and its preview of it reads all unchanged.
    assert counts(stack.workspace.run("up", "--yes", "--skip-preview", env=old).check()) == {"created": 10}
    old_steps = preview_steps(stack, old)
    assert {op for op, _, _ in old_steps} == {"same"} and len(old_steps) == 10
    old_reference = provider_reference(stack)
    writes = stack.writes()

    # The new package: the same program file as the repository's, no PYTHONPATH.
    shutil.copy(STACK_PROGRAM, program)
    assert preview_steps(stack, {}) == old_steps
    assert stack.writes() == writes

    # A refresh reads every resource, the activation through the provider the old state names.
    refreshed = stack.workspace.run("refresh", "--yes", "--skip-preview").check()
    assert counts(refreshed) == {"unchanged": 10}, refreshed.stdout[-3000:]
    assert stack.writes() == writes

    # An up is a no-op, and it stores the provider under the same name, byte for byte.
    assert counts(stack.up().check()) == {"unchanged": 10}
    assert stack.writes() == writes
    assert b"cmek_component.activation\x94" in old_reference
    assert provider_reference(stack) == old_reference

    # A rollback: the old package reads the state the new one wrote (refresh and preview).
    shutil.copy(before / "__main__.py", program)
    rolled_back = stack.workspace.run("refresh", "--yes", "--skip-preview", env=old).check()
    assert counts(rolled_back) == {"unchanged": 10}, rolled_back.stdout[-3000:]
    assert preview_steps(stack, old) == old_steps
    assert stack.writes() == writes
    shutil.copy(STACK_PROGRAM, program)

    # Destroy with the new package: the keys and the role retained, CMEK left on.
    destroyed = stack.destroy().check()
    assert counts(destroyed) == {"deleted": 10}, destroyed.stdout[-3000:]
    assert len(stack.backends.aws("iam", "us-east-1").list_roles()["Roles"]) == 1
    assert simulator.cmek(seeds.AWS_MULTI)["status"] == "ENABLED"
