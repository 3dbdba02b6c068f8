"""Scheduler fill time: 1000 deployments with an every-minute cron schedule.

The clock starts when the last deployment has been created and stops when
every deployment has at least one SCHEDULED flow run, counted with
`POST /deployments/count` filtered on flow-run state. Both servers keep
their default scheduler settings.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

from bench.http import Tally, call, new_client, require
from bench.report import Figure
from bench.servers import RunningServer
from bench.workloads.base import ERROR_FIGURES, FigureSpec, Workload, error_figures
from bench.workloads.seeding import create_many
from bench.workloads.set_state import create_flow

POLL_SECONDS = 1.0
SCHEDULED_RUNS = {"flow_runs": {"state": {"type": {"any_": ["SCHEDULED"]}}}}


def _deployment_body(flow_id: str) -> Any:
    def body(index: int) -> dict[str, Any]:
        return {
            "name": f"bench-cron-{index:04d}",
            "flow_id": flow_id,
            "schedules": [
                {"schedule": {"cron": "* * * * *", "timezone": "UTC"}, "active": True}
            ],
        }

    return body


async def _coverage(server: RunningServer, tally: Tally) -> tuple[int, int]:
    """Return (deployments with a scheduled run, scheduled flow runs)."""
    async with new_client(server.api_url) as client:
        deployments = await call(
            client, "POST", "/deployments/count", tally, json=SCHEDULED_RUNS
        )
        runs = await call(
            client, "POST", "/flow_runs/count", tally, json=SCHEDULED_RUNS
        )
    return int(deployments.json()), int(runs.json())


async def _run(server: RunningServer, options: argparse.Namespace) -> list[Figure]:
    await require(
        server.api_url, "/deployments/", "/deployments/count", "/flow_runs/count"
    )
    tally = Tally()
    async with new_client(server.api_url) as client:
        flow_id = await create_flow(client, tally, "bench-scheduler")

    count = options.deployments
    created, create_seconds = await create_many(
        server.api_url,
        "/deployments/",
        count,
        _deployment_body(flow_id),
        tally,
        options.seed_clients,
        options.seed_seconds,
    )

    started = time.perf_counter()
    covered = runs = 0
    while time.perf_counter() - started < options.scheduler_seconds:
        covered, runs = await _coverage(server, tally)
        if covered >= created:
            break
        await asyncio.sleep(POLL_SECONDS)
    fill = time.perf_counter() - started

    note = (
        f"{created} deployments created in {create_seconds:.1f} s; "
        f"{covered} had scheduled runs ({runs} runs) after {fill:.1f} s"
    )
    return [
        WORKLOAD.figure("fill time", fill if covered >= created else None, note),
        WORKLOAD.figure("deployment creates/s", created / create_seconds),
        *error_figures(WORKLOAD, tally, server),
    ]


WORKLOAD = Workload(
    name="scheduler",
    summary="time until 1000 cron deployments all have scheduled runs",
    figures=(
        FigureSpec("fill time", "s", "lower"),
        FigureSpec("deployment creates/s", "1/s", "higher"),
        *ERROR_FIGURES,
    ),
    run=_run,
)
