from __future__ import annotations

import pytest

from podium.orchestration import SetStateStatus, StateType
from podium.orchestration.rules import TransitionDraft
from podium.orchestration.task_rules import (
    CopyTaskParametersId,
    HandleTerminalTaskRunTransitions,
    PreventRunningTasksFromStoppedFlows,
    RenameReruns,
    RetryFailedTasks,
    TrackFlowRunAttempt,
    retry_delay_seconds,
)

from .factories import (
    FLOW_RUN_ID,
    NOW,
    iso,
    run_rule,
    scheduled,
    seconds,
    state,
    task_run,
)

# HandleTerminalTaskRunTransitions


@pytest.mark.parametrize(
    "proposed_type",
    [StateType.CANCELLING, StateType.PAUSED, StateType.CRASHED],
)
def test_terminal_task_run_cannot_be_stopped_again(proposed_type: StateType):
    draft = run_rule(
        HandleTerminalTaskRunTransitions,
        task_run(),
        state(StateType.COMPLETED),
        state(proposed_type),
    )
    assert draft.status == SetStateStatus.ABORT
    assert draft.reason


def test_completed_task_with_result_cannot_change():
    draft = run_rule(
        HandleTerminalTaskRunTransitions,
        task_run(run_count=1),
        state(StateType.COMPLETED, data={"storage_key": "k"}),
        state(StateType.FAILED),
    )
    assert draft.status == SetStateStatus.REJECT
    assert draft.proposed_state is None
    assert draft.run.run_count == 1


def test_rerun_task_resets_run_count():
    draft = run_rule(
        HandleTerminalTaskRunTransitions,
        task_run(run_count=3),
        state(StateType.FAILED),
        state(StateType.PENDING),
    )
    assert draft.status == SetStateStatus.ACCEPT
    assert draft.run.run_count == 0


def test_terminal_to_terminal_keeps_run_count():
    draft = run_rule(
        HandleTerminalTaskRunTransitions,
        task_run(run_count=3),
        state(StateType.FAILED),
        state(StateType.COMPLETED),
    )
    assert draft.run.run_count == 3


def test_task_rerun_in_retrying_flow_named_retrying():
    draft = run_rule(
        HandleTerminalTaskRunTransitions,
        task_run(run_count=1, flow_run_run_count=1, flow_run_current_run_count=2),
        state(StateType.FAILED),
        state(StateType.RUNNING),
    )
    assert draft.proposed_state is not None
    assert draft.proposed_state.name == "Retrying"


def test_task_rerun_in_same_flow_attempt_keeps_name():
    draft = run_rule(
        HandleTerminalTaskRunTransitions,
        task_run(run_count=1, flow_run_run_count=2, flow_run_current_run_count=2),
        state(StateType.FAILED),
        state(StateType.RUNNING),
    )
    assert draft.proposed_state is not None
    assert draft.proposed_state.name == "Running"


def test_terminal_task_rule_cleanup_restores_run_count():
    draft = TransitionDraft(
        run=task_run(run_count=2),
        initial_state=state(StateType.FAILED),
        proposed_state=state(StateType.RUNNING),
        now=NOW,
    )
    rule = HandleTerminalTaskRunTransitions(StateType.FAILED, StateType.RUNNING)
    rule.before(draft)
    assert draft.run.run_count == 0
    draft.proposed_state = None  # a later rule aborted the transition
    rule.cleanup(draft)
    assert draft.run.run_count == 2


# PreventRunningTasksFromStoppedFlows


def test_task_of_flow_without_state_aborts():
    draft = run_rule(
        PreventRunningTasksFromStoppedFlows,
        task_run(flow_run_state=None),
        state(StateType.PENDING),
        state(StateType.RUNNING),
    )
    assert draft.status == SetStateStatus.ABORT
    assert draft.reason


@pytest.mark.parametrize(
    "flow_type",
    [
        StateType.PENDING,
        StateType.SCHEDULED,
        StateType.COMPLETED,
        StateType.FAILED,
        StateType.CANCELLING,
        StateType.CANCELLED,
        StateType.CRASHED,
    ],
)
def test_task_of_stopped_flow_aborts(flow_type: StateType):
    draft = run_rule(
        PreventRunningTasksFromStoppedFlows,
        task_run(flow_run_state=state(flow_type)),
        None,
        state(StateType.RUNNING),
    )
    assert draft.status == SetStateStatus.ABORT
    assert flow_type.value in (draft.reason or "")


def test_task_of_paused_flow_waits_paused():
    timeout = iso(NOW + seconds(300))
    flow_state = state(StateType.PAUSED, pause_timeout=timeout, pause_reschedule=True)
    draft = run_rule(
        PreventRunningTasksFromStoppedFlows,
        task_run(flow_run_state=flow_state),
        state(StateType.PENDING),
        state(StateType.RUNNING),
    )
    assert draft.status == SetStateStatus.REJECT
    not_ready = draft.proposed_state
    assert not_ready is not None
    assert not_ready.type == StateType.PAUSED
    assert not_ready.name == "NotReady"
    assert not_ready.state_details["pause_timeout"] == timeout
    assert not_ready.state_details["pause_reschedule"] is True
    assert str(FLOW_RUN_ID) in (draft.reason or "")


