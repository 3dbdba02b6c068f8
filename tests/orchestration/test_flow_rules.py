from __future__ import annotations

import pytest

from podium.orchestration import SetStateStatus, StateType
from podium.orchestration.flow_rules import (
    CancelRunsWithoutInfrastructure,
    HandleCancellingTransitions,
    HandlePausingFlowRuns,
    HandleResumingFlowRuns,
    HandleTerminalFlowRunTransitions,
    KeepDeploymentConcurrencyLease,
    ProtectPersistedResults,
    RejectDuplicateTransitions,
    RetryFailedFlows,
)
from podium.orchestration.rules import TransitionDraft

from .factories import (
    DEPLOYMENT_ID,
    NOW,
    TASK_RUN_ID,
    flow_run,
    iso,
    run_rule,
    scheduled,
    seconds,
    state,
)

STORED_RESULT = {"storage_key": "/results/abc", "serializer": {"type": "json"}}
UNPERSISTED_RESULT = {"type": "unpersisted"}


def assert_kept_current(draft: TransitionDraft, status: SetStateStatus) -> None:
    assert draft.status == status
    assert draft.proposed_state is None
    assert draft.reason


# RejectDuplicateTransitions


def test_duplicate_transition_id_rejected():
    draft = run_rule(
        RejectDuplicateTransitions,
        flow_run(),
        state(StateType.RUNNING, transition_id="t-1"),
        state(StateType.COMPLETED, transition_id="t-1"),
    )
    assert_kept_current(draft, SetStateStatus.REJECT)


def test_new_transition_id_accepted():
    draft = run_rule(
        RejectDuplicateTransitions,
        flow_run(),
        state(StateType.RUNNING, transition_id="t-1"),
        state(StateType.COMPLETED, transition_id="t-2"),
    )
    assert draft.status == SetStateStatus.ACCEPT


@pytest.mark.parametrize(("current", "proposed"), [(None, "t-1"), ("t-1", None)])
def test_missing_transition_id_accepted(current, proposed):
    draft = run_rule(
        RejectDuplicateTransitions,
        flow_run(),
        state(StateType.RUNNING, transition_id=current),
        state(StateType.COMPLETED, transition_id=proposed),
    )
    assert draft.status == SetStateStatus.ACCEPT


# KeepDeploymentConcurrencyLease


def test_lease_copied_when_proposal_has_none():
    draft = run_rule(
        KeepDeploymentConcurrencyLease,
        flow_run(),
        state(StateType.PENDING, deployment_concurrency_lease_id="lease-1"),
        state(StateType.PENDING, "Submitting", deployment_concurrency_lease_id=None),
    )
    assert draft.proposed_state is not None
    details = draft.proposed_state.state_details
    assert details["deployment_concurrency_lease_id"] == "lease-1"


def test_lease_on_proposal_kept():
    draft = run_rule(
        KeepDeploymentConcurrencyLease,
        flow_run(),
        state(StateType.PENDING, deployment_concurrency_lease_id="lease-1"),
        state(StateType.RUNNING, deployment_concurrency_lease_id="lease-2"),
    )
    assert draft.proposed_state is not None
    details = draft.proposed_state.state_details
    assert details["deployment_concurrency_lease_id"] == "lease-2"


# HandleTerminalFlowRunTransitions


@pytest.mark.parametrize(
    "proposed_type",
    [StateType.CANCELLING, StateType.PAUSED, StateType.CRASHED],
)
def test_terminal_flow_run_cannot_be_stopped_again(proposed_type: StateType):
    draft = run_rule(
        HandleTerminalFlowRunTransitions,
        flow_run(),
        state(StateType.FAILED),
        state(proposed_type),
    )
    assert_kept_current(draft, SetStateStatus.ABORT)


def test_completed_with_result_cannot_rerun():
    draft = run_rule(
        HandleTerminalFlowRunTransitions,
        flow_run(),
        state(StateType.COMPLETED, data=STORED_RESULT),
        state(StateType.RUNNING),
    )
    assert_kept_current(draft, SetStateStatus.REJECT)


def test_completed_with_result_keeps_it():
    draft = run_rule(
        HandleTerminalFlowRunTransitions,
        flow_run(),
        state(StateType.COMPLETED, data=STORED_RESULT),
        state(StateType.COMPLETED, data=UNPERSISTED_RESULT),
    )
    assert_kept_current(draft, SetStateStatus.REJECT)


def test_completed_with_result_may_fail():
    draft = run_rule(
        HandleTerminalFlowRunTransitions,
        flow_run(),
        state(StateType.COMPLETED, data=STORED_RESULT),
        state(StateType.FAILED),
    )
    assert draft.status == SetStateStatus.ACCEPT


