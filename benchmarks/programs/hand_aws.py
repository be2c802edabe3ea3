"""A benchmark program: what ``ClusterCmek`` declares for the simulator's three-region AWS
cluster (``seeds.AWS_MULTI``, ``stacks/Pulumi.local.yaml``), written by hand with no component.

The baseline of ``bench_cli_overhead.py``: a user who knows the cluster's facts (account id,
organization id, regions, from the Cloud console) and writes the resources themselves. Same
resources, types, inputs and options as ``cmek_component/aws/resources.py`` (multi-region mode, primary
``eu-west-1``) and ``component/activation_child.py`` (the activation), only without the ``ClusterCmek`` parent:

- ``aws.iam.Role`` trusting the cluster's account with ``sts:ExternalId`` = the organization id;
- ``aws.get_caller_identity`` for the key administrators (the deploying account's root);
- a multi-region ``aws.kms.Key`` in ``eu-west-1``, an ``aws.kms.ReplicaKey`` in ``us-east-1``
  and ``us-west-2``, each with the ``crdb-cmek-kms`` key policy, retained on delete;
- an ``aws.kms.Alias`` ``alias/crdb-cmek-<cluster id>`` next to each key and replica;
- ``CmekActivation`` with the region specs, after the role and the keys.

The policy documents are written out here as a user would, not built by
``cmek_component.aws.policies`` (whose documents are the same JSON, key for key).
"""

import json

import pulumi
import pulumi_aws as aws

from cmek_component import CmekActivation

CLUSTER_ID = "b23eaee4-e12c-4288-95db-3e81ee22d2ea"
CRDB_ACCOUNT = "548012347802"
ORGANIZATION_ID = "52337060-d4a4-4ece-98df-052610c8ec9f"
PRIMARY = "eu-west-1"
REPLICAS = ("us-east-1", "us-west-2")
NAME = "cluster-b23eaee4"
ALIAS = f"alias/crdb-cmek-{CLUSTER_ID}"
DESCRIPTION = f"CockroachDB Cloud CMEK for cluster {CLUSTER_ID}, key generation 1"
ADMIN_ACTIONS = [
    "kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*",
    "kms:Revoke*", "kms:Disable*", "kms:Get*", "kms:Delete*", "kms:TagResource",
    "kms:UntagResource", "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion",
    "kms:RotateKeyOnDemand", "kms:ReplicateKey", "kms:UpdatePrimaryRegion",
]


def key_policy(role_arn: str, admin: str) -> str:
    return json.dumps({
        "Version": "2012-10-17",
        "Id": "crdb-cmek-kms",
        "Statement": [
            {"Sid": "Allow use of the key for CMEK", "Effect": "Allow", "Principal": {"AWS": role_arn},
             "Action": ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey*", "kms:DescribeKey", "kms:ReEncrypt*"],
             "Resource": "*"},
            {"Sid": "Allow administration of the key", "Effect": "Allow", "Principal": {"AWS": admin},
             "Action": ADMIN_ACTIONS, "Resource": "*"},
        ],
    }, indent=2)


role = aws.iam.Role(
    f"{NAME}-role",
    assume_role_policy=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{CRDB_ACCOUNT}:root"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"sts:ExternalId": ORGANIZATION_ID}},
        }],
    }, indent=2),
    description=f"Assumed by CockroachDB Cloud to use the CMEK keys of cluster {CLUSTER_ID}",
    opts=pulumi.ResourceOptions(retain_on_delete=True),
)
identity = aws.get_caller_identity_output()
admin = identity.apply(lambda found: f"arn:{found.arn.split(':')[1]}:iam::{found.account_id}:root")
policy = pulumi.Output.all(role.arn, admin).apply(lambda values: key_policy(values[0], values[1]))
kept = pulumi.ResourceOptions(retain_on_delete=True, protect=False)

key = aws.kms.Key(
    f"{NAME}-key", description=DESCRIPTION, key_usage="ENCRYPT_DECRYPT",
    customer_master_key_spec="SYMMETRIC_DEFAULT", multi_region=True, enable_key_rotation=True,
    deletion_window_in_days=30, policy=policy, region=PRIMARY, opts=kept,
)
aws.kms.Alias(f"{NAME}-alias-{PRIMARY}", name=ALIAS, target_key_id=key.key_id, region=PRIMARY)
keys: dict[str, aws.kms.Key | aws.kms.ReplicaKey] = {PRIMARY: key}
for region in REPLICAS:
    replica = aws.kms.ReplicaKey(
        f"{NAME}-replica-{region}", primary_key_arn=key.arn, description=DESCRIPTION,
        deletion_window_in_days=30, policy=policy, region=region, opts=kept,
    )
    aws.kms.Alias(f"{NAME}-alias-{region}", name=ALIAS, target_key_id=replica.key_id, region=region)
    keys[region] = replica

region_specs = pulumi.Output.all(role.arn, *[keys[r].arn for r in sorted(keys)]).apply(
    lambda values: [
        {"region": region, "key_spec": {"type": "AWS_KMS", "uri": uri, "auth_principal": values[0]}}
        for region, uri in zip(sorted(keys), values[1:], strict=True)
    ]
)
activation = CmekActivation(
    f"{NAME}-activation",
    {"cluster_id": CLUSTER_ID, "region_specs": region_specs, "new_region_nodes": {},
     "rotation_trigger": "", "revoke": False},
    pulumi.ResourceOptions(depends_on=[role, *keys.values()]),
)
pulumi.export("role_arn", role.arn)
pulumi.export("key_arns", {region: keys[region].arn for region in sorted(keys)})
pulumi.export("region_specs", region_specs)
pulumi.export("status", activation.status)
