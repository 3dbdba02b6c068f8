"""Flow runs read straight into JSON-ready dicts, for listings.

`flow_runs/filter` returns up to 200 runs of about 40 fields each.
Turning every column into a Python value (timestamps, UUIDs, JSON), then
into a `FlowRun`, only to serialise it again took four times as long as the
query. Listings therefore read the columns as the driver returns them and
build the response dict directly:

- On SQLite, timestamps arrive as naive UTC text, UUIDs as 32 hex digits
  and JSON as text. Each is rewritten into its JSON form without parsing.
  User JSON (parameters, context, tags, labels, job variables, state data)
  is passed to orjson as an already-encoded fragment.
- On PostgreSQL, asyncpg already returns datetimes, UUIDs and decoded JSON.

The nested documents that have a model (state details, retry policy,
creator) are parsed and, when their keys differ from the model's, completed
by it, so a row written by an older Podium reads as it would through
`FlowRun`. The tests compare both paths on the same rows.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import orjson
import sqlalchemy as sa
from pydantic import BaseModel

from podium.schemas.flow_runs import CreatedBy, FlowRunPolicy
from podium.schemas.states import StateDetails
from podium.storage.run_fields import estimated_run_time, estimated_start_time_delta


def raw_columns(query: sa.Select[Any]) -> sa.Select[Any]:
    """Return `query` with its columns read as the driver returns them.

    Typing every column as `NullType` removes SQLAlchemy's result
    processing; the filters and bound parameters keep their types.
    """
    columns = [
        sa.type_coerce(column, sa.types.NullType()).label(str(column.name))
        for column in query.selected_columns
    ]
    return query.with_only_columns(*columns)


def flow_run_document(raw: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    """Build the dict `FlowRun.model_dump()` would give for a raw listing row.

    `raw` maps the labels of `select_flow_runs` to driver values. The keys
    follow the order of the `FlowRun` fields.
    """
    timing = {
        "total_run_time": raw["total_run_time"],
        "state_type": raw["state_type"],
        "state_timestamp": _datetime(raw["state_timestamp"]),
        "start_time": _datetime(raw["start_time"]),
        "expected_start_time": _datetime(raw["expected_start_time"]),
    }
    return {
        "id": _uuid(raw["id"]),
        "created": _timestamp(raw["created"]),
        "updated": _timestamp(raw["updated"]),
        "name": raw["name"],
        "flow_id": _uuid(raw["flow_id"]),
        "state_id": _uuid(raw["state_id"]),
        "deployment_id": _uuid(raw["deployment_id"]),
        "deployment_version": raw["deployment_version"],
        "work_queue_id": _uuid(raw["work_queue_id"]),
        "work_queue_name": raw["work_queue_name"],
        "flow_version": raw["flow_version"],
        "parameters": _json(raw["parameters"]),
        "idempotency_key": raw["idempotency_key"],
        "context": _json(raw["context"]),
        "empirical_policy": _modelled(raw["empirical_policy"], FlowRunPolicy),
        "tags": _json(raw["tags"]),
        "labels": _json(raw["labels"]),
        "parent_task_run_id": _uuid(raw["parent_task_run_id"]),
        "state_type": raw["state_type"],
        "state_name": raw["state_name"],
        "run_count": raw["run_count"],
        "expected_start_time": _timestamp(raw["expected_start_time"]),
        "next_scheduled_start_time": _timestamp(raw["next_scheduled_start_time"]),
        "start_time": _timestamp(raw["start_time"]),
        "end_time": _timestamp(raw["end_time"]),
        "total_run_time": float(raw["total_run_time"] or 0.0),
        "estimated_run_time": estimated_run_time(timing, now),
        "estimated_start_time_delta": estimated_start_time_delta(timing, now),
        "auto_scheduled": bool(raw["auto_scheduled"]),
        "infrastructure_document_id": _uuid(raw["infrastructure_document_id"]),
        "infrastructure_pid": raw["infrastructure_pid"],
        "created_by": _modelled(raw["created_by"], CreatedBy),
        "work_pool_id": _uuid(raw["work_pool_id"]),
        "work_pool_name": raw["work_pool_name"],
        "state": _state(raw),
        "job_variables": _json(raw["job_variables"]),
    }


def _state(raw: dict[str, Any]) -> dict[str, Any] | None:
    if raw["state__id"] is None:
        return None
    return {
        "id": _uuid(raw["state__id"]),
        "type": raw["state__type"],
        "name": raw["state__name"],
        "timestamp": _timestamp(raw["state__timestamp"]),
        "message": raw["state__message"],
        "data": _json(raw["state__data"]),
        "state_details": _modelled(raw["state__state_details"], StateDetails),
    }


def _timestamp(value: str | dt.datetime | None) -> str | dt.datetime | None:
    """Convert SQLite's "YYYY-MM-DD HH:MM:SS.ffffff" (naive UTC) to the API's form.

    The API leaves out a zero fraction, as pydantic does.
    """
    if type(value) is not str:
        return value
    if value.endswith(".000000"):
        value = value[:-7]
    return value.replace(" ", "T") + "Z"


def _datetime(value: str | dt.datetime | None) -> dt.datetime | None:
    if type(value) is not str:
        return value
    return dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC)


def _uuid(value: Any) -> str | None:
    if value is None:
        return None
    if type(value) is str:
        if len(value) == 32:
            # SQLite stores a UUID as 32 hex digits without dashes.
            return (
                f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"
            )
        return value
    return str(value)


def _json(value: Any) -> Any:
    """Pass stored JSON text through unparsed; other values are already decoded."""
    if type(value) is not str:
        return value
    if "NaN" in value or "Infinity" in value:
        # Rows written by the standard library may contain these, which are not
        # JSON. The decoded float becomes null when serialised, as in pydantic.
        return json.loads(value)
    return orjson.Fragment(value)


def _modelled(value: Any, model: type[BaseModel]) -> dict[str, Any] | None:
    """Decode a nested document and complete it with its model when needed."""
    if value is None:
        return None
    if type(value) is str:
        value = orjson.loads(value)
    if isinstance(value, dict) and value.keys() == _FIELD_NAMES[model]:
        return value
    return model.model_validate(value).model_dump(mode="json")


_FIELD_NAMES: dict[type[BaseModel], frozenset[str]] = {
    model: frozenset(model.model_fields)
    for model in (CreatedBy, FlowRunPolicy, StateDetails)
}
