"""API tests for global concurrency limits (v2), leases and tag limits (v1)."""

import datetime as dt
import uuid

import httpx
import pytest

from podium.storage.concurrency_slots import expire_leases
from podium.storage.database import Database


async def create_limit(client: httpx.AsyncClient, name: str, **fields: object) -> dict:
    response = await client.post(
        "/v2/concurrency_limits/", json={"name": name, "limit": 1, **fields}
    )
    assert response.status_code == 201, response.text
    return response.json()


async def take_lease(
    client: httpx.AsyncClient, name: str, **fields: object
) -> httpx.Response:
    body = {"names": [name], "slots": 1, "lease_duration": 60, **fields}
    return await client.post("/v2/concurrency_limits/increment-with-lease", json=body)


async def test_limit_crud_by_id_and_name(client: httpx.AsyncClient) -> None:
    created = await create_limit(client, "db", limit=3)

    by_id = await client.get(f"/v2/concurrency_limits/{created['id']}")
    patched = await client.patch("/v2/concurrency_limits/db", json={"limit": 5})
    by_name = await client.get("/v2/concurrency_limits/db")
    deleted = await client.delete(f"/v2/concurrency_limits/{created['id']}")
    missing = await client.get("/v2/concurrency_limits/db")

    assert by_id.json()["name"] == "db"
    assert by_id.json()["active_slots"] == 0
    assert patched.status_code == 204
    assert by_name.json()["limit"] == 5
    assert deleted.status_code == 204
    assert missing.status_code == 404


async def test_limit_duplicate_name_409(client: httpx.AsyncClient) -> None:
    await create_limit(client, "once")

    response = await client.post(
        "/v2/concurrency_limits/", json={"name": "once", "limit": 1}
    )

    assert response.status_code == 409


async def test_limit_negative_limit_422(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v2/concurrency_limits/", json={"name": "n", "limit": -1}
    )

    assert response.status_code == 422
    assert "body.limit" in response.json()["detail"]


async def test_filter_limits_sorted_by_name(client: httpx.AsyncClient) -> None:
    await create_limit(client, "b")
    await create_limit(client, "a")

    response = await client.post("/v2/concurrency_limits/filter", json={})

    assert [item["name"] for item in response.json()] == ["a", "b"]


async def test_lease_takes_slot_then_423(client: httpx.AsyncClient) -> None:
    await create_limit(client, "one")
    holder = {"type": "flow_run", "id": str(uuid.uuid4())}

    granted = await take_lease(client, "one", holder=holder)
    denied = await take_lease(client, "one")
    shown = (await client.get("/v2/concurrency_limits/one")).json()

    assert granted.status_code == 200
    assert granted.json()["limits"][0]["name"] == "one"
    assert denied.status_code == 423
    assert float(denied.headers["Retry-After"]) > 0
    assert shown["active_slots"] == 1
    assert shown["holders"][0]["holder"] == holder
    assert shown["holders"][0]["lease_id"] == granted.json()["lease_id"]


async def test_release_lease_frees_slot(client: httpx.AsyncClient) -> None:
    await create_limit(client, "free")
    lease_id = (await take_lease(client, "free")).json()["lease_id"]

    released = await client.post(
        "/v2/concurrency_limits/decrement-with-lease", json={"lease_id": lease_id}
    )
    again = await client.post(
        "/v2/concurrency_limits/decrement-with-lease", json={"lease_id": lease_id}
    )
    shown = (await client.get("/v2/concurrency_limits/free")).json()

    assert released.status_code == 204
    assert again.status_code == 204
    assert shown["active_slots"] == 0
    assert shown["holders"] == []


async def test_renew_lease_then_unknown_410(client: httpx.AsyncClient) -> None:
    await create_limit(client, "renew")
    lease_id = (await take_lease(client, "renew")).json()["lease_id"]

    renewed = await client.post(
        f"/v2/concurrency_limits/leases/{lease_id}/renew", json={"lease_duration": 120}
    )
    unknown = await client.post(
        f"/v2/concurrency_limits/leases/{uuid.uuid4()}/renew",
        json={"lease_duration": 120},
    )

    assert renewed.status_code == 204
    assert unknown.status_code == 410


