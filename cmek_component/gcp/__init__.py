"""GCP: the cross-tenant service account, key rings and crypto keys of ``ClusterCmek``
(``resources``, which imports ``pulumi_gcp``), the plan of what it declares (``plan``, pure) and
GCP's naming rules (``rules``, pure)."""
