"""The ``cockroach-cmek`` Pulumi provider plugin: ``ClusterCmek`` and ``CmekActivation`` for
programs in any Pulumi language (``provider/`` in the repository runs :func:`main`)."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> None:
    """Serves the provider (the engine passes its address as the first argument)."""
    from .provider import CmekProvider
    from .schema import package_version
    from .server import serve

    args = list(sys.argv[1:] if argv is None else argv)
    engine = next((arg for arg in args if not arg.startswith("-")), None)
    serve(args, package_version(), CmekProvider(engine))
