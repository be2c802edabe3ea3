"""A Python language host for the Pulumi CLI: ``pulumi-language-python``, written in Python.

The CLI starts ``pulumi-language-python <engine address>``, reads the gRPC port from the first
line of its standard output, and asks it to run the program (``Run``), to run Python plugins
(``RunPlugin``: providers written in Python with a ``PulumiPlugin.yaml``), to install a
program's dependencies (``pulumi install``) and to list the Pulumi packages the program's
virtualenv holds (``GetRequiredPackages``, so the engine loads their plugins up front).

What it does, as Pulumi's own host does:

- the program runs as ``<virtualenv>/bin/python -u pulumi-language-python-exec --monitor …
  <entry point>`` (the exec script of the pinned SDK, installed beside this host), with the
  configuration in ``PULUMI_CONFIG`` / ``PULUMI_CONFIG_SECRET_KEYS``; the ``virtualenv`` runtime
  option (default: the ``python3`` on PATH) is resolved against the project root;
- the exec script's exit code 32 ("the user was already shown an error") is a *bail*: the
  CLI prints no second error;
- a plugin runs as ``<plugin dir>/venv/bin/python -u <plugin dir> <args>`` in the directory
  the engine names, its output streamed back to the engine;
- ``Cancel`` (Ctrl-C in the CLI) sends SIGINT to every child, then SIGKILL after 5 s.

Not implemented (the CLI reports UNIMPLEMENTED): code generation (``GeneratePackage``,
``GenerateProgram``, ``GenerateProject``), ``Pack``, ``Link``, ``Template``, debugging.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import empty_pb2, json_format
from pulumi.runtime.proto import language_pb2, language_pb2_grpc, plugin_pb2

BAIL_EXIT_CODE = 32  # pulumi-language-python-exec: an error was already shown to the user
KILL_GRACE_SECONDS = 5.0

# Lists the installed distributions that carry a pulumi-plugin.json (or are named pulumi-*),
# run with the program's interpreter so that it sees the program's virtualenv.
_PACKAGES_SCRIPT = r"""
import json, importlib.metadata as md
out = []
for dist in md.distributions():
    name = (dist.metadata["Name"] or "").lower().replace("_", "-")
    plugin = None
    for f in dist.files or []:
        if f.name == "pulumi-plugin.json":
            try:
                plugin = json.loads(f.read_text())
            except Exception:
                plugin = None
            break
    if plugin is None and not name.startswith("pulumi-"):
        continue
    out.append({"name": name, "version": dist.version, "plugin": plugin})
