"""API tests for `/collections/views`, served from data shipped with Podium."""

import httpx


async def test_worker_view_has_process_type(client: httpx.AsyncClient) -> None:
    response = await client.get("/collections/views/aggregate-worker-metadata")

    assert response.status_code == 200
    process = response.json()["prefect"]["process"]
    assert process["type"] == "process"
    assert process["display_name"] == "Process"


async def test_worker_view_process_job_template(client: httpx.AsyncClient) -> None:
    response = await client.get("/collections/views/aggregate-worker-metadata")

    template = response.json()["prefect"]["process"]["default_base_job_configuration"]
    configuration = template["job_configuration"]
    properties = template["variables"]["properties"]
    assert configuration["command"] == "{{ command }}"
    assert set(configuration) == set(properties)
    assert properties["stream_output"]["default"] is True


async def test_known_view_without_data_is_empty(client: httpx.AsyncClient) -> None:
    response = await client.get("/collections/views/aggregate-block-metadata")

    assert response.status_code == 200
    assert response.json() == {}


async def test_unknown_view_returns_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/collections/views/no-such-view")

    assert response.status_code == 404
    assert "no-such-view" in response.json()["detail"]
