"""The API Podium describes in `openapi()` against the Prefect 3.9.1 contract."""

from __future__ import annotations

import pytest

from podium.api import create_app
from podium.settings import Settings

# Every (path, method) of the Prefect 3.9.1 REST API, with paths relative to
# `/api`, as listed in that server's OpenAPI document.
CONTRACT_OPERATIONS = [
    ("/admin/settings", "GET"),
    ("/admin/storage", "DELETE"),
    ("/admin/storage", "GET"),
    ("/admin/storage", "PUT"),
    ("/admin/version", "GET"),
    ("/artifacts/", "POST"),
    ("/artifacts/count", "POST"),
    ("/artifacts/filter", "POST"),
    ("/artifacts/latest/count", "POST"),
    ("/artifacts/latest/filter", "POST"),
    ("/artifacts/{id}", "DELETE"),
    ("/artifacts/{id}", "GET"),
    ("/artifacts/{id}", "PATCH"),
    ("/artifacts/{key}/latest", "GET"),
    ("/automations/", "POST"),
    ("/automations/count", "POST"),
    ("/automations/filter", "POST"),
    ("/automations/owned-by/{resource_id}", "DELETE"),
    ("/automations/related-to/{resource_id}", "GET"),
    ("/automations/templates/validate", "POST"),
    ("/automations/{id}", "DELETE"),
    ("/automations/{id}", "GET"),
    ("/automations/{id}", "PATCH"),
    ("/automations/{id}", "PUT"),
    ("/block_capabilities/", "GET"),
    ("/block_documents/", "POST"),
    ("/block_documents/count", "POST"),
    ("/block_documents/filter", "POST"),
    ("/block_documents/{id}", "DELETE"),
    ("/block_documents/{id}", "GET"),
    ("/block_documents/{id}", "PATCH"),
    ("/block_schemas/", "POST"),
    ("/block_schemas/checksum/{checksum}", "GET"),
    ("/block_schemas/filter", "POST"),
    ("/block_schemas/{id}", "DELETE"),
    ("/block_schemas/{id}", "GET"),
    ("/block_types/", "POST"),
    ("/block_types/filter", "POST"),
    ("/block_types/install_system_block_types", "POST"),
    ("/block_types/slug/{slug}", "GET"),
    ("/block_types/slug/{slug}/block_documents", "GET"),
    ("/block_types/slug/{slug}/block_documents/name/{block_document_name}", "GET"),
    ("/block_types/{id}", "DELETE"),
    ("/block_types/{id}", "GET"),
    ("/block_types/{id}", "PATCH"),
    ("/collections/views/{view}", "GET"),
    ("/concurrency_limits/", "POST"),
    ("/concurrency_limits/decrement", "POST"),
    ("/concurrency_limits/filter", "POST"),
    ("/concurrency_limits/increment", "POST"),
    ("/concurrency_limits/tag/{tag}", "DELETE"),
    ("/concurrency_limits/tag/{tag}", "GET"),
    ("/concurrency_limits/tag/{tag}/reset", "POST"),
    ("/concurrency_limits/{id}", "DELETE"),
    ("/concurrency_limits/{id}", "GET"),
    ("/csrf-token", "GET"),
    ("/deployments/", "POST"),
    ("/deployments/bulk_delete", "POST"),
    ("/deployments/count", "POST"),
    ("/deployments/filter", "POST"),
    ("/deployments/get_scheduled_flow_runs", "POST"),
    ("/deployments/name/{flow_name}/{deployment_name}", "GET"),
    ("/deployments/paginate", "POST"),
    ("/deployments/{id}", "DELETE"),
    ("/deployments/{id}", "GET"),
    ("/deployments/{id}", "PATCH"),
    ("/deployments/{id}/create_flow_run", "POST"),
    ("/deployments/{id}/create_flow_run/bulk", "POST"),
    ("/deployments/{id}/pause_deployment", "POST"),
    ("/deployments/{id}/resume_deployment", "POST"),
    ("/deployments/{id}/schedule", "POST"),
    ("/deployments/{id}/schedules", "GET"),
    ("/deployments/{id}/schedules", "POST"),
    ("/deployments/{id}/schedules/{schedule_id}", "DELETE"),
    ("/deployments/{id}/schedules/{schedule_id}", "PATCH"),
    ("/deployments/{id}/work_queue_check", "GET"),
    ("/events", "POST"),
    ("/events/count-by/{countable}", "POST"),
    ("/events/filter", "POST"),
    ("/events/filter/next", "GET"),
    ("/flow_run_states/", "GET"),
    ("/flow_run_states/{id}", "GET"),
    ("/flow_runs/", "POST"),
    ("/flow_runs/bulk_delete", "POST"),
    ("/flow_runs/bulk_set_state", "POST"),
    ("/flow_runs/count", "POST"),
    ("/flow_runs/filter", "POST"),
    ("/flow_runs/history", "POST"),
    ("/flow_runs/lateness", "POST"),
    ("/flow_runs/paginate", "POST"),
    ("/flow_runs/{id}", "DELETE"),
    ("/flow_runs/{id}", "GET"),
    ("/flow_runs/{id}", "PATCH"),
    ("/flow_runs/{id}/graph", "GET"),
    ("/flow_runs/{id}/graph-v2", "GET"),
    ("/flow_runs/{id}/input", "POST"),
    ("/flow_runs/{id}/input/filter", "POST"),
    ("/flow_runs/{id}/input/{key}", "DELETE"),
    ("/flow_runs/{id}/input/{key}", "GET"),
    ("/flow_runs/{id}/labels", "PATCH"),
    ("/flow_runs/{id}/logs/download", "GET"),
    ("/flow_runs/{id}/resume", "POST"),
    ("/flow_runs/{id}/set_state", "POST"),
    ("/flows/", "POST"),
    ("/flows/bulk_delete", "POST"),
    ("/flows/count", "POST"),
    ("/flows/filter", "POST"),
    ("/flows/name/{name}", "GET"),
    ("/flows/paginate", "POST"),
    ("/flows/{id}", "DELETE"),
    ("/flows/{id}", "GET"),
    ("/flows/{id}", "PATCH"),
    ("/health", "GET"),
    ("/hello", "GET"),
    ("/logs/", "POST"),
    ("/logs/filter", "POST"),
    ("/observed-states", "GET"),
    ("/ready", "GET"),
    ("/saved_searches/", "PUT"),
    ("/saved_searches/filter", "POST"),
    ("/saved_searches/{id}", "DELETE"),
    ("/saved_searches/{id}", "GET"),
    ("/task_run_states/", "GET"),
    ("/task_run_states/{id}", "GET"),
    ("/task_runs/", "POST"),
    ("/task_runs/count", "POST"),
    ("/task_runs/filter", "POST"),
    ("/task_runs/history", "POST"),
    ("/task_runs/paginate", "POST"),
    ("/task_runs/{id}", "DELETE"),
    ("/task_runs/{id}", "GET"),
    ("/task_runs/{id}", "PATCH"),
    ("/task_runs/{id}/set_state", "POST"),
    ("/task_workers/filter", "POST"),
    ("/templates/validate", "POST"),
    ("/ui/flow_runs/count-task-runs", "POST"),
    ("/ui/flow_runs/history", "POST"),
    ("/ui/flows/count-deployments", "POST"),
    ("/ui/flows/next-runs", "POST"),
    ("/ui/schemas/validate", "POST"),
    ("/ui/task_runs/count", "POST"),
    ("/ui/task_runs/dashboard/counts", "POST"),
    ("/ui/task_runs/{id}", "GET"),
    ("/v2/concurrency_limits/", "POST"),
    ("/v2/concurrency_limits/decrement", "POST"),
    ("/v2/concurrency_limits/decrement-with-lease", "POST"),
    ("/v2/concurrency_limits/filter", "POST"),
    ("/v2/concurrency_limits/increment", "POST"),
    ("/v2/concurrency_limits/increment-with-lease", "POST"),
    ("/v2/concurrency_limits/leases/{lease_id}/renew", "POST"),
    ("/v2/concurrency_limits/{id_or_name}", "DELETE"),
    ("/v2/concurrency_limits/{id_or_name}", "GET"),
    ("/v2/concurrency_limits/{id_or_name}", "PATCH"),
    ("/variables/", "POST"),
    ("/variables/count", "POST"),
    ("/variables/filter", "POST"),
    ("/variables/name/{name}", "DELETE"),
    ("/variables/name/{name}", "GET"),
    ("/variables/name/{name}", "PATCH"),
    ("/variables/{id}", "DELETE"),
    ("/variables/{id}", "GET"),
    ("/variables/{id}", "PATCH"),
    ("/version", "GET"),
    ("/work_pools/", "POST"),
    ("/work_pools/count", "POST"),
    ("/work_pools/filter", "POST"),
    ("/work_pools/{name}", "DELETE"),
    ("/work_pools/{name}", "GET"),
    ("/work_pools/{name}", "PATCH"),
    ("/work_pools/{name}/concurrency_status", "POST"),
    ("/work_pools/{name}/get_scheduled_flow_runs", "POST"),
    ("/work_pools/{work_pool_name}/queues", "POST"),
    ("/work_pools/{work_pool_name}/queues/filter", "POST"),
    ("/work_pools/{work_pool_name}/queues/{name}", "DELETE"),
    ("/work_pools/{work_pool_name}/queues/{name}", "GET"),
    ("/work_pools/{work_pool_name}/queues/{name}", "PATCH"),
    ("/work_pools/{work_pool_name}/workers/filter", "POST"),
    ("/work_pools/{work_pool_name}/workers/heartbeat", "POST"),
    ("/work_pools/{work_pool_name}/workers/{name}", "DELETE"),
    ("/work_queues/", "POST"),
    ("/work_queues/filter", "POST"),
    ("/work_queues/name/{name}", "GET"),
    ("/work_queues/{id}", "DELETE"),
    ("/work_queues/{id}", "GET"),
    ("/work_queues/{id}", "PATCH"),
    ("/work_queues/{id}/concurrency_status", "POST"),
    ("/work_queues/{id}/get_runs", "POST"),
    ("/work_queues/{id}/status", "GET"),
]

