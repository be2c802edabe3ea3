"""Shared fixtures. Each support module owns one area:

- ``tests.support.simulator_fixtures``: the Cloud API simulator on a real socket, every exchange
  validated against the vendored OpenAPI document;
- ``tests.support.pulumi_fixtures``: Pulumi mocks with a fresh event loop per test and a
  monitor that records resource options;
- ``tests.support.grpc_fixtures``: the dynamic provider host (``python -m pulumi.dynamic``)
  driven over gRPC.
"""

pytest_plugins = [
    "tests.support.simulator_fixtures",
    "tests.support.pulumi_fixtures",
    "tests.support.grpc_fixtures",
]
