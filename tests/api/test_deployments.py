"""API tests for `/deployments` and deployment schedules."""

from __future__ import annotations

import datetime as dt
import urllib.parse
import uuid
from typing import Any

import httpx
import pytest

from podium.services.scheduler import Scheduler
from podium.settings import Settings
from podium.storage.database import Database

CRON_HOURLY = {"cron": "0 * * * *", "timezone": None, "day_or": True}
PARAMETER_SCHEMA = {
    "title": "Parameters",
    "type": "object",
    "properties": {"x": {"title": "x", "type": "integer", "default": 1, "position": 0}},
    "required": ["x"],
}


async def create_flow(client: httpx.AsyncClient, name: str = "etl") -> str:
    response = await client.post("/flows/", json={"name": name})
    assert response.status_code in (200, 201), response.text
    return str(response.json()["id"])


async def create_deployment(
    client: httpx.AsyncClient, flow_id: str, name: str = "nightly", **fields: Any
) -> dict[str, Any]:
    response = await client.post(
        "/deployments/", json={"name": name, "flow_id": flow_id, **fields}
    )
    assert response.status_code == 201, response.text
    return response.json()


async def scheduled_runs(
    client: httpx.AsyncClient, deployment_id: str
) -> list[dict[str, Any]]:
    body = {
        "flow_runs": {
            "deployment_id": {"any_": [deployment_id]},
            "state": {"type": {"any_": ["SCHEDULED"]}},
        },
        "sort": "EXPECTED_START_TIME_ASC",
    }
    response = await client.post("/flow_runs/filter", json=body)
    assert response.status_code == 200, response.text
    return response.json()


async def run_scheduler(database: Database, now: dt.datetime | None = None) -> int:
    scheduler = Scheduler.from_settings(database, Settings(scheduler_max_runs=10))
    return await scheduler.run_once(now or dt.datetime.now(dt.UTC))


# Create, read, update, delete -------------------------------------------------


async def test_create_deployment_returns_201(client: httpx.AsyncClient) -> None:
    flow_id = await create_flow(client)
    deployment = await create_deployment(client, flow_id, tags=["a", "a", "b"])
    assert deployment["flow_id"] == flow_id
    assert deployment["tags"] == ["a", "b"]
    assert deployment["status"] == "NOT_READY"
    assert deployment["labels"] == {"prefect.flow.id": flow_id}
    assert deployment["paused"] is False


async def test_create_deployment_again_updates_with_200(
    client: httpx.AsyncClient,
) -> None:
    flow_id = await create_flow(client)
    first = await create_deployment(client, flow_id, description="one")
    again = await client.post(
        "/deployments/",
        json={"name": "nightly", "flow_id": flow_id, "description": "two"},
    )
    assert again.status_code == 200
    assert again.json()["id"] == first["id"]
    assert again.json()["description"] == "two"


async def test_create_deployment_for_missing_flow_returns_404(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/deployments/", json={"name": "x", "flow_id": str(uuid.uuid4())}
    )
    assert response.status_code == 404


async def test_create_deployment_in_missing_pool_returns_404(
    client: httpx.AsyncClient,
) -> None:
    flow_id = await create_flow(client)
    response = await client.post(
        "/deployments/",
        json={"name": "x", "flow_id": flow_id, "work_pool_name": "nope"},
    )
    assert response.status_code == 404
    assert "nope" in response.json()["detail"]


async def test_create_deployment_resolves_pool_queue(client: httpx.AsyncClient) -> None:
    flow_id = await create_flow(client)
    await client.post("/work_pools/", json={"name": "pool", "type": "process"})
    deployment = await create_deployment(client, flow_id, work_pool_name="pool")
    custom = await create_deployment(
        client, flow_id, "custom", work_pool_name="pool", work_queue_name="fast"
    )
    assert deployment["work_pool_name"] == "pool"
    assert deployment["work_queue_name"] == "default"
    assert deployment["work_queue_id"] is not None
    assert custom["work_queue_name"] == "fast"


async def test_create_deployment_rejects_invalid_schedule(
    client: httpx.AsyncClient,
) -> None:
    flow_id = await create_flow(client)
    response = await client.post(
        "/deployments/",
        json={
            "name": "x",
            "flow_id": flow_id,
            "schedules": [{"schedule": {"cron": "bad"}}],
        },
    )
    assert response.status_code == 422