def test_completed_without_result_may_rerun():
    run = flow_run(
        empirical_policy={"pause_keys": ["a"], "resuming": True, "retries": 2}
    )
    draft = run_rule(
        HandleTerminalFlowRunTransitions,
        run,
        state(StateType.COMPLETED, data=UNPERSISTED_RESULT),
        state(StateType.RUNNING),
    )
    assert draft.status == SetStateStatus.ACCEPT
    policy = draft.run.empirical_policy
    assert policy["pause_keys"] == []
    assert policy["resuming"] is False
    assert policy["retry_type"] is None
    assert policy["retries"] == 2


def test_terminal_run_without_deployment_cannot_reschedule():
    draft = run_rule(
        HandleTerminalFlowRunTransitions,
        flow_run(),
        state(StateType.FAILED),
        scheduled(NOW),
    )
    assert_kept_current(draft, SetStateStatus.ABORT)


def test_terminal_deployment_run_reschedules():
    draft = run_rule(
        HandleTerminalFlowRunTransitions,
        flow_run(deployment_id=DEPLOYMENT_ID),
        state(StateType.CANCELLED),
        scheduled(NOW),
    )
    assert draft.status == SetStateStatus.ACCEPT
    assert draft.run.empirical_policy["retry_type"] == "reschedule"


def test_terminal_to_terminal_keeps_policy():
    run = flow_run(empirical_policy={"pause_keys": ["a"]})
    draft = run_rule(
        HandleTerminalFlowRunTransitions,
        run,
        state(StateType.FAILED),
        state(StateType.COMPLETED),
    )
    assert draft.run.empirical_policy == {"pause_keys": ["a"]}


def test_terminal_rule_cleanup_restores_policy():
    run = flow_run(empirical_policy={"pause_keys": ["a"]})
    draft = TransitionDraft(
        run=run,
        initial_state=state(StateType.FAILED),
        proposed_state=state(StateType.RUNNING),
        now=NOW,
    )
    rule = HandleTerminalFlowRunTransitions(StateType.FAILED, StateType.RUNNING)
    rule.before(draft)
    draft.proposed_state = None  # a later rule nullified the transition
    rule.cleanup(draft)
    assert draft.run.empirical_policy == {"pause_keys": ["a"]}


# ProtectPersistedResults


def test_protect_results_rejects_overwrite():
    draft = run_rule(
        ProtectPersistedResults,
        flow_run(),
        state(StateType.COMPLETED, data=STORED_RESULT),
        state(StateType.COMPLETED),
    )
    assert_kept_current(draft, SetStateStatus.REJECT)


def test_protect_results_allows_new_result():
    draft = run_rule(
        ProtectPersistedResults,
        flow_run(),
        state(StateType.COMPLETED, data=STORED_RESULT),
        state(StateType.COMPLETED, data=STORED_RESULT),
    )
    assert draft.status == SetStateStatus.ACCEPT


# HandleCancellingTransitions


@pytest.mark.parametrize(
    "proposed_type",
    [
        StateType.COMPLETED,
        StateType.FAILED,
        StateType.CRASHED,
        StateType.RUNNING,
        StateType.CANCELLING,
    ],
)
def test_cancelling_run_only_becomes_cancelled(proposed_type: StateType):
    draft = run_rule(
        HandleCancellingTransitions,
        flow_run(),
        state(StateType.CANCELLING),
        state(proposed_type),
    )
    assert_kept_current(draft, SetStateStatus.REJECT)


def test_cancelling_to_cancelled_not_governed():
    assert not HandleCancellingTransitions.governs(
        StateType.CANCELLING, StateType.CANCELLED
    )


# CancelRunsWithoutInfrastructure


def test_scheduled_run_without_pid_cancelled():
    draft = run_rule(
        CancelRunsWithoutInfrastructure,
        flow_run(),
        scheduled(NOW + seconds(7200)),
        state(StateType.CANCELLING),
    )
    assert draft.status == SetStateStatus.REJECT
    assert draft.proposed_state is not None
    assert draft.proposed_state.type == StateType.CANCELLED
    assert draft.proposed_state.name == "Cancelled"
    assert draft.reason


def test_scheduled_run_with_pid_goes_cancelling():
    draft = run_rule(
        CancelRunsWithoutInfrastructure,
        flow_run(infrastructure_pid="4242"),
        scheduled(NOW, "AwaitingRetry"),
        state(StateType.CANCELLING),
    )
    assert draft.status == SetStateStatus.ACCEPT


def test_resuming_run_cancelled_despite_pid():
    draft = run_rule(
        CancelRunsWithoutInfrastructure,
        flow_run(infrastructure_pid="4242"),
        scheduled(NOW, "Resuming"),
        state(StateType.CANCELLING),
    )
    assert draft.proposed_state is not None
    assert draft.proposed_state.type == StateType.CANCELLED