print(json.dumps(out))
"""


def plugin_version(package_version: str) -> str | None:
    """The plugin version of a Python package version (``7.51.1`` -> ``v7.51.1``).

    Pre-releases (``3.1.0a123``) cannot be mapped to a plugin version: None.
    """
    parts = package_version.split(".")
    if not all(p.isascii() and p.isdigit() for p in parts) or not 1 <= len(parts) <= 3:
        return None
    parts += ["0"] * (3 - len(parts))
    return "v" + ".".join(parts)


def package_dependencies(listing: list[dict[str, Any]]) -> list[plugin_pb2.PackageDependency]:
    """The resource plugins a program needs, from the listing ``_PACKAGES_SCRIPT`` prints."""
    packages = []
    for item in listing:
        name, plugin = item["name"], item.get("plugin")
        if name in ("pulumi", "pulumi-policy"):
            continue  # the SDKs themselves have no resource plugin
        version = None
        if isinstance(plugin, dict):
            if plugin.get("resource") is False:
                continue
            name = plugin.get("name") or name.removeprefix("pulumi-")
            version = plugin.get("version")
            if version and not str(version).startswith("v"):
                version = "v" + str(version)
        else:
            name = name.removeprefix("pulumi-")
        version = version or plugin_version(item["version"])
        if version is None:
            continue
        server = plugin.get("server", "") if isinstance(plugin, dict) else ""
        packages.append(
            plugin_pb2.PackageDependency(name=name, kind="resource", version=version, server=server)
        )
    return packages


def _options(info: language_pb2.ProgramInfo) -> dict[str, Any]:
    return json_format.MessageToDict(info.options) if info.HasField("options") else {}


def resolve_python(root: str, options: dict[str, Any], *, is_plugin: bool) -> tuple[str, dict[str, str]]:
    """The interpreter and environment for a program (or plugin) under ``root``.

    ``virtualenv`` (a runtime option) names the virtualenv, relative to ``root``; plugins
    default to ``venv``, programs to the ``python3`` on PATH (``PULUMI_PYTHON_CMD`` overrides).
    """
    env = dict(os.environ)
    venv = options.get("virtualenv") or ("venv" if is_plugin else "")
    if not venv:
        return os.environ.get("PULUMI_PYTHON_CMD", "python3"), env
    path = Path(venv) if os.path.isabs(venv) else Path(root) / venv
    python = path / "bin" / "python"
    if not python.exists():
        raise FileNotFoundError(
            f"The 'virtualenv' option in Pulumi.yaml is set to {venv!r}, but {path} is not a "
            f"virtual environment: run `python3 -m venv {path}` and install the program's "
            "requirements into it (or `pulumi install`)."
        )
    env["VIRTUAL_ENV"] = str(path)
    env["PATH"] = f"{path / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env.pop("PYTHONHOME", None)
    return str(python), env


class LanguageHost(language_pb2_grpc.LanguageRuntimeServicer):
    """The ``pulumirpc.LanguageRuntime`` service for Python programs and plugins."""

    def __init__(self, engine_address: str, exec_path: str, version: str) -> None:
        self.engine_address = engine_address
        self.exec_path = exec_path
        self.version = version
        self._children: set[subprocess.Popen[bytes]] = set()
        self._lock = threading.Lock()

    # --- bookkeeping of child processes, for Cancel -------------------------------------------
    def _start(self, args: list[str], **kwargs: Any) -> subprocess.Popen[bytes]:
        child = subprocess.Popen(args, **kwargs)
        with self._lock:
            self._children.add(child)
        return child

    def _done(self, child: subprocess.Popen[bytes]) -> None:
        with self._lock:
            self._children.discard(child)

    def cancel_children(self) -> None:
        with self._lock:
            children = list(self._children)
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGINT)
        deadline = time.monotonic() + KILL_GRACE_SECONDS
        for child in children:
            try:
                child.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()

    # --- the service ------------------------------------------------------------------------
    def Handshake(self, request: Any, context: Any) -> Any:
        if request.engine_address:
            self.engine_address = request.engine_address
        return language_pb2.LanguageHandshakeResponse()

    def GetPluginInfo(self, request: Any, context: Any) -> Any:
        return plugin_pb2.PluginInfo(version=self.version)

    def GetRequiredPackages(self, request: Any, context: Any) -> Any:
        python, env = resolve_python(
            request.info.root_directory, _options(request.info), is_plugin=False
        )
        listing = subprocess.run(
            [python, "-c", _PACKAGES_SCRIPT], env=env, capture_output=True, check=True, text=True
        ).stdout
        return language_pb2.GetRequiredPackagesResponse(
            packages=package_dependencies(json.loads(listing))
        )

    def GetProgramDependencies(self, request: Any, context: Any) -> Any:
        python, env = resolve_python(
            request.info.root_directory, _options(request.info), is_plugin=False
        )
        script = (
            "import json, importlib.metadata as md; print(json.dumps("
            "[[d.metadata['Name'], d.version] for d in md.distributions()]))"
        )
        listing = subprocess.run(
            [python, "-c", script], env=env, capture_output=True, check=True, text=True
        ).stdout
        return language_pb2.GetProgramDependenciesResponse(
            dependencies=[
                language_pb2.DependencyInfo(name=name, version=version)
                for name, version in sorted(json.loads(listing))
            ]
        )

    def About(self, request: Any, context: Any) -> Any:
        python, env = resolve_python(
            request.info.root_directory, _options(request.info), is_plugin=False
        )
        version = subprocess.run(
            [python, "--version"], env=env, capture_output=True, check=True, text=True
        ).stdout.strip().removeprefix("Python ")
        return language_pb2.AboutResponse(executable=python, version=version)

    def Run(self, request: Any, context: Any) -> Any:
        info = request.info
        try:
            python, env = resolve_python(info.root_directory, _options(info), is_plugin=False)
        except FileNotFoundError as err:
            return language_pb2.RunResponse(error=str(err))
        args = [python, "-u", self.exec_path]
        for flag, value in (
            ("monitor", request.monitor_address),
            ("engine", self.engine_address),
            ("project", request.project),
            ("root_directory", info.root_directory),
            ("stack", request.stack),
            ("pwd", request.pwd),
            ("dry_run", "true" if request.dryRun else "false"),
            ("parallel", str(request.parallel)),
            ("organization", request.organization),
        ):
            if value:
                args += [f"--{flag}", value]
        args.append(info.entry_point or ".")
        args += list(request.args)
        env["PULUMI_CONFIG"] = json.dumps(dict(request.config))
        env["PULUMI_CONFIG_SECRET_KEYS"] = json.dumps(list(request.configSecretKeys))
        child = self._start(args, env=env, cwd=request.pwd or None)
        try:
            code = child.wait()
        finally:
            self._done(child)
        sys.stdout.flush()
        sys.stderr.flush()
        if code == 0:
            return language_pb2.RunResponse()
        if code == BAIL_EXIT_CODE:
            return language_pb2.RunResponse(bail=True)
        if code < 0:
            return language_pb2.RunResponse(error=f"program exited on signal {-code}")
        return language_pb2.RunResponse(error=f"program exited with non-zero exit code: {code}")

    def RunPlugin(self, request: Any, context: Any) -> Iterator[Any]:
        info = request.info
        python, env = resolve_python(info.root_directory, _options(info), is_plugin=True)
        for item in request.env:
            key, _, value = item.partition("=")
            env[key] = value
        child = self._start(
            [python, "-u", info.program_directory, *request.args],
            env=env,
            cwd=request.pwd or None,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        chunks: list[Any] = []
        ready = threading.Condition()

        def pump(stream: Any, field: str) -> None:
            for data in iter(lambda: stream.read1(65536), b""):
                with ready:
                    chunks.append(language_pb2.RunPluginResponse(**{field: data}))
                    ready.notify()
            with ready:
                chunks.append(None)
                ready.notify()

        pumps = [
            threading.Thread(target=pump, args=(child.stdout, "stdout"), daemon=True),
            threading.Thread(target=pump, args=(child.stderr, "stderr"), daemon=True),
        ]
        for thread in pumps:
            thread.start()
        finished = 0
        try:
            while finished < len(pumps):
                with ready:
                    while not chunks:
                        ready.wait()
                    item = chunks.pop(0)
                if item is None:
                    finished += 1
                else:
                    yield item
            yield language_pb2.RunPluginResponse(exitcode=child.wait())
        finally:
            if child.poll() is None:
                child.terminate()
            self._done(child)

    def InstallDependencies(self, request: Any, context: Any) -> Iterator[Any]:
        info = request.info
        root = info.root_directory or request.directory
        options = _options(info)
        venv = options.get("virtualenv") or ("venv" if request.is_plugin else "")
        if not venv:
            yield language_pb2.InstallDependenciesResponse(
                stdout=b"No virtualenv option: dependencies are the ambient python3's.\n"
            )
            return
        path = Path(venv) if os.path.isabs(venv) else Path(root) / venv
        steps = []
        if not (path / "bin" / "python").exists():
            steps.append([sys.executable, "-m", "venv", str(path)])
        requirements = Path(info.program_directory or root) / "requirements.txt"
        if requirements.exists():
            steps.append(
                [str(path / "bin" / "python"), "-m", "pip", "install", "-q", "-r", str(requirements)]
            )
        yield language_pb2.InstallDependenciesResponse(stdout=b"Installing dependencies...\n\n")
        for step in steps:
            done = subprocess.run(
                step, cwd=info.program_directory or root, capture_output=True, check=False
            )
            yield language_pb2.InstallDependenciesResponse(stdout=done.stdout, stderr=done.stderr)
            if done.returncode:
                context.abort(grpc.StatusCode.UNKNOWN, f"{' '.join(step)} failed ({done.returncode})")
        yield language_pb2.InstallDependenciesResponse(stdout=b"Finished installing dependencies\n\n")

    def RuntimeOptionsPrompts(self, request: Any, context: Any) -> Any:
        return language_pb2.RuntimeOptionsResponse()

    def Cancel(self, request: Any, context: Any) -> Any:
        self.cancel_children()
        return empty_pb2.Empty()


def main(argv: list[str] | None = None) -> None:
    """Serve the language host; print the port on the first line of standard output."""
    parser = argparse.ArgumentParser(prog="pulumi-language-python")
    parser.add_argument("--plugin-version", default="v0.0.0")
    parser.add_argument("--use-executor", default="")
    parser.add_argument("--tracing", default="")
    parser.add_argument("engine_address", nargs="?", default="")
    args, _ = parser.parse_known_args(argv)
    exec_path = args.use_executor or str(
        Path(os.environ.get("PULUMI_LANGUAGE_PYTHON_EXEC", "")).resolve()
    )
    if not os.path.isfile(exec_path):
        sys.exit(f"pulumi-language-python: missing executor {exec_path!r}")
    host = LanguageHost(args.engine_address, exec_path, args.plugin_version)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=32))
    language_pb2_grpc.add_LanguageRuntimeServicer_to_server(host, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    print(port, flush=True)

    def stop(signum: int, frame: Any) -> None:
        host.cancel_children()
        server.stop(grace=1)

    # The CLI runs each plugin in a process group of its own, so a Ctrl-C in the terminal never
    # reaches this host (the CLI sends Cancel instead). SIGINT comes when the CLI closes the
    # plugin at the end of a command: stop now, as Pulumi's own hosts do; the CLI otherwise
    # waits 5 s before it kills the group (twice per command: about 10 s lost each time).
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    server.wait_for_termination()


if __name__ == "__main__":
    main()
