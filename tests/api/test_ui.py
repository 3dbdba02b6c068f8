"""API tests for the `/ui` endpoints of the Prefect dashboard."""

import datetime as dt
import uuid

import httpx
import pytest


def scheduled(at: dt.datetime) -> dict:
    return {"type": "SCHEDULED", "state_details": {"scheduled_time": at.isoformat()}}


async def create_flow(client: httpx.AsyncClient, name: str) -> dict:
    response = await client.post("/flows/", json={"name": name})
    assert response.status_code == 201, response.text
    return response.json()


async def create_run(client: httpx.AsyncClient, flow_id: str, **fields) -> dict:
    response = await client.post("/flow_runs/", json={"flow_id": flow_id, **fields})
    assert response.status_code == 201, response.text
    return response.json()


async def create_task_run(client: httpx.AsyncClient, **fields) -> dict:
    body = {"task_key": "key", "dynamic_key": uuid.uuid4().hex, **fields}
    response = await client.post("/task_runs/", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def set_task_state(client: httpx.AsyncClient, task_id: str, kind: str) -> None:
    response = await client.post(
        f"/task_runs/{task_id}/set_state", json={"state": {"type": kind}}
    )
    assert response.status_code == 201, response.text


async def finish_task_run(client: httpx.AsyncClient, flow_run_id: str, kind: str):
    task = await create_task_run(client, flow_run_id=flow_run_id)
    await set_task_state(client, task["id"], "RUNNING")
    await set_task_state(client, task["id"], kind)
    return task


@pytest.fixture
async def flow(client: httpx.AsyncClient) -> dict:
    return await create_flow(client, "ui-flow")


@pytest.fixture
async def flow_run(client: httpx.AsyncClient, flow: dict) -> dict:
    run = await create_run(client, flow["id"], name="ui-run")
    response = await client.post(
        f"/flow_runs/{run['id']}/set_state", json={"state": {"type": "RUNNING"}}
    )
    assert response.status_code == 201, response.text
    return run


# /ui/flows ---------------------------------------------------------------------


async def test_count_deployments_by_flow(client, flow) -> None:
    other = await create_flow(client, "no-deployments")
    for name in ("a", "b"):
        response = await client.post(
            "/deployments/", json={"name": name, "flow_id": flow["id"]}
        )
        assert response.status_code == 201, response.text

    response = await client.post(
        "/ui/flows/count-deployments", json={"flow_ids": [flow["id"], other["id"]]}
    )

    assert response.status_code == 200
    assert response.json() == {flow["id"]: 2, other["id"]: 0}


async def test_count_deployments_limits_ids(client: httpx.AsyncClient) -> None:
    ids = [str(uuid.uuid4()) for _ in range(201)]

    response = await client.post("/ui/flows/count-deployments", json={"flow_ids": ids})

    assert response.status_code == 422


async def test_next_runs_by_flow(client, flow) -> None:
    idle = await create_flow(client, "idle")
    now = dt.datetime.now(dt.UTC)
    later = await create_run(
        client, flow["id"], state=scheduled(now + dt.timedelta(hours=2))
    )
    sooner = await create_run(
        client, flow["id"], state=scheduled(now + dt.timedelta(hours=1))
    )
    await create_run(client, idle["id"])

    response = await client.post(
        "/ui/flows/next-runs", json={"flow_ids": [flow["id"], idle["id"]]}
    )

    assert response.status_code == 200
    body = response.json()
    assert body[idle["id"]] is None
    assert body[flow["id"]]["id"] == sooner["id"]
    assert body[flow["id"]]["id"] != later["id"]
    assert body[flow["id"]]["state_type"] == "SCHEDULED"
    assert body[flow["id"]]["flow_id"] == flow["id"]
    assert body[flow["id"]]["next_scheduled_start_time"].startswith(
        sooner["next_scheduled_start_time"][:19]
    )


async def test_next_runs_requires_flow_ids(client: httpx.AsyncClient) -> None:
    response = await client.post("/ui/flows/next-runs", json={})

    assert response.status_code == 422
    assert "flow_ids" in response.json()["detail"]


# /ui/flow_runs -----------------------------------------------------------------


async def test_count_task_runs_skips_subflow_parents(client, flow_run, flow) -> None:
    await create_task_run(client, flow_run_id=flow_run["id"])
    parent = await create_task_run(client, flow_run_id=flow_run["id"])
    await create_run(client, flow["id"], parent_task_run_id=parent["id"])
    unknown = str(uuid.uuid4())

    response = await client.post(
        "/ui/flow_runs/count-task-runs",
        json={"flow_run_ids": [flow_run["id"], unknown]},
    )

    assert response.status_code == 200
    assert response.json() == {flow_run["id"]: 1, unknown: 0}


async def test_flow_run_history_points(client, flow_run, flow) -> None:
    now = dt.datetime.now(dt.UTC)
    future = await create_run(
        client, flow["id"], state=scheduled(now + dt.timedelta(hours=1))
    )

    response = await client.post("/ui/flow_runs/history", json={})

    assert response.status_code == 200
    points = response.json()
    assert [p["id"] for p in points] == [future["id"], flow_run["id"]]
    assert points[0]["state_type"] == "SCHEDULED"
    assert points[0]["duration"] == 0
    assert points[0]["lateness"] == 0
    assert points[1]["state_type"] == "RUNNING"
    assert points[1]["duration"] >= 0
    assert set(points[1]) == {"id", "state_type", "timestamp", "duration", "lateness"}


async def test_flow_run_history_sort_limit_filter(client, flow_run, flow) -> None:
    other = await create_run(client, flow["id"], name="other")

    ascending = await client.post(
        "/ui/flow_runs/history",
        json={"sort": "EXPECTED_START_TIME_ASC", "limit": 1},
    )
    filtered = await client.post(
        "/ui/flow_runs/history",
        json={"flow_runs": {"name": {"any_": ["other"]}}},
    )

    assert [p["id"] for p in ascending.json()] == [flow_run["id"]]
    assert [p["id"] for p in filtered.json()] == [other["id"]]


async def test_flow_run_history_rejects_large_limit(client) -> None:
    response = await client.post("/ui/flow_runs/history", json={"limit": 1001})

    assert response.status_code == 422
    assert "limit" in response.json()["detail"]


# /ui/task_runs -----------------------------------------------------------------


async def test_task_run_counts_by_state(client, flow_run) -> None:
    await finish_task_run(client, flow_run["id"], "COMPLETED")
    await finish_task_run(client, flow_run["id"], "COMPLETED")
    await finish_task_run(client, flow_run["id"], "FAILED")
    await create_task_run(client, flow_run_id=flow_run["id"])

    response = await client.post("/ui/task_runs/count", json={})

    assert response.status_code == 200
    counts = response.json()
    assert counts["COMPLETED"] == 2
    assert counts["FAILED"] == 1
    assert counts["PENDING"] == 1
    assert counts["SCHEDULED"] == 0
    assert len(counts) == 9


async def test_task_run_counts_by_state_filter(client, flow_run) -> None:
    await finish_task_run(client, flow_run["id"], "COMPLETED")

    response = await client.post(
        "/ui/task_runs/count",
        json={"flow_runs": {"id": {"any_": [str(uuid.uuid4())]}}},
    )

    assert response.json()["COMPLETED"] == 0


async def test_dashboard_counts_in_twenty_intervals(client, flow_run) -> None:
    await finish_task_run(client, flow_run["id"], "COMPLETED")
    await finish_task_run(client, flow_run["id"], "COMPLETED")
    await finish_task_run(client, flow_run["id"], "CRASHED")
    await create_task_run(client, flow_run_id=flow_run["id"])
    after = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)

    response = await client.post(
        "/ui/task_runs/dashboard/counts",
        json={"task_runs": {"start_time": {"after_": after.isoformat()}}},
    )

    assert response.status_code == 200
    counts = response.json()
    assert len(counts) == 20
    assert counts[-1] == {"completed": 2, "failed": 1}
    assert all(c == {"completed": 0, "failed": 0} for c in counts[:-1])