async def test_create_deployment_stores_options_as_given(
    client: httpx.AsyncClient,
) -> None:
    flow_id = await create_flow(client)
    deployment = await create_deployment(
        client,
        flow_id,
        concurrency_limit=2,
        concurrency_options={"collision_strategy": "CANCEL_NEW"},
        pull_steps=[
            {"prefect.deployments.steps.set_working_directory": {"directory": "/x"}}
        ],
        job_variables={"env": {"A": "1"}},
        parameter_openapi_schema=PARAMETER_SCHEMA,
        parameters={"x": 3},
        version="v1",
        entrypoint="flows.py:etl",
    )
    assert deployment["concurrency_limit"] == 2
    assert deployment["concurrency_options"] == {
        "collision_strategy": "CANCEL_NEW",
        "grace_period_seconds": None,
    }
    assert deployment["pull_steps"][0][
        "prefect.deployments.steps.set_working_directory"
    ]
    assert deployment["job_variables"] == {"env": {"A": "1"}}
    assert deployment["parameter_openapi_schema"] == PARAMETER_SCHEMA
    assert deployment["version"] == "v1"


async def test_read_deployment_missing_returns_404(client: httpx.AsyncClient) -> None:
    response = await client.get(f"/deployments/{uuid.uuid4()}")
    assert response.status_code == 404


@pytest.mark.parametrize("name", ["with space", "brackets [x] (y)", "emoji 🚀 run"])
async def test_read_deployment_by_name_odd_characters(
    client: httpx.AsyncClient, name: str
) -> None:
    flow_id = await create_flow(client, f"flow {name}")
    deployment = await create_deployment(client, flow_id, name)
    quoted = f"/deployments/name/{urllib.parse.quote(f'flow {name}')}/{urllib.parse.quote(name)}"
    plain = f"/deployments/name/flow {name}/{name}"
    assert (await client.get(quoted)).json()["id"] == deployment["id"]
    assert (await client.get(plain)).json()["id"] == deployment["id"]


async def test_read_deployment_by_name_missing_returns_404(
    client: httpx.AsyncClient,
) -> None:
    flow_id = await create_flow(client)
    await create_deployment(client, flow_id)
    response = await client.get("/deployments/name/etl/other")
    assert response.status_code == 404


async def test_update_deployment_returns_204(client: httpx.AsyncClient) -> None:
    flow_id = await create_flow(client)
    deployment = await create_deployment(client, flow_id)
    response = await client.patch(
        f"/deployments/{deployment['id']}", json={"description": "after", "tags": ["t"]}
    )
    after = (await client.get(f"/deployments/{deployment['id']}")).json()
    assert response.status_code == 204
    assert after["description"] == "after"
    assert after["tags"] == ["t"]


async def test_update_deployment_missing_returns_404(client: httpx.AsyncClient) -> None:
    response = await client.patch(
        f"/deployments/{uuid.uuid4()}", json={"description": "x"}
    )
    assert response.status_code == 404


async def test_update_parameters_checked_against_schema(
    client: httpx.AsyncClient,
) -> None:
    flow_id = await create_flow(client)
    deployment = await create_deployment(
        client, flow_id, parameter_openapi_schema=PARAMETER_SCHEMA, parameters={"x": 1}
    )
    response = await client.patch(
        f"/deployments/{deployment['id']}", json={"parameters": {"x": "many"}}
    )
    assert response.status_code == 409
    assert "'x'" in response.json()["detail"]


async def test_delete_deployment_removes_scheduled_runs(
    client: httpx.AsyncClient, database: Database
) -> None:
    flow_id = await create_flow(client)
    deployment = await create_deployment(
        client, flow_id, schedules=[{"schedule": CRON_HOURLY}]
    )
    await run_scheduler(database)
    response = await client.delete(f"/deployments/{deployment['id']}")
    assert response.status_code == 204
    assert await scheduled_runs(client, deployment["id"]) == []
    assert (await client.get(f"/deployments/{deployment['id']}")).status_code == 404


async def test_delete_deployment_missing_returns_404(client: httpx.AsyncClient) -> None:
    response = await client.delete(f"/deployments/{uuid.uuid4()}")
    assert response.status_code == 404


# Filter, count, paginate, bulk delete ---------------------------------------------


