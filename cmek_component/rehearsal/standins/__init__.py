"""Stand-in provider plugins for the real Pulumi engine: ``aws`` on moto, ``gcp`` on a local store,
``vault`` for previews. Only the tests and the rehearsal use them; nothing in the product imports
this package, and the plugins are installed only into a private ``PULUMI_HOME``.

- :func:`install.install_standins` (``home``): the plugin directories the engine looks for;
- :func:`harness.standin_backends` (``state_dir``): moto in server mode and the GCP store for as
  long as the ``with`` block lasts, with ``env()`` for the CLI and readers for assertions.

This ``__init__`` imports nothing, so that a plugin process loads only what it serves.
"""