def test_suspended_run_cancelled():
    draft = run_rule(
        CancelRunsWithoutInfrastructure,
        flow_run(infrastructure_pid="4242"),
        state(StateType.PAUSED, "Suspended", pause_reschedule=True),
        state(StateType.CANCELLING),
    )
    assert draft.proposed_state is not None
    assert draft.proposed_state.type == StateType.CANCELLED


def test_blocking_paused_run_goes_cancelling():
    draft = run_rule(
        CancelRunsWithoutInfrastructure,
        flow_run(),
        state(StateType.PAUSED, pause_reschedule=False),
        state(StateType.CANCELLING),
    )
    assert draft.status == SetStateStatus.ACCEPT


def test_pending_run_not_governed_by_infrastructure_rule():
    assert not CancelRunsWithoutInfrastructure.governs(
        StateType.PENDING, StateType.CANCELLING
    )


# HandlePausingFlowRuns


def test_pause_records_pause_key():
    draft = run_rule(
        HandlePausingFlowRuns,
        flow_run(empirical_policy={"pause_keys": ["a"]}),
        state(StateType.RUNNING),
        state(StateType.PAUSED, pause_key="b"),
    )
    assert draft.status == SetStateStatus.ACCEPT
    assert draft.run.empirical_policy["pause_keys"] == ["a", "b"]


def test_pause_without_key_gets_one():
    draft = run_rule(
        HandlePausingFlowRuns,
        flow_run(),
        state(StateType.RUNNING),
        state(StateType.PAUSED),
    )
    assert len(draft.run.empirical_policy["pause_keys"]) == 1


def test_pause_fires_once_per_key():
    draft = run_rule(
        HandlePausingFlowRuns,
        flow_run(empirical_policy={"pause_keys": ["a"]}),
        state(StateType.RUNNING),
        state(StateType.PAUSED, pause_key="a"),
    )
    assert_kept_current(draft, SetStateStatus.REJECT)
    assert draft.run.empirical_policy["pause_keys"] == ["a"]


def test_pause_requires_running_run():
    draft = run_rule(
        HandlePausingFlowRuns,
        flow_run(),
        state(StateType.PENDING),
        state(StateType.PAUSED, pause_key="a"),
    )
    assert_kept_current(draft, SetStateStatus.REJECT)
    assert draft.run.empirical_policy == {}


def test_pause_requires_a_state():
    draft = run_rule(HandlePausingFlowRuns, flow_run(), None, state(StateType.PAUSED))
    assert draft.status == SetStateStatus.ABORT
    assert draft.reason


def test_suspend_requires_deployment():
    draft = run_rule(
        HandlePausingFlowRuns,
        flow_run(),
        state(StateType.RUNNING),
        state(StateType.PAUSED, "Suspended", pause_reschedule=True, pause_key="a"),
    )
    assert_kept_current(draft, SetStateStatus.ABORT)
    assert "suspend" in (draft.reason or "")


def test_suspend_rejected_for_subflow():
    draft = run_rule(
        HandlePausingFlowRuns,
        flow_run(deployment_id=DEPLOYMENT_ID, parent_task_run_id=TASK_RUN_ID),
        state(StateType.RUNNING),
        state(StateType.PAUSED, "Suspended", pause_reschedule=True),
    )
    assert_kept_current(draft, SetStateStatus.ABORT)


def test_suspend_accepted_for_deployment_run():
    draft = run_rule(
        HandlePausingFlowRuns,
        flow_run(deployment_id=DEPLOYMENT_ID),
        state(StateType.RUNNING),
        state(StateType.PAUSED, "Suspended", pause_reschedule=True, pause_key="s"),
    )
    assert draft.status == SetStateStatus.ACCEPT
    assert draft.run.empirical_policy["pause_keys"] == ["s"]


# HandleResumingFlowRuns


@pytest.mark.parametrize("proposed_type", [StateType.PENDING, StateType.PAUSED])
def test_paused_run_cannot_enter(proposed_type: StateType):
    draft = run_rule(
        HandleResumingFlowRuns,
        flow_run(),
        state(StateType.PAUSED),
        state(proposed_type),
    )
    assert_kept_current(draft, SetStateStatus.REJECT)


def test_resume_marks_run_resuming():
    draft = run_rule(
        HandleResumingFlowRuns,
        flow_run(),
        state(StateType.PAUSED, pause_timeout=iso(NOW + seconds(60))),
        state(StateType.RUNNING),
    )
    assert draft.status == SetStateStatus.ACCEPT
    assert draft.run.empirical_policy["resuming"] is True


