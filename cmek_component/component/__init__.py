"""The ``ClusterCmek`` component: its typed arguments (``args``, pure), what a cloud module
hands back (``cloud_keys``, pure), the checks made before anything is declared (``preflight``,
pure), whether the cloud SDKs it needs are installed (``sdks``), the cluster facts read at
program time (``cluster_facts``), its ``CmekActivation`` child
(``activation_child``) and the component resource itself (``cluster_cmek``)."""
