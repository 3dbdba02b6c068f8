"""Rules that only govern flow runs: retries, cancellation, pauses, terminal states."""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import uuid4

from podium.orchestration.context import StateType
from podium.orchestration.rules import (
    ANY_STATE,
    TERMINAL_STATES,
    OrchestrationRule,
    TransitionDraft,
    format_time,
    has_persisted_result,
    new_state,
    parse_time,
)

STATES_A_PAUSED_RUN_MAY_ENTER = frozenset(
    {StateType.RUNNING, StateType.SCHEDULED, StateType.CANCELLING}
    | {state for state in TERMINAL_STATES if state is not None}
)


class KeepDeploymentConcurrencyLease(OrchestrationRule):
    """Carry the deployment concurrency lease id over to the next state.

    Workers send the field as null on their own PENDING sub-states, which
    would otherwise drop the lease the run holds.
    """

    FROM_STATES = ANY_STATE
    TO_STATES = ANY_STATE

    def before(self, draft: TransitionDraft) -> None:
        initial, proposed = draft.initial_state, draft.proposed_state
        if initial is None or proposed is None:
            return
        lease_id = initial.state_details.get("deployment_concurrency_lease_id")
        if lease_id and not proposed.state_details.get(
            "deployment_concurrency_lease_id"
        ):
            draft.update_proposed_details(deployment_concurrency_lease_id=lease_id)


class RejectDuplicateTransitions(OrchestrationRule):
    """Reject a proposal that repeats the transition id of the current state.

    A client that lost the response to an accepted transition retries it with
    the same `transition_id`. It gets the current state back and nothing new
    is written.
    """

    FROM_STATES = ANY_STATE
    TO_STATES = ANY_STATE

    def before(self, draft: TransitionDraft) -> None:
        initial, proposed = draft.initial_state, draft.proposed_state
        if initial is None or proposed is None:
            return
        current_id = initial.state_details.get("transition_id")
        proposed_id = proposed.state_details.get("transition_id")
        repeated = (
            current_id is not None
            and proposed_id is not None
            and str(current_id) == str(proposed_id)
        )
        if repeated:
            self.reject(draft, None, "The run has already made this transition.")


class HandleTerminalFlowRunTransitions(OrchestrationRule):
    """Decide whether a finished flow run may leave its terminal state.

    A finished run cannot become CANCELLING, PAUSED or CRASHED, a COMPLETED
    run with a stored result cannot be run again or lose that result, and
    only runs of a deployment can be rescheduled. A run that is re-run starts
    with fresh pause bookkeeping.
    """

    FROM_STATES = TERMINAL_STATES
    TO_STATES = ANY_STATE

    def before(self, draft: TransitionDraft) -> None:
        initial, proposed = draft.initial_state, draft.proposed_state
        if initial is None or proposed is None:
            return
        self.original_policy = draft.run.empirical_policy

        if proposed.type in (
            StateType.CANCELLING,
            StateType.PAUSED,
            StateType.CRASHED,
        ):
            self.abort(
                draft,
                f"The run is already in the terminal state {initial.type.value}.",
            )
            return

        completed_with_result = initial.type == StateType.COMPLETED and (
            has_persisted_result(initial.data)
        )
        if completed_with_result and not proposed.is_terminal:
            self.reject(draft, None, "The run is already COMPLETED with a result.")
            return
        if (
            completed_with_result
            and proposed.type == StateType.COMPLETED
            and not has_persisted_result(proposed.data)
        ):
            self.reject(
                draft,
                None,
                "A COMPLETED state with a stored result cannot be replaced by "
                "one without a result.",
            )
            return

        if proposed.type == StateType.SCHEDULED and draft.run.deployment_id is None:
            self.abort(draft, "A run without a deployment cannot be rescheduled.")
            return

        if not proposed.is_terminal:
            retry_type = "reschedule" if proposed.type == StateType.SCHEDULED else None
            draft.update_policy(resuming=False, pause_keys=[], retry_type=retry_type)

    def cleanup(self, draft: TransitionDraft) -> None:
        draft.update_run(empirical_policy=self.original_policy)


