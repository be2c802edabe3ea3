"""One ``cmek rehearse`` run: start the stand-ins, run the stack program, report, stop them.

``up`` (the default) previews first and prints the plan, then applies it; ``preview`` stops after
the plan; ``destroy`` plans and applies the deletion of everything in the state (retained
resources are only forgotten). State, moto's journal, the GCP stand-in's file and the
simulator's journal live in ``<project>/.rehearsal/<stack>/`` unless told otherwise.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import runpy
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import pulumi.runtime
from pulumi.output import Unknown
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from . import aws_world, gcp_world
from .aws_world import AwsWorld
from .calls import Journal
from .cloud_world import CloudWorld, Timings, new_api_key
from .dynamic_host import DynamicProviderHost
from .engine import DYNAMIC_PREFIX, ORGANIZATION, Engine, Registration, RehearsalMonitor
from .errors import RehearsalError
from .gcp_world import GcpWorld
from .plan import PlanStep, render_table, summary
from .report import RehearsalReport, render_calls, render_cmek_status, render_outputs, render_policy
from .stack_config import StackConfig, apply_override, load_stack_config
from .state import StackState, load_state, reveal, save_state, topological

API_KEY_CONFIG = "cockroach:apiKey"
API_URL_CONFIG = "cockroach:apiUrl"


@dataclass
class RehearsalOptions:
    """What to rehearse and how. Only ``stack_file`` is required."""

    stack_file: Path
    project_dir: Path | None = None
    """Directory of ``Pulumi.yaml``; default: the nearest one above the stack file."""
    api_key: str | None = None
    """The key the simulator accepts this run; default a new random one. Never printed or stored."""
    overrides: list[str] = field(default_factory=list)
    """``path=value`` config overrides, as ``pulumi config set --path`` would make them."""
    mode: str = "up"
    """``up`` (preview, then apply), ``preview`` (no mutating call anywhere) or ``destroy``."""
    destroy_preview: bool = False
    """With ``mode="destroy"``: only show what would be deleted and retained."""
    show_policies: bool = False
    show_outputs: bool = False
    skip_preview: bool = False
    state_dir: Path | None = None
    """Default ``<project dir>/.rehearsal/<stack>``."""
    timings: Timings = field(default_factory=Timings)
    report_path: Path | None = None
    out: Callable[[str], None] = print


class _Output:
    """Thread-safe line writer (the provider's stderr and progress watchers write too)."""

    def __init__(self, sink: Callable[[str], None]) -> None:
        self._sink = sink
        self._lock = threading.Lock()

    def __call__(self, text: str = "") -> None:
        with self._lock:
            for line in text.splitlines() or [""]:
                self._sink(line)


@contextlib.contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextlib.contextmanager
def _working_directory(path: Path) -> Iterator[None]:
    previous = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(previous)


def _resolve(value: Any) -> Any:
    """A stack export, resolved: nested values one by one, unknown ones as ``Unknown``."""
    if isinstance(value, pulumi.Output):
        if not _sync_await(value.is_known()):
            return Unknown()
        plain = _resolve(_sync_await(value.future()))
        if _sync_await(value.is_secret()):
            return {pulumi.runtime.rpc._special_sig_key: pulumi.runtime.rpc._special_secret_sig, "value": plain}
        return plain
    if isinstance(value, Mapping):
        return {k: _resolve(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_resolve(v) for v in value]
    if asyncio.isfuture(value) or asyncio.iscoroutine(value):
        return _resolve(_sync_await(value))
    return value


class Rehearsal:
    """The stand-ins and state of one run (see ``rehearse``)."""

    def __init__(self, options: RehearsalOptions) -> None:
        self.options = options
        self.out = _Output(options.out)
        config = load_stack_config(options.stack_file, options.project_dir)
        for override in options.overrides:
            config = apply_override(config, override)
        self.config: StackConfig = config
        self.state_dir = Path(options.state_dir) if options.state_dir else config.project_dir / ".rehearsal" / config.stack
        self.state_path = self.state_dir / "state.json"
        self.read_only = options.mode == "preview" or (options.mode == "destroy" and options.destroy_preview)
        self.prior = load_state(self.state_path, config.project, config.stack)
        self.aws = AwsWorld(
            Journal.load(self.state_dir / "aws-journal.jsonl"),
            default_region=str(config.values.get("aws:region") or "us-east-1"),
            read_only=self.read_only,
        )
        self.gcp = GcpWorld(
            self.state_dir / "gcp-world.json",
            default_project=config.values.get("gcp:project"),
            default_region=config.values.get("gcp:region"),
            read_only=self.read_only,
        )
        self.gcp.load()
        self.cloud = CloudWorld(
            Journal.load(self.state_dir / "cloud-journal.jsonl"),
            options.timings,
            self.read_only,
            api_key=options.api_key or new_api_key(),
        )
        self._aws_started = False
        self._dynamic: DynamicProviderHost | None = None

    # ------------------------------------------------------------------ stand-ins

    def aws_world(self) -> AwsWorld:
        if not self._aws_started:
            self.aws.start()
            self._aws_started = True
        return self.aws

    def gcp_world(self) -> GcpWorld:
        return self.gcp

    def _verify_aws(self) -> None:
        """Checks that moto, rebuilt from its journal, holds every AWS resource of the state."""
        owned = [r for r in self.prior.resources if r.type in aws_world.RESOURCE_TYPES]
        if not owned:
            return
        world = self.aws_world()
        problems = []
        for resource in owned:
            region = str(reveal(resource.inputs).get("region") or world.default_region)
            problem = world.verify(resource.type, resource.id, reveal(resource.outputs), region)
            if problem:
                problems.append(problem)
        if problems:
            raise RehearsalError(
                f"{self.state_dir}: moto, rebuilt from aws-journal.jsonl, does not match the state ("
                + "; ".join(problems) + "); delete the state directory to start over"
            )

    def program_config(self) -> dict[str, str]:
        flat = self.config.flat()
        flat.pop(API_KEY_CONFIG, None)
        flat[API_URL_CONFIG] = self.cloud.url
        return flat

    def provider_env(self) -> dict[str, str]:
        return {"COCKROACH_API_KEY": self.cloud.api_key, "COCKROACH_SERVER": self.cloud.url}

    def dynamic_host(self) -> DynamicProviderHost:
        if self._dynamic is None:
            self._dynamic = DynamicProviderHost(
                self.config.project,
                self.program_config(),
                self.provider_env(),
                on_log=self._provider_log,
                secrets=[self.cloud.api_key],
            )
            self._dynamic.start()
        return self._dynamic

    def _provider_log(self, line: str) -> None:
        for prefix in ("info: ", "warning: ", "error: "):
            if line.startswith(prefix):
                kind = prefix.rstrip(": ")
                line = line[len(prefix):]
                self.out(f"      provider {kind}: {line}" if kind != "info" else f"      provider: {line}")
                return
        self.out(f"      provider: {line}")

    @contextlib.contextmanager
    def watch(self, registration: Registration) -> Iterator[None]:
        """Progress lines while the activation waits: the simulated cluster's CMEK state each
        time it changes (read from the simulator, not through the API)."""
        cluster_id = str(reveal(registration.inputs).get("cluster_id") or "")
        stop = threading.Event()
        started = time.monotonic()

        def describe() -> str:
            try:
                cmek = self.cloud.cmek(cluster_id)
                cluster = self.cloud.cluster(cluster_id)
            except Exception as error:  # noqa: BLE001 - an unknown cluster: the provider reports it
                return f"cluster {cluster_id}: {error}"
            parts = []
            if cmek is None:
                parts.append("CMEK not enabled yet")
            else:
                regions = ", ".join(f"{r.get('region')} {r.get('status')}" for r in cmek.get("region_infos") or [])
                parts.append(f"CMEK {cmek.get('status')} ({regions})")
            if cluster.get("state") != "CREATED":
                parts.append(f"cluster {cluster.get('state')} {cluster.get('operation_status')}")
            return "; ".join(parts)

        def run() -> None:
            last = ""
            while not stop.wait(0.5):
                now = describe()
                if now != last:
                    self.out(f"      waiting {time.monotonic() - started:4.1f}s  {now}")
                    last = now

        thread = threading.Thread(target=run, name="rehearsal-progress", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join(timeout=5)

    def _program_logger(self) -> logging.Logger:
        """Where the program's ``pulumi.log`` lines go: the output, as ``  warning: ...``."""
        logger = logging.getLogger("cmek.rehearsal.program")
        logger.propagate = False
        logger.setLevel(logging.INFO)
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
        out = self.out

        class _Handler(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                out(f"  {record.levelname.lower()}: {record.getMessage()}")

        logger.addHandler(_Handler())
        return logger

    def checkpoint(self, state: StackState) -> None:
        save_state(self.state_path, state, forbidden=[self.cloud.api_key])

    # ------------------------------------------------------------------ program

    def new_engine(self, preview: bool, prior: StackState) -> Engine:
        return Engine(
            prior=prior,
            preview=preview,
            aws=self.aws_world,
            gcp=self.gcp_world,
            dynamic=self.dynamic_host,
            config=self.config.values,
            out=self.out,
            watch=self.watch,
            checkpoint=None if preview else self.checkpoint,
        )

    def run_program(self, engine: Engine, preview: bool) -> dict[str, Any]:
        """Runs the stack program under mocks with ``engine``; returns its stack outputs."""
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        loop.set_default_executor(ThreadPoolExecutor(max_workers=1, thread_name_prefix="rehearsal-engine"))
        pulumi.runtime.reset_options(project=self.config.project, stack=self.config.stack, preview=preview)
        monitor = RehearsalMonitor(engine)
        pulumi.runtime.set_mocks(engine, project=self.config.project, stack=self.config.stack,
                                 preview=preview, monitor=monitor, logger=self._program_logger(),
                                 organization=ORGANIZATION)
        pulumi.runtime.set_all_config(self.program_config(), secret_keys=self.config.secret_keys)
        main = self.config.main
        if not main.is_file():
            raise RehearsalError(f"{main}: the stack program does not exist")
        try:
            with _working_directory(self.config.project_dir):
                def program() -> None:
                    runpy.run_path(str(main), run_name="__main__")

                _sync_await(run_pulumi_func(program))
                root = pulumi.runtime.get_root_resource()
                exported = dict(getattr(root, "outputs", {}) or {}) if root is not None else {}
                return {name: _resolve(value) for name, value in exported.items()}
        except Exception as error:  # noqa: BLE001 - any program failure is reported, not raised
            if engine.errors:
                raise RehearsalError(engine.errors[0]) from None
            message = str(error).strip() or type(error).__name__
            raise RehearsalError(f"the stack program failed: {message}") from None
        finally:
            pulumi.runtime.set_all_config({}, secret_keys=[])
            executor = ThreadPoolExecutor(max_workers=1)
            loop.set_default_executor(executor)
            loop.close()
            asyncio.set_event_loop(None)

    # ------------------------------------------------------------------ modes

    def run(self) -> RehearsalReport:
        options = self.options
        mode = "destroy-preview" if options.mode == "destroy" and options.destroy_preview else options.mode
        report = RehearsalReport(self.config.project, self.config.stack, mode)
        self.out(f"Rehearsing {self.config.project}/{self.config.stack} ({mode}) from {options.stack_file}")
        self.out(f"  state: {self.state_dir}")
        try:
            self.cloud.start()
            self.out(f"  CockroachDB Cloud API: simulator at {self.cloud.url}; AWS: moto (in process); "
                     "GCP: offline validator")
            for override in options.overrides:
                self.out(f"  config override: {override}")
            self.out()
            self._verify_aws()
            with _environment(self.provider_env()):
                if options.mode == "destroy":
                    self._destroy(report)
                else:
                    self._up(report)
        except RehearsalError as error:
            report.error = str(error)
        finally:
            self._finish(report)
        return report

    def _up(self, report: RehearsalReport) -> None:
        preview_only = self.options.mode == "preview"
        if preview_only or not self.options.skip_preview:
            engine = self.new_engine(True, _copy_state(self.prior))
            # Like Pulumi, a program that fails plans no delete: what it did not register yet is
            # not gone from the program.
            completed = False
            try:
                report.outputs = self.run_program(engine, preview=True)
                completed = True
            finally:
                deletes = engine.plan_deletes() if completed else []
                report.plan = in_stack_order(engine.steps, engine.registered) + [step for step, _ in deletes]
            self.out(render_table(report.plan, "Plan (preview: nothing is changed)"))
            self.out()
        if preview_only:
            return
        self.out("Applying:")
        engine = self.new_engine(False, self.prior)
        try:
            report.outputs = self.run_program(engine, preview=False)
            engine.apply_deletes(engine.plan_deletes())
            final = engine.final_state(report.outputs)
            save_state(self.state_path, final, forbidden=[self.cloud.api_key])
        finally:
            report.applied = in_stack_order(engine.steps, engine.registered)
        changed = [step for step in report.applied if step.op != "same"]
        if not changed:
            self.out("  nothing to do: every resource is as declared")
            self.out(summary(report.applied, done=True))
        else:
            self.out()
            self.out(render_table(changed, "Changes made", done=True, with_summary=False))
            self.out(summary(report.applied, done=True))
        self.out()

    def _destroy(self, report: RehearsalReport) -> None:
        engine = self.new_engine(True, _copy_state(self.prior))
        report.plan = [step for step, _ in engine.plan_deletes(destroying=True)]
        self.out(render_table(report.plan, "Plan (destroy)" + (": nothing is changed" if self.read_only else "")))
        self.out()
        if self.read_only:
            return
        self.out("Destroying:")
        engine = self.new_engine(False, self.prior)
        try:
            engine.apply_deletes(engine.plan_deletes(destroying=True))
            save_state(self.state_path, StackState(self.config.project, self.config.stack), forbidden=[self.cloud.api_key])
        finally:
            report.applied = list(engine.steps)
        self.out()
        self.out(render_table(report.applied, "Result", done=True))
        self.out()

    # ------------------------------------------------------------------ end of run

    def _clusters(self) -> list[str]:
        state = load_state(self.state_path, self.config.project, self.config.stack) if self.state_path.exists() else self.prior
        clusters: list[str] = []
        for resource in [*state.resources, *self.prior.resources]:
            if resource.type.startswith(DYNAMIC_PREFIX):
                cluster = str(reveal(resource.inputs).get("cluster_id") or "")
                if cluster and cluster not in clusters:
                    clusters.append(cluster)
        for value in (self.config.values.get(f"{self.config.project}:clusters") or []):
            cluster = str(value.get("cluster_id") or "") if isinstance(value, Mapping) else ""
            if cluster and cluster not in clusters:
                clusters.append(cluster)
        return clusters

    def _finish(self, report: RehearsalReport) -> None:
        if self.cloud.simulator is None:
            self._stop()
            if report.error:
                self.out(f"error: {report.error}")
            return
        try:
            if report.error is None:
                if report.outputs and self.options.mode == "up":
                    if self.options.show_outputs:
                        self.out(render_outputs(report.outputs))
                    else:
                        self.out(f"Outputs: {', '.join(report.outputs)} (--show-outputs prints them)")
                    self.out()
                if self.options.show_policies:
                    self._show_policies()
            for cluster_id in self._clusters():
                try:
                    report.cmek[cluster_id] = self.cloud.cmek(cluster_id)
                    cluster = self.cloud.cluster(cluster_id)
                except Exception as error:  # noqa: BLE001 - a cluster the simulator does not know
                    self.out(f"CMEK status of cluster {cluster_id}: unavailable ({error})")
                    continue
                self.out(render_cmek_status(cluster_id, report.cmek[cluster_id], cluster))
                self.out()
            report.calls = sorted([*self.aws.calls, *self.gcp.calls, *self.cloud.calls()], key=lambda c: c.at)
            self.gcp.save()
            try:
                self.cloud.save()
            except RehearsalError as error:
                report.error = report.error or str(error)
            report.provider_rpcs = list(self._dynamic.calls) if self._dynamic else []
            self.out(render_calls(report.calls))
            if report.error:
                self.out()
                self.out(f"error: {report.error}")
            if self.options.report_path:
                path = Path(self.options.report_path)
                path.parent.mkdir(parents=True, exist_ok=True)
                text = json.dumps(report.to_json(), indent=2, default=str)
                if self.cloud.api_key in text:
                    raise RehearsalError("refusing to write a report that contains the API key")
                path.write_text(text + "\n")
        finally:
            self._stop()

    def _stop(self) -> None:
        if self._dynamic is not None:
            self._dynamic.stop()
        self.cloud.stop()
        if self._aws_started:
            self.aws.stop()
            self._aws_started = False

    def _show_policies(self) -> None:
        """Trust and key policies as moto stores them (GCP: IAM bindings); keys with the same
        policy are listed together under one document."""
        state = load_state(self.state_path, self.config.project, self.config.stack) if self.state_path.exists() else self.prior
        groups: dict[tuple[str, str], list[str]] = {}
        documents: dict[tuple[str, str], Any] = {}
        for resource in state.resources:
            outputs = reveal(resource.outputs)
            if resource.type == aws_world.ROLE:
                kind, subject = "Trust policy of role", str(outputs.get("arn"))
                document: Any = self.aws_world().role_trust_policy(resource.id)
            elif resource.type in (aws_world.KEY, aws_world.REPLICA_KEY, aws_world.KEY_POLICY):
                region = str(reveal(resource.inputs).get("region") or self.aws.default_region)
                key_id = aws_world.key_id_from(str(outputs.get("keyId") or resource.id))
                kind, subject = "Key policy of", str(outputs.get("arn") or outputs.get("keyId"))
                document = self.aws_world().key_policy(region, key_id)
            elif resource.type in (gcp_world.ACCOUNT, gcp_world.CRYPTO_KEY):
                kind, subject = "IAM bindings on", resource.id
                document = self.gcp.bindings(resource.id)
            else:
                continue
            text = json.dumps(json.loads(document) if isinstance(document, str) else document, sort_keys=True)
            key = (kind, text)
            groups.setdefault(key, []).append(subject)
            documents[key] = document
        if not groups:
            self.out("Policies: none in the state")
            self.out()
        for (kind, text), subjects in groups.items():
            where = "" if kind.startswith("IAM") else " (as stored in moto)"
            self.out(render_policy(f"{kind} {', '.join(subjects)}{where}", documents[(kind, text)]))
            self.out()


def in_stack_order(steps: list[PlanStep], registered: Mapping[str, Any]) -> list[PlanStep]:
    """Steps of registered resources in the state file's order, then the others (deletes) as
    they came: tables read the same from one run to the next."""
    order = {r.urn: i for i, r in enumerate(topological(registered.values()))}
    kept = sorted((s for s in steps if s.urn in order and s.op not in ("delete", "retain")), key=lambda s: order[s.urn])
    return kept + [s for s in steps if s not in kept]


def _copy_state(state: StackState) -> StackState:
    return StackState(state.project, state.stack, list(state.resources), dict(state.outputs))


def rehearse(options: RehearsalOptions) -> RehearsalReport:
    """Runs one rehearsal (see the module docstring) and returns its report; errors are in
    ``report.error`` (and printed), never raised, except for unusable arguments."""
    return Rehearsal(options).run()


def plan_ops(steps: list[PlanStep]) -> dict[str, str]:
    """Resource name -> operation (tests and scripts)."""
    return {step.name: step.op for step in steps}
