"""HashiCorp Vault ``keymgmt`` key material: the resources (``resources``, which imports
``pulumi_vault``) and the naming rules and plan (``rules``, pure)."""
