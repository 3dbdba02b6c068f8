"""`/flow_runs/filter` builds its bodies from raw rows (storage.run_documents).

Each test reads the same runs through the listing and through the `FlowRun`
model, and requires the same JSON, down to int-versus-float and the form of
every timestamp.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import httpx
import orjson
import pytest
import sqlalchemy as sa
from pydantic import TypeAdapter
from tests.api.test_flow_runs import create_flow, create_run, scheduled, set_state

from podium.schemas.flow_runs import FlowRun, FlowRunSort
from podium.storage import flow_runs as storage
from podium.storage.database import Database
from podium.storage.tables import flow_run_states, flow_runs

MODEL_LIST = TypeAdapter(list[FlowRun])


def typed(value: Any) -> Any:
    """Make 0 and 0.0 (and True and 1) compare unequal; ignore key order."""
    if isinstance(value, dict):
        return {key: typed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [typed(item) for item in value]
    return (type(value).__name__, value)


async def model_listing(database: Database) -> list[Any]:
    async with database.read() as connection:
        runs = await storage.read_flow_runs(
            connection, sa.true(), FlowRunSort.NAME_ASC, None, 0
        )
    return json.loads(MODEL_LIST.dump_json(runs))


async def raw_listing(client: httpx.AsyncClient) -> list[Any]:
    response = await client.post("/flow_runs/filter", json={"sort": "NAME_ASC"})
    assert response.status_code == 200, response.text
    return response.json()


def without_estimates(runs: list[Any]) -> list[Any]:
    # Both depend on the clock at the time of each read.
    return [
        {k: v for k, v in run.items() if not k.startswith("estimated_")} for run in runs
    ]


async def assert_same_listing(client: httpx.AsyncClient, database: Database) -> None:
    raw = await raw_listing(client)
    model = await model_listing(database)
    assert [list(run) for run in raw] == [list(FlowRun.model_fields)] * len(raw)
    for left, right in zip(
        typed(without_estimates(raw)), typed(without_estimates(model)), strict=True
    ):
        assert {k: v for k, v in left.items() if right.get(k) != v} == {}
    assert typed(without_estimates(raw)) == typed(without_estimates(model))
    for run in raw:
        assert isinstance(run["estimated_run_time"], float)
        assert isinstance(run["estimated_start_time_delta"], float)


async def test_listing_matches_model_for_varied_runs(
    client: httpx.AsyncClient, database: Database
) -> None:
    pool = await client.post("/work_pools/", json={"name": "listing-pool"})
    assert pool.status_code == 201, pool.text
    flow = await create_flow(client)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    await create_run(client, flow["id"], name="a-bare")
    await create_run(
        client,
        flow["id"],
        name="b-scheduled",
        state=scheduled(later.replace(microsecond=0)),
        tags=["x", "y"],
        labels={"team": "data", "tier": 2, "on": True},
        parameters={"nested": {"list": [1, 2.5, "é", None]}, "big": 10**15},
        work_pool_name="listing-pool",
        job_variables={"image": "python:3.11"},
    )
    running = await create_run(client, flow["id"], name="c-running")
    # A run created without a state starts PENDING.
    for state in ({"type": "RUNNING"},):
        response = await set_state(client, running["id"], state)
        assert response.status_code == 201, response.text
    done = await create_run(client, flow["id"], name="d-completed")
    for state in (
        {"type": "RUNNING"},
        {"type": "COMPLETED", "data": {"type": "unpersisted"}},
    ):
        assert (await set_state(client, done["id"], state)).status_code == 201
    await create_run(
        client,
        flow["id"],
        name="e-retrying",
        empirical_policy={"retries": 2, "retry_delay": 5},
        context={"k": "v"},
    )

    await assert_same_listing(client, database)


async def test_listing_completes_partial_stored_documents(
    client: httpx.AsyncClient, database: Database
) -> None:
    # As an older Podium might have written them: keys missing from the
    # nested documents, which the models fill with their defaults.
    flow = await create_flow(client)
    run = await create_run(client, flow["id"], name="old", state={"type": "SCHEDULED"})
    async with database.transaction() as connection:
        await connection.execute(
            sa.update(flow_runs)
            .where(flow_runs.c.id == uuid.UUID(run["id"]))
            .values(
                empirical_policy={"max_retries": 3},
                created_by={"type": "DEPLOYMENT"},
            )
        )
        await connection.execute(
            sa.update(flow_run_states)
            .where(flow_run_states.c.flow_run_id == uuid.UUID(run["id"]))
            .values(state_details={"cache_key": "k"})
        )

    await assert_same_listing(client, database)
    listed = (await raw_listing(client))[0]
    assert listed["empirical_policy"]["retries"] == 3
    assert listed["state"]["state_details"]["pause_reschedule"] is False


async def test_listing_serves_parameters_orjson_cannot_encode(
    client: httpx.AsyncClient, database: Database
) -> None:
    flow = await create_flow(client)
    await create_run(client, flow["id"], name="huge", parameters={"n": 2**70})

    listed = await raw_listing(client)

    assert listed[0]["parameters"] == {"n": 2**70}
    await assert_same_listing(client, database)


async def test_listing_turns_stored_nan_into_null(
    client: httpx.AsyncClient, database: Database
) -> None:
    if not database.is_sqlite:
        pytest.skip("PostgreSQL refuses NaN in JSON, so no such row can exist")
    flow = await create_flow(client)
    run = await create_run(client, flow["id"], name="nan")
    async with database.transaction() as connection:
        await connection.exec_driver_sql(
            "UPDATE flow_runs SET parameters = '{\"x\": NaN}' WHERE id = ?",
            (uuid.UUID(run["id"]).hex,),
        )

    response = await client.post("/flow_runs/filter", json={})

    assert response.status_code == 200
    assert orjson.loads(response.content)[0]["parameters"] == {"x": None}


async def test_paginate_serves_the_same_runs_as_filter(
    client: httpx.AsyncClient,
) -> None:
    flow = await create_flow(client)
    for index in range(5):
        await create_run(client, flow["id"], name=f"run-{index}", tags=["p"])

    page = await client.post(
        "/flow_runs/paginate", json={"sort": "NAME_ASC", "limit": 2, "page": 2}
    )
    listed = await client.post(
        "/flow_runs/filter", json={"sort": "NAME_ASC", "limit": 2, "offset": 2}
    )

    assert page.status_code == 200, page.text
    body = page.json()
    assert without_estimates(body["results"]) == without_estimates(listed.json())
    assert [run["name"] for run in body["results"]] == ["run-2", "run-3"]
    assert (body["count"], body["limit"], body["pages"], body["page"]) == (5, 2, 3, 2)
