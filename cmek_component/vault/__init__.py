"""HashiCorp Vault ``keymgmt`` key material: the resources (``resources``, which imports
``pulumi_vault``), the plan of what it declares (``plan``, pure) and the naming rules
(``rules``, pure)."""
