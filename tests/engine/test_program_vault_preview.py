"""A stack with Vault key material can be previewed through the real CLI: the Vault stand-in
serves checks, diffs and planned outputs (there is no Vault server here), and nothing is written."""

from __future__ import annotations

from pathlib import Path

from cmek_component.simulator import seeds

from .conftest import RunningSimulator, StandinBackends, counts, make_program_stack

CONFIG = {
    "aws:region": "us-east-1",
    "vault:address": "http://127.0.0.1:8200",
    "cmek:clusters": [{"cluster_id": seeds.AWS_SINGLE, "name": "vaulted", "vault": {"credentials": "vault-server"}}],
}


def test_a_vault_stack_previews_its_keymgmt_resources_and_writes_nothing(
    tmp_path: Path, pulumi_cli: Path, simulator: RunningSimulator, backends: StandinBackends
) -> None:
    stack = make_program_stack(tmp_path, pulumi_cli, simulator, backends, CONFIG)
    preview = stack.preview().check()
    # The stack, the component, the role, the activation; Vault's mount, KMS entry, key and
    # distribution; the key policy on the distributed key.
    assert counts(preview) == {"to create": 9}
    for shown in ("vault:index:Mount", "vault:keymgmt:AwsKms", "vault:keymgmt:Key", "vault:keymgmt:DistributeKey",
                  "aws:kms:KeyPolicy"):
        assert shown in preview.stdout
    assert stack.writes() == (0, 0, 0)
