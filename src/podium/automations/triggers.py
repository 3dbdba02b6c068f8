"""How event triggers judge events and counting windows. No IO happens here.

An event trigger counts matching events in a window ("bucket") per
`for_each` key. A Reactive trigger fires as soon as a bucket contains
`threshold` events; a Proactive one fires when a bucket ends with fewer.
With `after`, a bucket opens only when one of the `after` events arrives.
The rules follow the Prefect 3.9.1 server, so automations written for it
fire the same way here; `evaluate` documents the cases.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import fnmatch
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from podium.schemas.automations import (
    CompoundTrigger,
    EventTrigger,
    Posture,
    ResourceSpecification,
    SequenceTrigger,
)
from podium.schemas.events import RESOURCE_ROLE, ReceivedEvent

# A trigger's first bucket reaches this far before the event that opens it,
# so events that arrive slightly out of order still count.
PRECEDING_EVENT_LOOKBACK = dt.timedelta(minutes=15)


@dataclass
class Bucket:
    """One counting window of one trigger and `for_each` key."""

    key: tuple[str, ...]
    start: dt.datetime
    end: dt.datetime
    count: int
    last_event: ReceivedEvent | None = None


@dataclass
class Firing:
    """One firing of a trigger, with what caused it."""

    trigger_id: uuid.UUID
    triggered: dt.datetime
    triggering_labels: dict[str, str] = field(default_factory=dict)
    triggering_event: ReceivedEvent | None = None
    triggering_firings: list[Firing] = field(default_factory=list)
    id: uuid.UUID = field(default_factory=uuid.uuid4)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "trigger_id": str(self.trigger_id),
            "triggered": self.triggered.isoformat(),
            "triggering_labels": self.triggering_labels,
            "triggering_event": (
                self.triggering_event.model_dump(mode="json")
                if self.triggering_event
                else None
            ),
            "triggering_firings": [f.to_json() for f in self.triggering_firings],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Firing:
        event = data.get("triggering_event")
        return cls(
            id=uuid.UUID(data["id"]),
            trigger_id=uuid.UUID(data["trigger_id"]),
            triggered=dt.datetime.fromisoformat(data["triggered"]),
            triggering_labels=data.get("triggering_labels") or {},
            triggering_event=ReceivedEvent.model_validate(event) if event else None,
            triggering_firings=[
                cls.from_json(f) for f in data.get("triggering_firings") or []
            ],
        )


@dataclass
class Outcome:
    """The decision on one bucket: the bucket to keep, or None to delete it."""

    bucket: Bucket | None
    firings: list[Firing] = field(default_factory=list)


# Matching ---------------------------------------------------------------------


def label_matches(pattern: str, value: str | None) -> bool:
    """Match a label value against a glob; a leading `!` negates the pattern."""
    if value is None:
        return False
    if pattern.startswith("!"):
        return not fnmatch.fnmatchcase(value, pattern[1:])
    return fnmatch.fnmatchcase(value, pattern)


def resource_matches(spec: ResourceSpecification, resource: dict[str, str]) -> bool:
    """Return whether every label of `spec` has an accepted value on the resource."""
    for label, expected in spec.items():
        patterns = [expected] if isinstance(expected, str) else expected
        if not any(label_matches(p, resource.get(label)) for p in patterns):
            return False
    return True


def spec_includes(
    spec: ResourceSpecification, resources: Sequence[dict[str, str]]
) -> bool:
    """Return whether the spec is empty or one of its matching resources is present."""
    return not spec or any(resource_matches(spec, r) for r in resources)


def name_matches(pattern: str, name: str) -> bool:
    return fnmatch.fnmatchcase(name, pattern)


def expects(trigger: EventTrigger, name: str) -> bool:
    """Return whether the trigger counts events of this name (all, if `expect` is empty)."""
    return not trigger.expect or any(name_matches(p, name) for p in trigger.expect)


def starts_after(trigger: EventTrigger, name: str) -> bool:
    """Return whether an event of this name opens a bucket of an `after` trigger."""
    return any(name_matches(p, name) for p in trigger.after)


def covers(trigger: EventTrigger, event: ReceivedEvent) -> bool:
    """Return whether the event concerns the trigger at all."""
    if trigger.expect:
        names = [*trigger.expect, *trigger.after]
        if not any(name_matches(p, event.event) for p in names):
            return False
    if not spec_includes(trigger.match, [event.resource]):
        return False
    return all(
        spec_includes(spec, event.related) for spec in trigger.related_specifications
    )


def find_label(event: ReceivedEvent, label: str) -> str | None:
    """Read a label of the resource, or `related:<role>:<label>` of a related one."""
    directive, _, related_label = label.rpartition(":")
    kind, _, role = directive.partition(":")
    if kind == "related":
        for resource in event.related:
            if resource.get(RESOURCE_ROLE) == role:
                return resource.get(related_label)
    return event.resource.get(label)


def bucketing_key(trigger: EventTrigger, event: ReceivedEvent) -> tuple[str, ...]:
    return tuple(find_label(event, label) or "" for label in sorted(trigger.for_each))


def triggering_labels(trigger: EventTrigger, key: tuple[str, ...]) -> dict[str, str]:
    return dict(zip(sorted(trigger.for_each), key, strict=False))


def meets_threshold(trigger: EventTrigger, count: int) -> bool:
    if trigger.posture == Posture.Reactive:
        return count >= trigger.threshold
    return count < trigger.threshold


def fires_on_every_event(trigger: EventTrigger) -> bool:
    """Return whether each matching, expected event fires the trigger without a bucket."""
    return trigger.immediate and trigger.threshold <= 1 and not trigger.after


# Buckets -------------------------------------------------------------------------


def open_bucket(
    trigger: EventTrigger, bucket: Bucket | None, event: ReceivedEvent
) -> Bucket | None:
    """Return the bucket an event is judged against, opening one if the event may.

    An `after` event opens a bucket at its time; when the same event is also
    expected, the bucket starts at -1, so that the opening event does not
    count in its own window. Without `after`, the first expected event opens
    a bucket that reaches back `PRECEDING_EVENT_LOOKBACK`.
    """
    key = bucketing_key(trigger, event)
    if bucket is None and trigger.after and starts_after(trigger, event.event):
        count = -1 if expects(trigger, event.event) else 0
        bucket = Bucket(
            key, event.occurred, event.occurred + trigger.within, count, event
        )
    if bucket is None and not trigger.after and expects(trigger, event.event):
        start = event.occurred - PRECEDING_EVENT_LOOKBACK
        bucket = Bucket(key, start, event.occurred + trigger.within, 0, event)
    return bucket


def react(
    trigger: EventTrigger, bucket: Bucket | None, event: ReceivedEvent
) -> Outcome:
    """Judge one covered event against the stored bucket of its key (or None)."""
    bucket = open_bucket(trigger, bucket, event)
    if bucket is None or not expects(trigger, event.event):
        return Outcome(bucket)
    return evaluate(trigger, bucket, event.occurred, event)


def evaluate(
    trigger: EventTrigger,
    bucket: Bucket,
    now: dt.datetime,
    event: ReceivedEvent | None,
) -> Outcome:
    """Count `event` (if any) in the bucket as of `now`, and fire if due.

    - An event from before the bucket's start is ignored: it belongs to a
      window that already fired or ended.
    - An event inside the window (or any event, for a trigger without a
      window) is counted.
    - A Reactive trigger fires once the count reaches the threshold; a
      Proactive one fires only after the window ended with fewer events.
    - After firing, or once the window ended, the next window starts, unless
      the trigger waits for an `after` event, which deletes the bucket.
    """
    if now < bucket.start:
        return Outcome(bucket)

    pending = 1 if event is not None else 0
    previous_last_event = bucket.last_event
    if pending and (trigger.immediate or bucket.start <= now < bucket.end):
        bucket = dataclasses.replace(
            bucket, count=bucket.count + pending, last_event=event
        )
        pending = 0

    ready = trigger.posture == Posture.Reactive or bucket.end <= now
    met = meets_threshold(trigger, bucket.count)
    firings: list[Firing] = []
    kept: Bucket | None = bucket
    if ready and met:
        firings.append(
            Firing(
                trigger_id=trigger.id,
                triggered=dt.datetime.now(dt.UTC),
                triggering_labels=triggering_labels(trigger, bucket.key),
                triggering_event=event or bucket.last_event,
            )
        )
        kept = None
    elif now < bucket.end:
        if (
            event is not None
            and trigger.posture == Posture.Proactive
            and starts_after(trigger, event.event)
            and expects(trigger, event.event)
        ):
            # An event that both opens and satisfies a Proactive window (such
            # as a heartbeat) restarts the window from itself.
            last_event = event
            if (
                previous_last_event is not None
                and expects(trigger, previous_last_event.event)
                and not starts_after(trigger, previous_last_event.event)
                and previous_last_event.occurred >= event.occurred
            ):
                last_event = previous_last_event
            return Outcome(
                Bucket(
                    bucket.key,
                    event.occurred,
                    event.occurred + trigger.within,
                    0,
                    last_event,
                )
            )
        return Outcome(bucket)

    if trigger.after:
        return Outcome(None, firings)
    if trigger.within == dt.timedelta(0):
        return Outcome(kept, firings)

    start = max(bucket.end, now)
    following = Bucket(bucket.key, start, start + trigger.within, 0)
    if trigger.posture == Posture.Reactive and pending:
        # The event belongs to the next window, which it may fill at once.
        outcome = evaluate(trigger, following, now, event)
        return Outcome(outcome.bucket, firings + outcome.firings)
    following.count = pending
    return Outcome(following, firings)


# Compound and sequence triggers ---------------------------------------------------


def composite_ready(
    trigger: CompoundTrigger | SequenceTrigger, firings: Sequence[Firing]
) -> bool:
    """Return whether the stored child firings complete a compound or sequence trigger."""
    if isinstance(trigger, CompoundTrigger):
        return len(firings) >= trigger.expected_firings
    order = [f.trigger_id for f in sorted(firings, key=lambda f: f.triggered)]
    return order == [child.id for child in trigger.triggers]
