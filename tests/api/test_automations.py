"""API tests for `/automations`, and automations firing on stored events."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx


def automation_body(name: str = "auto", **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": name,
        "trigger": {
            "type": "event",
            "expect": [f"test.never.{uuid.uuid4().hex}"],
            "posture": "Reactive",
            "threshold": 1,
            "within": 0.0,
        },
        "actions": [{"type": "do-nothing"}],
    }
    body.update(fields)
    return body


async def create_automation(client: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    response = await client.post("/automations/", json=automation_body(**fields))
    assert response.status_code == 201, response.text
    return response.json()


async def create_deployment(client: httpx.AsyncClient) -> dict[str, Any]:
    flow = (
        await client.post("/flows/", json={"name": f"f-{uuid.uuid4().hex[:8]}"})
    ).json()
    response = await client.post(
        "/deployments/",
        json={
            "name": f"d-{uuid.uuid4().hex[:8]}",
            "flow_id": flow["id"],
            "parameter_openapi_schema": {"type": "object", "properties": {}},
        },
    )
    assert response.status_code == 201, response.text
    return response.json()


async def emit(client: httpx.AsyncClient, name: str, resource_id: str) -> None:
    event = {
        "occurred": dt.datetime.now(dt.UTC).isoformat(),
        "event": name,
        "resource": {"prefect.resource.id": resource_id},
        "id": str(uuid.uuid4()),
    }
    response = await client.post("/events", json=[event])
    assert response.status_code == 204, response.text


async def poll(probe: Callable[[], Awaitable[Any]], seconds: float = 5.0) -> Any:
    """Call `probe` every 50 ms until it returns something truthy or time runs out."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        result = await probe()
        if result or asyncio.get_running_loop().time() > deadline:
            return result
        await asyncio.sleep(0.05)


async def test_create_automation_returns_body(client: httpx.AsyncClient) -> None:
    created = await create_automation(client, name="nightly")

    assert created["name"] == "nightly"
    assert created["enabled"] is True
    assert created["trigger"]["within"] == 0.0
    assert created["trigger"]["id"]
    assert created["actions"] == [{"type": "do-nothing"}]
    assert "owner_resource" not in created


async def test_create_automation_resets_trigger_id(client: httpx.AsyncClient) -> None:
    body = automation_body()
    client_trigger_id = str(uuid.uuid4())
    body["trigger"]["id"] = client_trigger_id

    created = (await client.post("/automations/", json=body)).json()

    assert created["trigger"]["id"] != client_trigger_id


async def test_create_automation_unknown_field_422(client: httpx.AsyncClient) -> None:
    response = await client.post("/automations/", json=automation_body(colour="red"))

    assert response.status_code == 422


async def test_create_automation_selected_without_id_422(
    client: httpx.AsyncClient,
) -> None:
    body = automation_body(actions=[{"type": "run-deployment", "source": "selected"}])

    response = await client.post("/automations/", json=body)

    assert response.status_code == 422
    assert "deployment_id" in response.text


async def test_read_automation_unknown_404(client: httpx.AsyncClient) -> None:
    response = await client.get(f"/automations/{uuid.uuid4()}")

    assert response.status_code == 404
    assert response.json() == {"detail": "Automation not found"}


async def test_update_automation_replaces_fields(client: httpx.AsyncClient) -> None:
    created = await create_automation(client, name="before")

    response = await client.put(
        f"/automations/{created['id']}", json=automation_body(name="after")
    )
    read = (await client.get(f"/automations/{created['id']}")).json()

    assert response.status_code == 204
    assert read["name"] == "after"


async def test_update_automation_unknown_404(client: httpx.AsyncClient) -> None:
    response = await client.put(f"/automations/{uuid.uuid4()}", json=automation_body())

    assert response.status_code == 404


async def test_patch_automation_toggles_enabled(client: httpx.AsyncClient) -> None:
    created = await create_automation(client)

    off = await client.patch(f"/automations/{created['id']}", json={"enabled": False})
    read = (await client.get(f"/automations/{created['id']}")).json()

    assert off.status_code == 204
    assert read["enabled"] is False


async def test_delete_automation_then_404(client: httpx.AsyncClient) -> None:
    created = await create_automation(client)

    first = await client.delete(f"/automations/{created['id']}")
    second = await client.delete(f"/automations/{created['id']}")

    assert first.status_code == 204
    assert second.status_code == 404


async def test_filter_automations_by_name_and_sort(client: httpx.AsyncClient) -> None:
    await create_automation(client, name="b-auto")
    await create_automation(client, name="a-auto")
    await create_automation(client, name="c-auto", tags=["x"])

    by_name = await client.post(
        "/automations/filter", json={"automations": {"name": {"any_": ["b-auto"]}}}
    )
    ordered = await client.post("/automations/filter", json={"sort": None})
    tagged = await client.post(
        "/automations/filter", json={"automations": {"tags": {"all_": ["x"]}}}
    )

    assert [a["name"] for a in by_name.json()] == ["b-auto"]
    assert [a["name"] for a in ordered.json()] == ["a-auto", "b-auto", "c-auto"]
    assert [a["name"] for a in tagged.json()] == ["c-auto"]


