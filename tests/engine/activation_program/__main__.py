"""An engine-test program: one CmekActivation per entry of the ``activations`` config.

``pulumi config set --path 'activations[0]' ...`` is not used: the test writes the whole list as
JSON (``engine:activations``), each entry ``{"name", "cluster_id", "region_specs", ...}`` with
any other CmekActivation input (``rotation_trigger``, ``revoke``, ``new_region_nodes``,
``wait_timeout_seconds``) passed through. Each activation's ``status`` and ``regions`` are
exported as ``<name>_status`` and ``<name>_regions``.
"""

import pulumi

from cmek_component import CmekActivation

config = pulumi.Config("engine")
for entry in config.require_object("activations"):
    args = {key: value for key, value in entry.items() if key not in ("name", "import_id")}
    options = pulumi.ResourceOptions(import_=entry["import_id"]) if entry.get("import_id") else None
    activation = CmekActivation(entry["name"], args, options)
    pulumi.export(f"{entry['name']}_status", activation.status)
    pulumi.export(f"{entry['name']}_regions", activation.regions)
