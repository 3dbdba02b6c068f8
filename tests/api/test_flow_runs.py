"""API tests for `/flow_runs` and `/flow_run_states`."""

import datetime as dt
import uuid

import httpx
import pytest


def iso(value: dt.datetime) -> str:
    return value.isoformat()


def scheduled(at: dt.datetime) -> dict:
    return {"type": "SCHEDULED", "state_details": {"scheduled_time": iso(at)}}


async def create_flow(
    client: httpx.AsyncClient, name: str | None = None, **fields
) -> dict:
    body = {"name": name or f"flow-{uuid.uuid4().hex[:8]}", **fields}
    response = await client.post("/flows/", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def create_run(client: httpx.AsyncClient, flow_id: str, **fields) -> dict:
    response = await client.post("/flow_runs/", json={"flow_id": flow_id, **fields})
    assert response.status_code == 201, response.text
    return response.json()


async def set_state(
    client: httpx.AsyncClient, run_id: str, state: dict, force: bool = False
) -> httpx.Response:
    return await client.post(
        f"/flow_runs/{run_id}/set_state", json={"state": state, "force": force}
    )


async def filter_ids(client: httpx.AsyncClient, body: dict) -> list[str]:
    response = await client.post("/flow_runs/filter", json=body)
    assert response.status_code == 200, response.text
    return [run["id"] for run in response.json()]


@pytest.fixture
async def flow(client: httpx.AsyncClient) -> dict:
    return await create_flow(client, tags=["database"])


async def test_create_flow_run_defaults_to_pending(client, flow) -> None:
    run = await create_run(client, flow["id"])

    assert run["state_type"] == "PENDING"
    assert run["state"]["name"] == "Pending"
    assert run["state"]["state_details"]["flow_run_id"] == run["id"]
    assert run["state_id"] == run["state"]["id"]
    assert run["labels"] == {"prefect.flow.id": flow["id"]}


async def test_create_flow_run_generates_two_word_name(client, flow) -> None:
    run = await create_run(client, flow["id"])

    words = run["name"].split("-")
    assert len(words) >= 2
    assert run["name"] == run["name"].lower()


async def test_create_flow_run_response_has_contract_fields(client, flow) -> None:
    run = await create_run(client, flow["id"])

    for field in (
        "estimated_run_time",
        "estimated_start_time_delta",
        "work_pool_id",
        "work_pool_name",
        "job_variables",
        "created_by",
        "empirical_policy",
    ):
        assert field in run
    assert run["empirical_policy"]["pause_keys"] == []


async def test_create_flow_run_with_state_is_forced(client, flow) -> None:
    run = await create_run(client, flow["id"], state={"type": "FAILED"})

    assert run["state_type"] == "FAILED"
    assert run["state_name"] == "Failed"


def without_estimates(run: dict) -> dict:
    # Both depend on the clock at the moment of each read.
    return {k: v for k, v in run.items() if not k.startswith("estimated_")}


CREATE_BODIES = {
    "no state": {},
    "scheduled later": {
        "state": scheduled(dt.datetime(2031, 5, 4, 3, 2, 1, 123456, dt.UTC))
    },
    "scheduled with a UTC offset": {
        "state": {
            "type": "SCHEDULED",
            "state_details": {"scheduled_time": "2030-01-01T00:00:00+05:00"},
        }
    },
    "running, with a message and data": {
        "state": {"type": "RUNNING", "message": "hi", "data": {"k": [1, 2.5]}}
    },
    "fields of every kind": {
        "name": "named-run",
        "parameters": {"n": 1, "nested": {"x": None}},
        "tags": ["a", "b"],
        "labels": {"team": "data"},
        "context": {"c": True},
        "empirical_policy": {"retries": 2, "retry_delay": 5},
        "idempotency_key": "k-1",
        "job_variables": {"image": "x"},
    },
}


@pytest.mark.parametrize("body", CREATE_BODIES.values(), ids=CREATE_BODIES.keys())
async def test_create_response_matches_read(client, flow, body) -> None:
    # The create response is built from the row as written, not read back.
    created = await create_run(client, flow["id"], **body)
    read = await client.get(f"/flow_runs/{created['id']}")

    assert without_estimates(created) == without_estimates(read.json())


async def test_create_in_work_pool_matches_read(client, flow) -> None:
    pool = await client.post("/work_pools/", json={"name": "pool-a", "type": "process"})
    assert pool.status_code == 201, pool.text
    created = await create_run(client, flow["id"], work_pool_name="pool-a")
    read = await client.get(f"/flow_runs/{created['id']}")

    assert created["work_pool_name"] == "pool-a"
    assert created["work_queue_name"] == "default"
    assert without_estimates(created) == without_estimates(read.json())


async def test_create_subflow_run_matches_read(client, flow) -> None:
    parent = await create_run(client, flow["id"], state={"type": "RUNNING"})
    task = await client.post(
        "/task_runs/",
        json={"flow_run_id": parent["id"], "task_key": "sub", "dynamic_key": "0"},
    )
    assert task.status_code == 201, task.text
    created = await create_run(
        client,
        flow["id"],
        parent_task_run_id=task.json()["id"],
        state={"type": "RUNNING"},
    )
    read = await client.get(f"/flow_runs/{created['id']}")

    assert without_estimates(created) == without_estimates(read.json())
    task_run = await client.get(f"/task_runs/{task.json()['id']}")
    assert task_run.json()["state_type"] == "RUNNING"


async def test_create_flow_run_idempotency_key_returns_existing(client, flow) -> None:
    first = await create_run(client, flow["id"], idempotency_key="once")
    again = await client.post(
        "/flow_runs/", json={"flow_id": flow["id"], "idempotency_key": "once"}
    )

    assert again.status_code == 200
    assert again.json()["id"] == first["id"]


async def test_create_flow_run_unknown_flow_is_conflict(client) -> None:
    response = await client.post("/flow_runs/", json={"flow_id": str(uuid.uuid4())})

    assert response.status_code == 409


async def test_create_flow_run_invalid_flow_id_is_422(client) -> None:
    response = await client.post("/flow_runs/", json={"flow_id": "nope"})

    assert response.status_code == 422
    assert response.json()["exception_detail"][0]["loc"] == ["body", "flow_id"]


async def test_read_update_delete_flow_run(client, flow) -> None:
    run = await create_run(client, flow["id"], parameters={"a": 1}, tags=["x"])

    patched = await client.patch(f"/flow_runs/{run['id']}", json={"name": "renamed"})
    read = await client.get(f"/flow_runs/{run['id']}")
    deleted = await client.delete(f"/flow_runs/{run['id']}")
    gone = await client.get(f"/flow_runs/{run['id']}")

    assert patched.status_code == 204
    assert read.json()["name"] == "renamed"
    assert read.json()["parameters"] == {"a": 1}
    assert deleted.status_code == 204
    assert gone.status_code == 404


async def test_unknown_flow_run_is_404(client) -> None:
    missing = str(uuid.uuid4())

    assert (await client.get(f"/flow_runs/{missing}")).status_code == 404
    assert (await client.delete(f"/flow_runs/{missing}")).status_code == 404
    patched = await client.patch(f"/flow_runs/{missing}", json={"name": "x"})
    assert patched.status_code == 404
    state = await set_state(client, missing, {"type": "RUNNING"})
    assert state.status_code == 404


async def test_update_flow_run_labels_merges(client, flow) -> None:
    run = await create_run(client, flow["id"], labels={"a": "1"})

    response = await client.patch(f"/flow_runs/{run['id']}/labels", json={"b": 2})
    labels = (await client.get(f"/flow_runs/{run['id']}")).json()["labels"]

    assert response.status_code == 204
    assert labels == {"prefect.flow.id": flow["id"], "a": "1", "b": 2}


async def test_set_state_accept_is_201(client, flow) -> None:
    run = await create_run(client, flow["id"])

    response = await set_state(client, run["id"], {"type": "RUNNING"})
    stored = (await client.get(f"/flow_runs/{run['id']}")).json()

    assert response.status_code == 201
    assert response.json()["status"] == "ACCEPT"
    assert response.json()["details"] == {"type": "accept_details"}
    assert stored["state_type"] == "RUNNING"
    assert stored["state"]["id"] == response.json()["state"]["id"]


async def test_set_state_abort_is_200(client, flow) -> None:
    run = await create_run(client, flow["id"])

    response = await set_state(client, run["id"], {"type": "PENDING"})

    assert response.status_code == 200
    assert response.json()["status"] == "ABORT"
    assert response.json()["details"]["type"] == "abort_details"
    assert response.json()["details"]["reason"]


async def test_set_state_wait_reports_delay(client, flow) -> None:
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    run = await create_run(client, flow["id"], state=scheduled(later))
    await set_state(client, run["id"], {"type": "PENDING"})

    response = await set_state(client, run["id"], {"type": "RUNNING"})

    assert response.status_code == 200
    assert response.json()["status"] == "WAIT"
    assert 3000 < response.json()["details"]["delay_seconds"] <= 3600


async def test_set_state_invalid_type_is_422(client, flow) -> None:
    run = await create_run(client, flow["id"])

    response = await set_state(client, run["id"], {"type": "BOGUS"})

    assert response.status_code == 422
    assert response.json()["exception_detail"][0]["loc"] == ["body", "state", "type"]


async def test_set_state_force_writes_any_state(client, flow) -> None:
    run = await create_run(client, flow["id"])

    response = await set_state(
        client, run["id"], {"type": "PENDING", "name": "Forced"}, force=True
    )

    assert response.status_code == 201
    assert response.json()["state"]["name"] == "Forced"


async def test_flow_run_states_lists_history_in_order(client, flow) -> None:
    run = await create_run(client, flow["id"])
    await set_state(client, run["id"], {"type": "RUNNING"})
    await set_state(client, run["id"], {"type": "COMPLETED"})

    response = await client.get("/flow_run_states/", params={"flow_run_id": run["id"]})
    states = response.json()
    one = await client.get(f"/flow_run_states/{states[-1]['id']}")

    assert [s["type"] for s in states] == ["PENDING", "RUNNING", "COMPLETED"]
    assert one.json()["type"] == "COMPLETED"
    assert (await client.get(f"/flow_run_states/{uuid.uuid4()}")).status_code == 404


async def test_filter_by_id_any_and_not_any(client, flow) -> None:
    runs = [await create_run(client, flow["id"]) for _ in range(3)]
    ids = [run["id"] for run in runs]

    chosen = await filter_ids(client, {"flow_runs": {"id": {"any_": ids[:2]}}})
    others = await filter_ids(client, {"flow_runs": {"id": {"not_any_": ids[:2]}}})

    assert sorted(chosen) == sorted(ids[:2])
    assert others == [ids[2]]


async def test_filter_by_name_like_escapes_wildcards(client, flow) -> None:
    plain = await create_run(client, flow["id"], name="load_100%")
    await create_run(client, flow["id"], name="loadX100Y")

    found = await filter_ids(client, {"flow_runs": {"name": {"like_": "d_100%"}}})

    assert found == [plain["id"]]


async def test_filter_by_tags_all_and_any(client, flow) -> None:
    both = await create_run(client, flow["id"], tags=["a", "b"])
    only_a = await create_run(client, flow["id"], tags=["a"])
    await create_run(client, flow["id"], tags=[])

    all_ab = await filter_ids(client, {"flow_runs": {"tags": {"all_": ["a", "b"]}}})
    any_b = await filter_ids(client, {"flow_runs": {"tags": {"any_": ["b"]}}})
    tagged = await filter_ids(client, {"flow_runs": {"tags": {"is_null_": False}}})

    assert all_ab == [both["id"]]
    assert any_b == [both["id"]]
    assert sorted(tagged) == sorted([both["id"], only_a["id"]])


async def test_filter_by_state_type_and_name(client, flow) -> None:
    failed = await create_run(client, flow["id"], state={"type": "FAILED"})
    pending = await create_run(client, flow["id"])

    by_type = {"flow_runs": {"state": {"type": {"any_": ["FAILED"]}}}}
    not_failed = {"flow_runs": {"state": {"type": {"not_any_": ["FAILED"]}}}}
    by_name = {"flow_runs": {"state": {"name": {"any_": ["Pending"]}}}}
    either = {
        "flow_runs": {
            "state": {
                "operator": "or_",
                "type": {"any_": ["FAILED"]},
                "name": {"any_": ["Pending"]},
            }
        }
    }

    assert await filter_ids(client, by_type) == [failed["id"]]
    assert await filter_ids(client, not_failed) == [pending["id"]]
    assert await filter_ids(client, by_name) == [pending["id"]]
    assert sorted(await filter_ids(client, either)) == sorted(
        [failed["id"], pending["id"]]
    )


async def test_filter_operator_or_on_run_fields(client, flow) -> None:
    a = await create_run(client, flow["id"], name="alpha")
    b = await create_run(client, flow["id"], tags=["beta"])
    await create_run(client, flow["id"], name="gamma")

    body = {
        "flow_runs": {
            "operator": "or_",
            "name": {"any_": ["alpha"]},
            "tags": {"all_": ["beta"]},
        }
    }

    assert sorted(await filter_ids(client, body)) == sorted([a["id"], b["id"]])


async def test_filter_by_times_before_after_is_null(client, flow) -> None:
    base = dt.datetime(2031, 1, 1, tzinfo=dt.UTC)
    runs = [
        await create_run(
            client, flow["id"], state=scheduled(base + dt.timedelta(hours=h))
        )
        for h in (1, 2, 3)
    ]
    started = await create_run(client, flow["id"])
    await set_state(client, started["id"], {"type": "RUNNING"})
    scope = {"flows": {"id": {"any_": [flow["id"]]}}}

    window = {
        "expected_start_time": {
            "after_": iso(base + dt.timedelta(hours=1, minutes=30)),
            "before_": iso(base + dt.timedelta(hours=2, minutes=30)),
        }
    }
    next_before = {
        "next_scheduled_start_time": {"before_": iso(base + dt.timedelta(hours=1))}
    }
    not_started = {"start_time": {"is_null_": True}}
    ended = {"end_time": {"is_null_": False}}

    assert await filter_ids(client, {**scope, "flow_runs": window}) == [runs[1]["id"]]
    assert await filter_ids(client, {**scope, "flow_runs": next_before}) == [
        runs[0]["id"]
    ]
    assert len(await filter_ids(client, {**scope, "flow_runs": not_started})) == 3
    assert await filter_ids(client, {**scope, "flow_runs": ended}) == []


async def test_filter_by_parent_ids_and_versions(client, flow) -> None:
    parent = await create_run(client, flow["id"])
    task = await client.post(
        "/task_runs/",
        json={"flow_run_id": parent["id"], "task_key": "t", "dynamic_key": "0"},
    )
    child = await create_run(
        client, flow["id"], parent_task_run_id=task.json()["id"], flow_version="v2"
    )

    by_parent_flow = {"flow_runs": {"parent_flow_run_id": {"any_": [parent["id"]]}}}
    by_parent_task = {
        "flow_runs": {"parent_task_run_id": {"any_": [task.json()["id"]]}}
    }
    top_level = {"flow_runs": {"parent_task_run_id": {"is_null_": True}}}
    by_version = {"flow_runs": {"flow_version": {"any_": ["v2"]}}}

    assert await filter_ids(client, by_parent_flow) == [child["id"]]
    assert await filter_ids(client, by_parent_task) == [child["id"]]
    assert await filter_ids(client, top_level) == [parent["id"]]
    assert await filter_ids(client, by_version) == [child["id"]]


async def test_filter_by_idempotency_key_and_work_queue(client, flow) -> None:
    keyed = await create_run(client, flow["id"], idempotency_key="k1")
    queued = await create_run(client, flow["id"], work_queue_name="q1")

    by_key = {"flow_runs": {"idempotency_key": {"any_": ["k1"]}}}
    by_queue = {"flow_runs": {"work_queue_name": {"any_": ["q1"]}}}
    no_queue = {"flow_runs": {"work_queue_name": {"is_null_": True}}}

    assert await filter_ids(client, by_key) == [keyed["id"]]
    assert await filter_ids(client, by_queue) == [queued["id"]]
    assert await filter_ids(client, no_queue) == [keyed["id"]]


async def test_filter_by_deployment_id(client, flow) -> None:
    run = await create_run(client, flow["id"])
    scope = {"flows": {"id": {"any_": [flow["id"]]}}}

    none = {**scope, "flow_runs": {"deployment_id": {"is_null_": True}}}
    some = {**scope, "flow_runs": {"deployment_id": {"is_null_": False}}}

    assert await filter_ids(client, none) == [run["id"]]
    assert await filter_ids(client, some) == []


async def test_filter_flow_runs_by_task_runs(client, flow) -> None:
    with_task = await create_run(client, flow["id"])
    await create_run(client, flow["id"])
    await client.post(
        "/task_runs/",
        json={
            "flow_run_id": with_task["id"],
            "task_key": "t",
            "name": "extract",
            "dynamic_key": "0",
        },
    )

    body = {"task_runs": {"name": {"any_": ["extract"]}}}

    assert await filter_ids(client, body) == [with_task["id"]]


async def test_filter_unknown_operator_is_422(client) -> None:
    response = await client.post(
        "/flow_runs/filter", json={"flow_runs": {"name": {"bogus_": "x"}}}
    )

    assert response.status_code == 422


@pytest.mark.parametrize(
    "sort,expected",
    [
        ("NAME_ASC", ["a", "b", "c"]),
        ("NAME_DESC", ["c", "b", "a"]),
        ("EXPECTED_START_TIME_ASC", ["b", "c", "a"]),
        ("EXPECTED_START_TIME_DESC", ["a", "c", "b"]),
        ("NEXT_SCHEDULED_START_TIME_ASC", ["b", "c", "a"]),
        ("START_TIME_ASC", ["b", "c", "a"]),
        ("START_TIME_DESC", ["a", "c", "b"]),
    ],
)
async def test_flow_run_sorts(client, flow, sort, expected) -> None:
    base = dt.datetime(2032, 1, 1, tzinfo=dt.UTC)
    for name, hours in (("a", 3), ("b", 1), ("c", 2)):
        at = base + dt.timedelta(hours=hours)
        await create_run(client, flow["id"], name=name, state=scheduled(at))

    response = await client.post("/flow_runs/filter", json={"sort": sort})

    assert [run["name"] for run in response.json()] == expected


async def test_flow_run_sort_id_desc_and_end_time(client, flow) -> None:
    runs = [await create_run(client, flow["id"]) for _ in range(3)]
    await set_state(client, runs[1]["id"], {"type": "RUNNING"})
    await set_state(client, runs[1]["id"], {"type": "COMPLETED"})

    by_id = await client.post("/flow_runs/filter", json={"sort": "ID_DESC"})
    by_end = await client.post("/flow_runs/filter", json={"sort": "END_TIME_DESC"})

    ids = [run["id"] for run in by_id.json()]
    assert ids == sorted(ids, reverse=True)
    assert by_end.json()[0]["id"] == runs[1]["id"]


async def test_count_and_paginate(client, flow) -> None:
    for _ in range(5):
        await create_run(client, flow["id"])

    count = await client.post("/flow_runs/count", json={})
    page = await client.post("/flow_runs/paginate", json={"limit": 2, "page": 3})

    assert count.json() == 5
    assert page.json()["count"] == 5
    assert page.json()["pages"] == 3
    assert len(page.json()["results"]) == 1


async def test_limit_above_maximum_is_422(client) -> None:
    response = await client.post("/flow_runs/filter", json={"limit": 201})

    assert response.status_code == 422


async def test_history_buckets_by_expected_start(client, flow) -> None:
    start = dt.datetime(2033, 1, 1, tzinfo=dt.UTC)
    for minutes in (10, 20, 65):
        at = start + dt.timedelta(minutes=minutes)
        await create_run(client, flow["id"], state=scheduled(at))
    body = {
        "history_start": iso(start),
        "history_end": iso(start + dt.timedelta(hours=3)),
        "history_interval_seconds": 3600,
        "flows": {"id": {"any_": [flow["id"]]}},
    }

    response = await client.post("/flow_runs/history", json=body)
    history = response.json()

    assert [len(bucket["states"]) for bucket in history] == [1, 1, 0]
    assert history[0]["states"][0]["count_runs"] == 2
    assert history[0]["states"][0]["state_type"] == "SCHEDULED"
    assert history[0]["states"][0]["sum_estimated_run_time"] == 0.0
    assert history[2]["interval_end"].startswith("2033-01-01T03:00:00")


async def test_history_interval_below_one_second_is_422(client) -> None:
    body = {
        "history_start": "2033-01-01T00:00:00Z",
        "history_end": "2033-01-01T01:00:00Z",
        "history_interval_seconds": 0.5,
    }

    response = await client.post("/flow_runs/history", json=body)

    assert response.status_code == 422
    assert "1 second" in response.json()["detail"]


async def test_flows_filter_by_tag_and_failed_run(client) -> None:
    wanted = await create_flow(client, tags=["database"])
    completed = await create_flow(client, tags=["database"])
    untagged = await create_flow(client)
    await create_run(client, wanted["id"], state={"type": "FAILED"})
    await create_run(client, completed["id"], state={"type": "COMPLETED"})
    await create_run(client, untagged["id"], state={"type": "FAILED"})
    body = {
        "flows": {"tags": {"all_": ["database"]}},
        "flow_runs": {"state": {"type": {"any_": ["FAILED"]}}},
    }

    found = await client.post("/flows/filter", json=body)
    count = await client.post("/flows/count", json=body)

    assert [f["id"] for f in found.json()] == [wanted["id"]]
    assert count.json() == 1


async def test_flows_filter_accepts_deployment_and_pool_bodies(client, flow) -> None:
    body = {"deployments": {"id": {"any_": [str(uuid.uuid4())]}}, "work_pools": {}}

    response = await client.post("/flows/filter", json=body)

    assert response.status_code == 200
    assert response.json() == []


async def test_bulk_delete_and_bulk_set_state(client, flow) -> None:
    runs = [await create_run(client, flow["id"]) for _ in range(3)]
    ids = [run["id"] for run in runs]

    set_all = await client.post(
        "/flow_runs/bulk_set_state",
        json={"flow_runs": {"id": {"any_": ids[:2]}}, "state": {"type": "RUNNING"}},
    )
    deleted = await client.post(
        "/flow_runs/bulk_delete", json={"flow_runs": {"id": {"any_": ids[:2]}}}
    )

    assert [r["status"] for r in set_all.json()["results"]] == ["ACCEPT", "ACCEPT"]
    assert sorted(deleted.json()["deleted"]) == sorted(ids[:2])
    assert await filter_ids(client, {}) == [ids[2]]


async def test_resume_requires_paused_run(client, flow) -> None:
    run = await create_run(client, flow["id"])

    response = await client.post(f"/flow_runs/{run['id']}/resume", json={})

    assert response.status_code == 200
    assert response.json()["status"] == "ABORT"


async def test_resume_paused_run_runs_again(client, flow) -> None:
    run = await create_run(client, flow["id"])
    await set_state(client, run["id"], {"type": "RUNNING"})
    paused = await set_state(client, run["id"], {"type": "PAUSED"})

    response = await client.post(f"/flow_runs/{run['id']}/resume", json={})

    assert paused.json()["status"] == "ACCEPT"
    assert response.status_code == 201
    assert response.json()["state"]["type"] == "RUNNING"


async def test_graph_v2_lists_task_nodes_and_edges(client, flow) -> None:
    run = await create_run(client, flow["id"])
    await set_state(client, run["id"], {"type": "RUNNING"})
    upstream = await client.post(
        "/task_runs/",
        json={
            "flow_run_id": run["id"],
            "task_key": "a",
            "dynamic_key": "0",
            "name": "a",
        },
    )
    upstream_id = upstream.json()["id"]
    downstream = await client.post(
        "/task_runs/",
        json={
            "flow_run_id": run["id"],
            "task_key": "b",
            "dynamic_key": "0",
            "name": "b",
            "task_inputs": {"x": [{"input_type": "task_run", "id": upstream_id}]},
        },
    )

    graph = (await client.get(f"/flow_runs/{run['id']}/graph-v2")).json()
    nodes = dict((node_id, node) for node_id, node in graph["nodes"])

    assert graph["root_node_ids"] == [upstream_id]
    assert nodes[downstream.json()["id"]]["parents"] == [{"id": upstream_id}]
    assert nodes[upstream_id]["children"] == [{"id": downstream.json()["id"]}]
    assert [s["type"] for s in graph["states"]] == ["PENDING", "RUNNING"]


@pytest.mark.parametrize(
    "path", ["/flows/filter", "/flow_runs/filter", "/task_runs/filter"]
)
async def test_filter_accepts_null_sort_and_limit(client, flow, path) -> None:
    await create_run(client, flow["id"])
    body = {"sort": None, "limit": None, "offset": 0, "work_pool_queues": None}

    response = await client.post(path, json=body)

    assert response.status_code == 200, response.text


async def test_create_run_of_unknown_deployment_conflicts(
    client: httpx.AsyncClient,
) -> None:
    flow = await create_flow(client)
    missing = str(uuid.uuid4())

    response = await client.post(
        "/flow_runs/", json={"flow_id": flow["id"], "deployment_id": missing}
    )

    assert response.status_code == 409
    assert missing in response.json()["detail"]
    count = await client.post("/flow_runs/count", json={})
    assert count.json() == 0
