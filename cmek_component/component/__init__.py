"""The ``ClusterCmek`` component: its typed arguments (``args``, pure), what a cloud module
hands back (``cloud_keys``, pure) and the component resource itself (``cluster_cmek``)."""
