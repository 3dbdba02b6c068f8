"""All of Podium's tables, registered on one metadata for migrations."""

from podium.storage.tables.artifacts import artifact_collections, artifacts
from podium.storage.tables.automations import (
    automation_buckets,
    automation_related_resources,
    automations,
    composite_trigger_child_firings,
)
from podium.storage.tables.base import metadata
from podium.storage.tables.blocks import (
    block_document_references,
    block_documents,
    block_schemas,
    block_types,
)
from podium.storage.tables.concurrency import (
    concurrency_lease_limits,
    concurrency_leases,
    concurrency_limits,
)
from podium.storage.tables.configuration import configuration
from podium.storage.tables.deployments import deployment_schedules, deployments
from podium.storage.tables.events import event_resources, events
from podium.storage.tables.flow_run_input import flow_run_inputs
from podium.storage.tables.flows import flows
from podium.storage.tables.logs import logs
from podium.storage.tables.runs import (
    flow_run_states,
    flow_runs,
    task_run_states,
    task_runs,
)
from podium.storage.tables.saved_searches import saved_searches
from podium.storage.tables.variables import variables
from podium.storage.tables.work_pools import work_pools, work_queues, workers

__all__ = [
    "artifact_collections",
    "artifacts",
    "automation_buckets",
    "automation_related_resources",
    "automations",
    "composite_trigger_child_firings",
    "block_document_references",
    "block_documents",
    "block_schemas",
    "block_types",
    "concurrency_lease_limits",
    "concurrency_leases",
    "concurrency_limits",
    "configuration",
    "flow_run_inputs",
    "saved_searches",
    "variables",
    "deployment_schedules",
    "deployments",
    "event_resources",
    "events",
    "flow_run_states",
    "flow_runs",
    "flows",
    "logs",
    "metadata",
    "task_run_states",
    "task_runs",
    "work_pools",
    "work_queues",
    "workers",
]