async def test_count_automations(client: httpx.AsyncClient) -> None:
    await create_automation(client, name="one")
    await create_automation(client, name="two")

    everything = await client.post("/automations/count")
    filtered = await client.post(
        "/automations/count", json={"automations": {"name": {"any_": ["two"]}}}
    )

    assert everything.json() == 2
    assert filtered.json() == 1


async def test_related_to_selected_deployment(client: httpx.AsyncClient) -> None:
    deployment = await create_deployment(client)
    action = {"type": "run-deployment", "deployment_id": deployment["id"]}
    created = await create_automation(client, actions=[action])

    response = await client.get(
        f"/automations/related-to/prefect.deployment.{deployment['id']}"
    )

    assert response.status_code == 200
    assert [a["id"] for a in response.json()] == [created["id"]]


async def test_delete_owned_by_removes_only_owned(client: httpx.AsyncClient) -> None:
    owner = f"prefect.deployment.{uuid.uuid4()}"
    owned = await create_automation(client, name="owned", owner_resource=owner)
    other = await create_automation(client, name="other")

    response = await client.delete(f"/automations/owned-by/{owner}")

    assert response.status_code == 202
    assert response.content == b"null"
    assert (await client.get(f"/automations/{owned['id']}")).status_code == 404
    assert (await client.get(f"/automations/{other['id']}")).status_code == 200


async def test_validate_template_well_formed_204(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/templates/validate", json="Hello {{ flow_run.name }}"
    )

    assert response.status_code == 204


async def test_validate_template_unclosed_422(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/automations/templates/validate", json="line one\n{{ flow_run.name"
    )

    assert response.status_code == 422
    assert response.json()["error"]["line"] == 2


async def test_event_fires_run_deployment(client: httpx.AsyncClient) -> None:
    deployment = await create_deployment(client)
    token = uuid.uuid4().hex
    automation = await create_automation(
        client,
        trigger={
            "type": "event",
            "expect": [f"test.go.{token}"],
            "match": {"prefect.resource.id": f"test.switch.{token}"},
            "posture": "Reactive",
            "threshold": 1,
            "within": 0,
        },
        actions=[
            {
                "type": "run-deployment",
                "deployment_id": deployment["id"],
                "parameters": {"x": 1},
                "job_variables": {"env": {"A": "1"}},
            }
        ],
    )

    await emit(client, f"test.go.{token}", f"test.switch.{token}")

    async def runs() -> list[dict[str, Any]]:
        body = {"deployments": {"id": {"any_": [deployment["id"]]}}}
        return (await client.post("/flow_runs/filter", json=body)).json()

    (run,) = await poll(runs)
    assert run["created_by"]["type"] == "AUTOMATION"
    assert run["created_by"]["id"] == automation["id"]
    assert run["parameters"] == {"x": 1}
    assert run["job_variables"] == {"env": {"A": "1"}}
    assert run["state_type"] == "SCHEDULED"


async def test_event_fires_change_flow_run_state(client: httpx.AsyncClient) -> None:
    flow = (await client.post("/flows/", json={"name": "auto-state"})).json()
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).isoformat()
    run = (
        await client.post(
            "/flow_runs/",
            json={
                "flow_id": flow["id"],
                "state": {
                    "type": "SCHEDULED",
                    "state_details": {"scheduled_time": later},
                },
            },
        )
    ).json()
    token = uuid.uuid4().hex
    await create_automation(
        client,
        trigger={
            "expect": [f"test.stop.{token}"],
            "match": {"prefect.resource.id": "prefect.flow-run.*"},
            "posture": "Reactive",
        },
        actions=[
            {"type": "change-flow-run-state", "state": "CANCELLED", "message": token}
        ],
    )

    await emit(client, f"test.stop.{token}", f"prefect.flow-run.{run['id']}")

    async def cancelled() -> dict[str, Any] | None:
        read = (await client.get(f"/flow_runs/{run['id']}")).json()
        return read if read["state_type"] == "CANCELLED" else None

    changed = await poll(cancelled)
    assert changed is not None
    assert changed["state"]["message"] == token


async def test_action_records_automation_events(client: httpx.AsyncClient) -> None:
    token = uuid.uuid4().hex
    automation = await create_automation(
        client,
        trigger={"expect": [f"test.ping.{token}"], "posture": "Reactive"},
        actions=[{"type": "do-nothing"}, {"type": "cancel-flow-run"}],
    )
    await emit(client, f"test.ping.{token}", "test.thing")
    expected = {
        "prefect.automation.triggered",
        "prefect.automation.action.triggered",
        "prefect.automation.action.executed",
        "prefect.automation.action.failed",
    }

    async def names() -> set[str] | None:
        flt = {"resource": {"id": [f"prefect.automation.{automation['id']}"]}}
        page = (await client.post("/events/filter", json={"filter": flt})).json()
        found = {event["event"] for event in page["events"]}
        return found if expected <= found else None

    assert await poll(names) == expected


async def test_disabled_automation_does_not_fire(client: httpx.AsyncClient) -> None:
    token = uuid.uuid4().hex
    automation = await create_automation(
        client,
        enabled=False,
        trigger={"expect": [f"test.ping.{token}"], "posture": "Reactive"},
    )
    await emit(client, f"test.ping.{token}", "test.thing")
    await asyncio.sleep(0.5)

    flt = {"resource": {"id": [f"prefect.automation.{automation['id']}"]}}
    page = (await client.post("/events/filter", json={"filter": flt})).json()

    assert page["events"] == []
