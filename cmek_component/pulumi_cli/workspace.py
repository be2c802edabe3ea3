"""A private, offline workspace for the real ``pulumi`` CLI.

``Workspace`` runs CLI commands in one project directory with:

- a private ``PULUMI_HOME`` (plugins, logs, credentials: nothing of the user's ``~/.pulumi``);
- a local file backend (``PULUMI_BACKEND_URL=file://<dir>``);
- passphrase secrets (``PULUMI_CONFIG_PASSPHRASE``);
- no network: update checks, plugin downloads and registry look-ups switched off, and
  ambient plugins on PATH ignored;
- the CLI's directory first on PATH, so its language hosts and the dynamic-provider plugin
  script beside it are the ones the engine finds.

``cli_dir()`` finds that directory: ``PULUMI_CLI_DIR`` when set (the test script exports it),
else the last line of ``scripts/pulumi-cli.sh`` (which builds the CLI the first time).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

_SUMMARY_LINE = re.compile(r"^\s+(?:[-+~<>=]+\s*)?(?P<count>[0-9]+) (?P<what>[a-z ]+?)\s*$")
_CHANGES_LINE = re.compile(r"^\s+[0-9]+ changes?\. (?P<unchanged>[0-9]+) unchanged\s*$")
REPO = Path(__file__).resolve().parents[2]
OFFLINE_ENV = {
    "PULUMI_SKIP_UPDATE_CHECK": "true",
    "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
    "PULUMI_DISABLE_REGISTRY_RESOLVE": "true",
    "PULUMI_IGNORE_AMBIENT_PLUGINS": "true",
    "PULUMI_SKIP_CONFIRMATIONS": "true",
    "PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK": "true",
    "NO_COLOR": "1",
}


def cli_dir() -> Path:
    """The directory holding ``pulumi`` (built by ``scripts/pulumi-cli.sh`` when needed)."""
    given = os.environ.get("PULUMI_CLI_DIR")
    if given:
        return Path(given)
    done = subprocess.run(
        ["bash", str(REPO / "scripts" / "pulumi-cli.sh")],
        capture_output=True, text=True, check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"scripts/pulumi-cli.sh failed:\n{done.stderr}")
    return Path(done.stdout.strip().splitlines()[-1])


@dataclass(frozen=True)
class CliResult:
    """What one CLI command printed and how it ended."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def summary(self) -> dict[str, int]:
        """The counts of the ``Resources:`` block: ``{"created": 2, "unchanged": 1, ...}``
        (previews: ``"to create"``, ``"to update"``, ...)."""
        counts: dict[str, int] = {}
        block = self.stdout.rpartition("Resources:")[2]
        for line in block.splitlines()[1:]:
            changes = _CHANGES_LINE.match(line)  # "7 changes. 9 unchanged"
            if changes:
                counts["unchanged"] = int(changes["unchanged"])
                continue
            match = _SUMMARY_LINE.match(line)
            if not match:
                if line.strip():
                    break
                continue
            if match["what"].strip() not in ("change", "changes"):  # the total of the lines above
                counts[match["what"].strip()] = int(match["count"])
        return counts

    def diagnostics(self) -> dict[str, str]:
        """The ``Diagnostics:`` block: ``"<type> (<name>)"`` -> its messages, as one text."""
        found: dict[str, list[str]] = {}
        heading = None
        block = self.stdout.partition("\nDiagnostics:\n")[2]
        for line in block.splitlines():
            if line and not line.startswith(" "):
                break
            if line.startswith("  ") and not line.startswith("    ") and line.rstrip().endswith(":"):
                heading = line.strip()[:-1]
                found.setdefault(heading, [])
            elif heading is not None:
                found[heading].append(line.strip())
        return {key: "\n".join(lines).strip() for key, lines in found.items()}

    def check(self) -> CliResult:
        if self.returncode != 0:
            raise AssertionError(
                f"pulumi {' '.join(self.args)} exited {self.returncode}\n"
                f"--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"
            )
        return self


@dataclass
class Workspace:
    """One project directory, one stack, run by the real CLI in a private home."""

    project_dir: Path
    state_dir: Path
    stack: str = "dev"
    passphrase: str = "engine-test-passphrase"
    env: dict[str, str] = field(default_factory=dict)
    cli: Path = field(default_factory=cli_dir)
    transcript: list[CliResult] = field(default_factory=list)

    @property
    def home(self) -> Path:
        return self.state_dir / "pulumi-home"

    @property
    def backend(self) -> Path:
        return self.state_dir / "backend"

    def environment(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        self.home.mkdir(parents=True, exist_ok=True)
        self.backend.mkdir(parents=True, exist_ok=True)
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("PULUMI_", "COCKROACH_"))
        }
        env.update(OFFLINE_ENV)
        env.update(
            PULUMI_HOME=str(self.home),
            PULUMI_BACKEND_URL=f"file://{self.backend}",
            PULUMI_CONFIG_PASSPHRASE=self.passphrase,
            PATH=f"{self.cli}{os.pathsep}{env.get('PATH', '')}",
        )
        env.update(self.env)
        env.update(extra or {})
        return env

    def command(self, args: Sequence[str]) -> list[str]:
        return [str(self.cli / "pulumi"), "--non-interactive", *args]

    def run(
        self,
        *args: str,
        env: Mapping[str, str] | None = None,
        timeout: float = 900,
        stdin: str | None = None,
    ) -> CliResult:
        """Runs ``pulumi <args> --non-interactive`` and records it in ``transcript``."""
        done = subprocess.run(
            self.command(args), cwd=self.project_dir, env=self.environment(env),
            capture_output=True, text=True, timeout=timeout, input=stdin, check=False,
        )
        result = CliResult(tuple(args), done.returncode, done.stdout, done.stderr)
        self.transcript.append(result)
        return result

    def start(self, *args: str, env: Mapping[str, str] | None = None) -> subprocess.Popen[str]:
        """Starts ``pulumi <args>`` without waiting (for interrupting it)."""
        return subprocess.Popen(
            self.command(args), cwd=self.project_dir, env=self.environment(env),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            start_new_session=True,
        )

    def interrupt(self, process: subprocess.Popen[str], times: int = 1, gap: float = 1.0) -> CliResult:
        """Sends SIGINT to a started command (``times`` times, like pressing Ctrl-C), then
        collects what it printed."""
        for index in range(times):
            if index:
                time.sleep(gap)
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=300)
        args = tuple(process.args[2:]) if isinstance(process.args, list) else ()
        result = CliResult(tuple(str(a) for a in args), process.returncode, stdout, stderr)
        self.transcript.append(result)
        return result

    def init_stack(self, config: Mapping[str, str] | None = None,
                   secrets: Mapping[str, str] | None = None) -> None:
        """``pulumi stack init`` and the given plain and secret config."""
        self.run("stack", "init", self.stack).check()
        for key, value in (config or {}).items():
            self.run("config", "set", key, "--", value).check()
        for key, value in (secrets or {}).items():
            self.run("config", "set", "--secret", key, "--", value).check()
