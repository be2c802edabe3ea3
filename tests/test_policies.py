"""The AWS policy documents: exact JSON, the seed's rules, alias rules, and parliament's lint.

Benign parliament findings (parliament 1.6.4; every other finding fails a test):

- key policies: ``INVALID_SID`` for Sids with spaces. KMS key policies accept them, the seed's
  own Sid is "Allow use of the key for CMEK", and AWS's default key policy uses "Enable IAM User
  Permissions". Parliament stops analysing a statement at that finding, so the document is also
  linted as a copy with the spaces taken out of the Sids, where the one accepted finding is
  ``RESOURCE_STAR`` (in a key policy ``"Resource": "*"`` means "this key", as AWS documents).
- trust policy: parliament has no trust-policy mode, so the document as is gets exactly one
  ``MALFORMED`` ("neither Resource nor NotResource"; trust policies never have a Resource) and
  analysis stops there. A copy with ``"Resource": "*"`` is linted in full; its only accepted
  finding is the ``RESOURCE_STAR`` that the added Resource itself causes.
"""

from __future__ import annotations

import json

import pytest
from parliament import analyze_policy_string, expand_action

from cmek_component.aws import policies
from cmek_component.manifest.problems import SpecError

ROLE = "arn:aws:iam::111122223333:role/crdb-cmek"
ADMIN = "arn:aws:iam::111122223333:root"
CRDB_ACCOUNT = "123456789012"
ORG_ID = "2a6b7c1e-94a3-4b8f-9e0d-4f1b6e7a8c9d"

SEED_USAGE_STATEMENT = {
    "Sid": "Allow use of the key for CMEK",
    "Effect": "Allow",
    "Principal": {"AWS": ROLE},
    "Action": [
        "kms:Encrypt",
        "kms:Decrypt",
        "kms:GenerateDataKey*",
        "kms:DescribeKey",
        "kms:ReEncrypt*",
    ],
    "Resource": "*",
}
"""The seed's statement, copied by hand from the CockroachDB docs (appendix)."""

# Everything a principal needs to *use* a KMS key for data; administrators must get none of it.
KMS_DATA_ACTIONS = {
    "Encrypt",
    "Decrypt",
    "GenerateDataKey",
    "GenerateDataKeyPair",
    "GenerateDataKeyPairWithoutPlaintext",
    "GenerateDataKeyWithoutPlaintext",
    "ReEncryptFrom",
    "ReEncryptTo",
    "Sign",
    "Verify",
    "GenerateMac",
    "VerifyMac",
    "DeriveSharedSecret",
}


def findings(document: dict) -> list[tuple[str, object]]:
    return [(f.issue, f.detail) for f in analyze_policy_string(json.dumps(document)).findings]


# --------------------------------------------------------------------------------------------
# Trust policy
# --------------------------------------------------------------------------------------------


def test_trust_policy_is_the_seed_cross_account_role_with_external_id() -> None:
    assert policies.trust_policy(CRDB_ACCOUNT, ORG_ID) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"sts:ExternalId": ORG_ID}},
            }
        ],
    }


def test_trust_policy_json_text_is_exact() -> None:
    text = policies.to_json(policies.trust_policy(CRDB_ACCOUNT, ORG_ID))
    assert text == (
        "{\n"
        '  "Version": "2012-10-17",\n'
        '  "Statement": [\n'
        "    {\n"
        '      "Effect": "Allow",\n'
        '      "Principal": {\n'
        '        "AWS": "arn:aws:iam::123456789012:root"\n'
        "      },\n"
        '      "Action": "sts:AssumeRole",\n'
        '      "Condition": {\n'
        '        "StringEquals": {\n'
        f'          "sts:ExternalId": "{ORG_ID}"\n'
        "        }\n"
        "      }\n"
        "    }\n"
        "  ]\n"
        "}"
    )


@pytest.mark.parametrize(
    ("account_id", "organization_id", "message"),
    [
        ("12345", ORG_ID, "account_id: expected a 12-digit AWS account id, got '12345'"),
        ("", ORG_ID, "account_id: expected a 12-digit AWS account id, got ''"),
        ("crl-prod-abc", ORG_ID, "account_id: expected a 12-digit AWS account id, got 'crl-prod-abc'"),
        (CRDB_ACCOUNT, "", "organization_id: expected the CockroachDB Cloud organization id"),
        (CRDB_ACCOUNT, "  ", "organization_id: expected the CockroachDB Cloud organization id"),
    ],
)
def test_trust_policy_refuses_missing_trust_anchors(account_id: str, organization_id: str, message: str) -> None:
    with pytest.raises(SpecError) as raised:
        policies.trust_policy(account_id, organization_id)
    assert str(raised.value).startswith(message)


