"""Bulk creation of flow runs through the API, shared by several workloads."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from bench.http import Deadline, Tally, call, new_client

# Seeding only prepares a workload, so it waits out 503s for longer.
SEED_RETRIES = 40

BodyFactory = Callable[[int], dict[str, Any]]


async def create_many(
    api_url: str,
    path: str,
    count: int,
    body: BodyFactory,
    tally: Tally,
    concurrency: int,
    seconds: float,
) -> tuple[int, float]:
    """POST `body(i)` to `path` for i in range(count) from concurrent clients.

    Stops early at the time bound. Returns (objects created, seconds taken).
    """
    deadline = Deadline(seconds)
    next_index = iter(range(count))
    created = 0

    async def worker() -> None:
        nonlocal created
        async with new_client(api_url) as client:
            for index in next_index:
                if deadline.passed:
                    return
                await call(
                    client, "POST", path, tally, json=body(index), retries=SEED_RETRIES
                )
                created += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return created, time.perf_counter() - started
