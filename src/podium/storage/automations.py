"""Queries for automations, the resources they relate to and their trigger state.

An automation is related to each deployment that one of its run-deployment
actions selects, and to the `owner_resource` it was created with (owned).
`DELETE /automations/owned-by/{resource}` removes the owned ones, which is
how `flow.deploy()` replaces a deployment's automations.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.errors import ObjectNotFound
from podium.schemas.automations import (
    Automation,
    AutomationCreate,
    AutomationFilter,
    AutomationPartialUpdate,
    AutomationSort,
    AutomationUpdate,
    RunDeployment,
    reset_trigger_ids,
)
from podium.storage import dialect
from podium.storage.filtering import Clause, JsonArray, compile_filter
from podium.storage.tables import (
    automation_buckets,
    automation_related_resources,
    automations,
    composite_trigger_child_firings,
)

NOT_FOUND = "Automation not found"

SORTS: dict[AutomationSort, list[Any]] = {
    AutomationSort.CREATED_DESC: [automations.c.created.desc(), automations.c.id],
    AutomationSort.UPDATED_DESC: [automations.c.updated.desc(), automations.c.id],
    AutomationSort.NAME_ASC: [automations.c.name.asc(), automations.c.id],
    AutomationSort.NAME_DESC: [automations.c.name.desc(), automations.c.id],
}

# Count of writes to the automations table made by this process. The engine
# compares it before each batch of events, so it reloads after a local edit
# without querying the database for every event.
_local_edits = 0


def local_edit_count() -> int:
    """Return how many times this process has written automations."""
    return _local_edits


def _count_local_edit() -> None:
    global _local_edits
    _local_edits += 1


_STORED_FIELDS = {
    "name",
    "description",
    "enabled",
    "tags",
    "trigger",
    "actions",
    "actions_on_trigger",
    "actions_on_resolve",
}


def automation_criteria(flt: AutomationFilter | None) -> Clause:
    return compile_filter(
        flt,
        {
            "id": automations.c.id,
            "name": automations.c.name,
            "created": automations.c.created,
            "tags": JsonArray(automations.c.tags),
        },
    )


def _to_automation(row: Any) -> Automation:
    return Automation.model_validate(dict(row._mapping))


def _values(automation: AutomationCreate | AutomationUpdate) -> dict[str, Any]:
    return automation.model_dump(mode="json", include=_STORED_FIELDS)


async def create_automation(
    connection: AsyncConnection, automation: AutomationCreate
) -> Automation:
    reset_trigger_ids(automation.trigger)
    _count_local_edit()
    statement = (
        sa.insert(automations).values(**_values(automation)).returning(*automations.c)
    )
    created = _to_automation((await connection.execute(statement)).one())
    await _relate_selected_deployments(connection, created)
    if automation.owner_resource:
        await relate_automation_to_resource(
            connection, created.id, automation.owner_resource, owned=True
        )
    return created


async def read_automation(
    connection: AsyncConnection, automation_id: UUID
) -> Automation:
    query = sa.select(automations).where(automations.c.id == automation_id)
    row = (await connection.execute(query)).first()
    if row is None:
        raise ObjectNotFound(NOT_FOUND)
    return _to_automation(row)


async def read_automations(
    connection: AsyncConnection,
    flt: AutomationFilter | None = None,
    sort: AutomationSort = AutomationSort.NAME_ASC,
    limit: int | None = None,
    offset: int = 0,
) -> list[Automation]:
    query = (
        sa.select(automations)
        .where(automation_criteria(flt))
        .order_by(*SORTS[sort])
        .limit(limit)
        .offset(offset)
    )
    return [_to_automation(row) for row in (await connection.execute(query)).all()]


async def count_automations(
    connection: AsyncConnection, flt: AutomationFilter | None = None
) -> int:
    query = (
        sa.select(sa.func.count())
        .select_from(automations)
        .where(automation_criteria(flt))
    )
    return int((await connection.execute(query)).scalar_one())


async def update_automation(
    connection: AsyncConnection, automation_id: UUID, update: AutomationUpdate
) -> None:
    reset_trigger_ids(update.trigger)
    _count_local_edit()
    result = await connection.execute(
        sa.update(automations)
        .where(automations.c.id == automation_id)
        .values(**_values(update))
    )
    if result.rowcount == 0:
        raise ObjectNotFound(NOT_FOUND)
    # The trigger ids changed, so the old counting windows no longer apply.
    await _delete_trigger_state(connection, automation_id)
    await _relate_selected_deployments(
        connection, await read_automation(connection, automation_id)
    )


async def set_automation_enabled(
    connection: AsyncConnection, automation_id: UUID, update: AutomationPartialUpdate
) -> None:
    current = await read_automation(connection, automation_id)
    # Enabling re-checks the rules that only apply to enabled automations.
    Automation.model_validate({**current.model_dump(), "enabled": update.enabled})
    _count_local_edit()
    await connection.execute(
        sa.update(automations)
        .where(automations.c.id == automation_id)
        .values(enabled=update.enabled)
    )


async def delete_automation(connection: AsyncConnection, automation_id: UUID) -> None:
    if not await delete_automations(connection, automations.c.id == automation_id):
        raise ObjectNotFound(NOT_FOUND)


async def delete_automations(connection: AsyncConnection, where: Clause) -> list[UUID]:
    """Delete matching automations with their trigger state and relations."""
    ids = list(
        (await connection.execute(sa.select(automations.c.id).where(where))).scalars()
    )
    if not ids:
        return []
    _count_local_edit()
    for table in (
        automation_buckets,
        composite_trigger_child_firings,
        automation_related_resources,
    ):
        await connection.execute(sa.delete(table).where(table.c.automation_id.in_(ids)))
    await connection.execute(sa.delete(automations).where(automations.c.id.in_(ids)))
    return ids


async def _delete_trigger_state(
    connection: AsyncConnection, automation_id: UUID
) -> None:
    for table in (automation_buckets, composite_trigger_child_firings):
        await connection.execute(
            sa.delete(table).where(table.c.automation_id == automation_id)
        )


# Related resources -----------------------------------------------------------


async def relate_automation_to_resource(
    connection: AsyncConnection, automation_id: UUID, resource_id: str, owned: bool
) -> None:
    """Relate an automation to a resource; ownership, once given, is kept."""
    statement = dialect.insert(connection, automation_related_resources).values(
        automation_id=automation_id, resource_id=resource_id, owned_by_resource=owned
    )
    table = automation_related_resources
    await connection.execute(
        statement.on_conflict_do_update(
            index_elements=[table.c.automation_id, table.c.resource_id],
            set_={
                "owned_by_resource": sa.or_(
                    table.c.owned_by_resource, sa.literal(owned)
                )
            },
        )
    )


async def _relate_selected_deployments(
    connection: AsyncConnection, automation: Automation
) -> None:
    table = automation_related_resources
    await connection.execute(
        sa.delete(table).where(
            table.c.automation_id == automation.id,
            table.c.resource_id.startswith("prefect.deployment.", autoescape=True),
            table.c.owned_by_resource.is_(False),
        )
    )
    deployment_ids = {
        action.deployment_id
        for action in automation.actions
        if isinstance(action, RunDeployment) and action.deployment_id is not None
    }
    for deployment_id in sorted(deployment_ids):
        await relate_automation_to_resource(
            connection,
            automation.id,
            f"prefect.deployment.{deployment_id}",
            owned=False,
        )


def _related_to(resource_id: str, owned_only: bool) -> Clause:
    table = automation_related_resources
    query = sa.select(table.c.automation_id).where(table.c.resource_id == resource_id)
    if owned_only:
        query = query.where(table.c.owned_by_resource.is_(True))
    return automations.c.id.in_(query)


async def read_automations_related_to_resource(
    connection: AsyncConnection, resource_id: str
) -> list[Automation]:
    query = (
        sa.select(automations)
        .where(_related_to(resource_id, owned_only=False))
        .order_by(*SORTS[AutomationSort.NAME_ASC])
    )
    return [_to_automation(row) for row in (await connection.execute(query)).all()]


async def delete_automations_owned_by_resource(
    connection: AsyncConnection, resource_id: str, created_before: dt.datetime
) -> list[UUID]:
    return await delete_automations(
        connection,
        sa.and_(
            _related_to(resource_id, owned_only=True),
            automations.c.created <= created_before,
        ),
    )


async def read_automation_snapshot(
    connection: AsyncConnection,
) -> tuple[dt.datetime | None, int]:
    """Return the latest update time and the count, which change on any edit."""
    query = sa.select(sa.func.max(automations.c.updated), sa.func.count()).select_from(
        automations
    )
    latest, count = (await connection.execute(query)).one()
    return latest, int(count)


# Buckets ---------------------------------------------------------------------


def encode_key(key: tuple[str, ...]) -> str:
    return json.dumps(list(key))


def decode_key(text: str) -> tuple[str, ...]:
    return tuple(json.loads(text))


async def read_bucket_rows(
    connection: AsyncConnection,
    automation_id: UUID,
    trigger_id: UUID,
    key: tuple[str, ...] | None = None,
) -> list[Any]:
    """Read a trigger's buckets (one key's when `key` is given), locked for update."""
    table = automation_buckets
    query = sa.select(table).where(
        table.c.automation_id == automation_id, table.c.trigger_id == trigger_id
    )
    if key is not None:
        query = query.where(table.c.bucketing_key == encode_key(key))
    query = query.order_by(table.c.start).with_for_update()
    return list((await connection.execute(query)).all())


async def write_bucket(
    connection: AsyncConnection,
    automation_id: UUID,
    trigger_id: UUID,
    key: tuple[str, ...],
    values: dict[str, Any] | None,
) -> None:
    """Store a bucket's `start`, `end`, `count` and `last_event`, or delete it (None)."""
    table = automation_buckets
    where = (
        table.c.automation_id == automation_id,
        table.c.trigger_id == trigger_id,
        table.c.bucketing_key == encode_key(key),
    )
    if values is None:
        await connection.execute(sa.delete(table).where(*where))
        return
    statement = dialect.insert(connection, table).values(
        automation_id=automation_id,
        trigger_id=trigger_id,
        bucketing_key=encode_key(key),
        **values,
    )
    await connection.execute(
        statement.on_conflict_do_update(
            index_elements=[
                table.c.automation_id,
                table.c.trigger_id,
                table.c.bucketing_key,
            ],
            set_={**values, "updated": dt.datetime.now(dt.UTC)},
        )
    )


