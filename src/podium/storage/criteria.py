"""WHERE clauses for each collection's filter model.

Query modules import these to filter their own collection and to filter by
related objects (for example flows that have a FAILED flow run).
"""

from __future__ import annotations

from podium.schemas.flows import FlowFilter
from podium.storage.filtering import Clause, JsonArray, compile_filter
from podium.storage.tables import flows


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