def test_trust_policy_has_only_the_documented_parliament_finding() -> None:
    document = policies.trust_policy(CRDB_ACCOUNT, ORG_ID)
    assert findings(document) == [("MALFORMED", "Statement contains neither Resource nor NotResource")]
    assert [issue for issue, _ in findings(trust_lint_copy(document))] == ["RESOURCE_STAR"]


def trust_lint_copy(document: dict) -> dict:
    linted = json.loads(json.dumps(document))
    for statement in linted["Statement"]:
        statement["Resource"] = "*"
    return linted


def key_lint_copy(document: dict) -> dict:
    linted = json.loads(json.dumps(document))
    for statement in linted["Statement"]:
        statement["Sid"] = statement["Sid"].replace(" ", "")
    return linted


@pytest.mark.parametrize(
    ("field", "value", "issue"),
    [
        ("Action", "sts:AssumeRoles", "UNKNOWN_ACTION"),
        ("Condition", {"StringEqualz": {"sts:ExternalId": ORG_ID}}, "UNKNOWN_OPERATOR"),
        ("Principal", {"AWS": "12345"}, "UNKNOWN_PRINCIPAL"),
    ],
)
def test_the_trust_policy_lint_method_catches_real_mistakes(field: str, value: object, issue: str) -> None:
    # The lint above can fail: the same Resource trick surfaces real mistakes.
    broken = policies.trust_policy(CRDB_ACCOUNT, ORG_ID)
    broken["Statement"][0][field] = value
    assert issue in {found for found, _ in findings(trust_lint_copy(broken))}


# --------------------------------------------------------------------------------------------
# Key policy
# --------------------------------------------------------------------------------------------


def test_key_policy_is_the_seed_policy_plus_administration() -> None:
    assert policies.key_policy(ROLE, [ADMIN]) == {
        "Version": "2012-10-17",
        "Id": "crdb-cmek-kms",
        "Statement": [
            SEED_USAGE_STATEMENT,
            {
                "Sid": "Allow administration of the key",
                "Effect": "Allow",
                "Principal": {"AWS": ADMIN},
                "Action": [
                    "kms:Create*",
                    "kms:Describe*",
                    "kms:Enable*",
                    "kms:List*",
                    "kms:Put*",
                    "kms:Update*",
                    "kms:Revoke*",
                    "kms:Disable*",
                    "kms:Get*",
                    "kms:Delete*",
                    "kms:TagResource",
                    "kms:UntagResource",
                    "kms:ScheduleKeyDeletion",
                    "kms:CancelKeyDeletion",
                    "kms:RotateKeyOnDemand",
                    "kms:ReplicateKey",
                    "kms:UpdatePrimaryRegion",
                ],
                "Resource": "*",
            },
        ],
    }


def test_usage_statement_grants_exactly_the_five_seed_actions() -> None:
    statement = policies.key_policy(ROLE, [ADMIN])["Statement"][0]
    assert statement == SEED_USAGE_STATEMENT
    assert sorted(statement["Action"]) == sorted(
        ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey*", "kms:DescribeKey", "kms:ReEncrypt*"]
    )


def test_several_administrators_are_a_list_in_order_without_duplicates() -> None:
    other = "arn:aws:iam::444455556666:role/kms-admins"
    statement = policies.key_policy(ROLE, [ADMIN, other, ADMIN])["Statement"][1]
    assert statement["Principal"] == {"AWS": [ADMIN, other]}


def test_administration_never_grants_use_of_the_key() -> None:
    # Expand every administration wildcard with parliament's IAM action database.
    expanded = {
        entry["action"]
        for action in policies.KEY_ADMINISTRATION_ACTIONS
        for entry in expand_action(action)
    }
    assert expanded, "the administration actions must be real KMS actions"
    assert not (expanded & KMS_DATA_ACTIONS)
    assert "kms:*" not in policies.KEY_ADMINISTRATION_ACTIONS
    # ... and the lockout-relevant ones are there.
    assert {"PutKeyPolicy", "GetKeyPolicy", "ScheduleKeyDeletion", "CancelKeyDeletion", "ReplicateKey"} <= expanded


def test_every_action_in_the_key_policy_expands_to_a_real_kms_action() -> None:
    for action in (*policies.CMEK_USAGE_ACTIONS, *policies.KEY_ADMINISTRATION_ACTIONS):
        assert expand_action(action), action
    usage = {e["action"] for a in policies.CMEK_USAGE_ACTIONS for e in expand_action(a)}
    assert {"Encrypt", "Decrypt", "GenerateDataKey", "DescribeKey", "ReEncryptFrom", "ReEncryptTo"} <= usage


def test_cut_key_access_keeps_only_administration() -> None:
    document = policies.key_policy(ROLE, [ADMIN], grant_usage=False)
    assert document["Id"] == "crdb-cmek-kms"
    assert [s["Sid"] for s in document["Statement"]] == ["Allow administration of the key"]
    assert ROLE not in json.dumps(document)