def test_task_of_running_flow_runs():
    draft = run_rule(
        PreventRunningTasksFromStoppedFlows,
        task_run(),
        state(StateType.PENDING),
        state(StateType.RUNNING),
    )
    assert draft.status == SetStateStatus.ACCEPT


def test_task_without_flow_run_runs():
    draft = run_rule(
        PreventRunningTasksFromStoppedFlows,
        task_run(flow_run_id=None, flow_run_state=None),
        state(StateType.PENDING),
        state(StateType.RUNNING),
    )
    assert draft.status == SetStateStatus.ACCEPT


# RetryFailedTasks


@pytest.mark.parametrize(("run_count", "delay"), [(1, 10), (2, 20), (3, 20)])
def test_task_retry_uses_delay_per_attempt(run_count: int, delay: int):
    run = task_run(
        run_count=run_count, empirical_policy={"retries": 3, "retry_delay": [10, 20]}
    )
    draft = run_rule(
        RetryFailedTasks, run, state(StateType.RUNNING), state(StateType.FAILED)
    )
    assert draft.status == SetStateStatus.REJECT
    retry = draft.proposed_state
    assert retry is not None
    assert retry.name == "AwaitingRetry"
    assert retry.type == StateType.SCHEDULED
    assert retry.state_details["scheduled_time"] == iso(NOW + seconds(delay))


def test_task_not_retriable_fails():
    run = task_run(run_count=1, empirical_policy={"retries": 3})
    draft = run_rule(
        RetryFailedTasks,
        run,
        state(StateType.RUNNING),
        state(StateType.FAILED, retriable=False),
    )
    assert draft.status == SetStateStatus.ACCEPT


def test_task_without_retries_left_fails():
    run = task_run(run_count=2, empirical_policy={"retries": 1, "retry_delay": 5})
    draft = run_rule(
        RetryFailedTasks, run, state(StateType.RUNNING), state(StateType.FAILED)
    )
    assert draft.status == SetStateStatus.ACCEPT


@pytest.mark.parametrize(
    ("retry_delay", "run_count", "expected"),
    [
        (None, 1, 0.0),
        (7, 1, 7.0),
        (2.5, 3, 2.5),
        ([], 1, 0.0),
        ([1, 2, 3], 1, 1.0),
        ([1, 2, 3], 5, 3.0),
        ([1, 2, 3], 0, 3.0),
    ],
)
def test_retry_delay_seconds(retry_delay, run_count, expected):
    assert retry_delay_seconds(retry_delay, run_count) == expected


# RenameReruns


def test_rerun_after_awaiting_retry_named_retrying():
    draft = run_rule(
        RenameReruns,
        task_run(run_count=1),
        scheduled(NOW, "AwaitingRetry"),
        state(StateType.RUNNING),
    )
    assert draft.proposed_state is not None
    assert draft.proposed_state.name == "Retrying"


def test_rerun_otherwise_named_rerunning():
    draft = run_rule(
        RenameReruns,
        task_run(run_count=1),
        state(StateType.PENDING),
        state(StateType.RUNNING, "Custom"),
    )
    assert draft.proposed_state is not None
    assert draft.proposed_state.name == "Rerunning"


def test_first_run_keeps_name():
    draft = run_rule(
        RenameReruns,
        task_run(run_count=0),
        state(StateType.PENDING),
        state(StateType.RUNNING),
    )
    assert draft.proposed_state is not None
    assert draft.proposed_state.name == "Running"


# TrackFlowRunAttempt


def test_task_records_flow_run_attempt():
    draft = run_rule(
        TrackFlowRunAttempt,
        task_run(flow_run_run_count=1, flow_run_current_run_count=3),
        state(StateType.PENDING),
        state(StateType.RUNNING),
    )
    assert draft.run.flow_run_run_count == 3


def test_task_without_flow_run_records_nothing():
    draft = run_rule(
        TrackFlowRunAttempt,
        task_run(flow_run_id=None, flow_run_run_count=0, flow_run_current_run_count=3),
        state(StateType.PENDING),
        state(StateType.RUNNING),
    )
    assert draft.run.flow_run_run_count == 0


# CopyTaskParametersId


def test_task_parameters_id_copied():
    draft = run_rule(
        CopyTaskParametersId,
        task_run(),
        scheduled(NOW, task_parameters_id="p-1"),
        state(StateType.PENDING),
    )
    assert draft.proposed_state is not None
    assert draft.proposed_state.state_details["task_parameters_id"] == "p-1"


def test_task_parameters_id_proposed_kept():
    draft = run_rule(
        CopyTaskParametersId,
        task_run(),
        state(StateType.PENDING, task_parameters_id="p-1"),
        state(StateType.RUNNING, task_parameters_id="p-2"),
    )
    assert draft.proposed_state is not None
    assert draft.proposed_state.state_details["task_parameters_id"] == "p-2"