async def test_filter_and_count_deployments(client: httpx.AsyncClient) -> None:
    flow_id = await create_flow(client)
    other_flow = await create_flow(client, "reports")
    await create_deployment(client, flow_id, "a", tags=["prod"])
    await create_deployment(client, flow_id, "b", paused=True)
    await create_deployment(client, other_flow, "c", tags=["prod"])

    by_tag = {"deployments": {"tags": {"all_": ["prod"]}}}
    paused = {"deployments": {"paused": {"eq_": True}}}
    by_flow_name = {"deployments": {"flow_or_deployment_name": {"like_": "report"}}}
    by_flow = {"flows": {"name": {"any_": ["etl"]}}}

    names = lambda r: [d["name"] for d in r.json()]  # noqa: E731
    assert names(await client.post("/deployments/filter", json=by_tag)) == ["a", "c"]
    assert names(await client.post("/deployments/filter", json=paused)) == ["b"]
    assert names(await client.post("/deployments/filter", json=by_flow_name)) == ["c"]
    assert names(await client.post("/deployments/filter", json=by_flow)) == ["a", "b"]
    assert (await client.post("/deployments/count", json=by_tag)).json() == 2
    sorted_desc = await client.post(
        "/deployments/filter", json={"sort": "NAME_DESC", "limit": 1}
    )
    assert names(sorted_desc) == ["c"]


async def test_flows_filter_by_deployment(client: httpx.AsyncClient) -> None:
    flow_id = await create_flow(client)
    await create_flow(client, "lonely")
    await create_deployment(client, flow_id)
    with_deployment = await client.post(
        "/flows/filter", json={"flows": {"deployment": {"is_null_": False}}}
    )
    assert [f["name"] for f in with_deployment.json()] == ["etl"]


async def test_paginate_deployments(client: httpx.AsyncClient) -> None:
    flow_id = await create_flow(client)
    for name in "abc":
        await create_deployment(client, flow_id, name)
    page = (
        await client.post("/deployments/paginate", json={"limit": 2, "page": 2})
    ).json()
    assert [d["name"] for d in page["results"]] == ["c"]
    assert (page["count"], page["pages"], page["page"], page["limit"]) == (3, 2, 2, 2)


async def test_bulk_delete_deployments(client: httpx.AsyncClient) -> None:
    flow_id = await create_flow(client)
    a = await create_deployment(client, flow_id, "a", tags=["old"])
    await create_deployment(client, flow_id, "b")
    response = await client.post(
        "/deployments/bulk_delete", json={"deployments": {"tags": {"all_": ["old"]}}}
    )
    assert response.json() == {"deleted": [a["id"]]}
    assert (await client.post("/deployments/count", json={})).json() == 1


