from __future__ import annotations

import datetime as dt

from podium.orchestration import StateType
from podium.orchestration.bookkeeping import (
    ClearResumingFlag,
    IncrementFlowRunCount,
    IncrementRunTime,
    IncrementTaskRunCount,
    LinkStateToRun,
    SeparateStateTimestamps,
    SetEndTime,
    SetExpectedStartTime,
    SetNextScheduledStartTime,
    SetStartTime,
    record_transition,
)
from podium.orchestration.rules import BookkeepingTransform, TransitionDraft

from .factories import (
    FLOW_RUN_ID,
    NOW,
    TASK_RUN_ID,
    flow_run,
    scheduled,
    seconds,
    state,
    task_run,
)

EARLIER = NOW - seconds(30)


def apply(transform_type, run, initial, proposed) -> TransitionDraft:
    draft = TransitionDraft(
        run=run, initial_state=initial, proposed_state=proposed, now=NOW
    )
    transform: BookkeepingTransform = transform_type()
    transform.apply(draft, proposed)
    return draft


def test_start_time_set_on_first_running():
    draft = apply(SetStartTime, flow_run(), None, state(StateType.RUNNING, at=NOW))
    assert draft.run.start_time == NOW


def test_start_time_kept_on_later_running():
    draft = apply(
        SetStartTime,
        flow_run(start_time=EARLIER),
        scheduled(NOW, "AwaitingRetry"),
        state(StateType.RUNNING),
    )
    assert draft.run.start_time == EARLIER


def test_end_time_set_on_terminal():
    draft = apply(
        SetEndTime,
        flow_run(start_time=EARLIER),
        state(StateType.RUNNING, at=EARLIER),
        state(StateType.COMPLETED, at=NOW),
    )
    assert draft.run.end_time == NOW
    assert draft.run.start_time == EARLIER


def test_end_time_sets_missing_start_time():
    draft = apply(
        SetEndTime, flow_run(), scheduled(NOW), state(StateType.CANCELLED, at=NOW)
    )
    assert draft.run.start_time == NOW
    assert draft.run.end_time == NOW


def test_end_time_cleared_when_leaving_terminal():
    draft = apply(
        SetEndTime,
        flow_run(start_time=EARLIER, end_time=EARLIER),
        state(StateType.FAILED, at=EARLIER),
        state(StateType.RUNNING),
    )
    assert draft.run.end_time is None


def test_end_time_kept_between_terminal_states():
    draft = apply(
        SetEndTime,
        flow_run(start_time=EARLIER, end_time=EARLIER),
        state(StateType.FAILED, at=EARLIER),
        state(StateType.COMPLETED),
    )
    assert draft.run.end_time == EARLIER


def test_run_time_adds_running_interval():
    draft = apply(
        IncrementRunTime,
        flow_run(total_run_time=5.0),
        state(StateType.RUNNING, at=EARLIER),
        state(StateType.COMPLETED, at=NOW),
    )
    assert draft.run.total_run_time == 35.0


def test_run_time_ignores_other_intervals():
    draft = apply(
        IncrementRunTime,
        flow_run(total_run_time=5.0),
        state(StateType.PENDING, at=EARLIER),
        state(StateType.RUNNING, at=NOW),
    )
    assert draft.run.total_run_time == 5.0


def test_expected_start_from_scheduled_time():
    when = NOW + seconds(600)
    draft = apply(SetExpectedStartTime, flow_run(), None, scheduled(when))
    assert draft.run.expected_start_time == when


def test_expected_start_from_timestamp():
    draft = apply(SetExpectedStartTime, flow_run(), None, state(StateType.PENDING))
    assert draft.run.expected_start_time == NOW


def test_expected_start_set_once():
    draft = apply(
        SetExpectedStartTime,
        flow_run(expected_start_time=EARLIER),
        state(StateType.PENDING),
        state(StateType.RUNNING),
    )
    assert draft.run.expected_start_time == EARLIER


def test_next_scheduled_start_set_while_scheduled():
    when = NOW + seconds(60)
    draft = apply(
        SetNextScheduledStartTime,
        flow_run(),
        state(StateType.RUNNING),
        scheduled(when, "AwaitingRetry"),
    )
    assert draft.run.next_scheduled_start_time == when


def test_next_scheduled_start_cleared_after():
    draft = apply(
        SetNextScheduledStartTime,
        flow_run(next_scheduled_start_time=NOW),
        scheduled(NOW),
        state(StateType.PENDING),
    )
    assert draft.run.next_scheduled_start_time is None


def test_next_scheduled_start_accepts_offset_times():
    proposed = state(StateType.SCHEDULED, scheduled_time="2026-01-01T14:00:00+02:00")
    draft = apply(SetNextScheduledStartTime, flow_run(), None, proposed)
    assert draft.run.next_scheduled_start_time == NOW


