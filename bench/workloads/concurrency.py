"""Round trips per second on one global concurrency limit (v2).

Sixteen holders each take a slot with `increment-with-lease` and give it back
with `decrement-with-lease`, as the SDK's `concurrency()` context does. The
limit has as many slots as there are holders, so a 423 means slots leaked.
"""

from __future__ import annotations

import argparse
import asyncio
import time

from bench.http import Deadline, Tally, call, new_client, require
from bench.report import Figure
from bench.servers import RunningServer
from bench.workloads.base import ERROR_FIGURES, FigureSpec, Workload, error_figures

LIMIT_NAME = "bench-global"


async def _holder(
    server: RunningServer, tally: Tally, deadline: Deadline, max_trips: int
) -> int:
    trips = 0
    acquire = {
        "names": [LIMIT_NAME],
        "slots": 1,
        "mode": "concurrency",
        "lease_duration": 60,
    }
    async with new_client(server.api_url) as client:
        while trips < max_trips and not deadline.passed:
            response = await call(
                client,
                "POST",
                "/v2/concurrency_limits/increment-with-lease",
                tally,
                json=acquire,
                expect=(200, 423),
            )
            if response.status_code == 423:
                await asyncio.sleep(float(response.headers.get("Retry-After", "0.1")))
                continue
            await call(
                client,
                "POST",
                "/v2/concurrency_limits/decrement-with-lease",
                tally,
                json={"lease_id": response.json()["lease_id"]},
            )
            trips += 1
    return trips


async def _run(server: RunningServer, options: argparse.Namespace) -> list[Figure]:
    await require(
        server.api_url,
        "/v2/concurrency_limits/",
        "/v2/concurrency_limits/increment-with-lease",
        "/v2/concurrency_limits/decrement-with-lease",
    )
    tally = Tally()
    holders = options.holders
    async with new_client(server.api_url) as client:
        await call(
            client,
            "POST",
            "/v2/concurrency_limits/",
            tally,
            json={"name": LIMIT_NAME, "limit": holders},
        )

    deadline = Deadline(options.concurrency_seconds)
    started = time.perf_counter()
    trips = await asyncio.gather(
        *(
            _holder(server, tally, deadline, options.concurrency_max_trips)
            for _ in range(holders)
        )
    )
    elapsed = time.perf_counter() - started

    total = sum(trips)
    note = f"{total} round trips in {elapsed:.1f} s, {holders} holders"
    return [
        WORKLOAD.figure("round trips/s", total / elapsed, note),
        WORKLOAD.figure("423 responses", tally.statuses[423]),
        *error_figures(WORKLOAD, tally, server),
    ]


WORKLOAD = Workload(
    name="concurrency v2",
    summary="increment/decrement round trips per second, 16 holders, one limit",
    figures=(
        FigureSpec("round trips/s", "1/s", "higher"),
        FigureSpec("423 responses", "count", "lower"),
        *ERROR_FIGURES,
    ),
    run=_run,
)
