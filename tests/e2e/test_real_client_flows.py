"""Run ordinary Prefect 3.9.1 flows against Podium and check what it recorded."""

from __future__ import annotations

from typing import Any

import httpx
from tests.e2e.support import wait_for


def task_runs_of(api: httpx.Client, flow_run_id: str) -> list[dict[str, Any]]:
    body = {"flow_runs": {"id": {"any_": [flow_run_id]}}, "limit": 200}
    response = api.post("/task_runs/filter", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def wait_for_task_runs(
    api: httpx.Client, flow_run_id: str, count: int, state_type: str = "COMPLETED"
) -> list[dict[str, Any]]:
    def probe() -> list[dict[str, Any]] | None:
        runs = task_runs_of(api, flow_run_id)
        finished = [run for run in runs if run["state_type"] == state_type]
        return runs if len(runs) == count and len(finished) == count else None

    return wait_for(probe)


def test_flow_with_tasks_passing_values(
    run_flow_script: Any, api: httpx.Client
) -> None:
    output = run_flow_script(
        """
        import json
        from prefect import flow, task

        @task
        def extract():
            return [1, 2, 3]

        @task
        def double(rows):
            return [r * 2 for r in rows]

        @flow(name="e2e-values")
        def pipeline():
            return sum(double(extract()))

        state = pipeline(return_state=True)
        print(json.dumps({"id": str(state.state_details.flow_run_id), "result": state.result()}))
        """
    )

    flow_run = api.get(f"/flow_runs/{output['id']}").json()
    task_runs = wait_for_task_runs(api, output["id"], 2)
    states = api.get("/flow_run_states/", params={"flow_run_id": output["id"]}).json()

    assert output["result"] == 12
    assert flow_run["state_type"] == "COMPLETED"
    assert flow_run["start_time"] is not None
    assert flow_run["end_time"] is not None
    assert sorted(run["name"].split("-")[0] for run in task_runs) == [
        "double",
        "extract",
    ]
    assert [
        state["type"] for state in sorted(states, key=lambda s: s["timestamp"])
    ] == [
        "PENDING",
        "RUNNING",
        "COMPLETED",
    ]


def test_task_fails_once_then_retries(run_flow_script: Any, api: httpx.Client) -> None:
    output = run_flow_script(
        """
        import json
        from prefect import flow, task

        attempts = []

        @task(retries=2, retry_delay_seconds=0)
        def flaky():
            attempts.append(1)
            if len(attempts) == 1:
                raise RuntimeError("first attempt fails")
            return "ok"

        @flow
        def retrying():
            return flaky()

        state = retrying(return_state=True)
        print(json.dumps({"id": str(state.state_details.flow_run_id), "result": state.result()}))
        """
    )

    [task_run] = wait_for_task_runs(api, output["id"], 1)
    states = api.get("/task_run_states/", params={"task_run_id": task_run["id"]}).json()
    names = [state["name"] for state in sorted(states, key=lambda s: s["timestamp"])]

    assert output["result"] == "ok"
    assert task_run["run_count"] == 2
    assert "Retrying" in names
    assert names[-1] == "Completed"


def test_failing_flow_ends_failed(run_flow_script: Any, api: httpx.Client) -> None:
    output = run_flow_script(
        """
        import json
        from prefect import flow

        @flow
        def broken():
            raise ValueError("bad input row 7")

        state = broken(return_state=True)
        print(json.dumps({"id": str(state.state_details.flow_run_id)}))
        """
    )

    flow_run = api.get(f"/flow_runs/{output['id']}").json()

    assert flow_run["state_type"] == "FAILED"
    assert "bad input row 7" in flow_run["state"]["message"]


def test_subflow_links_to_parent_task_run(
    run_flow_script: Any, api: httpx.Client
) -> None:
    output = run_flow_script(
        """
        import json
        from prefect import flow
        from prefect.runtime import flow_run

        @flow
        def child():
            return str(flow_run.id)

        @flow
        def parent():
            return {"parent": str(flow_run.id), "child": child()}

        print(json.dumps(parent()))
        """
    )

    child = api.get(f"/flow_runs/{output['child']}").json()
    parent_task_run = api.get(f"/task_runs/{child['parent_task_run_id']}").json()

    assert child["state_type"] == "COMPLETED"
    assert parent_task_run["flow_run_id"] == output["parent"]


def test_cached_task_is_not_run_twice(run_flow_script: Any, api: httpx.Client) -> None:
    output = run_flow_script(
        """
        import json
        from datetime import timedelta
        from prefect import flow, task
        from prefect.cache_policies import INPUTS

        calls = []

        @task(cache_policy=INPUTS, cache_expiration=timedelta(minutes=5), persist_result=True)
        def expensive(x):
            calls.append(x)
            return x * 10

        @flow(persist_result=True)
        def cached():
            return [expensive(4), expensive(4)]

        state = cached(return_state=True)
        print(json.dumps({"id": str(state.state_details.flow_run_id), "calls": len(calls),
                          "result": state.result()}))
        """
    )

    task_runs = wait_for(
        lambda: (
            [
                run
                for run in task_runs_of(api, output["id"])
                if run["state_type"] == "COMPLETED"
            ]
            if len(task_runs_of(api, output["id"])) == 2
            else None
        )
    )

    assert output["calls"] == 1
    assert output["result"] == [40, 40]
    assert sorted(run["state_name"] for run in task_runs) == ["Cached", "Completed"]


def test_run_logger_messages_are_stored(
    run_flow_script: Any, api: httpx.Client
) -> None:
    output = run_flow_script(
        """
        import json
        from prefect import flow, get_run_logger

        @flow
        def chatty():
            logger = get_run_logger()
            logger.info("loaded 42 rows")
            logger.warning("3 rows skipped")
            from prefect.runtime import flow_run
            return str(flow_run.id)

        print(json.dumps({"id": chatty()}))
        """
    )

    def warnings() -> list[dict[str, Any]]:
        body = {"logs": {"flow_run_id": {"any_": [output["id"]]}, "level": {"ge_": 30}}}
        return api.post("/logs/filter", json=body).json()

    logs = wait_for(warnings)

    assert [log["message"] for log in logs] == ["3 rows skipped"]


def test_map_and_submit(run_flow_script: Any, api: httpx.Client) -> None:
    output = run_flow_script(
        """
        import json
        from prefect import flow, task

        @task
        def square(x):
            return x * x

        @flow
        def fan_out():
            mapped = square.map(range(20))
            submitted = [square.submit(i) for i in range(30)]
            return sum(f.result() for f in mapped) + sum(f.result() for f in submitted)

        state = fan_out(return_state=True)
        print(json.dumps({"id": str(state.state_details.flow_run_id), "result": state.result()}))
        """
    )

    task_runs = wait_for_task_runs(api, output["id"], 50)

    assert output["result"] == sum(i * i for i in range(20)) + sum(
        i * i for i in range(30)
    )
    assert len({run["id"] for run in task_runs}) == 50


def test_async_flow_with_async_tasks(run_flow_script: Any, api: httpx.Client) -> None:
    output = run_flow_script(
        """
        import asyncio, json
        from prefect import flow, task

        @task
        async def fetch(i):
            await asyncio.sleep(0.01)
            return i + 1

        @flow
        async def gather():
            from prefect.runtime import flow_run
            values = await asyncio.gather(*(fetch(i) for i in range(5)))
            return {"id": str(flow_run.id), "result": sum(values)}

        print(json.dumps(asyncio.run(gather())))
        """
    )

    wait_for_task_runs(api, output["id"], 5)
    flow_run = api.get(f"/flow_runs/{output['id']}").json()

    assert output["result"] == 15
    assert flow_run["state_type"] == "COMPLETED"
