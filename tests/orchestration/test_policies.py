from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from podium.orchestration import SetStateStatus, StateType, TransitionResult

from .factories import (
    DEPLOYMENT_ID,
    FLOW_RUN_ID,
    NOW,
    RunHistory,
    flow_run,
    iso,
    propose,
    scheduled,
    seconds,
    state,
    task_run,
)


def assert_nothing_written(result: TransitionResult, current) -> None:
    assert result.write_state is False
    assert result.state is current
    assert result.reason


# Plain acceptance and bookkeeping


def test_accept_running_from_pending():
    current = state(StateType.PENDING, at=NOW - seconds(5))
    result = propose(flow_run(), current, state(StateType.RUNNING))
    assert result.status == SetStateStatus.ACCEPT
    assert result.write_state is True
    assert result.reason is None
    assert result.delay_seconds is None
    assert result.state is not None
    assert result.state.type == StateType.RUNNING
    assert result.state.state_details["flow_run_id"] == str(FLOW_RUN_ID)
    assert result.run_updates["run_count"] == 1
    assert result.run_updates["start_time"] == NOW
    assert result.run_updates["expected_start_time"] == NOW


def test_first_state_scheduled_sets_times():
    when = NOW + seconds(3600)
    result = propose(flow_run(), None, scheduled(when))
    assert result.status == SetStateStatus.ACCEPT
    assert result.run_updates == {
        "expected_start_time": when,
        "next_scheduled_start_time": when,
    }


def test_run_updates_only_list_changes():
    run = flow_run(run_count=1, start_time=NOW - seconds(9), expected_start_time=NOW)
    current = state(StateType.RUNNING, at=NOW - seconds(9))
    result = propose(run, current, state(StateType.RUNNING, "Still"))
    assert result.run_updates == {"run_count": 2, "total_run_time": 9.0}


# Scenarios the API contract tests exercise


def test_pending_on_pending_run_aborts():
    current = state(StateType.PENDING)
    result = propose(flow_run(), current, state(StateType.PENDING))
    assert result.status == SetStateStatus.ABORT
    assert_nothing_written(result, current)
    assert result.run_updates == {}


def test_scheduled_run_submits_then_waits():
    run = flow_run(next_scheduled_start_time=NOW + seconds(3600))
    history = RunHistory(run, scheduled(NOW + seconds(3600)))
    submitted = history.propose(state(StateType.PENDING))
    assert submitted.status == SetStateStatus.ACCEPT
    assert submitted.state is not None
    assert submitted.state.state_details["scheduled_time"] == iso(NOW + seconds(3600))
    assert submitted.run_updates["next_scheduled_start_time"] is None

    later = NOW + seconds(1)
    pending = history.current
    started = history.propose(state(StateType.RUNNING, at=later), now=later)
    assert started.status == SetStateStatus.WAIT
    assert started.delay_seconds == 3599
    assert_nothing_written(started, pending)
    assert history.current is pending


def test_scheduled_run_starts_when_due():
    history = RunHistory(flow_run(), scheduled(NOW - seconds(1)))
    history.propose(state(StateType.PENDING))
    result = history.propose(state(StateType.RUNNING))
    assert result.status == SetStateStatus.ACCEPT


def test_scheduled_run_waits_when_started_directly():
    current = scheduled(NOW + seconds(30))
    result = propose(flow_run(), current, state(StateType.RUNNING))
    assert result.status == SetStateStatus.WAIT
    assert result.delay_seconds == 30


def test_cancelling_run_rejects_completed():
    current = state(StateType.CANCELLING)
    result = propose(flow_run(run_count=1), current, state(StateType.COMPLETED))
    assert result.status == SetStateStatus.REJECT
    assert_nothing_written(result, current)
    assert result.run_updates == {}


def test_cancelling_run_accepts_cancelled():
    current = state(StateType.CANCELLING, at=NOW - seconds(1))
    result = propose(flow_run(run_count=1), current, state(StateType.CANCELLED))
    assert result.status == SetStateStatus.ACCEPT
    assert result.run_updates["end_time"] == NOW


def test_cancelling_scheduled_run_cancels_it():
    current = scheduled(NOW + seconds(7200), at=NOW - seconds(60))
    run = flow_run(next_scheduled_start_time=NOW + seconds(7200))
    result = propose(run, current, state(StateType.CANCELLING))
    assert result.status == SetStateStatus.REJECT
    assert result.write_state is True
    assert result.reason
    assert result.state is not None
    assert result.state.type == StateType.CANCELLED
    assert result.state.state_details["flow_run_id"] == str(FLOW_RUN_ID)
    assert result.run_updates["end_time"] == NOW
    assert result.run_updates["next_scheduled_start_time"] is None


