"""AWS: the cross-account IAM role and the KMS keys of ``ClusterCmek`` (``resources``, which
imports ``pulumi_aws``), the plan of what it declares (``plan``, pure) and the policy documents
they carry (``policies``, pure)."""
