"""The ``cockroach-cmek`` provider plugin (``PulumiPlugin.yaml``): run by the engine through the
Python language host as ``<venv>/bin/python -u provider/ <engine address>``."""

from cmek_component.plugin import main

main()
