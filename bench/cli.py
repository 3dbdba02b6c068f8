"""Command line of the benchmark runner: pick workloads, run both servers, print."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

from bench import servers
from bench.http import Unsupported
from bench.report import Figure, as_json, markdown_table, pair
from bench.servers import RunningServer, ServerSpec
from bench.workloads import (
    concurrency,
    filter,
    scheduled_runs,
    scheduler,
    set_state,
    task_runs,
)
from bench.workloads.base import Workload
from bench.workloads.process import MEMORY, STARTUP, measure_memory, measure_startup

LOAD_WORKLOADS: dict[str, Workload] = {
    "set-state": set_state.WORKLOAD,
    "filter": filter.WORKLOAD,
    "task-runs": task_runs.WORKLOAD,
    "scheduler": scheduler.WORKLOAD,
    "worker-poll": scheduled_runs.WORKLOAD,
    "concurrency": concurrency.WORKLOAD,
}
ALL_WORKLOADS = ["startup", "memory", *LOAD_WORKLOADS]
KINDS = ("podium", "prefect")

# Servers that are running now, so an interrupt can stop them.
_running: list[RunningServer] = []


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bench",
        description="Run the same workloads against Podium and Prefect 3.9.1 "
        "and print each figure with the Podium/Prefect ratio.",
    )
    select = parser.add_argument_group("workloads (default: all)")
    for name in ALL_WORKLOADS:
        select.add_argument(
            f"--{name}", action="append_const", const=name, dest="selected"
        )
    parser.add_argument(
        "--servers",
        default="podium,prefect",
        help="comma-separated servers to run: podium, prefect (default: both)",
    )
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="give each server a fresh PostgreSQL database on 127.0.0.1:5432 "
        "(PODIUM_BENCH_PG_URL sets the admin URL) instead of SQLite",
    )
    parser.add_argument("--podium-port", type=int, default=4240)
    parser.add_argument("--prefect-port", type=int, default=4440)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument(
        "--keep-logs", type=Path, help="copy each server's log into this directory"
    )

    sizes = parser.add_argument_group("sizes and bounds")
    sizes.add_argument(
        "--clients", type=int, default=8, help="concurrent clients in set-state (8)"
    )
    sizes.add_argument(
        "--seed-clients",
        type=int,
        default=4,
        help="concurrent clients that create the objects a workload needs (4)",
    )
    sizes.add_argument("--startup-repeats", type=int, default=5)
    sizes.add_argument("--idle-seconds", type=float, default=10.0)
    sizes.add_argument("--set-state-seconds", type=float, default=20.0)
    sizes.add_argument(
        "--set-state-max-runs", type=int, default=5000, help="per client"
    )
    sizes.add_argument("--filter-runs", type=int, default=10_000)
    sizes.add_argument("--filter-requests", type=int, default=60)
    sizes.add_argument("--filter-limit", type=int, default=200)
    sizes.add_argument(
        "--seed-seconds", type=float, default=900.0, help="time bound of each seeding"
    )
    sizes.add_argument("--task-count", type=int, default=200)
    sizes.add_argument("--task-lag-seconds", type=float, default=60.0)
    sizes.add_argument("--deployments", type=int, default=1000)
    sizes.add_argument("--scheduler-seconds", type=float, default=300.0)
    sizes.add_argument("--scheduled-runs", type=int, default=10_000)
    sizes.add_argument("--poll-requests", type=int, default=50)
    sizes.add_argument("--holders", type=int, default=16)
    sizes.add_argument("--concurrency-seconds", type=float, default=20.0)
    sizes.add_argument(
        "--concurrency-max-trips", type=int, default=20_000, help="per holder"
    )
    return parser


def _specs(options: argparse.Namespace) -> list[ServerSpec]:
    kinds = [kind.strip() for kind in options.servers.split(",") if kind.strip()]
    unknown = set(kinds) - set(KINDS)
    if unknown:
        raise SystemExit(
            f"Unknown server {sorted(unknown)}; use podium and/or prefect."
        )
    ports = {"podium": options.podium_port, "prefect": options.prefect_port}
    return [ServerSpec(kind, ports[kind], options.postgres) for kind in kinds]


def _start(spec: ServerSpec) -> RunningServer:
    server = servers.start(spec)
    _running.append(server)
    servers.wait_healthy(server)
    return server


def _stop(server: RunningServer, options: argparse.Namespace, label: str) -> None:
    if options.keep_logs:
        options.keep_logs.mkdir(parents=True, exist_ok=True)
        target = options.keep_logs / f"{server.spec.kind}-{label}.log"
        target.write_text(server.log_text())
    servers.stop(server)
    _running.remove(server)


def _run_load(
    workload: Workload, spec: ServerSpec, options: argparse.Namespace
) -> list[Figure]:
    assert workload.run is not None
    print(f"  {spec.kind}: {workload.summary} ...", file=sys.stderr, flush=True)
    server = _start(spec)
    try:
        figures = asyncio.run(workload.run(server, options))
    except Unsupported as error:
        figures = workload.unavailable(f"skipped: {error}")
    except Exception as error:  # noqa: BLE001 - a failed workload must not stop the others
        traceback.print_exc()
        reason = f"failed: {type(error).__name__}: {error}"
        figures = workload.unavailable(reason.splitlines()[0][:200])
    finally:
        _stop(server, options, workload.name.replace("/", "_").replace(" ", "_"))
    return figures


def run(options: argparse.Namespace) -> dict[str, list[Figure]]:
    """Run the selected workloads on each server in turn; return figures per server."""
    specs = _specs(options)
    selected = options.selected or ALL_WORKLOADS
    results: dict[str, list[Figure]] = {spec.kind: [] for spec in specs}

    if "startup" in selected:
        print(f"{STARTUP.name}: {STARTUP.summary}", file=sys.stderr, flush=True)
        for kind, figures in measure_startup(specs, options.startup_repeats).items():
            results[kind] += figures
            _print_progress(figures)

    if "memory" in selected:
        print(f"{MEMORY.name}: {MEMORY.summary}", file=sys.stderr, flush=True)
        for spec in specs:
            server = _start(spec)
            try:
                figures = measure_memory(server, options.idle_seconds)
                results[spec.kind] += figures
                _print_progress(figures)
            finally:
                _stop(server, options, "memory")

    # Each load workload gets a fresh server of each kind, one kind at a time,
    # so the idle one never competes for the two cores.
    for name, workload in LOAD_WORKLOADS.items():
        if name not in selected:
            continue
        print(f"{workload.name}:", file=sys.stderr, flush=True)
        for spec in specs:
            figures = _run_load(workload, spec, options)
            results[spec.kind] += figures
            _print_progress(figures)
    return results


def _print_progress(figures: list[Figure]) -> None:
    """Print a workload's figures on stderr as soon as they are known."""
    for figure in figures:
        value = "n/a" if figure.value is None else f"{figure.value:.4g}"
        print(f"    {figure.name}: {value} {figure.unit}", file=sys.stderr, flush=True)


def machine_description(options: argparse.Namespace) -> str:
    memory_kb = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            memory_kb = int(line.split()[1])
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    backend = "PostgreSQL" if options.postgres else "SQLite"
    return (
        f"date {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {os.cpu_count()} CPUs ({cpu}); "
        f"{memory_kb / 1024 / 1024:.1f} GiB memory; Python {platform.python_version()}; "
        f"{platform.system()} {platform.release()}; backend {backend}"
    )


def _stop_all_and_exit(signum: int, _frame: FrameType | None) -> None:
    for server in list(_running):
        servers.stop(server)
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    options = build_parser().parse_args(argv)
    signal.signal(signal.SIGTERM, _stop_all_and_exit)
    started = time.perf_counter()
    try:
        results = run(options)
    finally:
        for server in list(_running):
            servers.stop(server)

    rows = pair(results.get("podium", []), results.get("prefect", []))
    print()
    print(machine_description(options))
    print(f"Run time {time.perf_counter() - started:.0f} s.")
    print()
    print(markdown_table(rows))
    if options.json:
        options.json.write_text(
            json.dumps(
                {"machine": machine_description(options), "rows": as_json(rows)},
                indent=2,
            )
        )
    return 0
