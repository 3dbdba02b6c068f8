"""Apply an `EventFilter` to one event in Python.

The live stream uses this to pick the events each subscriber asked for. It
returns the same results as the SQL in `podium.storage.event_filters`, except
that text search sees JSON documents as Python renders them.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence

from podium.schemas.events import (
    RESOURCE_ID,
    RESOURCE_ROLE,
    EventAnyResourceFilter,
    EventFilter,
    EventNameFilter,
    EventRelatedFilter,
    EventResourceFilter,
    EventTextFilter,
    ReceivedEvent,
    ResourceSpecification,
)
from podium.schemas.logs import parse_text_query


def event_matches(event_filter: EventFilter, event: ReceivedEvent) -> bool:
    """Return whether `event` meets every criterion of `event_filter`."""
    occurred = event_filter.occurred
    if not occurred.since <= event.occurred <= occurred.until:
        return False
    if event_filter.event is not None and not _name_matches(
        event_filter.event, event.event
    ):
        return False
    if event_filter.resource is not None and not _resource_matches(
        event_filter.resource, event.resource
    ):
        return False
    if not all(_related_matches(f, event) for f in event_filter.related_filters()):
        return False
    if not all(
        _any_resource_matches(f, event) for f in event_filter.any_resource_filters()
    ):
        return False
    if event_filter.id.id and event.id not in event_filter.id.id:
        return False
    return event_filter.text is None or _text_matches(event_filter.text, event)


def _name_matches(name_filter: EventNameFilter, name: str) -> bool:
    if name_filter.prefix and not any(name.startswith(p) for p in name_filter.prefix):
        return False
    if name_filter.exclude_prefix and any(
        name.startswith(p) for p in name_filter.exclude_prefix
    ):
        return False
    if name_filter.name and name not in name_filter.name:
        return False
    return not (name_filter.exclude_name and name in name_filter.exclude_name)


def _id_matches(
    ids: Sequence[str] | None, prefixes: Sequence[str] | None, value: str
) -> bool:
    if ids and value not in ids:
        return False
    return not (prefixes and not any(value.startswith(p) for p in prefixes))


def _resource_matches(
    resource_filter: EventResourceFilter, resource: dict[str, str]
) -> bool:
    if not _id_matches(
        resource_filter.id, resource_filter.id_prefix, resource[RESOURCE_ID]
    ):
        return False
    return not resource_filter.labels or labels_match(resource_filter.labels, resource)


def _related_matches(related_filter: EventRelatedFilter, event: ReceivedEvent) -> bool:
    has_criteria = any(
        (
            related_filter.id,
            related_filter.role,
            related_filter.resources_in_roles,
            related_filter.labels,
        )
    )
    if not has_criteria:
        return True
    candidates = list(event.related)
    if related_filter.role:
        # An explicit role may name the primary resource, whose role is "".
        candidates.append({**event.resource, RESOURCE_ROLE: ""})
    return any(_one_related_matches(related_filter, r) for r in candidates)


def _one_related_matches(
    related_filter: EventRelatedFilter, resource: dict[str, str]
) -> bool:
    resource_id = resource[RESOURCE_ID]
    role = resource.get(RESOURCE_ROLE, "")
    if related_filter.id and resource_id not in related_filter.id:
        return False
    if related_filter.role and role not in related_filter.role:
        return False
    if related_filter.resources_in_roles and (
        (resource_id, role)
        not in {tuple(pair) for pair in related_filter.resources_in_roles}
    ):
        return False
    return not related_filter.labels or labels_match(
        related_filter.labels, resource, exact_role=True
    )


def _any_resource_matches(
    any_filter: EventAnyResourceFilter, event: ReceivedEvent
) -> bool:
    if not (any_filter.id or any_filter.id_prefix or any_filter.labels):
        return True
    resources = [{**event.resource, RESOURCE_ROLE: ""}, *event.related]
    return any(
        _id_matches(any_filter.id, any_filter.id_prefix, resource[RESOURCE_ID])
        and (
            not any_filter.labels
            or labels_match(any_filter.labels, resource, exact_role=True)
        )
        for resource in resources
    )


def labels_match(
    labels: ResourceSpecification, resource: dict[str, str], exact_role: bool = False
) -> bool:
    """Return whether a resource has every label, each matching one accepted value.

    Values are case-sensitive globs, and a leading `!` negates one. With
    `exact_role`, `prefect.resource.role` is compared exactly, as SQL does.
    """
    for label, expected in labels.items():
        patterns = [expected] if isinstance(expected, str) else expected
        value = resource.get(label)
        if value is None or not patterns:
            return False
        if label == RESOURCE_ROLE and exact_role:
            if value not in patterns:
                return False
        elif not any(_glob_matches(pattern, value) for pattern in patterns):
            return False
    return True


def _glob_matches(pattern: str, value: str) -> bool:
    # Only `*` and `?` are wildcards, as in SQL, so `[` is matched literally.
    negated = pattern.startswith("!")
    matched = fnmatch.fnmatchcase(value, pattern.removeprefix("!").replace("[", "[[]"))
    return not matched if negated else matched


def _text_matches(text_filter: EventTextFilter, event: ReceivedEvent) -> bool:
    terms = parse_text_query(text_filter.query)
    parts = [event.event, str(event.resource), str(event.related), str(event.payload)]
    text = " ".join(parts).lower()
    if terms.include and not any(term.lower() in text for term in terms.include):
        return False
    if any(term.lower() not in text for term in terms.required):
        return False
    return not any(term.lower() in text for term in terms.exclude)
