"""Deployments, work pools, workers and served flows of Prefect 3.9.1 on Podium.

The flows live in a scratch directory and are deployed from there, so no git,
image build or network is involved. The Prefect CLI, workers and `flow.serve()`
run as real subprocesses in the client virtualenv.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import textwrap
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.e2e.support import wait_for

pytestmark = pytest.mark.e2e

FLOWS_SOURCE = """
import sys
import time

from prefect import flow


@flow(name="e2e-greet")
def greet(who: str = "world"):
    return f"hello {who}"


@flow(name="e2e-sleep")
def sleep(seconds: float = 60):
    time.sleep(seconds)
    return seconds


if __name__ == "__main__":
    # Usage: python flows.py greet|sleep DEPLOYMENT_NAME
    target = {"greet": greet, "sleep": sleep}[sys.argv[1]]
    target.serve(name=sys.argv[2], print_starting_message=False)
"""

DEPLOY_SCRIPT = """
import json
import sys

from prefect import flow

source, entrypoint, name, pool, cron = sys.argv[1:6]
deployment_id = flow.from_source(source=source, entrypoint=entrypoint).deploy(
    name=name,
    work_pool_name=pool,
    cron=cron or None,
    print_next_steps=False,
)
print(json.dumps({"id": str(deployment_id)}))
"""

FINAL_STATES = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def client_env(podium_api_url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(
        PREFECT_API_URL=podium_api_url,
        PREFECT_HOME=str(tmp_path / "prefect-home"),
        PREFECT_SERVER_ALLOW_EPHEMERAL_MODE="false",
        PREFECT_CLI_PROMPT="false",
        DO_NOT_TRACK="1",
        **extra,
    )
    return env


@pytest.fixture
def flow_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "project"
    directory.mkdir()
    (directory / "flows.py").write_text(FLOWS_SOURCE.lstrip())
    return directory


@pytest.fixture
def cli(prefect_python: Path, podium_api_url: str, tmp_path: Path) -> Any:
    """Run one `prefect` CLI command to its end and return the finished process."""

    def run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [str(prefect_python.parent / "prefect"), *args],
            env=client_env(podium_api_url, tmp_path),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        assert result.returncode == 0, (
            f"prefect {' '.join(args)} exited {result.returncode}\n"
            f"stdout:\n{result.stdout[-3000:]}\nstderr:\n{result.stderr[-3000:]}"
        )
        return result

    return run


@pytest.fixture
def background(podium_api_url: str, tmp_path: Path) -> Any:
    """Start a long-running client process and kill its process group at teardown."""
    started: list[subprocess.Popen[bytes]] = []

    @contextmanager
    def start(
        command: list[str], cwd: Path, log_path: Path, **extra_env: str
    ) -> Iterator[subprocess.Popen[bytes]]:
        with log_path.open("w") as log:
            process = subprocess.Popen(
                command,
                env=client_env(podium_api_url, tmp_path, **extra_env),
                cwd=cwd,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        started.append(process)
        try:
            yield process
        finally:
            stop(process)

    yield start
    for process in started:
        stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


def tail(path: Path) -> str:
    return path.read_text(errors="replace")[-3000:] if path.exists() else ""


def deploy(
    run_flow_script: Any,
    flow_dir: Path,
    entrypoint: str,
    name: str,
    pool: str,
    cron: str = "",
) -> str:
    script = textwrap.dedent(DEPLOY_SCRIPT)
    # run_flow_script takes no arguments, so bind them into the source.
    argv = repr(["deploy", str(flow_dir), entrypoint, name, pool, cron])
    output = run_flow_script(f"import sys\nsys.argv = {argv}\n{script}")
    return str(output["id"])


def deployment_runs(
    api: httpx.Client, deployment_id: str, state_types: list[str] | None = None
) -> list[dict[str, Any]]:
    body: dict[str, Any] = {
        "deployments": {"id": {"any_": [deployment_id]}},
        "limit": 200,
    }
    if state_types:
        body["flow_runs"] = {"state": {"type": {"any_": state_types}}}
    response = api.post("/flow_runs/filter", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def wait_for_state(
    api: httpx.Client,
    flow_run_id: str,
    state_types: set[str],
    timeout: float = 60,
    log_path: Path | None = None,
) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        flow_run = api.get(f"/flow_runs/{flow_run_id}").json()
        return flow_run if flow_run["state_type"] in state_types else None

    try:
        return wait_for(probe, timeout=timeout, interval=0.5)
    except AssertionError as error:
        log = tail(log_path) if log_path else ""
        raise AssertionError(f"{error}\nclient log:\n{log}") from None


def wait_for_served_deployment(
    api: httpx.Client,
    flow_name: str,
    name: str,
    process: subprocess.Popen[bytes],
    log_path: Path,
) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        if process.poll() is not None:
            raise AssertionError(
                f"serve exited early with {process.returncode}:\n{tail(log_path)}"
            )
        response = api.get(f"/deployments/name/{flow_name}/{name}")
        return response.json() if response.status_code == 200 else None

    return wait_for(probe, timeout=60, interval=0.5)


def run_worker_once(
    background: Any, prefect_python: Path, pool: str, tmp_path: Path
) -> str:
    """Run `prefect worker start --run-once` to its end and return its log."""
    log_path = tmp_path / f"worker-{pool}.log"
    command = [str(prefect_python.parent / "prefect"), "worker", "start"]
    command += ["--pool", pool, "--run-once"]
    with background(command, tmp_path, log_path) as worker:
        try:
            returncode = worker.wait(timeout=150)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"worker timed out after 150 s without exiting:\n{tail(log_path)}"
            ) from None
    assert returncode == 0, f"worker exited {returncode}:\n{tail(log_path)}"
    return tail(log_path)


@pytest.mark.timeout(240)
def test_process_worker_runs_deployment(
    api: httpx.Client,
    cli: Any,
    background: Any,
    run_flow_script: Any,
    prefect_python: Path,
    flow_dir: Path,
    tmp_path: Path,
) -> None:
    pool = unique("pool")
    name = unique("dep")
    cli("work-pool", "create", pool, "--type", "process")
    deployment_id = deploy(run_flow_script, flow_dir, "flows.py:greet", name, pool)

    cli("deployment", "run", f"e2e-greet/{name}", "--param", "who=podium")
    [created] = deployment_runs(api, deployment_id)
    worker_log = run_worker_once(background, prefect_python, pool, tmp_path)
    finished = wait_for_state(api, created["id"], FINAL_STATES, timeout=60)

    assert created["state_type"] == "SCHEDULED"
    assert created["parameters"] == {"who": "podium"}
    assert finished["state_type"] == "COMPLETED", worker_log
    assert finished["work_pool_name"] == pool
    assert finished["deployment_id"] == deployment_id


@pytest.mark.timeout(240)
def test_served_flow_runs_api_created_run(
    api: httpx.Client, background: Any, prefect_python: Path, flow_dir: Path
) -> None:
    name = unique("served")
    log_path = flow_dir.parent / "serve-greet.log"
    command = [str(prefect_python), "flows.py", "greet", name]

    with background(
        command, flow_dir, log_path, PREFECT_RUNNER_POLL_FREQUENCY="2"
    ) as served:
        deployment = wait_for_served_deployment(
            api, "e2e-greet", name, served, log_path
        )
        response = api.post(
            f"/deployments/{deployment['id']}/create_flow_run",
            json={"parameters": {"who": "served"}},
        )
        assert response.status_code == 201, response.text
        flow_run_id = response.json()["id"]
        finished = wait_for_state(api, flow_run_id, FINAL_STATES, 90, log_path)
        still_serving = served.poll() is None

    assert finished["state_type"] == "COMPLETED", tail(log_path)
    assert finished["deployment_id"] == deployment["id"]
    assert finished["parameters"] == {"who": "served"}
    assert still_serving


@pytest.mark.timeout(240)
def test_cron_runs_scheduled_and_executed(
    api: httpx.Client,
    cli: Any,
    background: Any,
    run_flow_script: Any,
    prefect_python: Path,
    flow_dir: Path,
    tmp_path: Path,
) -> None:
    pool = unique("pool")
    name = unique("cron")
    cli("work-pool", "create", pool, "--type", "process")
    deployment_id = deploy(
        run_flow_script, flow_dir, "flows.py:greet", name, pool, "* * * * *"
    )

    scheduled = wait_for(
        lambda: deployment_runs(api, deployment_id, ["SCHEDULED"]),
        timeout=30,
        interval=0.5,
    )
    # Make the latest run due now, so the worker need not wait for the next
    # minute and the chosen run is one the scheduler created.
    chosen = max(scheduled, key=lambda run: run["expected_start_time"])
    now = dt.datetime.now(dt.UTC).isoformat()
    forced = api.post(
        f"/flow_runs/{chosen['id']}/set_state",
        json={
            "state": {
                "type": "SCHEDULED",
                "name": "Scheduled",
                "state_details": {"scheduled_time": now},
            },
            "force": True,
        },
    )
    worker_log = run_worker_once(background, prefect_python, pool, tmp_path)
    finished = wait_for_state(api, chosen["id"], FINAL_STATES, timeout=60)

    assert all(run["auto_scheduled"] for run in scheduled)
    assert len({run["expected_start_time"] for run in scheduled}) == len(scheduled)
    assert forced.status_code == 201, forced.text
    assert forced.json()["status"] == "ACCEPT"
    assert finished["state_type"] == "COMPLETED", worker_log
    assert finished["work_pool_name"] == pool


@pytest.mark.timeout(240)
def test_cancel_running_served_flow(
    api: httpx.Client,
    cli: Any,
    background: Any,
    prefect_python: Path,
    flow_dir: Path,
) -> None:
    name = unique("cancel")
    log_path = flow_dir.parent / "serve-sleep.log"
    command = [str(prefect_python), "flows.py", "sleep", name]

    with background(
        command, flow_dir, log_path, PREFECT_RUNNER_POLL_FREQUENCY="2"
    ) as served:
        deployment = wait_for_served_deployment(
            api, "e2e-sleep", name, served, log_path
        )
        response = api.post(
            f"/deployments/{deployment['id']}/create_flow_run",
            json={"parameters": {"seconds": 60}},
        )
        assert response.status_code == 201, response.text
        flow_run_id = response.json()["id"]
        running = wait_for_state(
            api, flow_run_id, FINAL_STATES | {"RUNNING"}, 60, log_path
        )
        cli("flow-run", "cancel", flow_run_id)
        after_cancel = api.get(f"/flow_runs/{flow_run_id}").json()
        finished = wait_for_state(api, flow_run_id, FINAL_STATES, 60, log_path)

    history = api.get("/flow_run_states/", params={"flow_run_id": flow_run_id})
    types = [state["type"] for state in history.json()]

    assert running["state_type"] == "RUNNING", tail(log_path)
    assert after_cancel["state_type"] in {"CANCELLING", "CANCELLED"}
    assert finished["state_type"] == "CANCELLED", tail(log_path)
    assert "CANCELLING" in types