async def test_lease_duration_too_short_422(client: httpx.AsyncClient) -> None:
    await create_limit(client, "short")

    response = await take_lease(client, "short", lease_duration=5)

    assert response.status_code == 422
    assert "lease_duration" in response.json()["detail"]


async def test_increment_unknown_names_granted(client: httpx.AsyncClient) -> None:
    response = await take_lease(client, "tag:nobody-limits-this")

    assert response.status_code == 200
    assert response.json()["limits"] == []


async def test_increment_more_than_limit_422(client: httpx.AsyncClient) -> None:
    await create_limit(client, "small", limit=1)

    response = await client.post(
        "/v2/concurrency_limits/increment", json={"names": ["small"], "slots": 2}
    )

    assert response.status_code == 422


async def test_inactive_limit_never_blocks(client: httpx.AsyncClient) -> None:
    await create_limit(client, "off", active=False)

    first = await take_lease(client, "off")
    second = await take_lease(client, "off")

    assert first.status_code == 200
    assert second.status_code == 200


async def test_increment_decrement_without_lease(client: httpx.AsyncClient) -> None:
    await create_limit(client, "plain", limit=2)
    body = {"names": ["plain"], "slots": 2}

    taken = await client.post("/v2/concurrency_limits/increment", json=body)
    full = await client.post(
        "/v2/concurrency_limits/increment", json={**body, "slots": 1}
    )
    given = await client.post(
        "/v2/concurrency_limits/decrement", json={**body, "occupancy_seconds": 4.0}
    )
    shown = (await client.get("/v2/concurrency_limits/plain")).json()

    assert taken.status_code == 200
    assert full.status_code == 423
    assert given.json()[0]["name"] == "plain"
    assert shown["active_slots"] == 0


async def test_rate_limit_needs_decay_422(client: httpx.AsyncClient) -> None:
    await create_limit(client, "nodecay")

    response = await client.post(
        "/v2/concurrency_limits/increment",
        json={"names": ["nodecay"], "slots": 1, "mode": "rate_limit"},
    )

    assert response.status_code == 422
    assert "slot_decay_per_second" in response.json()["detail"]


async def test_rate_limit_retry_after_from_decay(client: httpx.AsyncClient) -> None:
    await create_limit(client, "rate", limit=2, slot_decay_per_second=0.5)
    body = {"names": ["rate"], "slots": 1, "mode": "rate_limit"}

    first = await client.post("/v2/concurrency_limits/increment", json=body)
    second = await client.post("/v2/concurrency_limits/increment", json=body)
    third = await client.post("/v2/concurrency_limits/increment", json=body)

    assert first.status_code == 200
    assert second.status_code == 200
    assert third.status_code == 423
    # One slot decays in about 2 s at 0.5 slots per second.
    assert 1.0 < float(third.headers["Retry-After"]) <= 2.5 * 1.25


async def test_expired_lease_returns_slot(
    client: httpx.AsyncClient, database: Database
) -> None:
    await create_limit(client, "crash")
    await take_lease(client, "crash")
    later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=61)

    async with database.transaction() as connection:
        expired = await expire_leases(connection, later)
    shown = (await client.get("/v2/concurrency_limits/crash")).json()
    retaken = await take_lease(client, "crash")

    assert expired == 1
    assert shown["active_slots"] == 0
    assert shown["holders"] == []
    assert retaken.status_code == 200


async def test_delete_limit_releases_shared_lease(client: httpx.AsyncClient) -> None:
    await create_limit(client, "keep", limit=2)
    await create_limit(client, "drop", limit=2)
    await client.post(
        "/v2/concurrency_limits/increment-with-lease",
        json={"names": ["keep", "drop"], "slots": 1},
    )

    await client.delete("/v2/concurrency_limits/drop")
    kept = (await client.get("/v2/concurrency_limits/keep")).json()

    assert kept["active_slots"] == 0


