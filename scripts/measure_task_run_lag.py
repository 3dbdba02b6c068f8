"""Measure how long after a flow returns its task runs are readable.

Run it with a Python that has prefect==3.9.1 installed, against a server you
started yourself:

    PREFECT_API_URL=http://127.0.0.1:4220/api python scripts/measure_task_run_lag.py

The flow runs TASKS tasks one after another, so the client sends three state
events per task (Pending, Running, Completed) over its events websocket. The
clock starts when the flow call returns and stops when `/task_runs/count`
reports every task run COMPLETED. Polls are 10 ms apart, so a figure is
accurate to about that much.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import httpx
from prefect import flow, task

TASKS = 200
POLL_SECONDS = 0.01
TIMEOUT_SECONDS = 30.0


@task
def step(index: int) -> int:
    return index


@flow(name="measure-task-run-lag")
def many_tasks(count: int) -> int:
    return sum(step(i) for i in range(count))


def completed_count(api: httpx.Client, flow_run_id: str) -> int:
    body = {
        "flow_runs": {"id": {"any_": [flow_run_id]}},
        "task_runs": {"state": {"type": {"any_": ["COMPLETED"]}}},
    }
    response = api.post("/task_runs/count", json=body)
    response.raise_for_status()
    return int(response.json())


def measure_once(api: httpx.Client, count: int) -> tuple[float, float]:
    """Return (seconds the flow took, seconds until all task runs were readable)."""
    started = time.perf_counter()
    state = many_tasks(count, return_state=True)
    returned = time.perf_counter()
    flow_run_id = str(state.state_details.flow_run_id)
    deadline = returned + TIMEOUT_SECONDS
    while completed_count(api, flow_run_id) < count:
        if time.perf_counter() > deadline:
            raise TimeoutError(
                f"task runs of flow run {flow_run_id} not readable in time"
            )
        time.sleep(POLL_SECONDS)
    return returned - started, time.perf_counter() - returned


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=TASKS, help="Tasks per flow run.")
    parser.add_argument("--runs", type=int, default=3, help="Flow runs to measure.")
    args = parser.parse_args()

    lags = []
    with httpx.Client(base_url=os.environ["PREFECT_API_URL"], timeout=10) as api:
        for run in range(1, args.runs + 1):
            took, lag = measure_once(api, args.tasks)
            lags.append(lag)
            print(
                f"run {run}: flow took {took:.2f} s; all {args.tasks} task runs "
                f"readable {lag * 1000:.0f} ms after it returned"
            )
    print(f"median lag {statistics.median(lags) * 1000:.0f} ms over {args.runs} runs")


if __name__ == "__main__":
    main()