def test_timed_out_pause_fails_run():
    draft = run_rule(
        HandleResumingFlowRuns,
        flow_run(),
        state(StateType.PAUSED, pause_timeout=iso(NOW - seconds(1))),
        state(StateType.RUNNING),
    )
    assert draft.status == SetStateStatus.REJECT
    assert draft.proposed_state is not None
    assert draft.proposed_state.type == StateType.FAILED
    assert draft.proposed_state.message
    assert draft.reason


def test_timed_out_pause_may_still_cancel():
    draft = run_rule(
        HandleResumingFlowRuns,
        flow_run(),
        state(StateType.PAUSED, pause_timeout=iso(NOW - seconds(1))),
        state(StateType.CANCELLING),
    )
    assert draft.status == SetStateStatus.ACCEPT


def test_suspended_run_without_deployment_cannot_resume():
    draft = run_rule(
        HandleResumingFlowRuns,
        flow_run(),
        state(StateType.PAUSED, "Suspended", pause_reschedule=True),
        scheduled(NOW, "Resuming"),
    )
    assert_kept_current(draft, SetStateStatus.REJECT)


def test_suspended_run_resumes_through_schedule():
    draft = run_rule(
        HandleResumingFlowRuns,
        flow_run(deployment_id=DEPLOYMENT_ID, empirical_policy={"pause_keys": ["s"]}),
        state(StateType.PAUSED, "Suspended", pause_reschedule=True),
        scheduled(NOW, "Resuming"),
    )
    assert draft.status == SetStateStatus.ACCEPT
    assert draft.run.empirical_policy["resuming"] is True
    assert draft.run.empirical_policy["pause_keys"] == ["s"]


def test_blocking_pause_rescheduled_starts_fresh():
    draft = run_rule(
        HandleResumingFlowRuns,
        flow_run(empirical_policy={"pause_keys": ["a"], "resuming": True}),
        state(StateType.PAUSED),
        scheduled(NOW),
    )
    policy = draft.run.empirical_policy
    assert policy["resuming"] is False
    assert policy["pause_keys"] == []
    assert policy["retry_type"] == "reschedule"


# RetryFailedFlows


def test_failed_flow_with_retries_left_awaits_retry():
    run = flow_run(run_count=1, empirical_policy={"retries": 2, "retry_delay": 30})
    proposed = state(StateType.FAILED, message="boom", data={"type": "unpersisted"})
    draft = run_rule(RetryFailedFlows, run, state(StateType.RUNNING), proposed)
    assert draft.status == SetStateStatus.REJECT
    retry = draft.proposed_state
    assert retry is not None
    assert retry.type == StateType.SCHEDULED
    assert retry.name == "AwaitingRetry"
    assert retry.state_details["scheduled_time"] == iso(NOW + seconds(30))
    assert retry.message == "boom"
    assert retry.data == {"type": "unpersisted"}
    assert retry.timestamp == NOW
    assert draft.reason


def test_flow_retry_sets_in_process_policy():
    run = flow_run(
        run_count=1,
        empirical_policy={"retries": 1, "pause_keys": ["a"], "resuming": True},
    )
    draft = run_rule(
        RetryFailedFlows, run, state(StateType.RUNNING), state(StateType.FAILED)
    )
    policy = draft.run.empirical_policy
    assert policy["retry_type"] == "in_process"
    assert policy["pause_keys"] == []
    assert policy["resuming"] is False


def test_flow_retry_keeps_concurrency_lease():
    run = flow_run(run_count=1, empirical_policy={"retries": 1})
    current = state(StateType.RUNNING, deployment_concurrency_lease_id="lease-1")
    draft = run_rule(RetryFailedFlows, run, current, state(StateType.FAILED))
    assert draft.proposed_state is not None
    details = draft.proposed_state.state_details
    assert details["deployment_concurrency_lease_id"] == "lease-1"


def test_flow_retry_without_delay_is_due_now():
    run = flow_run(run_count=1, empirical_policy={"retries": 1, "retry_delay": None})
    draft = run_rule(
        RetryFailedFlows, run, state(StateType.RUNNING), state(StateType.FAILED)
    )
    assert draft.proposed_state is not None
    assert draft.proposed_state.state_details["scheduled_time"] == iso(NOW)


@pytest.mark.parametrize(("run_count", "retries"), [(2, 1), (1, 0), (1, None), (4, 3)])
def test_failed_flow_without_retries_left_fails(run_count, retries):
    run = flow_run(
        run_count=run_count,
        empirical_policy={"retries": retries, "retry_type": "in_process"},
    )
    draft = run_rule(
        RetryFailedFlows, run, state(StateType.RUNNING), state(StateType.FAILED)
    )
    assert draft.status == SetStateStatus.ACCEPT
    assert draft.proposed_state is not None
    assert draft.proposed_state.type == StateType.FAILED
    assert draft.run.empirical_policy["retry_type"] is None