async def delete_closed_buckets(
    connection: AsyncConnection, ended_before: dt.datetime
) -> int:
    result = await connection.execute(
        sa.delete(automation_buckets).where(automation_buckets.c.end <= ended_before)
    )
    return int(result.rowcount or 0)


# Child firings of compound and sequence triggers ------------------------------


async def store_child_firing(
    connection: AsyncConnection,
    automation_id: UUID,
    parent_trigger_id: UUID,
    child_trigger_id: UUID,
    firing_id: UUID,
    fired_at: dt.datetime,
    firing: dict[str, Any],
) -> None:
    """Keep the latest firing of a child trigger, replacing the one before it."""
    table = composite_trigger_child_firings
    values = {
        "child_firing_id": firing_id,
        "child_fired_at": fired_at,
        "child_firing": firing,
    }
    statement = dialect.insert(connection, table).values(
        automation_id=automation_id,
        parent_trigger_id=parent_trigger_id,
        child_trigger_id=child_trigger_id,
        **values,
    )
    await connection.execute(
        statement.on_conflict_do_update(
            index_elements=[
                table.c.automation_id,
                table.c.parent_trigger_id,
                table.c.child_trigger_id,
            ],
            set_={**values, "updated": dt.datetime.now(dt.UTC)},
        )
    )


async def read_child_firings(
    connection: AsyncConnection,
    automation_id: UUID,
    parent_trigger_id: UUID,
    fired_after: dt.datetime | None,
) -> list[dict[str, Any]]:
    """Read the stored child firings, dropping those older than `fired_after`."""
    table = composite_trigger_child_firings
    where = (
        table.c.automation_id == automation_id,
        table.c.parent_trigger_id == parent_trigger_id,
    )
    if fired_after is not None:
        await connection.execute(
            sa.delete(table).where(*where, table.c.child_fired_at < fired_after)
        )
    query = (
        sa.select(table.c.child_firing).where(*where).order_by(table.c.child_fired_at)
    )
    return list((await connection.execute(query.with_for_update())).scalars())


async def delete_child_firings(
    connection: AsyncConnection, automation_id: UUID, parent_trigger_id: UUID
) -> None:
    table = composite_trigger_child_firings
    await connection.execute(
        sa.delete(table).where(
            table.c.automation_id == automation_id,
            table.c.parent_trigger_id == parent_trigger_id,
        )
    )
