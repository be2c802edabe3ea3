#!/usr/bin/env bash
# The README's test command: makes ./venv, installs the project with its test extra, makes the
# real Pulumi CLI ready (scripts/pulumi-cli.sh: built from the Go module proxy the first time),
# then runs ruff, mypy and pytest (the engine tier, tests/engine, runs that CLI). Safe to run
# again; a fresh machine needs python3 and Go >= 1.24 (or the Pulumi CLI, see pulumi-cli.version).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x venv/bin/python ]; then
  python3 -m venv venv
fi
venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
echo "== pulumi CLI"
PULUMI_CLI_DIR="$(bash scripts/pulumi-cli.sh | tail -1)"
export PULUMI_CLI_DIR
echo "using $PULUMI_CLI_DIR/pulumi $("$PULUMI_CLI_DIR/pulumi" version)"
echo "== ruff"
venv/bin/ruff check .
echo "== mypy"
venv/bin/mypy
echo "== pytest"
venv/bin/python -m pytest "$@"
