"""The real Pulumi CLI on this machine: its Python language host, and a private workspace to run it.

The Go module proxy serves the CLI (``github.com/pulumi/pulumi/pkg/v3``) and the YAML language
host, which ``scripts/pulumi-cli.sh`` builds, but not Pulumi's Go Python language host. Its job is
small (start ``pulumi-language-python-exec`` with the program's virtualenv, run Python plugins,
report the installed Pulumi packages), so :mod:`.language_host` does it in Python, speaking the
same ``pulumirpc.LanguageRuntime`` gRPC service. Everything else (the engine, state, diffs, the
dynamic-provider host ``python -m pulumi.dynamic``, the exec script) is Pulumi's own.

:mod:`.workspace` runs CLI commands with a private ``PULUMI_HOME``, a local file backend,
passphrase secrets and no network: what the engine tests and the rehearsal share.

Nothing in the product (the component, the activation) imports this package.
"""
