"""One CLI command of a rehearsal step, its output streamed to the user as it comes.

The CLI's stdout and stderr are merged (in the order the CLI wrote them) and each line is passed
to ``out`` with every secret of the step replaced by ``[secret]`` (the API key is never in the
CLI's output; this is a second guard, not the first).
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Sequence

from ..pulumi_cli.workspace import CliResult, Workspace

MASK = "[secret]"


def masked(text: str, secrets: Sequence[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
    return text


def run_streamed(workspace: Workspace, args: Sequence[str], out: Callable[[str], None],
                 secrets: Sequence[str] = ()) -> CliResult:
    """Runs ``pulumi <args> --non-interactive`` in ``workspace``, streaming; records the result in
    the workspace's transcript (stdout holds the merged output, masked)."""
    # The workspace skips confirmations (as --yes would), which the CLI refuses with --preview-only.
    extra = {"PULUMI_SKIP_CONFIRMATIONS": "false"} if "--preview-only" in args else {}
    process = subprocess.Popen(
        workspace.command(args), cwd=workspace.project_dir, env=workspace.environment(extra),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True, bufsize=1,
    )
    lines = []
    assert process.stdout is not None
    with process.stdout:
        for line in process.stdout:
            shown = masked(line.rstrip("\n"), secrets)
            lines.append(shown)
            out(shown)
    result = CliResult(tuple(args), process.wait(), "\n".join(lines) + "\n", "")
    workspace.transcript.append(result)
    return result