def test_force_bypasses_pending_rule():
    current = state(StateType.PENDING, at=NOW - seconds(1))
    result = propose(
        flow_run(), current, state(StateType.PENDING, "Forced"), force=True
    )
    assert result.status == SetStateStatus.ACCEPT
    assert result.state is not None
    assert result.state.name == "Forced"


def test_task_of_flow_without_state_aborts():
    run = task_run(flow_run_state=None)
    result = propose(run, None, state(StateType.RUNNING))
    assert result.status == SetStateStatus.ABORT
    assert result.state is None
    assert result.write_state is False
    assert result.reason


def test_task_of_pending_flow_aborts():
    run = task_run(flow_run_state=state(StateType.PENDING))
    result = propose(run, None, state(StateType.RUNNING))
    assert result.status == SetStateStatus.ABORT


def test_task_of_running_flow_runs_and_completes():
    history = RunHistory(task_run(flow_run_run_count=0, flow_run_current_run_count=1))
    started = history.propose(state(StateType.RUNNING, at=NOW))
    assert started.status == SetStateStatus.ACCEPT
    assert started.run_updates["run_count"] == 1
    assert started.run_updates["flow_run_run_count"] == 1
    later = NOW + seconds(2)
    done = history.propose(state(StateType.COMPLETED, at=later), now=later)
    assert done.status == SetStateStatus.ACCEPT
    assert done.run_updates["end_time"] == later
    assert done.run_updates["total_run_time"] == 2.0


# Duplicate transition ids


def test_retried_transition_returns_current_state():
    history = RunHistory(flow_run(), state(StateType.PENDING, at=NOW - seconds(1)))
    first = history.propose(state(StateType.RUNNING, transition_id="t-1"))
    assert first.status == SetStateStatus.ACCEPT
    running = history.current

    again = history.propose(
        state(StateType.RUNNING, at=NOW + seconds(1), transition_id="t-1"),
        now=NOW + seconds(1),
    )
    assert again.status == SetStateStatus.REJECT
    assert_nothing_written(again, running)
    assert again.run_updates == {}
    assert history.run.run_count == 1


def test_duplicate_rejection_beats_other_rules():
    current = state(StateType.PENDING, transition_id="t-1")
    result = propose(flow_run(), current, state(StateType.PENDING, transition_id="t-1"))
    assert result.status == SetStateStatus.REJECT


def test_task_runs_ignore_transition_ids():
    current = state(StateType.PENDING, at=NOW - seconds(1), transition_id="t-1")
    result = propose(task_run(), current, state(StateType.RUNNING, transition_id="t-1"))
    assert result.status == SetStateStatus.ACCEPT


# Equal timestamps


def test_equal_timestamp_separated_for_flow_run():
    current = state(StateType.PENDING, at=NOW)
    result = propose(flow_run(), current, state(StateType.RUNNING, at=NOW))
    assert result.state is not None
    assert result.state.timestamp == NOW + dt.timedelta(microseconds=1)
    assert result.run_updates["start_time"] == NOW + dt.timedelta(microseconds=1)


def test_equal_timestamp_run_time_is_tiny():
    run = flow_run(run_count=1, start_time=NOW)
    current = state(StateType.RUNNING, at=NOW)
    result = propose(run, current, state(StateType.COMPLETED, at=NOW))
    assert result.run_updates["total_run_time"] == pytest.approx(1e-6)
    assert result.run_updates["end_time"] == NOW + dt.timedelta(microseconds=1)


# Flow run retries


