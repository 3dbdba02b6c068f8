"""HTTP helpers shared by the workloads: counted requests and endpoint checks."""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

from bench.servers import LOCKED_TEXT

# A 503 is retried with exponential backoff and jitter, as the Prefect client
# retries it, but at most this often.
RETRIES_ON_503 = 10
MAX_BACKOFF_SECONDS = 2.0


class Unsupported(Exception):
    """The server lacks an endpoint that a workload needs."""


class Unavailable(RuntimeError):
    """The server still returned 503 after every retry."""


@dataclass
class Tally:
    """Counts of responses, by status, and of "database is locked" bodies."""

    statuses: Counter[int] = field(default_factory=Counter)
    locked: int = 0

    @property
    def requests(self) -> int:
        """Return how many responses were counted, of any status."""
        return sum(self.statuses.values())

    @property
    def unavailable(self) -> int:
        return self.statuses[503]

    @property
    def server_errors(self) -> int:
        return sum(count for status, count in self.statuses.items() if status >= 500)


def new_client(api_url: str, timeout: float = 60.0) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=api_url,
        timeout=timeout,
        limits=httpx.Limits(max_connections=4, max_keepalive_connections=4),
    )


async def call(
    client: httpx.AsyncClient,
    method: str,
    path: str,
    tally: Tally,
    json: Any = None,
    expect: tuple[int, ...] = (200, 201, 204),
    retries: int = RETRIES_ON_503,
) -> httpx.Response:
    """Send one request, retrying 503s; raise when the final status is unexpected.

    A 404 or 405 whose body does not name a missing object means the route is
    absent, which raises `Unsupported` so the workload reports "n/a".
    """
    for attempt in range(retries + 1):
        response = await client.request(method, path, json=json)
        tally.statuses[response.status_code] += 1
        if LOCKED_TEXT in response.text:
            tally.locked += 1
        if response.status_code != 503 or attempt == retries:
            break
        backoff = min(MAX_BACKOFF_SECONDS, 0.1 * 2**attempt)
        await asyncio.sleep(backoff * random.uniform(0.5, 1.5))
    if response.status_code in expect:
        return response
    if response.status_code == 503:
        raise Unavailable(f"{method} {path} returned 503 after {retries} retries")
    if response.status_code == 405 or (
        response.status_code == 404 and _route_missing(response)
    ):
        raise Unsupported(f"{method} {path} returned {response.status_code}")
    raise RuntimeError(
        f"{method} {path} returned {response.status_code}: {response.text[:500]}"
    )


def _route_missing(response: httpx.Response) -> bool:
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        return True
    return detail == "Not Found"


async def api_paths(api_url: str) -> set[str] | None:
    """Return the server's API paths (relative to /api), or None if not published."""
    root = api_url.removesuffix("/api")
    async with httpx.AsyncClient(timeout=30) as client:
        for url in (f"{api_url}/openapi.json", f"{root}/openapi.json"):
            try:
                response = await client.get(url)
            except httpx.TransportError:
                continue
            if response.status_code == 200:
                paths = response.json().get("paths", {})
                return {path.removeprefix("/api") or "/" for path in paths}
    return None


async def require(api_url: str, *paths: str) -> None:
    """Raise `Unsupported` naming the first of `paths` the server does not publish."""
    published = await api_paths(api_url)
    if published is None:
        return
    for path in paths:
        if path not in published:
            raise Unsupported(f"the server has no {path}")


def percentile(values: list[float], fraction: float) -> float:
    """Return the nearest-rank percentile of `values` (fraction in 0..1)."""
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


class Deadline:
    """A wall-clock bound for a loop."""

    def __init__(self, seconds: float) -> None:
        self.end = time.perf_counter() + seconds

    @property
    def passed(self) -> bool:
        return time.perf_counter() >= self.end
