"""Runs every benchmark once and writes ``benchmarks/results.md``.

    venv/bin/python benchmarks/run_all.py [--quick] [--no-readme] [--cli-repeats 4]
        [--cli-up-repeats 2] [--growth-repeats 5]

Order: program cost, scale, activation, fleet, the component's overhead through the real CLI,
growth of a real preview (about 12 minutes on 2 cores; ``--quick`` uses fewer repeats, 20 fleet
clusters and counts up to 25, for trying the scripts out, not for the record).
``results.md`` gets the date, the core count (``nproc``), the Python version, the load average
before the run, a summary of the targets and each benchmark's tables. Unless ``--no-readme``,
the same summary and tables replace the part of ``benchmarks/README.md`` between the
``<!-- results:start -->`` and ``<!-- results:end -->`` markers, and the date, the machine and
the targets table replace that part of ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import bench_activation
import bench_cli_growth
import bench_cli_overhead
import bench_fleet
import bench_program
import bench_scale
from measure import BENCHMARKS, machine, table, verdict

RESULTS = BENCHMARKS / "results.md"
README = BENCHMARKS / "README.md"
RESULTS_PAGE = BENCHMARKS.parent / "docs" / "benchmarks.md"
START, END = "<!-- results:start -->", "<!-- results:end -->"


def summary(
    program: list[bench_program.CloudResult],
    scale: list[bench_scale.ScaleResult],
    activation: bench_activation.ActivationResult,
    fleet: bench_fleet.FleetRun,
    overhead: bench_cli_overhead.OverheadResult,
    growth: bench_cli_growth.GrowthResult,
) -> str:
    rows: list[list[object]] = []
    for cost in program:
        cloud = cost.cloud.upper()
        rows.append([f"1. {cloud} program wall time <= 1.5x floor", f"{cost.wall_ratio:.2f}x (CPU {cost.cpu_ratio:.2f}x)",
                     verdict(cost.wall_ratio <= bench_program.TARGET_RATIO)])
        rows.append([f"1. {cloud} program peak memory <= 1.5x floor", f"{cost.memory_ratio:.2f}x",
                     verdict(cost.memory_ratio <= bench_program.TARGET_RATIO)])
    for result in (r for r in scale if r.gc):
        cloud = result.cloud.upper()
        rows.append([
            f"2. {cloud} time grows linearly, 1-100 clusters x 6 regions",
            f"slope {result.fit('wall_seconds')[0] * 1000:.1f} ms/cluster wall, {result.fit('cpu_seconds')[0] * 1000:.1f} CPU; "
            f"time(100)/time(10) {result.ratio():.2f}; marginal ratio {result.marginal_ratio():.2f} wall, "
            f"{result.marginal_ratio('cpu_seconds'):.2f} CPU (linear: 11)",
            verdict(result.time_linear),
        ])
        rows.append([
            f"2. {cloud} memory grows linearly",
            f"slope {result.fit('peak_rss_mb')[0]:.2f} MB/cluster, r^2 {result.fit('peak_rss_mb')[2]:.4f}",
            verdict(result.memory_linear),
        ])
    for result in (r for r in scale if not r.gc):
        rows.append([
            f"2. (diagnostic, not a target) {result.cloud.upper()} time with the garbage collector off",
            f"slope {result.fit('cpu_seconds')[0] * 1000:.1f} ms/cluster CPU; marginal ratio "
            f"{result.marginal_ratio('cpu_seconds'):.2f} CPU (linear: 11)",
            "linear" if result.time_linear else "NOT linear",
        ])
    main = next(r for r in activation.runs if r.enable_seconds == bench_activation.MAIN_ENABLE_SECONDS)
    worst = max(r.delay_seconds for r in [*activation.runs, *activation.sweep])
    rows.append([
        "3. delay ENABLED -> create returns <= 5 s (600 s enable)",
        f"{main.delay_seconds:.2f} s (sweep max {worst:.2f} s); Terraform {main.terraform_delay_seconds:.2f} s; "
        f"{main.get_requests} GETs vs Terraform's {main.terraform_polls} polls",
        verdict(worst <= bench_activation.TARGET_DELAY_SECONDS),
    ])
    rows.append([f"4. {fleet.clusters} parallel activations: zero failures", str(fleet.failures + fleet.unfinished), verdict(fleet.failures + fleet.unfinished == 0)])
    rows.append(["4. zero rate-limit errors surfacing", str(len(fleet.surfaced_rate_limit)), verdict(not fleet.surfaced_rate_limit)])
    rows.append([
        "4. observed rate never above 10 requests/s",
        f"max {fleet.max_in_one_second} in any 1 s window; {fleet.requests} requests in {fleet.wall_seconds:.1f} s",
        verdict(fleet.max_in_one_second <= bench_fleet.LIMIT_PER_SECOND),
    ])
    for command in ("preview", "up"):
        component, hand = overhead.series["component", command], overhead.series["hand", command]
        if not component.runs:
            continue
        rows.append([
            f"5. real `pulumi {command}`, component / by hand <= {bench_cli_overhead.TARGET_RATIO} (1 AWS cluster, 3 regions)",
            f"{overhead.ratio(command):.2f}x (CPU {overhead.ratio(command, 'cpu'):.2f}x); "
            f"{component.wall:.2f} s vs {hand.wall:.2f} s, {len(component.runs)} runs each",
            verdict(overhead.met(command)),
        ])
    rows.append([
        f"6. real `pulumi preview` grows linearly, 1-{growth.largest} AWS clusters (CPU without the stand-ins)",
        f"per-cluster CPU at {growth.largest} / at 10: {growth.drift('product_cpu'):.2f}x without the stand-ins, "
        f"{growth.drift('cpu'):.2f}x with; slope {growth.fit('wall')[0] * 1000:.0f} ms/cluster wall, "
        f"{growth.fit('product_cpu')[0] * 1000:.0f} CPU without the stand-ins; marginal ratio "
        f"{growth.marginal_ratio('product_cpu'):.2f} (linear: {growth.linear_marginal:.2f})",
        verdict(growth.time_linear),
    ])
    return table(["target", "measured", "verdict"], rows)


def main() -> None:
    parser = argparse.ArgumentParser(description="Run every benchmark and record the results.")
    parser.add_argument("--quick", action="store_true", help="fewer repeats, 20 fleet clusters (not for the record)")
    parser.add_argument("--no-readme", action="store_true", help="write results.md only (not benchmarks/README.md or docs/benchmarks.md)")
    parser.add_argument("--cli-repeats", type=int, help="real-CLI previews of each program (default 4, --quick 2)")
    parser.add_argument("--cli-up-repeats", type=int, help="real-CLI ups of each program (default 2, --quick 1)")
    parser.add_argument("--growth-repeats", type=int, help="real-CLI previews per cluster count (default 5, --quick 1)")
    args = parser.parse_args()
    facts = machine()
    started = time.perf_counter()
    sections: list[str] = []

    program = bench_program.run(repeats=2 if args.quick else 9)
    sections.append(bench_program.report(program))
    print(sections[-1], "\n", flush=True)
    scale = bench_scale.run(repeats=1 if args.quick else 5)
    sections.append(bench_scale.report(scale))
    print(sections[-1], "\n", flush=True)
    activation = bench_activation.run()
    sections.append(bench_activation.report(activation))
    print(sections[-1], "\n", flush=True)
    fleet = bench_fleet.run(clusters=20 if args.quick else 100)
    sections.append(bench_fleet.report(fleet))
    print(sections[-1], "\n", flush=True)
    overhead = bench_cli_overhead.run(
        repeats=_given(args.cli_repeats, 2 if args.quick else 4),
        up_repeats=_given(args.cli_up_repeats, 1 if args.quick else 2),
    )
    sections.append(bench_cli_overhead.report(overhead))
    print(sections[-1], "\n", flush=True)
    growth = bench_cli_growth.run(
        counts=(1, 10, 25) if args.quick else bench_cli_growth.COUNTS,
        repeats=_given(args.growth_repeats, 1 if args.quick else 5),
    )
    sections.append(bench_cli_growth.report(growth))
    print(sections[-1], "\n", flush=True)

    header = (
        f"Run of {facts['date']} on {facts['cores']} cores (`nproc`), Python {facts['python']}, "
        f"{facts['platform']}; load average before the run {facts['load']}; "
        f"all benchmarks took {time.perf_counter() - started:.0f} s"
        + (" (--quick: not for the record)" if args.quick else "")
        + "."
    )
    body = "\n\n".join([header, "### Targets", summary(program, scale, activation, fleet, overhead, growth), *sections])
    RESULTS.write_text("# Benchmark results\n\nWritten by `venv/bin/python benchmarks/run_all.py`.\n\n" + body + "\n")
    print(f"wrote {RESULTS}")
    if not args.no_readme:
        replace_readme_section(README, body)
        # docs/benchmarks.md carries the date, the machine and the targets table.
        replace_readme_section(RESULTS_PAGE, "\n\n".join([header, summary(program, scale, activation, fleet, overhead, growth)]))


def _given(value: int | None, default: int) -> int:
    return default if value is None else value


def replace_readme_section(readme: Path, body: str) -> None:
    text = readme.read_text()
    if START not in text or END not in text:
        print(f"{readme}: no {START} ... {END} markers; not updated")
        return
    before, rest = text.split(START, 1)
    _, after = rest.split(END, 1)
    readme.write_text(f"{before}{START}\n{body}\n{END}{after}")
    print(f"updated {readme}")


if __name__ == "__main__":
    main()