def test_flow_retry_cycle():
    policy = {"retries": 1, "retry_delay": 10}
    history = RunHistory(flow_run(empirical_policy=policy))
    t0 = NOW
    history.propose(state(StateType.PENDING, at=t0), now=t0)
    t1 = t0 + seconds(1)
    history.propose(state(StateType.RUNNING, at=t1), now=t1)
    assert history.run.run_count == 1

    t2 = t1 + seconds(4)
    failed = history.propose(state(StateType.FAILED, at=t2, message="boom"), now=t2)
    assert failed.status == SetStateStatus.REJECT
    assert failed.write_state is True
    assert failed.reason
    retry = failed.state
    assert retry is not None
    assert retry.name == "AwaitingRetry"
    assert retry.message == "boom"
    assert retry.state_details["scheduled_time"] == iso(t2 + seconds(10))
    assert retry.state_details["flow_run_id"] == str(FLOW_RUN_ID)
    assert history.run.total_run_time == 4.0
    assert history.run.next_scheduled_start_time == t2 + seconds(10)
    assert history.run.end_time is None
    assert history.run.empirical_policy["retry_type"] == "in_process"

    early = history.propose(state(StateType.RUNNING, at=t2), now=t2)
    assert early.status == SetStateStatus.WAIT
    assert early.delay_seconds == 10

    t3 = t2 + seconds(10)
    rerun = history.propose(state(StateType.RUNNING, at=t3), now=t3)
    assert rerun.status == SetStateStatus.ACCEPT
    assert rerun.state is not None
    assert rerun.state.name == "Running"
    assert history.run.run_count == 2
    assert history.run.start_time == t1
    assert history.run.next_scheduled_start_time is None

    t4 = t3 + seconds(3)
    final = history.propose(state(StateType.FAILED, at=t4), now=t4)
    assert final.status == SetStateStatus.ACCEPT
    assert history.run.end_time == t4
    assert history.run.total_run_time == 7.0
    assert history.run.empirical_policy["retry_type"] is None
    assert [s.name for s in history.written] == [
        "Pending",
        "Running",
        "AwaitingRetry",
        "Running",
        "Failed",
    ]


def test_failed_flow_without_retries_accepted():
    current = state(StateType.RUNNING, at=NOW - seconds(1))
    result = propose(flow_run(run_count=1), current, state(StateType.FAILED))
    assert result.status == SetStateStatus.ACCEPT
    assert result.state is not None
    assert result.state.type == StateType.FAILED


def test_forced_failure_skips_retries():
    run = flow_run(run_count=1, empirical_policy={"retries": 3})
    current = state(StateType.RUNNING, at=NOW - seconds(1))
    result = propose(run, current, state(StateType.FAILED), force=True)
    assert result.status == SetStateStatus.ACCEPT
    assert result.run_updates["end_time"] == NOW


# Task run retries


def test_task_retry_cycle_inside_flow_retry():
    policy = {"retries": 1, "retry_delay": [5]}
    history = RunHistory(
        task_run(empirical_policy=policy, flow_run_run_count=0),
        state(StateType.PENDING, at=NOW - seconds(1)),
    )
    history.propose(state(StateType.RUNNING))
    failed = history.propose(
        state(StateType.FAILED, at=NOW + seconds(1)), now=NOW + seconds(1)
    )
    assert failed.status == SetStateStatus.REJECT
    assert failed.state is not None
    assert failed.state.name == "AwaitingRetry"
    assert failed.state.state_details["task_run_id"] == str(history.run.id)

    t2 = NOW + seconds(6)
    retried = history.propose(state(StateType.RUNNING, at=t2), now=t2)
    assert retried.state is not None
    assert retried.state.name == "Retrying"
    assert history.run.run_count == 2

    t3 = t2 + seconds(1)
    final = history.propose(state(StateType.FAILED, at=t3), now=t3)
    assert final.status == SetStateStatus.ACCEPT
    assert history.run.end_time == t3

    # The flow run retries: its next attempt runs the failed task again.
    history.run = dataclasses.replace(history.run, flow_run_current_run_count=2)
    t4 = t3 + seconds(5)
    again = history.propose(state(StateType.RUNNING, at=t4), now=t4)
    assert again.status == SetStateStatus.ACCEPT
    assert again.state is not None
    assert again.state.name == "Retrying"
    assert history.run.run_count == 1
    assert history.run.flow_run_run_count == 2
    assert history.run.end_time is None


def test_aborted_task_rerun_keeps_run_count():
    run = task_run(run_count=2, flow_run_state=state(StateType.COMPLETED))
    current = state(StateType.FAILED)
    result = propose(run, current, state(StateType.RUNNING))
    assert result.status == SetStateStatus.ABORT
    assert result.run_updates == {}


def test_task_rerun_after_completion_named_rerunning():
    run = task_run(run_count=1)
    current = state(StateType.PENDING, at=NOW - seconds(1))
    result = propose(run, current, state(StateType.RUNNING))
    assert result.state is not None
    assert result.state.name == "Rerunning"


