"""The cloud SDKs are extras (``aws``, ``gcp``, ``vault``): every installed package that ships a
``pulumi-plugin.json`` makes the engine install and load its provider plugin, so a stack must
only need the SDK of its own cloud. ``pip install -e '.[test]'`` still installs all three."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SDKS = {"aws": "pulumi-aws", "gcp": "pulumi-gcp", "vault": "pulumi-vault"}


def _project() -> dict[str, object]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _name(requirement: str) -> str:
    return re.split(r"[=<>\[; ]", requirement, maxsplit=1)[0].lower()


def test_the_cloud_sdks_are_extras_and_the_test_extra_installs_them_all() -> None:
    project = _project()
    extras = project["optional-dependencies"]
    assert isinstance(extras, dict)

    assert not {_name(r) for r in project["dependencies"]} & set(SDKS.values())  # type: ignore[union-attr]
    for extra, package in SDKS.items():
        assert [_name(r) for r in extras[extra]] == [package]
    assert "cmek-component[aws,gcp,vault]" in extras["test"]
    assert (ROOT / "requirements.txt").read_text().strip().splitlines()[-1] == "-e .[aws]"


def test_the_readme_gives_the_install_command_of_each_cloud() -> None:
    readme = (ROOT / "README.md").read_text()

    for command in ("pip install -e '.[aws]'", "pip install -e '.[gcp]'", "pip install -e '.[aws,vault]'",
                    "pip install 'cmek-component[gcp]'", "pip install -e '.[test]'"):
        assert command in readme, command


PROGRAM = textwrap.dedent(
    """
    import asyncio, json, runpy, sys
    sys.modules["pulumi_gcp"] = None    # not installed: an AWS stack installs only the aws extra
    sys.modules["pulumi_vault"] = None
    import pulumi, pulumi.runtime, yaml

    class Mocks(pulumi.runtime.Mocks):
        def __init__(self):
            self.types = []
        def new_resource(self, args):
            self.types.append(args.typ)
            state = dict(args.inputs)
            if args.typ == "aws:iam/role:Role":
                state["arn"] = "arn:aws:iam::111122223333:role/" + args.name
            if args.typ in ("aws:kms/key:Key", "aws:kms/replicaKey:ReplicaKey"):
                state["keyId"] = "mrk-" + "0" * 32
                state["arn"] = "arn:aws:kms:%s:111122223333:key/mrk-%s" % (state["region"], "0" * 32)
            return args.name + "-id", state
        def call(self, args):
            return {"accountId": "111122223333", "arn": "arn:aws:iam::111122223333:user/me"}

    asyncio.set_event_loop(asyncio.new_event_loop())
    pulumi.runtime.reset_options(project="cmek", stack="test")
    mocks = Mocks()
    pulumi.runtime.set_mocks(mocks, project="cmek", stack="test")
    config = yaml.safe_load(open("stacks/Pulumi.aws-example.yaml"))["config"]
    pulumi.runtime.set_all_config({k: v if isinstance(v, str) else json.dumps(v) for k, v in config.items()})

    @pulumi.runtime.test
    def program():
        runpy.run_path("__main__.py", run_name="__main__")

    program()
    print(json.dumps({"types": sorted(set(mocks.types)), "loaded": sorted(m for m, v in sys.modules.items() if v is not None and m.startswith("pulumi_"))}))
    """
)


def test_the_aws_example_stack_runs_without_the_gcp_and_vault_sdks() -> None:
    completed = subprocess.run(
        [sys.executable, "-c", PROGRAM], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )

    assert completed.returncode == 0, completed.stderr
    seen = json.loads(completed.stdout.strip().splitlines()[-1])
    assert "aws:kms/key:Key" in seen["types"] and "pulumi-python:dynamic/cockroach:CmekActivation" in seen["types"]
    assert {module.split(".")[0] for module in seen["loaded"]} == {"pulumi_aws"}