async def test_bulk_delete_limit_above_50_returns_422(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/deployments/bulk_delete", json={"limit": 51})
    assert response.status_code == 422


# Flow runs from a deployment --------------------------------------------------------


async def test_create_flow_run_merges_parameters(client: httpx.AsyncClient) -> None:
    flow_id = await create_flow(client)
    deployment = await create_deployment(
        client,
        flow_id,
        parameters={"x": 1, "y": "keep"},
        tags=["dep"],
        enforce_parameter_schema=False,
    )
    response = await client.post(
        f"/deployments/{deployment['id']}/create_flow_run",
        json={"parameters": {"x": 5}, "tags": ["run"]},
    )
    run = response.json()
    assert response.status_code == 201
    assert run["parameters"] == {"x": 5, "y": "keep"}
    assert run["deployment_id"] == deployment["id"]
    assert run["state_type"] == "SCHEDULED"
    assert run["tags"] == ["dep", "run"]
    assert run["labels"]["prefect.deployment.id"] == deployment["id"]


async def test_create_flow_run_enforces_schema(client: httpx.AsyncClient) -> None:
    flow_id = await create_flow(client)
    deployment = await create_deployment(
        client, flow_id, parameter_openapi_schema=PARAMETER_SCHEMA, parameters={"x": 1}
    )
    bad = await client.post(
        f"/deployments/{deployment['id']}/create_flow_run",
        json={"parameters": {"x": "no"}},
    )
    skipped = await client.post(
        f"/deployments/{deployment['id']}/create_flow_run",
        json={"parameters": {"x": "no"}, "enforce_parameter_schema": False},
    )
    assert bad.status_code == 409
    assert "'x'" in bad.json()["detail"]
    assert skipped.status_code == 201


async def test_create_flow_run_with_null_schema_when_enforced_returns_409(
    client: httpx.AsyncClient,
) -> None:
    flow_id = await create_flow(client)
    deployment = await create_deployment(client, flow_id, parameter_openapi_schema=None)
    response = await client.post(
        f"/deployments/{deployment['id']}/create_flow_run", json={}
    )
    assert response.status_code == 409


async def test_create_flow_run_idempotency_key_returns_200(
    client: httpx.AsyncClient,
) -> None:
    flow_id = await create_flow(client)
    deployment = await create_deployment(
        client, flow_id, enforce_parameter_schema=False
    )
    url = f"/deployments/{deployment['id']}/create_flow_run"
    first = await client.post(url, json={"idempotency_key": "k"})
    second = await client.post(url, json={"idempotency_key": "k"})
    assert first.status_code == 201
    assert second.status_code == 200
    assert second.json()["id"] == first.json()["id"]


async def test_create_flow_run_missing_deployment_returns_404(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        f"/deployments/{uuid.uuid4()}/create_flow_run", json={}
    )
    assert response.status_code == 404


async def test_bulk_create_flow_runs_reports_each(client: httpx.AsyncClient) -> None:
    flow_id = await create_flow(client)
    deployment = await create_deployment(
        client, flow_id, parameter_openapi_schema=PARAMETER_SCHEMA, parameters={"x": 1}
    )
    response = await client.post(
        f"/deployments/{deployment['id']}/create_flow_run/bulk",
        json=[{"parameters": {"x": 2}}, {"parameters": {"x": "no"}}],
    )
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["CREATED", "FAILED"]
    assert results[0]["flow_run_id"] is not None
    assert "'x'" in results[1]["error"]


# Schedules and the scheduler ------------------------------------------------------------


async def test_new_cron_deployment_gets_runs(
    client: httpx.AsyncClient, database: Database
) -> None:
    flow_id = await create_flow(client)
    deployment = await create_deployment(
        client, flow_id, schedules=[{"schedule": CRON_HOURLY}], parameters={"p": 1}
    )
    await run_scheduler(database)
    runs = await scheduled_runs(client, deployment["id"])
    starts = [dt.datetime.fromisoformat(r["expected_start_time"]) for r in runs]
    assert len(runs) == 10
    assert all(s.minute == 0 and s.second == 0 for s in starts)
    assert len(set(starts)) == len(starts)
    assert all(r["auto_scheduled"] for r in runs)
    assert runs[0]["state"]["state_details"]["scheduled_time"] is not None
    assert runs[0]["next_scheduled_start_time"] == runs[0]["expected_start_time"]
    assert runs[0]["parameters"] == {"p": 1}
    assert runs[0]["created_by"]["type"] == "SCHEDULE"
    assert runs[0]["idempotency_key"].startswith(f"scheduled {deployment['id']} ")


async def test_scheduler_twice_adds_nothing(
    client: httpx.AsyncClient, database: Database
) -> None:
    flow_id = await create_flow(client)
    deployment = await create_deployment(
        client, flow_id, schedules=[{"schedule": CRON_HOURLY}]
    )
    now = dt.datetime.now(dt.UTC)
    first = await run_scheduler(database, now)
    second = await run_scheduler(database, now + dt.timedelta(seconds=5))
    assert first == 10
    assert second == 0
    assert len(await scheduled_runs(client, deployment["id"])) == 10


async def test_redeploy_same_schedule_keeps_one_run_per_time(
    client: httpx.AsyncClient, database: Database
) -> None:
    flow_id = await create_flow(client)
    body = {
        "name": "nightly",
        "flow_id": flow_id,
        "schedules": [{"schedule": CRON_HOURLY}],
    }
    first = await client.post("/deployments/", json=body)
    await run_scheduler(database)
    again = await client.post("/deployments/", json=body)
    await run_scheduler(database)
    runs = await scheduled_runs(client, first.json()["id"])
    starts = [r["expected_start_time"] for r in runs]
    assert again.status_code == 200
    assert len(starts) == 10
    assert len(set(starts)) == 10


async def test_schedule_edit_replaces_future_runs(
    client: httpx.AsyncClient, database: Database
) -> None:
    flow_id = await create_flow(client)
    deployment = await create_deployment(
        client, flow_id, schedules=[{"schedule": CRON_HOURLY}]
    )
    await run_scheduler(database)
    schedule_id = deployment["schedules"][0]["id"]
    response = await client.patch(
        f"/deployments/{deployment['id']}/schedules/{schedule_id}",
        json={"schedule": {"cron": "30 * * * *"}},
    )
    removed = await scheduled_runs(client, deployment["id"])
    await run_scheduler(database)
    runs = await scheduled_runs(client, deployment["id"])
    assert response.status_code == 204
    assert removed == []
    assert {
        dt.datetime.fromisoformat(r["expected_start_time"]).minute for r in runs
    } == {30}


async def test_inactive_schedule_gets_no_runs(
    client: httpx.AsyncClient, database: Database
) -> None:
    flow_id = await create_flow(client)
    deployment = await create_deployment(
        client, flow_id, schedules=[{"schedule": CRON_HOURLY}]
    )
    schedule_id = deployment["schedules"][0]["id"]
    await run_scheduler(database)
    await client.patch(
        f"/deployments/{deployment['id']}/schedules/{schedule_id}",
        json={"active": False},
    )
    await run_scheduler(database)
    after = (await client.get(f"/deployments/{deployment['id']}")).json()
    assert after["schedules"][0]["active"] is False
    assert await scheduled_runs(client, deployment["id"]) == []


async def test_pause_deletes_runs_and_resume_refills(
    client: httpx.AsyncClient, database: Database
) -> None:
    flow_id = await create_flow(client)
    deployment = await create_deployment(
        client, flow_id, schedules=[{"schedule": CRON_HOURLY}]
    )
    await run_scheduler(database)
    paused = await client.post(f"/deployments/{deployment['id']}/pause_deployment")
    after_pause = await scheduled_runs(client, deployment["id"])
    await run_scheduler(database)
    still_empty = await scheduled_runs(client, deployment["id"])
    resumed = await client.post(f"/deployments/{deployment['id']}/resume_deployment")
    await run_scheduler(database)
    assert paused.status_code == 200
    assert after_pause == []
    assert still_empty == []
    assert resumed.status_code == 200
    assert len(await scheduled_runs(client, deployment["id"])) == 10


async def test_pause_keeps_manual_runs(client: httpx.AsyncClient) -> None:
    flow_id = await create_flow(client)
    deployment = await create_deployment(
        client, flow_id, enforce_parameter_schema=False
    )
    await client.post(f"/deployments/{deployment['id']}/create_flow_run", json={})
    await client.post(f"/deployments/{deployment['id']}/pause_deployment")
    assert len(await scheduled_runs(client, deployment["id"])) == 1


async def test_update_with_empty_schedules_clears_runs(
    client: httpx.AsyncClient, database: Database
) -> None:
    flow_id = await create_flow(client)
    deployment = await create_deployment(
        client, flow_id, schedules=[{"schedule": CRON_HOURLY}]
    )
    await run_scheduler(database)
    response = await client.patch(
        f"/deployments/{deployment['id']}", json={"schedules": []}
    )
    await run_scheduler(database)
    after = (await client.get(f"/deployments/{deployment['id']}")).json()
    assert response.status_code == 204
    assert after["schedules"] == []
    assert await scheduled_runs(client, deployment["id"]) == []


async def test_schedule_crud(client: httpx.AsyncClient) -> None:
    flow_id = await create_flow(client)
    deployment = await create_deployment(client, flow_id)
    base = f"/deployments/{deployment['id']}/schedules"
    created = await client.post(
        base,
        json=[{"schedule": {"interval": 600, "anchor_date": "2024-01-01T00:00:00Z"}}],
    )
    schedule = created.json()[0]
    listed = await client.get(base)
    deleted = await client.delete(f"{base}/{schedule['id']}")
    missing = await client.delete(f"{base}/{schedule['id']}")
    assert created.status_code == 201
    assert schedule["schedule"] == {
        "interval": 600.0,
        "anchor_date": "2024-01-01T00:00:00Z",
        "timezone": "UTC",
    }
    assert [s["id"] for s in listed.json()] == [schedule["id"]]
    assert deleted.status_code == 204
    assert missing.status_code == 404


async def test_schedule_repeated_slug_returns_409(client: httpx.AsyncClient) -> None:
    flow_id = await create_flow(client)
    deployment = await create_deployment(
        client, flow_id, schedules=[{"schedule": CRON_HOURLY, "slug": "hourly"}]
    )
    response = await client.post(
        f"/deployments/{deployment['id']}/schedules",
        json=[{"schedule": CRON_HOURLY, "slug": "hourly"}],
    )
    assert response.status_code == 409


async def test_schedule_endpoint_defaults_to_three_runs(
    client: httpx.AsyncClient,
) -> None:
    flow_id = await create_flow(client)
    deployment = await create_deployment(
        client, flow_id, schedules=[{"schedule": CRON_HOURLY}]
    )
    await client.post(
        f"/deployments/{deployment['id']}/schedule",
        json={"start_time": "2024-01-01T00:00:00Z"},
    )
    assert len(await scheduled_runs(client, deployment["id"])) == 3


async def test_schedule_endpoint_backfills(client: httpx.AsyncClient) -> None:
    flow_id = await create_flow(client)
    deployment = await create_deployment(
        client, flow_id, schedules=[{"schedule": CRON_HOURLY}]
    )
    response = await client.post(
        f"/deployments/{deployment['id']}/schedule",
        json={
            "start_time": "2024-01-01T00:00:00Z",
            "end_time": "2024-01-01T05:00:00Z",
            "min_time": 5 * 3600,
            "max_runs": 100,
        },
    )
    runs = await scheduled_runs(client, deployment["id"])
    assert response.status_code == 200
    assert [r["expected_start_time"] for r in runs][:2] == [
        "2024-01-01T00:00:00Z",
        "2024-01-01T01:00:00Z",
    ]
    assert len(runs) == 6


async def test_get_scheduled_flow_runs_marks_ready(
    client: httpx.AsyncClient, database: Database
) -> None:
    flow_id = await create_flow(client)
    deployment = await create_deployment(
        client, flow_id, schedules=[{"schedule": CRON_HOURLY}]
    )
    await run_scheduler(database)
    soon = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=2, minutes=30)).isoformat()
    response = await client.post(
        "/deployments/get_scheduled_flow_runs",
        json={"deployment_ids": [deployment["id"]], "scheduled_before": soon},
    )
    after = (await client.get(f"/deployments/{deployment['id']}")).json()
    assert len(response.json()) in (2, 3)
    assert after["status"] == "READY"
    assert after["last_polled"] is not None


