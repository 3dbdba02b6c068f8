"""All of Podium's tables, registered on one metadata for migrations."""

from podium.storage.tables.base import metadata
from podium.storage.tables.flows import flows
from podium.storage.tables.logs import logs
from podium.storage.tables.runs import flow_run_states, flow_runs, task_run_states, task_runs

__all__ = [
    "flow_run_states",
    "flow_runs",
    "flows",
    "logs",
    "metadata",
    "task_run_states",
    "task_runs",
]