def test_task_of_paused_flow_written_paused():
    flow_state = state(StateType.PAUSED, pause_timeout=iso(NOW + seconds(60)))
    run = task_run(flow_run_state=flow_state)
    result = propose(run, state(StateType.PENDING), state(StateType.RUNNING))
    assert result.status == SetStateStatus.REJECT
    assert result.write_state is True
    assert result.state is not None
    assert result.state.type == StateType.PAUSED
    assert result.run_updates.get("run_count") is None


def test_forced_task_skips_flow_check():
    run = task_run(flow_run_state=None)
    result = propose(run, None, state(StateType.RUNNING), force=True)
    assert result.status == SetStateStatus.ACCEPT
    assert result.run_updates["run_count"] == 1


def test_deferred_task_submitted_once():
    current = state(StateType.PENDING, deferred=True)
    result = propose(
        task_run(flow_run_id=None, flow_run_state=None),
        current,
        state(StateType.PENDING, deferred=True),
        force=True,
    )
    assert result.status == SetStateStatus.ABORT


def test_deferred_task_keeps_parameters_id():
    current = scheduled(NOW, deferred=True, task_parameters_id="p-1")
    result = propose(
        task_run(flow_run_id=None, flow_run_state=None),
        current,
        state(StateType.PENDING, deferred=True),
    )
    assert result.state is not None
    assert result.state.state_details["task_parameters_id"] == "p-1"


# Terminal states


def test_completed_flow_with_result_not_rerun():
    current = state(StateType.COMPLETED, data={"storage_key": "k"})
    result = propose(flow_run(run_count=1), current, state(StateType.RUNNING))
    assert result.status == SetStateStatus.REJECT
    assert_nothing_written(result, current)


def test_failed_flow_rerun_directly():
    run = flow_run(
        run_count=2,
        start_time=NOW - seconds(60),
        end_time=NOW - seconds(30),
        empirical_policy={"pause_keys": ["a"], "retries": 0},
    )
    current = state(StateType.FAILED, at=NOW - seconds(30))
    result = propose(run, current, state(StateType.RUNNING))
    assert result.status == SetStateStatus.ACCEPT
    assert result.run_updates["run_count"] == 3
    assert result.run_updates["end_time"] is None
    assert result.run_updates["empirical_policy"]["pause_keys"] == []


def test_failed_ad_hoc_flow_not_rescheduled():
    result = propose(flow_run(), state(StateType.FAILED), scheduled(NOW))
    assert result.status == SetStateStatus.ABORT
    assert result.run_updates == {}


def test_failed_deployment_flow_rescheduled():
    run = flow_run(deployment_id=DEPLOYMENT_ID, end_time=NOW - seconds(5))
    result = propose(run, state(StateType.FAILED, at=NOW - seconds(5)), scheduled(NOW))
    assert result.status == SetStateStatus.ACCEPT
    assert result.run_updates["end_time"] is None
    assert result.run_updates["next_scheduled_start_time"] == NOW
    assert result.run_updates["empirical_policy"]["retry_type"] == "reschedule"


def test_terminal_rule_policy_reset_undone_when_later_rule_waits():
    run = flow_run(deployment_id=DEPLOYMENT_ID, empirical_policy={"pause_keys": ["a"]})
    current = state(StateType.CANCELLED, transition_id="t-9")
    result = propose(run, current, state(StateType.RUNNING, transition_id="t-9"))
    assert result.status == SetStateStatus.REJECT
    assert result.run_updates == {}


def test_forced_completion_keeps_stored_result():
    current = state(StateType.COMPLETED, data={"storage_key": "k"})
    result = propose(flow_run(), current, state(StateType.COMPLETED), force=True)
    assert result.status == SetStateStatus.REJECT
    assert_nothing_written(result, current)


def test_forced_cancel_of_scheduled_run_still_cancels():
    result = propose(
        flow_run(), scheduled(NOW), state(StateType.CANCELLING), force=True
    )
    assert result.status == SetStateStatus.REJECT
    assert result.state is not None
    assert result.state.type == StateType.CANCELLED


def test_forced_leave_of_terminal_clears_end_time():
    run = flow_run(end_time=NOW - seconds(5), start_time=NOW - seconds(9))
    current = state(StateType.COMPLETED, at=NOW - seconds(5))
    result = propose(run, current, state(StateType.PENDING), force=True)
    assert result.status == SetStateStatus.ACCEPT
    assert result.run_updates["end_time"] is None


