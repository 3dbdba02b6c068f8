"""Latency of `POST /flow_runs/filter` (limit 200) over 10,000 flow runs."""

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

SEED_STATES = ("SCHEDULED", "PENDING", "RUNNING", "COMPLETED", "FAILED", "CANCELLED")
TAG_GROUPS = 10


def _seed_body(flow_id: str, now: datetime) -> Any:
    def body(index: int) -> dict[str, Any]:
        state_type = SEED_STATES[index % len(SEED_STATES)]
        state: dict[str, Any] = {"type": state_type}
        if state_type == "SCHEDULED":
            scheduled = now + timedelta(minutes=index % 1440)
            state["state_details"] = {"scheduled_time": scheduled.isoformat()}
        return {
            "flow_id": flow_id,
            "name": f"bench-run-{index:05d}",
            "tags": [f"group-{index % TAG_GROUPS}", "bench"],
            "parameters": {"index": index},
            "state": state,
        }

    return body


def _queries(flow_id: str, limit: int) -> list[dict[str, Any]]:
    """Return the bodies timed in turn: a plain listing, state, tag and flow filters
    with several sorts, and a page at an offset."""
    return [
        {"sort": "EXPECTED_START_TIME_DESC", "limit": limit, "offset": 0},
        {
            "flow_runs": {"state": {"type": {"any_": ["COMPLETED", "FAILED"]}}},
            "sort": "START_TIME_DESC",
            "limit": limit,
        },
        {
            "flow_runs": {"tags": {"all_": ["group-3"]}},
            "sort": "NAME_ASC",
            "limit": limit,
        },
        {
            "flows": {"id": {"any_": [flow_id]}},
            "flow_runs": {"state": {"name": {"any_": ["Scheduled"]}}},
            "sort": "NEXT_SCHEDULED_START_TIME_ASC",
            "limit": limit,
        },
        {"sort": "ID_DESC", "limit": limit, "offset": 2000},
    ]


async def _run(server: RunningServer, options: argparse.Namespace) -> list[Figure]:
    await require(server.api_url, "/flow_runs/", "/flow_runs/filter")
    tally = Tally()
    async with new_client(server.api_url) as client:
        flow_id = await create_flow(client, tally, "bench-filter")

    created, seed_seconds = await create_many(
        server.api_url,
        "/flow_runs/",
        options.filter_runs,
        _seed_body(flow_id, datetime.now(UTC)),
        tally,
        options.seed_clients,
        options.seed_seconds,
    )
    seed_note = f"{created} flow runs in {seed_seconds:.1f} s"
    if created < options.filter_runs:
        seed_note += f" (time bound hit; {options.filter_runs} asked)"

    latencies: list[float] = []
    rows_returned = 0
    queries = _queries(flow_id, options.filter_limit)
    async with new_client(server.api_url) as client:
        # One untimed pass warms caches and connections on both servers alike.
        for body in queries:
            await call(client, "POST", "/flow_runs/filter", tally, json=body)
        for index in range(options.filter_requests):
            body = queries[index % len(queries)]
            started = time.perf_counter()
            response = await call(client, "POST", "/flow_runs/filter", tally, json=body)
            latencies.append(time.perf_counter() - started)
            rows_returned += len(response.json())

    note = (
        f"{len(latencies)} requests over {len(queries)} filters/sorts, "
        f"{rows_returned / len(latencies):.0f} rows each on average; seeded {seed_note}"
    )
    return [
        WORKLOAD.figure("filter p50", percentile(latencies, 0.5) * 1000, note),
        WORKLOAD.figure("filter p95", percentile(latencies, 0.95) * 1000),
        WORKLOAD.figure("seeding creates/s", created / seed_seconds),
        *error_figures(WORKLOAD, tally, server),
    ]


WORKLOAD = Workload(
    name="flow_runs/filter",
    summary="flow_runs/filter latency over 10,000 flow runs",
    figures=(
        FigureSpec("filter p50", "ms", "lower"),
        FigureSpec("filter p95", "ms", "lower"),
        FigureSpec("seeding creates/s", "1/s", "higher"),
        *ERROR_FIGURES,
    ),
    run=_run,
)