async def test_dashboard_counts_ignore_state_filter(client, flow_run) -> None:
    await finish_task_run(client, flow_run["id"], "FAILED")
    after = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    task_runs = {
        "start_time": {"after_": after.isoformat()},
        "state": {"type": {"any_": ["RUNNING"]}},
    }

    response = await client.post(
        "/ui/task_runs/dashboard/counts", json={"task_runs": task_runs}
    )

    assert sum(c["failed"] for c in response.json()) == 1


async def test_dashboard_counts_window_before(client, flow_run) -> None:
    await finish_task_run(client, flow_run["id"], "COMPLETED")
    now = dt.datetime.now(dt.UTC)
    task_runs = {
        "start_time": {
            "after_": (now - dt.timedelta(hours=2)).isoformat(),
            "before_": (now - dt.timedelta(hours=1)).isoformat(),
        }
    }

    response = await client.post(
        "/ui/task_runs/dashboard/counts", json={"task_runs": task_runs}
    )

    assert response.json() == [{"completed": 0, "failed": 0}] * 20


async def test_dashboard_counts_filter_work_pool(client, flow_run) -> None:
    await finish_task_run(client, flow_run["id"], "COMPLETED")
    after = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)

    response = await client.post(
        "/ui/task_runs/dashboard/counts",
        json={
            "task_runs": {"start_time": {"after_": after.isoformat()}},
            "work_pools": {"name": {"any_": ["absent"]}},
        },
    )

    assert sum(c["completed"] for c in response.json()) == 0


