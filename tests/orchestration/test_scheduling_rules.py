from __future__ import annotations

import datetime as dt

import pytest

from podium.orchestration import SetStateStatus, StateType
from podium.orchestration.scheduling_rules import (
    CopyScheduledTime,
    MarkOnlyScheduledRunsLate,
    PreventPendingTransitions,
    WaitForScheduledTime,
    round_delay_seconds,
)

from .factories import NOW, flow_run, iso, run_rule, scheduled, seconds, state


@pytest.mark.parametrize(
    "current_type",
    [
        StateType.PENDING,
        StateType.RUNNING,
        StateType.CANCELLING,
        StateType.CANCELLED,
    ],
)
def test_pending_aborts_from_submitted_or_stopped(current_type: StateType):
    draft = run_rule(
        PreventPendingTransitions,
        flow_run(),
        state(current_type),
        state(StateType.PENDING),
    )
    assert draft.status == SetStateStatus.ABORT
    assert draft.proposed_state is None
    assert current_type.value in (draft.reason or "")


def test_pending_rule_ignores_scheduled_runs():
    assert not PreventPendingTransitions.governs(StateType.SCHEDULED, StateType.PENDING)


def test_pending_sub_state_rename_is_allowed():
    current = state(
        StateType.PENDING,
        scheduled_time=iso(NOW),
        deployment_concurrency_lease_id="lease-1",
    )
    proposed = state(StateType.PENDING, "Submitting", scheduled_time=None)
    draft = run_rule(PreventPendingTransitions, flow_run(), current, proposed)
    assert draft.status == SetStateStatus.ACCEPT
    assert draft.proposed_state is not None
    details = draft.proposed_state.state_details
    assert details["scheduled_time"] == iso(NOW)
    assert details["deployment_concurrency_lease_id"] == "lease-1"


def test_pending_sub_state_back_to_plain_pending_aborts():
    draft = run_rule(
        PreventPendingTransitions,
        flow_run(),
        state(StateType.PENDING, "Submitting"),
        state(StateType.PENDING, "Pending"),
    )
    assert draft.status == SetStateStatus.ABORT


def test_pending_sub_state_same_name_aborts():
    draft = run_rule(
        PreventPendingTransitions,
        flow_run(),
        state(StateType.PENDING, "Submitting"),
        state(StateType.PENDING, "Submitting"),
    )
    assert draft.status == SetStateStatus.ABORT


def test_copy_scheduled_time_fills_pending():
    when = NOW + seconds(3600)
    draft = run_rule(
        CopyScheduledTime, flow_run(), scheduled(when), state(StateType.PENDING)
    )
    assert draft.proposed_state is not None
    assert draft.proposed_state.state_details["scheduled_time"] == iso(when)


def test_copy_scheduled_time_keeps_proposed_time():
    proposed = state(StateType.PENDING, scheduled_time=iso(NOW))
    draft = run_rule(
        CopyScheduledTime, flow_run(), scheduled(NOW + seconds(60)), proposed
    )
    assert draft.proposed_state is not None
    assert draft.proposed_state.state_details["scheduled_time"] == iso(NOW)


def test_wait_for_future_scheduled_time():
    draft = run_rule(
        WaitForScheduledTime,
        flow_run(),
        scheduled(NOW + seconds(3600)),
        state(StateType.RUNNING),
    )
    assert draft.status == SetStateStatus.WAIT
    assert draft.delay_seconds == 3600
    assert draft.proposed_state is None
    assert draft.reason


def test_wait_also_applies_to_pending_runs():
    current = state(StateType.PENDING, scheduled_time=iso(NOW + seconds(90)))
    draft = run_rule(
        WaitForScheduledTime, flow_run(), current, state(StateType.RUNNING)
    )
    assert draft.status == SetStateStatus.WAIT
    assert draft.delay_seconds == 90


@pytest.mark.parametrize("offset", [0, -10, 0.4])
def test_wait_skipped_when_time_reached(offset: float):
    draft = run_rule(
        WaitForScheduledTime,
        flow_run(),
        scheduled(NOW + seconds(offset)),
        state(StateType.RUNNING),
    )
    assert draft.status == SetStateStatus.ACCEPT
    assert draft.proposed_state is not None


def test_wait_skipped_without_scheduled_time():
    draft = run_rule(
        WaitForScheduledTime,
        flow_run(),
        state(StateType.PENDING),
        state(StateType.RUNNING),
    )
    assert draft.status == SetStateStatus.ACCEPT


def test_wait_does_not_govern_pending_proposals():
    assert not WaitForScheduledTime.governs(StateType.SCHEDULED, StateType.PENDING)


@pytest.mark.parametrize(
    ("delay", "expected"),
    [
        (dt.timedelta(seconds=3600), 3600),
        (dt.timedelta(seconds=1, microseconds=600_000), 2),
        (dt.timedelta(seconds=1, microseconds=400_000), 1),
        (dt.timedelta(seconds=1, microseconds=500_000), 1),
        (dt.timedelta(microseconds=600_000), 1),
        (dt.timedelta(microseconds=-300_000), 0),
        (dt.timedelta(seconds=-5), -5),
    ],
)
def test_round_delay_seconds(delay: dt.timedelta, expected: int):
    assert round_delay_seconds(delay) == expected


def test_late_rejected_for_running_run():
    draft = run_rule(
        MarkOnlyScheduledRunsLate,
        flow_run(),
        state(StateType.RUNNING),
        scheduled(NOW, "Late"),
    )
    assert draft.status == SetStateStatus.REJECT
    assert draft.proposed_state is None
    assert draft.reason


def test_late_rejected_for_late_run():
    draft = run_rule(
        MarkOnlyScheduledRunsLate,
        flow_run(),
        scheduled(NOW, "Late"),
        scheduled(NOW, "Late"),
    )
    assert draft.status == SetStateStatus.REJECT


def test_late_accepted_for_scheduled_run():
    draft = run_rule(
        MarkOnlyScheduledRunsLate, flow_run(), scheduled(NOW), scheduled(NOW, "Late")
    )
    assert draft.status == SetStateStatus.ACCEPT


def test_rescheduling_is_not_marking_late():
    draft = run_rule(
        MarkOnlyScheduledRunsLate,
        flow_run(),
        state(StateType.RUNNING),
        scheduled(NOW, "AwaitingRetry"),
    )
    assert draft.status == SetStateStatus.ACCEPT