async def test_work_queue_check_returns_queue(client: httpx.AsyncClient) -> None:
    flow_id = await create_flow(client)
    await client.post("/work_pools/", json={"name": "pool", "type": "process"})
    deployment = await create_deployment(client, flow_id, work_pool_name="pool")
    response = await client.get(f"/deployments/{deployment['id']}/work_queue_check")
    assert [q["name"] for q in response.json()] == ["default"]


async def test_deployment_without_schema_accepts_runs(
    client: httpx.AsyncClient,
) -> None:
    flow = (await client.post("/flows/", json={"name": "schemaless"})).json()
    deployment = (
        await client.post(
            "/deployments/", json={"name": "plain", "flow_id": flow["id"]}
        )
    ).json()

    run = await client.post(
        f"/deployments/{deployment['id']}/create_flow_run", json={"parameters": {}}
    )

    assert deployment["parameter_openapi_schema"] == {
        "type": "object",
        "properties": {},
    }
    assert run.status_code == 201, run.text


async def test_create_flow_run_hydrates_ui_placeholders(
    client: httpx.AsyncClient,
) -> None:
    variable = await client.post("/variables/", json={"name": "region", "value": "eu"})
    assert variable.status_code == 201, variable.text
    deployment = await create_deployment(client, await create_flow(client))

    response = await client.post(
        f"/deployments/{deployment['id']}/create_flow_run",
        json={
            "parameters": {
                "config": {"__prefect_kind": "json", "value": '{"retries": 2}'},
                "region": {
                    "__prefect_kind": "workspace_variable",
                    "variable_name": "region",
                },
                "empty": {"__prefect_kind": "json"},
            }
        },
    )

    assert response.status_code == 201, response.text
    assert response.json()["parameters"] == {"config": {"retries": 2}, "region": "eu"}


async def test_create_flow_run_with_unknown_variable_is_400(
    client: httpx.AsyncClient,
) -> None:
    deployment = await create_deployment(client, await create_flow(client))
    placeholder = {"__prefect_kind": "workspace_variable", "variable_name": "nope"}

    response = await client.post(
        f"/deployments/{deployment['id']}/create_flow_run",
        json={"parameters": {"region": placeholder}},
    )

    assert response.status_code == 400
    assert "nope" in response.json()["detail"]
    runs = await client.post("/flow_runs/count", json={})
    assert runs.json() == 0


async def test_update_deployment_hydrates_parameters(client: httpx.AsyncClient) -> None:
    deployment = await create_deployment(client, await create_flow(client))

    response = await client.patch(
        f"/deployments/{deployment['id']}",
        json={"parameters": {"n": {"__prefect_kind": "json", "value": "3"}}},
    )

    assert response.status_code == 204, response.text
    stored = await client.get(f"/deployments/{deployment['id']}")
    assert stored.json()["parameters"] == {"n": 3}
