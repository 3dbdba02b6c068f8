"""WHERE clauses for each collection's filter model.

Query modules import these to filter their own collection and to filter by
related objects (for example flows that have a FAILED flow run).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from podium.schemas.deployments import DeploymentFilter, DeploymentOrFlowNameFilter
from podium.schemas.filtering import escape_like
from podium.schemas.flows import FlowFilter
from podium.schemas.logs import LogFilter, LogFilterTextSearch
from podium.storage.filtering import Clause, JsonArray, compile_filter
from podium.storage.tables import deployments, flows, logs


def flow_criteria(flt: FlowFilter | None) -> Clause:
    return compile_filter(
        flt,
        {
            "id": flows.c.id,
            "name": flows.c.name,
            "tags": JsonArray(flows.c.tags),
            # Deployments live in their own module; until then no flow has one.
            "deployment": lambda f: _flow_has_deployment(f),
        },
    )


def _flow_has_deployment(flt: object) -> Clause:
    import sqlalchemy as sa

    from podium.storage.tables import metadata

    deployments = metadata.tables.get("deployments")
    is_null = getattr(flt, "is_null_", None)
    if is_null is None:
        return sa.true()
    if deployments is None:
        return sa.true() if is_null else sa.false()
    has = flows.c.id.in_(sa.select(deployments.c.flow_id))
    return sa.not_(has) if is_null else has


def log_criteria(flt: LogFilter | None) -> Clause:
    return compile_filter(
        flt,
        {
            "level": logs.c.level,
            "timestamp": logs.c.timestamp,
            "flow_run_id": logs.c.flow_run_id,
            "task_run_id": logs.c.task_run_id,
            "text": _log_text_matches,
        },
    )


def _log_text_matches(search: LogFilterTextSearch) -> Clause:
    """Match the text search against the message and logger name, ignoring case."""
    import sqlalchemy as sa

    terms = search.terms()
    text = logs.c.message + " " + logs.c.name

    def contains(term: str) -> Clause:
        return text.ilike(f"%{escape_like(term)}%", escape="\\")

    clauses = [contains(term) for term in terms.required]
    clauses += [sa.not_(contains(term)) for term in terms.exclude]
    if terms.include:
        clauses.append(sa.or_(*(contains(term) for term in terms.include)))
    return sa.and_(sa.true(), *clauses)


def deployment_criteria(flt: DeploymentFilter | dict[str, Any] | None) -> Clause:
    """Compile a deployment filter; a plain dict body is validated first."""
    if isinstance(flt, dict):
        flt = DeploymentFilter.model_validate(flt)
    return compile_filter(
        flt,
        {
            "id": deployments.c.id,
            "name": deployments.c.name,
            "flow_or_deployment_name": _flow_or_deployment_name_matches,
            "paused": deployments.c.paused,
            "tags": JsonArray(deployments.c.tags),
            "work_queue_name": deployments.c.work_queue_name,
            "concurrency_limit": deployments.c.concurrency_limit,
        },
    )


def _flow_or_deployment_name_matches(flt: DeploymentOrFlowNameFilter) -> Clause:
    if flt.like_ is None:
        return sa.true()
    pattern = f"%{escape_like(flt.like_)}%"
    flow_names = sa.select(flows.c.id).where(flows.c.name.ilike(pattern, escape="\\"))
    return sa.or_(
        deployments.c.name.ilike(pattern, escape="\\"),
        deployments.c.flow_id.in_(flow_names),
    )