@pytest.mark.parametrize(
    ("admins", "message"),
    [
        ([], "aws.admin_principals: expected at least one administrator, so the key can never be locked out, got []"),
        ("arn:aws:iam::111122223333:root", "aws.admin_principals: expected a list of an IAM principal ARN"),
        (["111122223333"], "aws.admin_principals[0]: expected an IAM principal ARN"),
        ([ADMIN, "arn:aws:iam::111122223333:group/admins"], "aws.admin_principals[1]: expected an IAM principal ARN"),
        (["*"], "aws.admin_principals[0]: expected an IAM principal ARN"),
    ],
)
def test_key_policy_refuses_bad_administrators(admins: object, message: str) -> None:
    with pytest.raises(SpecError) as raised:
        policies.key_policy(ROLE, admins)  # type: ignore[arg-type]
    assert str(raised.value).startswith(message)


def test_key_policy_refuses_a_role_that_is_not_a_role_arn() -> None:
    with pytest.raises(SpecError) as raised:
        policies.key_policy("arn:aws:iam::111122223333:user/bob", [ADMIN])
    assert str(raised.value) == (
        "role_arn: expected an IAM role ARN (arn:aws:iam::<account>:role/<name>), "
        "got 'arn:aws:iam::111122223333:user/bob'"
    )


@pytest.mark.parametrize(
    "document",
    [
        policies.key_policy(ROLE, [ADMIN]),
        policies.key_policy(ROLE, [ADMIN, "arn:aws:iam::444455556666:user/ops"]),
        policies.key_policy(ROLE, [ADMIN], grant_usage=False),
    ],
    ids=["one-admin", "two-admins", "access-cut"],
)
def test_key_policy_has_only_the_documented_parliament_findings(document: dict) -> None:
    statements = len(document["Statement"])
    assert [issue for issue, _ in findings(document)] == ["INVALID_SID"] * statements
    assert [issue for issue, _ in findings(key_lint_copy(document))] == ["RESOURCE_STAR"] * statements


@pytest.mark.parametrize(
    ("statement", "field", "value", "issue"),
    [
        (0, "Action", ["kms:Encrpyt"], "UNKNOWN_ACTION"),
        (1, "Principal", {"AWS": "12345"}, "UNKNOWN_PRINCIPAL"),
    ],
)
def test_the_key_policy_lint_method_catches_real_mistakes(statement: int, field: str, value: object, issue: str) -> None:
    broken = policies.key_policy(ROLE, [ADMIN])
    broken["Statement"][statement][field] = value
    assert issue in {found for found, _ in findings(key_lint_copy(broken))}


def test_parliament_version_is_the_one_the_findings_were_documented_with() -> None:
    # The benign-finding list above was written against parliament 1.6.4.
    from importlib.metadata import version

    assert version("parliament") == "1.6.4"


# --------------------------------------------------------------------------------------------
# Aliases
# --------------------------------------------------------------------------------------------


def test_default_alias_and_generations() -> None:
    base = policies.default_alias("8f1c2d3e-0000-4000-8000-000000000001")
    assert base == "alias/crdb-cmek-8f1c2d3e-0000-4000-8000-000000000001"
    assert policies.alias_name(base, 1) == base
    assert policies.alias_name(base, 3) == base + "-g3"


@pytest.mark.parametrize(
    ("alias", "message"),
    [
        ("alias/aws/x", "aws.alias: must not start with 'alias/aws/' (reserved for AWS managed keys), got 'alias/aws/x'"),
        ("crdb-cmek", "aws.alias: must start with 'alias/', got 'crdb-cmek'"),
        ("alias/", "aws.alias: expected a name after 'alias/', got 'alias/'"),
        ("alias/crdb cmek", "aws.alias: must use only the characters a-zA-Z0-9:/_-, got 'alias/crdb cmek'"),
        ("alias/crdb.cmek", "aws.alias: must use only the characters a-zA-Z0-9:/_-, got 'alias/crdb.cmek'"),
        ("alias/" + "a" * 251, "aws.alias: must be at most 256 characters (has 257)"),
        (42, "aws.alias: expected a string such as 'alias/crdb-cmek', got 42"),
    ],
)
def test_alias_rules(alias: object, message: str) -> None:
    with pytest.raises(SpecError) as raised:
        policies.validate_alias(alias)
    assert str(raised.value).startswith(message)


def test_alias_accepts_every_allowed_character_and_the_maximum_length() -> None:
    assert policies.validate_alias("alias/Az09:/_-") == "alias/Az09:/_-"
    longest = "alias/" + "a" * 250
    assert policies.validate_alias(longest) == longest


def test_policies_module_is_pure() -> None:
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(policies))
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    } | {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    assert not imported & {"pulumi", "pulumi_aws", "pulumi_gcp", "requests", "boto3"}
