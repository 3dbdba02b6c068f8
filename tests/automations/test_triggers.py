"""Pure tests of trigger matching and bucket rules."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from podium.automations.triggers import (
    Bucket,
    Firing,
    bucketing_key,
    composite_ready,
    covers,
    evaluate,
    fires_on_every_event,
    label_matches,
    react,
)
from podium.schemas.automations import (
    AutomationCreate,
    CompoundTrigger,
    EventTrigger,
    SequenceTrigger,
)
from podium.schemas.events import ReceivedEvent

T0 = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)


def make_event(
    name: str = "compat.go",
    resource_id: str = "compat.switch.1",
    related: list[dict[str, str]] | None = None,
    at: dt.datetime = T0,
    **labels: str,
) -> ReceivedEvent:
    return ReceivedEvent(
        occurred=at,
        event=name,
        resource={"prefect.resource.id": resource_id, **labels},
        related=related or [],
        id=uuid.uuid4(),
        received=at,
    )


def reactive(**fields: object) -> EventTrigger:
    return EventTrigger.model_validate({"posture": "Reactive", **fields})


def proactive(**fields: object) -> EventTrigger:
    return EventTrigger.model_validate({"posture": "Proactive", **fields})


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        ("prefect.flow-run.*", "prefect.flow-run.abc", True),
        ("prefect.flow-run.*", "prefect.task-run.abc", False),
        ("!prefect.flow-run.*", "prefect.task-run.abc", True),
        ("!prefect.flow-run.*", "prefect.flow-run.abc", False),
        ("exact", None, False),
    ],
)
def test_label_matches_globs_and_negation(
    pattern: str, value: str | None, expected: bool
) -> None:
    assert label_matches(pattern, value) is expected


def test_covers_expect_wildcard() -> None:
    trigger = reactive(expect=["prefect.flow-run.*"])

    assert covers(trigger, make_event("prefect.flow-run.Failed"))
    assert not covers(trigger, make_event("prefect.task-run.Failed"))


def test_covers_empty_expect_matches_any_event() -> None:
    assert covers(reactive(), make_event("anything.at.all"))


def test_covers_match_on_resource_labels() -> None:
    trigger = reactive(
        match={"prefect.resource.id": "compat.switch.*", "colour": ["red", "blue"]}
    )

    assert covers(trigger, make_event(colour="blue"))
    assert not covers(trigger, make_event(colour="green"))
    assert not covers(trigger, make_event(resource_id="other.1", colour="red"))


def test_covers_match_related_needs_one_related_resource() -> None:
    flow = {"prefect.resource.id": "prefect.flow.f1", "prefect.resource.role": "flow"}
    trigger = reactive(match_related={"prefect.resource.id": "prefect.flow.f1"})

    assert covers(trigger, make_event(related=[flow]))
    assert not covers(trigger, make_event())


def test_covers_match_related_list_needs_every_spec() -> None:
    flow = {"prefect.resource.id": "prefect.flow.f1", "prefect.resource.role": "flow"}
    tag = {"prefect.resource.id": "prefect.tag.x", "prefect.resource.role": "tag"}
    trigger = reactive(
        match_related=[
            {"prefect.resource.role": "flow"},
            {"prefect.resource.id": "prefect.tag.x"},
        ]
    )

    assert covers(trigger, make_event(related=[flow, tag]))
    assert not covers(trigger, make_event(related=[flow]))


def test_bucketing_key_reads_related_labels() -> None:
    flow = {"prefect.resource.id": "prefect.flow.f1", "prefect.resource.role": "flow"}
    trigger = reactive(
        for_each=["related:flow:prefect.resource.id", "prefect.resource.id"]
    )

    key = bucketing_key(trigger, make_event(related=[flow]))

    assert key == ("compat.switch.1", "prefect.flow.f1")


def test_immediate_trigger_fires_on_every_event() -> None:
    assert fires_on_every_event(reactive(expect=["x"]))
    assert not fires_on_every_event(reactive(expect=["x"], threshold=2))
    assert not fires_on_every_event(reactive(expect=["x"], within=10))


def test_reactive_threshold_fires_on_third_event_in_window() -> None:
    trigger = reactive(expect=["compat.go"], threshold=3, within=60)
    bucket = None
    fired = []
    for second in range(3):
        outcome = react(
            trigger, bucket, make_event(at=T0 + dt.timedelta(seconds=second))
        )
        bucket = outcome.bucket
        fired += outcome.firings

    assert len(fired) == 1
    assert bucket is not None
    assert bucket.count == 0


def test_reactive_threshold_not_met_keeps_count() -> None:
    trigger = reactive(expect=["compat.go"], threshold=3, within=60)

    outcome = react(trigger, None, make_event())

    assert outcome.firings == []
    assert outcome.bucket is not None
    assert outcome.bucket.count == 1


def test_reactive_event_after_window_starts_next_window() -> None:
    trigger = reactive(expect=["compat.go"], threshold=2, within=10)
    bucket = Bucket((), T0, T0 + dt.timedelta(seconds=10), 1)

    outcome = react(trigger, bucket, make_event(at=T0 + dt.timedelta(seconds=30)))

    assert outcome.firings == []
    assert outcome.bucket is not None
    assert outcome.bucket.start == T0 + dt.timedelta(seconds=30)
    assert outcome.bucket.count == 1


def test_after_event_opens_bucket_only_for_after() -> None:
    trigger = reactive(after=["compat.start"], expect=["compat.go"], within=60)

    before = react(trigger, None, make_event("compat.go"))
    opened = react(trigger, None, make_event("compat.start"))
    fired = react(
        trigger, opened.bucket, make_event("compat.go", at=T0 + dt.timedelta(seconds=1))
    )

    assert before.bucket is None
    assert opened.bucket is not None
    assert len(fired.firings) == 1
    assert fired.bucket is None


def test_proactive_fires_when_window_ends_short() -> None:
    trigger = proactive(expect=["compat.heartbeat"], within=30)
    bucket = Bucket((), T0, T0 + dt.timedelta(seconds=30), 0)

    early = evaluate(trigger, bucket, T0 + dt.timedelta(seconds=10), None)
    late = evaluate(trigger, bucket, T0 + dt.timedelta(seconds=31), None)

    assert early.firings == []
    assert len(late.firings) == 1
    assert late.bucket is not None
    assert late.bucket.start == T0 + dt.timedelta(seconds=31)


def test_proactive_does_not_fire_when_event_arrived() -> None:
    trigger = proactive(expect=["compat.heartbeat"], within=30)
    bucket = Bucket((), T0, T0 + dt.timedelta(seconds=30), 0)

    counted = react(
        trigger, bucket, make_event("compat.heartbeat", at=T0 + dt.timedelta(seconds=5))
    )
    assert counted.bucket is not None
    ended = evaluate(trigger, counted.bucket, T0 + dt.timedelta(seconds=31), None)

    assert ended.firings == []


def test_proactive_within_defaults_to_ten_seconds() -> None:
    assert proactive().within == dt.timedelta(seconds=10)


def test_proactive_within_below_ten_seconds_rejected() -> None:
    with pytest.raises(ValueError, match="at least 10 seconds"):
        proactive(within=5)


def test_compound_ready_counts_children() -> None:
    first, second = reactive(expect=["a"]), reactive(expect=["b"])
    trigger = CompoundTrigger(triggers=[first, second], within=60, require="all")
    one = Firing(first.id, T0)

    assert not composite_ready(trigger, [one])
    assert composite_ready(trigger, [one, Firing(second.id, T0)])


def test_sequence_ready_needs_order() -> None:
    first, second = reactive(expect=["a"]), reactive(expect=["b"])
    trigger = SequenceTrigger(triggers=[first, second], within=60)
    in_order = [Firing(first.id, T0), Firing(second.id, T0 + dt.timedelta(seconds=1))]
    reversed_ = [Firing(first.id, T0 + dt.timedelta(seconds=1)), Firing(second.id, T0)]

    assert composite_ready(trigger, in_order)
    assert not composite_ready(trigger, reversed_)


def test_compound_require_above_children_rejected() -> None:
    with pytest.raises(ValueError, match="require"):
        CompoundTrigger(triggers=[reactive()], within=None, require=2)


def test_inferred_run_deployment_on_flow_run_events_rejected() -> None:
    body = {
        "name": "loop",
        "trigger": {"posture": "Reactive", "expect": ["prefect.flow-run.Running"]},
        "actions": [{"type": "run-deployment", "source": "inferred"}],
    }

    with pytest.raises(ValueError, match="forever"):
        AutomationCreate.model_validate(body)
