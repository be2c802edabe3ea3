"""``python -m cmek_component.simulator``: the simulator as a standalone server.

Prints its base URL on the first line of stdout, then serves until interrupted. Every
``SimulatorSettings`` field is a flag (``--enable-seconds 0`` makes operations finish by the next
request; ``--rate-limit-per-second 0`` disables the limit). ``--api-key KEY[=ROLE]`` (repeatable)
replaces the default keys; the role defaults to CLUSTER_ADMIN; ``--api-key-env NAME`` reads one
more key from that environment variable instead, so the key is not on the command line (where
``ps`` shows it). The clock is real time; ``POST /_simulator/advance?seconds=N`` skips ahead.
``--journal FILE`` keeps the world across processes: the file's requests are applied again at
start, and every mutating request is added to it (``cmek_component.simulator.journal``).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import typing
from collections.abc import Sequence
from typing import Any

from .app import Simulator
from .clock import RealClock
from .journal import JournalError, RequestJournal
from .server import SimulatorServer
from .settings import SimulatorSettings


def _bool(text: str) -> bool:
    lowered = text.lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def _csv(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _rate(text: str) -> float | None:
    value = float(text)
    return None if value == 0 else value


def _add_setting_flags(parser: argparse.ArgumentParser) -> None:
    hints = typing.get_type_hints(SimulatorSettings)
    defaults = SimulatorSettings()
    for f in dataclasses.fields(SimulatorSettings):
        if f.name == "api_keys":
            continue
        default = getattr(defaults, f.name)
        flag = "--" + f.name.replace("_", "-")
        choices = typing.get_args(hints[f.name]) if typing.get_origin(hints[f.name]) is typing.Literal else None
        kind: Any
        if f.name == "rate_limit_per_second":
            kind = _rate
        elif isinstance(default, bool):
            kind = _bool
        elif isinstance(default, tuple):
            kind = _csv
        elif isinstance(default, (int, float, str)):
            kind = type(default)
        else:
            continue
        shown = ",".join(default) if isinstance(default, tuple) else default
        parser.add_argument(flag, dest=f.name, type=kind, choices=choices, default=argparse.SUPPRESS,
                            help=f"default {shown}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m cmek_component.simulator",
        description="Local CockroachDB Cloud API simulator (CMEK endpoints). Prints its base URL.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port (default 0: any free port)")
    parser.add_argument(
        "--api-key", action="append", default=[], metavar="KEY[=ROLE]",
        help="accepted API key (repeatable; replaces the default sim-* keys); role default CLUSTER_ADMIN",
    )
    parser.add_argument(
        "--api-key-env", metavar="NAME",
        help="also accept the key held by environment variable NAME (role CLUSTER_ADMIN); replaces the default keys",
    )
    parser.add_argument(
        "--journal", metavar="FILE",
        help="keep the world in FILE across restarts (JSON lines of the mutating requests; created when missing)",
    )
    parser.add_argument("--quiet", action="store_true", help="no access log on stderr")
    _add_setting_flags(parser)
    return parser


def settings_from_args(args: argparse.Namespace) -> SimulatorSettings:
    values: dict[str, Any] = {}
    for f in dataclasses.fields(SimulatorSettings):
        if f.name != "api_keys" and hasattr(args, f.name):
            values[f.name] = getattr(args, f.name)
    keys = {}
    for item in args.api_key:
        key, _, role = item.partition("=")
        keys[key] = role or "CLUSTER_ADMIN"
    if args.api_key_env:
        from_env = os.environ.get(args.api_key_env, "").strip()
        if not from_env:
            raise ValueError(f"--api-key-env: environment variable {args.api_key_env} is not set or empty")
        keys[from_env] = "CLUSTER_ADMIN"
    if keys:
        values["api_keys"] = keys
    return SimulatorSettings(**values)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = settings_from_args(args)
    except ValueError as exc:
        parser.error(str(exc))
    try:
        journal = RequestJournal.open(args.journal) if args.journal else None
        simulator = Simulator(settings, RealClock(), journal=journal)
    except (JournalError, OSError) as exc:
        print(f"simulator: --journal: {exc}", file=sys.stderr, flush=True)
        return 2
    server = SimulatorServer(simulator, port=args.port, host=args.host, quiet=args.quiet)
    server.bind()
    print(server.url, flush=True)
    print(f"CockroachDB Cloud API simulator at {server.url} ({len(settings.api_keys)} API keys); "
          f"admin endpoints under {server.url}/_simulator", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