class ProtectPersistedResults(OrchestrationRule):
    """Keep a stored result when a COMPLETED run is completed again.

    Forced transitions skip the other rules but still apply this one.
    """

    FROM_STATES = TERMINAL_STATES
    TO_STATES = TERMINAL_STATES

    def before(self, draft: TransitionDraft) -> None:
        initial, proposed = draft.initial_state, draft.proposed_state
        if initial is None or proposed is None:
            return
        if (
            initial.type == StateType.COMPLETED
            and proposed.type == StateType.COMPLETED
            and has_persisted_result(initial.data)
            and not has_persisted_result(proposed.data)
        ):
            self.reject(
                draft,
                None,
                "A COMPLETED state with a stored result cannot be replaced by "
                "one without a result.",
            )


class HandleCancellingTransitions(OrchestrationRule):
    """Allow a CANCELLING run to move only to CANCELLED."""

    FROM_STATES = frozenset({StateType.CANCELLING})
    TO_STATES = ANY_STATE - {StateType.CANCELLED}

    def before(self, draft: TransitionDraft) -> None:
        self.reject(
            draft,
            None,
            "A run that is being cancelled can only move to CANCELLED.",
        )


class CancelRunsWithoutInfrastructure(OrchestrationRule):
    """Cancel at once a run that has no infrastructure left to stop.

    A CANCELLING state makes a worker tear down the run's infrastructure. A
    scheduled run without an `infrastructure_pid`, a run "Resuming" from a
    suspension, and a suspended run (PAUSED with `pause_reschedule`) have
    none, so they become CANCELLED instead. A scheduled "AwaitingRetry" run
    may still have a process, which its `infrastructure_pid` shows.
    """

    FROM_STATES = frozenset({StateType.SCHEDULED, StateType.PAUSED})
    TO_STATES = frozenset({StateType.CANCELLING})

    def before(self, draft: TransitionDraft) -> None:
        initial = draft.initial_state
        if initial is None or draft.proposed_state is None:
            return

        if initial.type == StateType.SCHEDULED and (
            not draft.run.infrastructure_pid or initial.name == "Resuming"
        ):
            reason = "The scheduled run has no infrastructure to stop."
        elif initial.type == StateType.PAUSED and initial.state_details.get(
            "pause_reschedule"
        ):
            reason = "The suspended run has no infrastructure to stop."
        else:
            return

        cancelled = new_state(StateType.CANCELLED, "Cancelled", draft.now)
        self.reject(draft, cancelled, reason)


class HandlePausingFlowRuns(OrchestrationRule):
    """Govern a RUNNING flow run that pauses or suspends itself.

    Each pause fires once per run attempt: its `pause_key` (a fresh one when
    the client sends none) is recorded in `empirical_policy.pause_keys`. A
    suspension (`pause_reschedule`) tears the run down and reschedules it, so
    it needs a deployment and cannot apply to a subflow.
    """

    FROM_STATES = ANY_STATE
    TO_STATES = frozenset({StateType.PAUSED})

    def before(self, draft: TransitionDraft) -> None:
        initial, proposed = draft.initial_state, draft.proposed_state
        self.pause_key: str | None = None
        if proposed is None:
            return
        verb = "suspend" if proposed.name == "Suspended" else "pause"

        if initial is None:
            self.abort(draft, f"Cannot {verb} a flow run that has no state.")
            return
        if initial.type != StateType.RUNNING:
            self.reject(draft, None, f"Cannot {verb} a flow run that is not running.")
            return

        pause_key = proposed.state_details.get("pause_key") or str(uuid4())
        if pause_key in (draft.run.empirical_policy.get("pause_keys") or []):
            self.reject(draft, None, f"This {verb} has already fired.")
            return
        self.pause_key = pause_key

        if proposed.state_details.get("pause_reschedule"):
            if draft.run.parent_task_run_id is not None:
                self.abort(draft, f"Cannot {verb} a subflow run.")
            elif draft.run.deployment_id is None:
                self.abort(draft, f"Cannot {verb} a flow run without a deployment.")

    def after(self, draft: TransitionDraft) -> None:
        if self.pause_key is None:
            return
        pause_keys = list(draft.run.empirical_policy.get("pause_keys") or [])
        if self.pause_key not in pause_keys:
            pause_keys.append(self.pause_key)
        draft.update_policy(pause_keys=pause_keys)
        # TODO: storage should delete the flow run inputs named by the accepted
        # state's run_input_keyset; a pure rule cannot.


