"""The ``cmek`` command.

``cmek rehearse STACK_FILE``: runs one step of the stack's life on this machine with the real
Pulumi CLI, the stand-in providers and the Cloud API simulator (see
:mod:`cmek_component.rehearsal`). The stack file is never modified: the CLI runs on a copy.
Options:

- ``--set PATH=VALUE`` (repeatable): change the stack config for this run, with
  ``pulumi config set --path`` syntax, e.g. ``--set 'clusters[0].key_generation=2'``;
- ``--preview``: ``pulumi preview --diff`` only; no mutating call may reach a stand-in, moto or
  the Cloud API (the step fails naming any);
- ``--destroy``: ``pulumi destroy`` (retained keys are only forgotten, and listed);
  with ``--preview``, ``pulumi destroy --preview-only``;
- ``--refresh``: then ``pulumi refresh`` (what the stand-ins and the simulator hold, against the state);
- ``--skip-preview``: ``pulumi up --skip-preview``;
- ``--show-policies``: print the trust and key policies as stored in moto (GCP: IAM bindings);
- ``--show-outputs``: print the stack outputs;
- ``--state-dir DIR``: where the stack's state, the project copy, the stand-ins' backends and the
  simulator's world live (default ``<project>/.rehearsal/<stack>``); ``--reset`` deletes it first;
- ``--project-dir DIR``: the directory of ``Pulumi.yaml`` and the program (default: the nearest
  one above the stack file);
- ``--report FILE``: also write the step's commands and counts, mutating calls, outputs and CMEK
  status as JSON;
- ``--enable-seconds`` / ``--rotate-seconds`` / ``--revoke-seconds`` / ``--add-region-seconds``
  / ``--iam-propagation-seconds``: how long the simulated operations take (defaults 2, 2, 1, 3, 0).

The simulator accepts a key made up for each run (``CMEK_REHEARSAL_API_KEY`` sets it instead);
the program and its dynamic provider get it through ``COCKROACH_API_KEY``. It is never printed or
stored. The CLI is ``PULUMI_CLI_DIR``'s, else the one ``scripts/pulumi-cli.sh`` finds or builds.

Exit status: 0 on success, 1 when the rehearsed deployment failed, 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from .rehearsal.stack_config import StackConfigError, load_stack_config

API_KEY_ENV = "CMEK_REHEARSAL_API_KEY"
"""Fixes the simulator's API key for a run (default: a new random key per run)."""
REHEARSAL_SECONDS = {"enable": 2.0, "rotate": 2.0, "revoke": 1.0, "add-region": 3.0, "iam-propagation": 0.0}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cmek", description="CockroachDB Cloud CMEK with Pulumi: tools.")
    commands = parser.add_subparsers(dest="command", required=True)
    rehearse_cmd = commands.add_parser(
        "rehearse",
        help="run one step of a stack's life offline: the real Pulumi CLI, stand-in providers, the simulator",
        description="Runs the real Pulumi CLI (preview, up, refresh, destroy) on a copy of the stack, with "
        "stand-in AWS and GCP providers on local backends (moto, a GCP store) and the CockroachDB Cloud API "
        "simulator, all kept in the state directory between runs. No cloud account needed.",
    )
    rehearse_cmd.add_argument("stack_file", type=Path, help="the stack file, e.g. stacks/Pulumi.local.yaml")
    rehearse_cmd.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE",
                              help="override one config value for this run, e.g. 'clusters[0].key_generation=2'")
    rehearse_cmd.add_argument("--preview", action="store_true", help="pulumi preview --diff; change nothing anywhere")
    rehearse_cmd.add_argument("--destroy", action="store_true", help="delete every resource of the stack")
    rehearse_cmd.add_argument("--refresh", action="store_true", help="then run pulumi refresh")
    rehearse_cmd.add_argument("--show-policies", action="store_true",
                              help="print trust and key policies as moto stores them (GCP: IAM bindings)")
    rehearse_cmd.add_argument("--show-outputs", action="store_true", help="print the stack outputs")
    rehearse_cmd.add_argument("--skip-preview", action="store_true", help="pulumi up/destroy --skip-preview")
    rehearse_cmd.add_argument("--state-dir", type=Path, help="state directory (default <project>/.rehearsal/<stack>)")
    rehearse_cmd.add_argument("--project-dir", type=Path,
                              help="directory of Pulumi.yaml (default: the nearest one above the stack file)")
    rehearse_cmd.add_argument("--reset", action="store_true", help="delete the state directory first")
    rehearse_cmd.add_argument("--report", type=Path, help="write a JSON report of the run to this file")
    for name, default in REHEARSAL_SECONDS.items():
        rehearse_cmd.add_argument(f"--{name}-seconds", type=float, default=default, metavar="S",
                                  help=f"simulated {name.replace('-', ' ')} time (default {default:g})")
    return parser


def _rehearse(args: argparse.Namespace) -> int:
    try:
        from .rehearsal import RehearsalError, RehearsalOptions, Timings, rehearse
    except ModuleNotFoundError as error:
        print(
            f"cmek rehearse: {error.name} is not installed; the rehearsal needs moto, boto3 and every cloud SDK: "
            "pip install -e '.[test]' (or run scripts/rehearse.sh)",
            file=sys.stderr,
        )
        return 2
    for name in ("enable", "rotate", "revoke", "add_region", "iam_propagation"):
        value = getattr(args, f"{name}_seconds")
        if value < 0:
            print(f"cmek rehearse: --{name.replace('_', '-')}-seconds: expected seconds >= 0, got {value}", file=sys.stderr)
            return 2
    try:
        config = load_stack_config(args.stack_file, args.project_dir)
    except StackConfigError as error:
        print(f"cmek rehearse: {error}", file=sys.stderr)
        return 2
    state_dir = args.state_dir or config.project_dir / ".rehearsal" / config.stack
    if args.reset and state_dir.exists():
        shutil.rmtree(state_dir)
    options = RehearsalOptions(
        stack_file=args.stack_file,
        project_dir=args.project_dir,
        api_key=os.environ.get(API_KEY_ENV) or None,
        overrides=list(args.overrides),
        mode="destroy" if args.destroy else ("preview" if args.preview else "up"),
        destroy_preview=bool(args.destroy and args.preview),
        refresh=args.refresh,
        show_policies=args.show_policies,
        show_outputs=args.show_outputs,
        skip_preview=args.skip_preview,
        state_dir=state_dir,
        timings=Timings(args.enable_seconds, args.rotate_seconds, args.revoke_seconds, args.add_region_seconds,
                        args.iam_propagation_seconds),
        report_path=args.report,
        out=lambda line: print(line, flush=True),
    )
    try:
        report = rehearse(options)
    except StackConfigError as error:
        print(f"cmek rehearse: {error}", file=sys.stderr)
        return 2
    except (RehearsalError, RuntimeError) as error:  # RuntimeError: the CLI could not be found or built
        print(f"cmek rehearse: {error}", file=sys.stderr)
        return 1
    return 1 if report.error else 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "rehearse":
        return _rehearse(args)
    return 2  # pragma: no cover - argparse requires a command


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
