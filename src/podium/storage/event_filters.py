"""Compile an `EventFilter` into a WHERE clause on the `events` table.

Criteria on the primary resource's id use `events.resource_id`. Criteria on
labels, roles and related resources become `events.id IN (...)` subqueries
on `event_resources`, limited to the filter's time window so that they use
the `(resource_id, occurred)` and `occurred` indexes. An empty list in any
criterion means "no condition", as in the Prefect API.

`podium.events.filters` applies the same filter to one event in Python; the
two must agree.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.expression import ColumnElement

from podium.schemas.events import (
    RESOURCE_ID,
    RESOURCE_ROLE,
    EventAnyResourceFilter,
    EventFilter,
    EventNameFilter,
    EventRelatedFilter,
    EventResourceFilter,
    EventTextFilter,
    ResourceSpecification,
)
from podium.schemas.logs import parse_text_query
from podium.storage import dialect
from podium.storage.tables import event_resources, events

Clause = ColumnElement[bool]


def event_criteria(event_filter: EventFilter) -> Clause:
    """Return the WHERE clause on `events` for a whole filter."""
    window = (
        event_resources.c.occurred >= event_filter.occurred.since,
        event_resources.c.occurred <= event_filter.occurred.until,
    )
    clauses: list[Clause] = [
        events.c.occurred >= event_filter.occurred.since,
        events.c.occurred <= event_filter.occurred.until,
    ]
    if event_filter.event is not None:
        clauses.extend(_name_clauses(event_filter.event))
    if event_filter.resource is not None:
        clauses.extend(_resource_clauses(event_filter.resource, window))
    for related in event_filter.related_filters():
        clauses.extend(_related_clauses(related, window))
    for any_resource in event_filter.any_resource_filters():
        clauses.extend(_any_resource_clauses(any_resource, window))
    if event_filter.id.id:
        clauses.append(events.c.id.in_(event_filter.id.id))
    if event_filter.text is not None:
        clauses.extend(_text_clauses(event_filter.text))
    return sa.and_(*clauses)


def _name_clauses(name_filter: EventNameFilter) -> list[Clause]:
    clauses: list[Clause] = []
    if name_filter.prefix:
        clauses.append(
            sa.or_(
                *(dialect.starts_with(events.c.event, p) for p in name_filter.prefix)
            )
        )
    if name_filter.exclude_prefix:
        clauses.extend(
            sa.not_(dialect.starts_with(events.c.event, p))
            for p in name_filter.exclude_prefix
        )
    if name_filter.name:
        clauses.append(events.c.event.in_(name_filter.name))
    if name_filter.exclude_name:
        clauses.append(events.c.event.not_in(name_filter.exclude_name))
    return clauses


def _resource_clauses(
    resource_filter: EventResourceFilter, window: tuple[Clause, ...]
) -> list[Clause]:
    clauses: list[Clause] = []
    if resource_filter.id:
        clauses.append(events.c.resource_id.in_(resource_filter.id))
    if resource_filter.id_prefix:
        clauses.append(
            sa.or_(
                *(
                    dialect.starts_with(events.c.resource_id, p)
                    for p in resource_filter.id_prefix
                )
            )
        )
    if resource_filter.labels:
        label_clauses = _label_clauses(resource_filter.labels)
        clauses.append(
            _events_with(window, event_resources.c.resource_role == "", *label_clauses)
        )
    return clauses


def _related_clauses(
    related_filter: EventRelatedFilter, window: tuple[Clause, ...]
) -> list[Clause]:
    clauses: list[Clause] = []
    if related_filter.id:
        clauses.append(event_resources.c.resource_id.in_(related_filter.id))
    if related_filter.role:
        clauses.append(event_resources.c.resource_role.in_(related_filter.role))
    if related_filter.resources_in_roles:
        clauses.append(
            sa.or_(
                *(
                    sa.and_(
                        event_resources.c.resource_id == resource_id,
                        event_resources.c.resource_role == role,
                    )
                    for resource_id, role in related_filter.resources_in_roles
                )
            )
        )
    if related_filter.labels:
        clauses.extend(_label_clauses(related_filter.labels, with_role=True))
    if not clauses:
        return []
    if not related_filter.role:
        # Without an explicit role the criteria mean related resources only,
        # so the primary resource (role "") must not match them.
        clauses.append(event_resources.c.resource_role != "")
    return [_events_with(window, *clauses)]


def _any_resource_clauses(
    any_filter: EventAnyResourceFilter, window: tuple[Clause, ...]
) -> list[Clause]:
    clauses: list[Clause] = []
    if any_filter.id:
        clauses.append(event_resources.c.resource_id.in_(any_filter.id))
    if any_filter.id_prefix:
        clauses.append(
            sa.or_(
                *(
                    dialect.starts_with(event_resources.c.resource_id, p)
                    for p in any_filter.id_prefix
                )
            )
        )
    if any_filter.labels:
        clauses.extend(_label_clauses(any_filter.labels, with_role=True))
    if not clauses:
        return []
    return [_events_with(window, *clauses)]


def _events_with(window: tuple[Clause, ...], *clauses: Clause) -> Clause:
    """Match events that have one resource row meeting every clause."""
    return events.c.id.in_(
        sa.select(event_resources.c.event_id).where(*window, *clauses)
    )


def _label_clauses(
    labels: ResourceSpecification, with_role: bool = False
) -> list[Clause]:
    clauses: list[Clause] = []
    for label, expected in labels.items():
        patterns = [expected] if isinstance(expected, str) else expected
        if not patterns:
            # An empty list of accepted values matches nothing.
            clauses.append(sa.false())
            continue
        column: ColumnElement[Any]
        if label == RESOURCE_ID:
            column = event_resources.c.resource_id
        elif label == RESOURCE_ROLE and with_role:
            clauses.append(event_resources.c.resource_role.in_(patterns))
            continue
        else:
            column = event_resources.c.resource[label].as_string()
        clauses.append(sa.or_(*(_glob_clause(column, pattern) for pattern in patterns)))
    return clauses


def _glob_clause(column: ColumnElement[Any], pattern: str) -> Clause:
    negated = pattern.startswith("!")
    match = dialect.glob_match(column, pattern.removeprefix("!"))
    # A missing label never matches, whether or not the pattern is negated.
    return sa.and_(column.is_not(None), sa.not_(match)) if negated else match


def _text_clauses(text_filter: EventTextFilter) -> list[Clause]:
    terms = parse_text_query(text_filter.query)
    searchable = sa.func.lower(
        events.c.event
        + " "
        + sa.cast(events.c.resource, sa.Text)
        + " "
        + sa.cast(events.c.related, sa.Text)
        + " "
        + sa.cast(events.c.payload, sa.Text)
    )

    def contains(term: str) -> Clause:
        return searchable.contains(term.lower(), autoescape=True)

    clauses: list[Clause] = []
    if terms.include:
        clauses.append(sa.or_(*(contains(term) for term in terms.include)))
    clauses.extend(contains(term) for term in terms.required)
    clauses.extend(sa.not_(contains(term)) for term in terms.exclude)
    return clauses