async def test_dashboard_counts_require_after(client) -> None:
    missing_filter = await client.post("/ui/task_runs/dashboard/counts", json={})
    missing_after = await client.post(
        "/ui/task_runs/dashboard/counts", json={"task_runs": {}}
    )

    assert missing_filter.status_code == 422
    assert missing_after.status_code == 422
    assert "task_runs.start_time.after_" in missing_after.json()["detail"]


async def test_ui_task_run_has_flow_run_name(client, flow_run) -> None:
    task = await create_task_run(client, flow_run_id=flow_run["id"], name="t")

    response = await client.get(f"/ui/task_runs/{task['id']}")

    assert response.status_code == 200
    assert response.json()["flow_run_name"] == "ui-run"
    assert response.json()["name"] == "t"
    assert response.json()["state"]["type"] == "PENDING"


async def test_ui_task_run_without_flow_run(client) -> None:
    task = await create_task_run(client)

    response = await client.get(f"/ui/task_runs/{task['id']}")

    assert response.json()["flow_run_name"] is None


async def test_ui_task_run_unknown_404(client) -> None:
    response = await client.get(f"/ui/task_runs/{uuid.uuid4()}")

    assert response.status_code == 404


# /ui/schemas/validate ------------------------------------------------------------

SCHEMA = {
    "type": "object",
    "properties": {
        "count": {"type": "integer"},
        "names": {"type": "array", "items": {"type": "string"}},
        "note": {"type": "string"},
    },
    "required": ["count"],
}


async def validate(client: httpx.AsyncClient, schema: dict, values: dict):
    return await client.post(
        "/ui/schemas/validate", json={"schema": schema, "values": values}
    )


async def test_validate_valid_values(client) -> None:
    response = await validate(client, SCHEMA, {"count": 1, "note": None})

    assert response.status_code == 200
    assert response.json() == {"errors": [], "valid": True}


async def test_validate_reports_nested_errors(client) -> None:
    response = await validate(client, SCHEMA, {"names": ["a", 2]})

    body = response.json()
    assert body["valid"] is False
    assert {"property": "count", "errors": ["'count' is a required property"]} in (
        body["errors"]
    )
    assert {
        "property": "names",
        "errors": [{"index": 1, "errors": ["2 is not of type 'string'"]}],
    } in body["errors"]


async def test_validate_hydrates_workspace_variable(client) -> None:
    created = await client.post("/variables/", json={"name": "answer", "value": 42})
    assert created.status_code == 201, created.text
    values = {
        "count": {"__prefect_kind": "workspace_variable", "variable_name": "answer"}
    }

    response = await validate(client, SCHEMA, values)

    assert response.json() == {"errors": [], "valid": True}


async def test_validate_reports_missing_variable(client) -> None:
    values = {
        "count": {"__prefect_kind": "workspace_variable", "variable_name": "nope"}
    }

    response = await validate(client, SCHEMA, values)

    assert response.json()["errors"] == [
        {"property": "count", "errors": ["Variable 'nope' not found in workspace."]}
    ]


async def test_validate_hydrates_json(client) -> None:
    good = {"count": {"__prefect_kind": "json", "value": "3"}}
    bad = {"count": {"__prefect_kind": "json", "value": "{oops"}}

    good_response = await validate(client, SCHEMA, good)
    bad_response = await validate(client, SCHEMA, bad)

    assert good_response.json()["valid"] is True
    [error] = bad_response.json()["errors"]
    assert error["property"] == "count"
    assert error["errors"][0].startswith("Invalid JSON")


async def test_validate_defers_jinja_templates(client) -> None:
    values = {"count": 1, "note": {"__prefect_kind": "jinja", "template": "{{ x }}"}}

    response = await validate(client, SCHEMA, values)

    assert response.json() == {"errors": [], "valid": True}


async def test_validate_optional_field_accepts_null(client) -> None:
    response = await validate(client, SCHEMA, {"count": 1, "names": None})

    assert response.json()["valid"] is True


async def test_validate_rejects_invalid_schema(client) -> None:
    response = await validate(client, {"type": "nonsense"}, {})

    assert response.status_code == 422
    assert response.json()["detail"].startswith("Invalid schema")


async def test_validate_does_not_fetch_remote_refs(client) -> None:
    schema = {
        "type": "object",
        "properties": {"x": {"$ref": "http://127.0.0.1:9/schema.json"}},
    }

    response = await validate(client, schema, {"x": 1})

    assert response.status_code == 422
    assert "Validation failed" in response.json()["detail"]