async def test_tag_limit_upsert_and_read(client: httpx.AsyncClient) -> None:
    first = await client.post(
        "/concurrency_limits/", json={"tag": "db", "concurrency_limit": 1}
    )
    second = await client.post(
        "/concurrency_limits/", json={"tag": "db", "concurrency_limit": 4}
    )
    by_tag = await client.get("/concurrency_limits/tag/db")
    by_id = await client.get(f"/concurrency_limits/{first.json()['id']}")
    as_v2 = await client.get("/v2/concurrency_limits/tag:db")
    listed = await client.post("/concurrency_limits/filter", json={})

    assert first.status_code == 201
    assert second.status_code == 200
    assert by_tag.json()["concurrency_limit"] == 4
    assert by_id.json()["tag"] == "db"
    assert as_v2.json()["limit"] == 4
    assert [item["tag"] for item in listed.json()] == ["db"]


async def test_tag_limit_increment_decrement(client: httpx.AsyncClient) -> None:
    await client.post(
        "/concurrency_limits/", json={"tag": "io", "concurrency_limit": 1}
    )
    run_a, run_b = str(uuid.uuid4()), str(uuid.uuid4())

    taken = await client.post(
        "/concurrency_limits/increment", json={"names": ["io"], "task_run_id": run_a}
    )
    denied = await client.post(
        "/concurrency_limits/increment", json={"names": ["io"], "task_run_id": run_b}
    )
    held = (await client.get("/concurrency_limits/tag/io")).json()
    await client.post(
        "/concurrency_limits/decrement", json={"names": ["io"], "task_run_id": run_a}
    )
    after = (await client.get("/concurrency_limits/tag/io")).json()

    assert taken.json()[0]["name"] == "io"
    assert denied.status_code == 423
    assert "Retry-After" in denied.headers
    assert held["active_slots"] == [run_a]
    assert after["active_slots"] == []


async def test_tag_limit_zero_423_without_retry(client: httpx.AsyncClient) -> None:
    await client.post(
        "/concurrency_limits/", json={"tag": "never", "concurrency_limit": 0}
    )

    response = await client.post(
        "/concurrency_limits/increment",
        json={"names": ["never"], "task_run_id": str(uuid.uuid4())},
    )

    assert response.status_code == 423
    assert "Retry-After" not in response.headers


async def test_tag_limit_reset_with_override(client: httpx.AsyncClient) -> None:
    await client.post(
        "/concurrency_limits/", json={"tag": "rs", "concurrency_limit": 2}
    )
    await client.post(
        "/concurrency_limits/increment",
        json={"names": ["rs"], "task_run_id": str(uuid.uuid4())},
    )
    keeper = str(uuid.uuid4())

    reset = await client.post(
        "/concurrency_limits/tag/rs/reset", json={"slot_override": [keeper]}
    )
    shown = (await client.get("/concurrency_limits/tag/rs")).json()
    as_v2 = (await client.get("/v2/concurrency_limits/tag:rs")).json()

    assert reset.status_code == 200
    assert shown["active_slots"] == [keeper]
    assert as_v2["active_slots"] == 1


@pytest.mark.parametrize(
    "path", ["/concurrency_limits/tag/gone", f"/concurrency_limits/{uuid.uuid4()}"]
)
async def test_tag_limit_unknown_404(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)

    assert response.status_code == 404


async def test_tag_limit_delete_by_tag(client: httpx.AsyncClient) -> None:
    await client.post(
        "/concurrency_limits/", json={"tag": "del", "concurrency_limit": 1}
    )

    deleted = await client.delete("/concurrency_limits/tag/del")
    again = await client.delete("/concurrency_limits/tag/del")

    assert deleted.status_code == 200
    assert again.status_code == 404


async def test_global_limit_hidden_from_tag_api(client: httpx.AsyncClient) -> None:
    created = await create_limit(client, "plain-global")

    by_id = await client.get(f"/concurrency_limits/{created['id']}")
    listed = await client.post("/concurrency_limits/filter", json={})

    assert by_id.status_code == 404
    assert listed.json() == []
