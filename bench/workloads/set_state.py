"""Flow-run state transitions per second from concurrent clients.

Each client creates a flow run in SCHEDULED and moves it through PENDING,
RUNNING and COMPLETED with `POST /flow_runs/{id}/set_state`, over and over,
until the time or count bound is reached.
"""

from __future__ import annotations

import argparse
import asyncio
import time

import httpx

from bench.http import Deadline, Tally, Unavailable, call, new_client, require
from bench.report import Figure
from bench.servers import RunningServer
from bench.workloads.base import ERROR_FIGURES, FigureSpec, Workload, error_figures

TARGET_STATES = ("PENDING", "RUNNING", "COMPLETED")


async def create_flow(client: httpx.AsyncClient, tally: Tally, name: str) -> str:
    response = await call(client, "POST", "/flows/", tally, json={"name": name})
    return str(response.json()["id"])


def state(state_type: str) -> dict[str, object]:
    return {"type": state_type}


async def _one_run(
    client: httpx.AsyncClient, flow_id: str, tally: Tally
) -> tuple[int, int]:
    """Create one flow run and walk it to COMPLETED; return (accepted, rejected)."""
    accepted = rejected = 0
    created = await call(
        client,
        "POST",
        "/flow_runs/",
        tally,
        json={"flow_id": flow_id, "state": state("SCHEDULED")},
    )
    run_id = created.json()["id"]
    for state_type in TARGET_STATES:
        response = await call(
            client,
            "POST",
            f"/flow_runs/{run_id}/set_state",
            tally,
            json={"state": state(state_type)},
        )
        if response.json().get("status") == "ACCEPT":
            accepted += 1
        else:
            rejected += 1
    return accepted, rejected


async def _client_loop(
    api_url: str, flow_id: str, tally: Tally, deadline: Deadline, max_runs: int
) -> tuple[int, int]:
    """Return (accepted transitions, rejected or other outcomes)."""
    accepted = rejected = 0
    async with new_client(api_url) as client:
        for _ in range(max_runs):
            if deadline.passed:
                break
            try:
                accepted_now, rejected_now = await _one_run(client, flow_id, tally)
            except Unavailable:
                # Counted in the tally; this run is abandoned, as a client would.
                continue
            accepted += accepted_now
            rejected += rejected_now
    return accepted, rejected


async def _run(server: RunningServer, options: argparse.Namespace) -> list[Figure]:
    await require(server.api_url, "/flow_runs/", "/flow_runs/{id}/set_state")
    tally = Tally()
    async with new_client(server.api_url) as client:
        flow_id = await create_flow(client, tally, "bench-set-state")

    deadline = Deadline(options.set_state_seconds)
    cpu_before = server.cpu_seconds()
    requests_before = tally.requests
    started = time.perf_counter()
    results = await asyncio.gather(
        *(
            _client_loop(
                server.api_url, flow_id, tally, deadline, options.set_state_max_runs
            )
            for _ in range(options.clients)
        )
    )
    elapsed = time.perf_counter() - started
    cpu_ms = (server.cpu_seconds() - cpu_before) * 1000
    requests = tally.requests - requests_before

    accepted = sum(result[0] for result in results)
    rejected = sum(result[1] for result in results)
    note = f"{accepted} transitions in {elapsed:.1f} s, {options.clients} clients"
    if rejected:
        note += f"; {rejected} not accepted"
    return [
        WORKLOAD.figure("transitions/s", accepted / elapsed, note),
        WORKLOAD.figure("flow runs/s", accepted / len(TARGET_STATES) / elapsed),
        WORKLOAD.figure(
            "server CPU per request",
            cpu_ms / requests if requests else None,
            f"{requests} requests (creates and set_state); CPU time of the "
            "server's process tree, which the load of other processes "
            "affects less than throughput",
        ),
        *error_figures(WORKLOAD, tally, server),
    ]


WORKLOAD = Workload(
    name="set_state",
    summary="flow-run transitions per second, concurrent clients",
    figures=(
        FigureSpec("transitions/s", "1/s", "higher"),
        FigureSpec("flow runs/s", "1/s", "higher"),
        FigureSpec("server CPU per request", "ms", "lower"),
        *ERROR_FIGURES,
    ),
    run=_run,
)
