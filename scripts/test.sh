#!/usr/bin/env bash
# The README's test command: makes ./venv, installs the project with its test extra,
# then runs ruff, mypy and pytest. Safe to run again; a fresh machine needs only python3.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x venv/bin/python ]; then
  python3 -m venv venv
fi
venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
echo "== ruff"
venv/bin/ruff check .
echo "== mypy"
venv/bin/mypy
echo "== pytest"
venv/bin/python -m pytest "$@"
