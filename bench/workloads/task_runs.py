"""How long after a real Prefect flow returns its task runs are all readable.

A flow with 200 tasks runs in the Prefect 3.9.1 client virtualenv. The SDK
reports task runs as events, which the server turns into task-run rows. The
lag is the time from the flow's return until `POST /task_runs/filter` lists
all 200 as COMPLETED.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

from bench.http import Tally, call, new_client, require
from bench.report import Figure
from bench.servers import PREFECT_PYTHON, RunningServer
from bench.workloads.base import ERROR_FIGURES, FigureSpec, Workload, error_figures

FLOW_SCRIPT = """
import json, sys, time
from prefect import flow, task
from prefect.runtime import flow_run

@task
def square(x):
    return x * x

@flow(name="bench-task-runs")
def many_tasks(count):
    total = sum(square(i) for i in range(count))
    return str(flow_run.id), total

started = time.time()
run_id, total = many_tasks(int(sys.argv[1]))
print(json.dumps({"flow_run_id": run_id, "started": started, "returned": time.time()}), flush=True)
"""

FLOW_TIMEOUT_SECONDS = 300.0
POLL_SECONDS = 0.05


def _client_environment(server: RunningServer, home: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PODIUM_", "PREFECT_"))
    }
    env.update(
        PREFECT_API_URL=server.api_url,
        PREFECT_HOME=home,
        DO_NOT_TRACK="1",
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
    )
    return env


async def _count_completed(server: RunningServer, run_id: str, tally: Tally) -> int:
    body = {
        "flow_runs": {"id": {"any_": [run_id]}},
        "task_runs": {"state": {"type": {"any_": ["COMPLETED"]}}},
        "limit": 200,
    }
    async with new_client(server.api_url) as client:
        response = await call(client, "POST", "/task_runs/filter", tally, json=body)
    return len(response.json())


async def _run(server: RunningServer, options: argparse.Namespace) -> list[Figure]:
    await require(server.api_url, "/task_runs/filter", "/flow_runs/{id}/set_state")
    tally = Tally()
    count = options.task_count
    home = tempfile.mkdtemp(prefix="bench-client-")
    script = Path(home) / "flow.py"
    script.write_text(FLOW_SCRIPT)

    process = await asyncio.create_subprocess_exec(
        str(PREFECT_PYTHON),
        str(script),
        str(count),
        env=_client_environment(server, home),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=home,
    )
    assert process.stdout is not None
    try:
        line = await asyncio.wait_for(process.stdout.readline(), FLOW_TIMEOUT_SECONDS)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise RuntimeError(
            f"The {count}-task flow did not finish within {FLOW_TIMEOUT_SECONDS:.0f} s."
        ) from None
    if not line:
        await process.wait()
        stderr = (
            (await process.stderr.read()).decode(errors="replace")
            if process.stderr
            else ""
        )
        raise RuntimeError(f"The {count}-task flow failed:\n{stderr[-3000:]}")
    result = json.loads(line)

    # Poll while the client process may still be flushing its events at exit.
    recorded = 0
    deadline = result["returned"] + options.task_lag_seconds
    while time.time() < deadline:
        recorded = await _count_completed(server, result["flow_run_id"], tally)
        if recorded >= count:
            break
        await asyncio.sleep(POLL_SECONDS)
    lag = time.time() - result["returned"]
    exit_code = await asyncio.wait_for(process.wait(), 60)
    shutil.rmtree(home, ignore_errors=True)

    flow_seconds = result["returned"] - result["started"]
    note = f"{count} tasks; flow ran {flow_seconds:.1f} s; client exit code {exit_code}"
    if recorded < count:
        note += f"; only {recorded} COMPLETED after {options.task_lag_seconds:.0f} s"
    return [
        WORKLOAD.figure(
            "lag after flow returns", lag if recorded >= count else None, note
        ),
        WORKLOAD.figure("flow duration", flow_seconds),
        *error_figures(WORKLOAD, tally, server),
    ]


WORKLOAD = Workload(
    name="task runs",
    summary="task-run recording lag after a 200-task flow",
    figures=(
        FigureSpec("lag after flow returns", "s", "lower"),
        FigureSpec("flow duration", "s", "lower"),
        *ERROR_FIGURES,
    ),
    run=_run,
)
