"""What the stack program (``__main__.py``) needs: the configuration schema and its checks
(``config``, built from ``keys``, ``schema``, ``value_rules``, ``checker`` and
``cluster_rules``), the last update's outputs (``last_update``), the revoke-only-change rule
(``revoke_guard``) and what the state already holds (``state_clusters``). Pure, except the
reads of the stack's own state in ``last_update``."""