def test_next_scheduled_start_treats_naive_time_as_utc():
    proposed = state(StateType.SCHEDULED, scheduled_time="2026-01-01T12:00:00")
    draft = apply(SetNextScheduledStartTime, flow_run(), None, proposed)
    assert draft.run.next_scheduled_start_time == NOW


def test_flow_run_state_linked():
    draft = apply(LinkStateToRun, flow_run(), None, state(StateType.PENDING))
    assert draft.proposed_state is not None
    assert draft.proposed_state.state_details["flow_run_id"] == str(FLOW_RUN_ID)
    assert "task_run_id" not in draft.proposed_state.state_details


def test_subflow_run_state_names_parent_task():
    draft = apply(
        LinkStateToRun,
        flow_run(parent_task_run_id=TASK_RUN_ID),
        None,
        state(StateType.PENDING),
    )
    assert draft.proposed_state is not None
    assert draft.proposed_state.state_details["task_run_id"] == str(TASK_RUN_ID)


def test_task_run_state_linked():
    draft = apply(LinkStateToRun, task_run(), None, state(StateType.PENDING))
    assert draft.proposed_state is not None
    details = draft.proposed_state.state_details
    assert details["flow_run_id"] == str(FLOW_RUN_ID)
    assert details["task_run_id"] == str(TASK_RUN_ID)


def test_flow_run_count_incremented_on_running():
    draft = apply(
        IncrementFlowRunCount,
        flow_run(run_count=1),
        scheduled(NOW),
        state(StateType.RUNNING),
    )
    assert draft.run.run_count == 2


def test_flow_run_count_kept_when_resuming():
    draft = apply(
        IncrementFlowRunCount,
        flow_run(run_count=1, empirical_policy={"resuming": True}),
        scheduled(NOW, "Resuming"),
        state(StateType.RUNNING),
    )
    assert draft.run.run_count == 1


def test_flow_run_count_kept_on_other_states():
    draft = apply(
        IncrementFlowRunCount,
        flow_run(run_count=1),
        state(StateType.RUNNING),
        state(StateType.COMPLETED),
    )
    assert draft.run.run_count == 1


def test_task_run_count_incremented_on_running():
    draft = apply(
        IncrementTaskRunCount,
        task_run(run_count=2),
        scheduled(NOW, "AwaitingRetry"),
        state(StateType.RUNNING),
    )
    assert draft.run.run_count == 3


def test_resuming_flag_cleared_on_running():
    draft = apply(
        ClearResumingFlag,
        flow_run(empirical_policy={"resuming": True, "retries": 1}),
        state(StateType.PENDING),
        state(StateType.RUNNING),
    )
    assert draft.run.empirical_policy == {"resuming": False, "retries": 1}


def test_resuming_flag_kept_while_scheduled():
    draft = apply(
        ClearResumingFlag,
        flow_run(empirical_policy={"resuming": True}),
        state(StateType.PAUSED),
        scheduled(NOW, "Resuming"),
    )
    assert draft.run.empirical_policy == {"resuming": True}


def test_equal_timestamp_moved_one_microsecond():
    draft = apply(
        SeparateStateTimestamps,
        flow_run(),
        state(StateType.PENDING, at=NOW),
        state(StateType.RUNNING, at=NOW),
    )
    assert draft.proposed_state is not None
    assert draft.proposed_state.timestamp == NOW + dt.timedelta(microseconds=1)


def test_distinct_timestamp_kept():
    draft = apply(
        SeparateStateTimestamps,
        flow_run(),
        state(StateType.PENDING, at=EARLIER),
        state(StateType.RUNNING, at=NOW),
    )
    assert draft.proposed_state is not None
    assert draft.proposed_state.timestamp == NOW


def test_task_run_timestamps_not_separated():
    draft = TransitionDraft(
        run=task_run(),
        initial_state=state(StateType.PENDING, at=NOW),
        proposed_state=state(StateType.RUNNING, at=NOW),
        now=NOW,
    )
    record_transition(draft)
    assert draft.proposed_state is not None
    assert draft.proposed_state.timestamp == NOW


def test_nothing_recorded_without_proposal():
    run = flow_run(run_count=1)
    draft = TransitionDraft(
        run=run, initial_state=state(StateType.PENDING), proposed_state=None, now=NOW
    )
    record_transition(draft)
    assert draft.run == run


def test_record_uses_scheduled_time_string():
    when = NOW + seconds(5)
    draft = TransitionDraft(
        run=flow_run(), initial_state=None, proposed_state=scheduled(when), now=NOW
    )
    record_transition(draft)
    assert draft.run.next_scheduled_start_time == when
    assert draft.run.expected_start_time == when