# Pauses


def test_blocking_pause_cycle():
    history = RunHistory(flow_run(), state(StateType.PENDING, at=NOW - seconds(9)))
    history.propose(state(StateType.RUNNING, at=NOW - seconds(8)))
    paused = history.propose(
        state(StateType.PAUSED, pause_key="k1", pause_timeout=iso(NOW + seconds(60)))
    )
    assert paused.status == SetStateStatus.ACCEPT
    assert history.run.empirical_policy["pause_keys"] == ["k1"]

    resumed = history.propose(state(StateType.RUNNING, at=NOW + seconds(5)))
    assert resumed.status == SetStateStatus.ACCEPT
    # Prefect 3.9.1 counts a resume from a blocking pause as a new attempt.
    assert history.run.run_count == 2
    assert history.run.empirical_policy["resuming"] is True

    again = history.propose(state(StateType.PAUSED, pause_key="k1"))
    assert again.status == SetStateStatus.REJECT

    done = history.propose(state(StateType.COMPLETED, at=NOW + seconds(7)))
    assert done.status == SetStateStatus.ACCEPT
    assert history.run.empirical_policy["resuming"] is False


def test_suspend_cycle_does_not_count_resume():
    run = flow_run(deployment_id=DEPLOYMENT_ID)
    history = RunHistory(run, state(StateType.PENDING, at=NOW - seconds(9)))
    history.propose(state(StateType.RUNNING, at=NOW - seconds(8)))
    suspended = history.propose(
        state(StateType.PAUSED, "Suspended", pause_reschedule=True, pause_key="s"),
        now=NOW - seconds(7),
    )
    assert suspended.status == SetStateStatus.ACCEPT

    resuming = history.propose(scheduled(NOW, "Resuming", at=NOW))
    assert resuming.status == SetStateStatus.ACCEPT
    assert history.run.empirical_policy["resuming"] is True

    history.propose(state(StateType.PENDING, at=NOW + seconds(1)))
    restarted = history.propose(state(StateType.RUNNING, at=NOW + seconds(2)))
    assert restarted.status == SetStateStatus.ACCEPT
    assert history.run.run_count == 1
    assert history.run.empirical_policy["resuming"] is False
    assert history.run.empirical_policy["pause_keys"] == ["s"]


def test_timed_out_pause_fails_on_resume():
    current = state(
        StateType.PAUSED, at=NOW - seconds(60), pause_timeout=iso(NOW - seconds(1))
    )
    result = propose(flow_run(run_count=1), current, state(StateType.RUNNING))
    assert result.status == SetStateStatus.REJECT
    assert result.write_state is True
    assert result.state is not None
    assert result.state.type == StateType.FAILED
    assert result.run_updates["end_time"] == NOW


def test_pause_of_pending_run_rejected():
    current = state(StateType.PENDING)
    result = propose(flow_run(), current, state(StateType.PAUSED))
    assert result.status == SetStateStatus.REJECT
    assert_nothing_written(result, current)


def test_cancelling_suspended_run_cancels_it():
    current = state(StateType.PAUSED, "Suspended", pause_reschedule=True)
    run = flow_run(deployment_id=DEPLOYMENT_ID, infrastructure_pid="9")
    result = propose(run, current, state(StateType.CANCELLING))
    assert result.status == SetStateStatus.REJECT
    assert result.state is not None
    assert result.state.type == StateType.CANCELLED


# Every refusal explains itself


REFUSALS = [
    (flow_run(), state(StateType.PENDING), state(StateType.PENDING)),
    (flow_run(), state(StateType.CANCELLING), state(StateType.RUNNING)),
    (flow_run(), scheduled(NOW + seconds(9)), state(StateType.RUNNING)),
    (flow_run(), state(StateType.FAILED), state(StateType.CRASHED)),
    (flow_run(), state(StateType.RUNNING), scheduled(NOW, "Late")),
    (task_run(flow_run_state=None), None, state(StateType.RUNNING)),
    (
        flow_run(run_count=1, empirical_policy={"retries": 1}),
        state(StateType.RUNNING),
        state(StateType.FAILED),
    ),
]


@pytest.mark.parametrize(("run", "current", "proposed"), REFUSALS)
def test_refusals_carry_reason(run, current, proposed):
    result = propose(run, current, proposed)
    assert result.status != SetStateStatus.ACCEPT
    assert result.reason
