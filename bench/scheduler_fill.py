"""Time how long a server's scheduler takes to fill many cron deployments.

Creates one flow and DEPLOYMENTS deployments with an every-minute cron
schedule through the REST API, then polls `/flow_runs/count` until every
deployment has at least RUNS scheduled runs, and prints the times. Works
against Podium and the Prefect server alike:

    python -m bench.scheduler_fill http://127.0.0.1:4250/api
    python -m bench.scheduler_fill http://127.0.0.1:4450/api --deployments 1000

Run it against a fresh, otherwise idle server on 127.0.0.1: it leaves its
deployments behind unless `--cleanup` is given. The wait is bounded by
`--timeout` seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid

import httpx


async def create_deployments(
    client: httpx.AsyncClient, count: int, concurrency: int
) -> list[str]:
    flow = await client.post("/flows/", json={"name": f"bench-{uuid.uuid4().hex[:8]}"})
    flow.raise_for_status()
    flow_id = flow.json()["id"]
    semaphore = asyncio.Semaphore(concurrency)

    async def create(index: int) -> str:
        body = {
            "name": f"every-minute-{index}",
            "flow_id": flow_id,
            "schedules": [{"schedule": {"cron": "* * * * *"}, "active": True}],
            "enforce_parameter_schema": False,
        }
        # The Prefect server on SQLite returns 503 when its database is busy
        # and sometimes drops a kept-alive connection, so a create is retried
        # a few times. A retried request counts towards the creation time.
        for attempt in range(10):
            try:
                async with semaphore:
                    response = await client.post("/deployments/", json=body)
            except httpx.TransportError:
                await asyncio.sleep(0.1 * (attempt + 1))
                continue
            if response.status_code != 503:
                break
            await asyncio.sleep(0.1 * (attempt + 1))
        response.raise_for_status()
        return str(response.json()["id"])

    return await asyncio.gather(*(create(i) for i in range(count)))


async def filled_count(client: httpx.AsyncClient, ids: list[str], runs: int) -> int:
    """Return how many deployments have scheduled runs, or 0 if too few runs exist.

    Both servers create all of one deployment's runs in one step, so "every
    deployment has a run and the total is at least `runs` per deployment"
    stands for "every deployment has `runs` runs" without one count per
    deployment. `main` checks the per-deployment minimum once at the end.
    """
    scheduled = {"state": {"type": {"any_": ["SCHEDULED"]}}}
    with_runs = await client.post(
        "/deployments/count",
        json={"deployments": {"id": {"any_": ids}}, "flow_runs": scheduled},
    )
    total = await client.post(
        "/flow_runs/count",
        json={"flow_runs": scheduled, "deployments": {"id": {"any_": ids}}},
    )
    if total.json() < runs * len(ids):
        return 0
    return int(with_runs.json())


async def least_runs(client: httpx.AsyncClient, ids: list[str]) -> int:
    """Return the smallest number of scheduled runs any deployment has."""
    counts = []
    for deployment_id in ids:
        body = {
            "flow_runs": {"state": {"type": {"any_": ["SCHEDULED"]}}},
            "deployments": {"id": {"any_": [deployment_id]}},
        }
        counts.append((await client.post("/flow_runs/count", json=body)).json())
    return min(counts)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "api_url", help="API base URL, such as http://127.0.0.1:4250/api"
    )
    parser.add_argument("--deployments", type=int, default=1000)
    parser.add_argument(
        "--runs", type=int, default=60, help="scheduled runs per deployment"
    )
    parser.add_argument(
        "--timeout", type=float, default=600, help="seconds to wait at most"
    )
    parser.add_argument("--concurrency", type=int, default=4, help="creates in flight")
    parser.add_argument("--cleanup", action="store_true", help="delete the deployments")
    args = parser.parse_args()

    async with httpx.AsyncClient(base_url=args.api_url, timeout=60) as client:
        started = time.perf_counter()
        ids = await create_deployments(client, args.deployments, args.concurrency)
        created = time.perf_counter()
        print(f"created {len(ids)} deployments in {created - started:.1f} s")

        deadline = created + args.timeout
        filled = 0
        while time.perf_counter() < deadline:
            filled = await filled_count(client, ids, args.runs)
            if filled == len(ids):
                break
            await asyncio.sleep(1)
        waited = time.perf_counter() - created
        print(f"{filled}/{len(ids)} deployments were filled after {waited:.1f} s")
        print(
            f"fewest scheduled runs of one deployment: {await least_runs(client, ids)}"
        )

        if args.cleanup:
            for deployment_id in ids:
                await client.delete(f"/deployments/{deployment_id}")


if __name__ == "__main__":
    asyncio.run(main())