class HandleResumingFlowRuns(OrchestrationRule):
    """Govern a PAUSED flow run that resumes, is rescheduled, cancelled or ends.

    A pause whose `pause_timeout` has passed can no longer resume: the run
    fails instead, unless it is being cancelled. Resuming marks the run as
    `resuming` so that re-entering RUNNING does not count as a new attempt.
    A blocking pause left for SCHEDULED means the process is gone, so the run
    starts a new attempt with fresh pause bookkeeping.
    """

    FROM_STATES = frozenset({StateType.PAUSED})
    TO_STATES = ANY_STATE

    def before(self, draft: TransitionDraft) -> None:
        initial, proposed = draft.initial_state, draft.proposed_state
        if initial is None or proposed is None:
            return

        if proposed.type not in STATES_A_PAUSED_RUN_MAY_ENTER:
            self.reject(
                draft,
                None,
                f"A {initial.type.value} run cannot move to {proposed.type.value}.",
            )
            return

        verb = "suspension" if proposed.name == "Suspended" else "pause"
        display_name = (proposed.name or proposed.type.value).lower()
        if initial.state_details.get("pause_reschedule") and (
            draft.run.deployment_id is None
        ):
            self.reject(
                draft,
                None,
                f"Cannot reschedule a {display_name} flow run without a deployment.",
            )
            return

        if proposed.type == StateType.CANCELLING:
            # A blocking pause keeps its process alive, so cancellation must
            # reach the worker even after the pause has timed out.
            return

        pause_timeout = parse_time(initial.state_details.get("pause_timeout"))
        if pause_timeout is not None and pause_timeout < draft.now:
            failed = new_state(
                StateType.FAILED,
                "Failed",
                draft.now,
                message=f"The flow was {display_name} and never resumed.",
            )
            self.reject(
                draft, failed, f"The {verb} timed out and the run cannot resume."
            )

    def after(self, draft: TransitionDraft) -> None:
        initial = draft.initial_state
        settled = draft.proposed_state or initial
        blocking_pause_rescheduled = (
            initial is not None
            and not initial.state_details.get("pause_reschedule")
            and settled is not None
            and settled.type == StateType.SCHEDULED
        )
        if blocking_pause_rescheduled:
            draft.update_policy(resuming=False, pause_keys=[], retry_type="reschedule")
        else:
            # NOTE: Prefect 3.9.1 also sets this when it rejects the proposal
            # and the run stays PAUSED; Podium keeps that behaviour.
            draft.update_policy(resuming=True)


class RetryFailedFlows(OrchestrationRule):
    """Turn a failure into a scheduled retry while the run has retries left.

    `empirical_policy.retries` counts retries after the first attempt, so a
    run retries while `run_count <= retries`. The AwaitingRetry state keeps
    the failure's message and data and is scheduled `retry_delay` seconds out.
    """

    FROM_STATES = frozenset({StateType.RUNNING})
    TO_STATES = frozenset({StateType.FAILED})

    def before(self, draft: TransitionDraft) -> None:
        initial, proposed = draft.initial_state, draft.proposed_state
        if initial is None or proposed is None:
            return

        retries = draft.run.empirical_policy.get("retries")
        if retries is None or draft.run.run_count > retries:
            # Leave retry_type free for a later manual or infrastructure retry.
            draft.update_policy(retry_type=None)
            return

        retry_delay = draft.run.empirical_policy.get("retry_delay") or 0
        scheduled_time = draft.now + dt.timedelta(seconds=retry_delay)
        draft.update_policy(resuming=False, pause_keys=[], retry_type="in_process")
        details: dict[str, Any] = {"scheduled_time": format_time(scheduled_time)}
        lease_id = initial.state_details.get("deployment_concurrency_lease_id")
        if lease_id:
            # The retry runs in the same process, which keeps renewing the lease.
            details["deployment_concurrency_lease_id"] = lease_id

        awaiting_retry = new_state(
            StateType.SCHEDULED,
            "AwaitingRetry",
            draft.now,
            message=proposed.message,
            data=proposed.data,
            details=details,
        )
        self.reject(draft, awaiting_retry, "The run has retries left.")
