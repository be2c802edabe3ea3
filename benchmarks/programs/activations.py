"""A benchmark program: one ``CmekActivation`` per entry of the ``bench:activations`` config.

The benchmark writes the whole list as JSON, each entry ``{"name", "cluster_id",
"region_specs", ...}`` with any other ``CmekActivation`` input passed through. Each
activation's ``status`` is exported as ``<name>_status``. Copied as ``__main__.py`` into a
temporary project by ``engine_support.program_workspace``.
"""

import pulumi

from cmek_component import CmekActivation

for entry in pulumi.Config("bench").require_object("activations"):
    activation = CmekActivation(entry["name"], {k: v for k, v in entry.items() if k != "name"})
    pulumi.export(f"{entry['name']}_status", activation.status)
