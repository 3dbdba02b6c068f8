"""Latency of a worker's poll of a work pool holding 10,000 scheduled runs.

The poll body has the fields `prefect worker` sends (no queue names, no
limit, so each server's default applies), but `scheduled_before` looks two
hours ahead, because the seeded runs all lie 10 minutes to 24 hours in the
future.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.http import Tally, call, new_client, percentile, require
from bench.report import Figure
from bench.servers import RunningServer
from bench.workloads.base import ERROR_FIGURES, FigureSpec, Workload, error_figures
from bench.workloads.seeding import create_many
from bench.workloads.set_state import create_flow

POOL_NAME = "bench-pool"

# Runs lie in the future, so the late-runs service leaves them alone while they
# are created. Each poll looks two hours ahead, which matches several hundred.
FIRST_RUN_AFTER = timedelta(minutes=10)
SPREAD = timedelta(hours=24)
POLL_AHEAD = timedelta(hours=2)


def _run_body(flow_id: str, deployment_id: str, now: datetime, count: int) -> Any:
    def body(index: int) -> dict[str, Any]:
        offset = FIRST_RUN_AFTER + index * SPREAD / count
        return {
            "flow_id": flow_id,
            "deployment_id": deployment_id,
            "work_pool_name": POOL_NAME,
            "work_queue_name": "default",
            "state": {
                "type": "SCHEDULED",
                "state_details": {"scheduled_time": (now + offset).isoformat()},
            },
        }

    return body


async def _run(server: RunningServer, options: argparse.Namespace) -> list[Figure]:
    await require(
        server.api_url,
        "/work_pools/",
        "/flow_runs/",
        "/work_pools/{name}/get_scheduled_flow_runs",
    )
    tally = Tally()
    async with new_client(server.api_url) as client:
        flow_id = await create_flow(client, tally, "bench-worker-poll")
        await call(
            client,
            "POST",
            "/work_pools/",
            tally,
            json={"name": POOL_NAME, "type": "process"},
        )
        deployment = await call(
            client,
            "POST",
            "/deployments/",
            tally,
            json={
                "name": "bench-poll",
                "flow_id": flow_id,
                "work_pool_name": POOL_NAME,
            },
        )
    deployment_id = deployment.json()["id"]

    count = options.scheduled_runs
    seeded_at = datetime.now(UTC)
    created, seed_seconds = await create_many(
        server.api_url,
        "/flow_runs/",
        count,
        _run_body(flow_id, deployment_id, seeded_at, count),
        tally,
        options.seed_clients,
        options.seed_seconds,
    )

    latencies: list[float] = []
    returned = 0
    path = f"/work_pools/{POOL_NAME}/get_scheduled_flow_runs"
    async with new_client(server.api_url) as client:
        for index in range(options.poll_requests + 1):
            before = seeded_at + POLL_AHEAD
            body = {"work_queue_names": [], "scheduled_before": before.isoformat()}
            started = time.perf_counter()
            response = await call(client, "POST", path, tally, json=body)
            if index:  # the first request warms up and is not counted
                latencies.append(time.perf_counter() - started)
            returned = len(response.json())

    note = (
        f"{created} scheduled runs seeded in {seed_seconds:.1f} s; "
        f"each poll returned {returned} runs"
    )
    return [
        WORKLOAD.figure("poll p50", percentile(latencies, 0.5) * 1000, note),
        WORKLOAD.figure("poll p95", percentile(latencies, 0.95) * 1000),
        *error_figures(WORKLOAD, tally, server),
    ]


WORKLOAD = Workload(
    name="get_scheduled_flow_runs",
    summary="work-pool poll latency with 10,000 scheduled runs",
    figures=(
        FigureSpec("poll p50", "ms", "lower"),
        FigureSpec("poll p95", "ms", "lower"),
        *ERROR_FIGURES,
    ),
    run=_run,
)
