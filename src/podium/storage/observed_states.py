"""Distinct state types and names in the stored flow and task run states."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.schemas.observed_states import ObservedState, ObservedStateSort
from podium.storage.tables import flow_run_states, task_run_states


async def read_observed_states(
    connection: AsyncConnection,
    prefix: str | None,
    sort: ObservedStateSort,
    limit: int,
) -> list[ObservedState]:
    """Return each (type, name) pair with its first and last state timestamp.

    `prefix` matches the start of the type or the name, ignoring case.
    """
    # Group each history first, so the union carries only distinct pairs.
    per_history = sa.union_all(
        *(
            sa.select(
                states.c.type.label("state_type"),
                states.c.name.label("state_name"),
                sa.func.min(states.c.timestamp).label("first_seen"),
                sa.func.max(states.c.timestamp).label("last_seen"),
            ).group_by(states.c.type, states.c.name)
            for states in (flow_run_states, task_run_states)
        )
    ).subquery()
    observed = (
        sa.select(
            per_history.c.state_type,
            per_history.c.state_name,
            sa.func.min(per_history.c.first_seen).label("first_seen"),
            sa.func.max(per_history.c.last_seen).label("last_seen"),
        )
        .group_by(per_history.c.state_type, per_history.c.state_name)
        .subquery()
    )

    query = sa.select(observed)
    prefix = (prefix or "").strip()
    if prefix:
        query = query.where(
            sa.or_(
                observed.c.state_type.istartswith(prefix, autoescape=True),
                observed.c.state_name.istartswith(prefix, autoescape=True),
            )
        )
    order = [observed.c.state_type.asc(), observed.c.state_name.asc()]
    if sort is ObservedStateSort.LAST_SEEN_DESC:
        order.insert(0, observed.c.last_seen.desc())
    rows = (await connection.execute(query.order_by(*order).limit(limit))).mappings()
    return [ObservedState.model_validate(row) for row in rows]
