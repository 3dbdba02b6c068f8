"""Workloads that time or weigh the server process itself: start-up and idle memory."""

from __future__ import annotations

import statistics
import time

from bench.report import Figure
from bench.servers import (
    RunningServer,
    ServerSpec,
    descendants,
    start,
    stop,
    wait_healthy,
)
from bench.workloads.base import FigureSpec, Workload

STARTUP = Workload(
    name="start-up",
    summary="process start to /api/health 200, fresh home each time",
    figures=(
        FigureSpec("healthy after (min)", "s", "lower"),
        FigureSpec("healthy after (median)", "s", "lower"),
    ),
)

MEMORY = Workload(
    name="idle memory",
    summary="RSS of the server's process tree, idle after start-up",
    figures=(FigureSpec("RSS", "MB", "lower"),),
)


def measure_startup(specs: list[ServerSpec], repeats: int) -> dict[str, list[Figure]]:
    """Start each server `repeats` times, alternating kinds; return figures per kind."""
    times: dict[str, list[float]] = {spec.kind: [] for spec in specs}
    for _ in range(repeats):
        for spec in specs:
            server = start(spec)
            try:
                times[spec.kind].append(wait_healthy(server))
            finally:
                stop(server)
    figures: dict[str, list[Figure]] = {}
    for kind, values in times.items():
        note = f"{len(values)} starts: " + ", ".join(f"{value:.2f}" for value in values)
        figures[kind] = [
            STARTUP.figure("healthy after (min)", min(values), note),
            STARTUP.figure("healthy after (median)", statistics.median(values)),
        ]
    return figures


def measure_memory(server: RunningServer, idle_seconds: float) -> list[Figure]:
    """Wait `idle_seconds` after the server became healthy, then sum its RSS."""
    assert server.healthy_after is not None
    healthy_at = server.started_at + server.healthy_after
    time.sleep(max(0.0, healthy_at + idle_seconds - time.perf_counter()))
    rss = server.rss_bytes()
    processes = 1 + len(descendants(server.pid))
    note = f"{processes} processes, {idle_seconds:.0f} s after healthy"
    return [MEMORY.figure("RSS", rss / 1e6, note)]