# Operations Podium serves beyond the contract, each with the reason. Empty
# while Podium serves exactly the contract's operations.
PODIUM_EXTRAS: dict[tuple[str, str], str] = {}

METHODS = ("GET", "PUT", "POST", "PATCH", "DELETE")


@pytest.fixture(scope="module")
def podium_operations() -> set[tuple[str, str]]:
    app = create_app(Settings(services_enabled=False), migrate_on_start=False)
    paths = app.openapi()["paths"]
    return {
        (path, method.upper())
        for path, item in paths.items()
        for method in item
        if method.upper() in METHODS
    }


def test_contract_list_has_no_duplicates() -> None:
    assert len(set(CONTRACT_OPERATIONS)) == len(CONTRACT_OPERATIONS)


@pytest.mark.parametrize(("path", "method"), CONTRACT_OPERATIONS)
def test_openapi_has_contract_operation(
    podium_operations: set[tuple[str, str]], path: str, method: str
) -> None:
    assert (path, method) in podium_operations


def test_openapi_has_no_unexplained_operation(
    podium_operations: set[tuple[str, str]],
) -> None:
    known = set(CONTRACT_OPERATIONS) | set(PODIUM_EXTRAS)

    assert sorted(podium_operations - known) == []


def test_extras_are_not_in_contract() -> None:
    assert set(PODIUM_EXTRAS).isdisjoint(CONTRACT_OPERATIONS)
