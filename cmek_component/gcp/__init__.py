"""GCP: the cross-tenant service account, key rings and crypto keys of ``ClusterCmek``
(``resources``, which imports ``pulumi_gcp``), and GCP's naming rules and the plan of what is
declared (``rules``, pure)."""
