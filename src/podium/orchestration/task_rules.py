"""Rules that only govern task runs."""

from __future__ import annotations

import datetime as dt
from typing import Any

from podium.orchestration.context import StateType
from podium.orchestration.rules import (
    ANY_STATE,
    TERMINAL_STATES,
    OrchestrationRule,
    TransitionDraft,
    format_time,
    has_persisted_result,
    new_state,
)


class HandleTerminalTaskRunTransitions(OrchestrationRule):
    """Decide whether a finished task run may leave its terminal state.

    A finished task run cannot become CANCELLING, PAUSED or CRASHED, and a
    COMPLETED one with a stored result cannot change at all. A task run that
    runs again starts its own retry count from zero. When it runs again
    because its flow run is retrying, its RUNNING state is named "Retrying".
    """

    FROM_STATES = TERMINAL_STATES
    TO_STATES = ANY_STATE

    def before(self, draft: TransitionDraft) -> None:
        initial, proposed = draft.initial_state, draft.proposed_state
        if initial is None or proposed is None:
            return
        self.original_run_count = draft.run.run_count

        if proposed.type in (
            StateType.CANCELLING,
            StateType.PAUSED,
            StateType.CRASHED,
        ):
            self.abort(draft, f"The run is already {initial.type.value}.")
            return

        if initial.type == StateType.COMPLETED and has_persisted_result(initial.data):
            self.reject(draft, None, "The run is already COMPLETED with a result.")
            return

        if not proposed.is_terminal:
            draft.update_run(run_count=0)

        run = draft.run
        flow_run_retrying = (
            run.flow_run_id is not None
            and run.flow_run_run_count < run.flow_run_current_run_count
        )
        if proposed.type == StateType.RUNNING and flow_run_retrying:
            self.rename(draft, "Retrying")

    def cleanup(self, draft: TransitionDraft) -> None:
        draft.update_run(run_count=self.original_run_count)


class PreventRunningTasksFromStoppedFlows(OrchestrationRule):
    """Let a task run start only while its flow run is RUNNING.

    A task run of a PAUSED flow run gets a PAUSED "NotReady" state instead,
    which copies the flow run's pause timeout. Task runs without a flow
    run are not checked.
    """

    FROM_STATES = ANY_STATE
    TO_STATES = frozenset({StateType.RUNNING})

    def before(self, draft: TransitionDraft) -> None:
        run = draft.run
        if run.flow_run_id is None:
            return
        flow_run_state = run.flow_run_state

        if flow_run_state is None:
            self.abort(draft, "The flow run has no state, so its tasks cannot run.")
        elif flow_run_state.type == StateType.PAUSED:
            flow_details = flow_run_state.state_details
            not_ready = new_state(
                StateType.PAUSED,
                "NotReady",
                draft.now,
                details={
                    "pause_timeout": flow_details.get("pause_timeout"),
                    "pause_reschedule": bool(flow_details.get("pause_reschedule")),
                    "pause_key": None,
                },
            )
            self.reject(
                draft,
                not_ready,
                f"The flow run {run.flow_run_id} is paused; its tasks can run "
                "after it resumes.",
            )
        elif flow_run_state.type != StateType.RUNNING:
            self.abort(
                draft,
                f"The flow run is {flow_run_state.type.value}, so its tasks "
                "cannot run.",
            )


class RetryFailedTasks(OrchestrationRule):
    """Turn a task failure into a scheduled retry while retries are left.

    `retry_delay` is one number of seconds or a list with one entry per
    attempt, the last entry repeating. A failure that the client marks as
    not `retriable` is accepted.
    """

    FROM_STATES = frozenset({StateType.RUNNING})
    TO_STATES = frozenset({StateType.FAILED})

    def before(self, draft: TransitionDraft) -> None:
        initial, proposed = draft.initial_state, draft.proposed_state
        if initial is None or proposed is None:
            return
        if proposed.state_details.get("retriable") is False:
            return

        policy = draft.run.empirical_policy
        retries = policy.get("retries")
        if retries is None or draft.run.run_count > retries:
            return

        # TODO: Prefect 3.9.1 also spreads this delay by retry_jitter_factor.
        # Current clients schedule task retries themselves, so it is left out.
        delay = retry_delay_seconds(policy.get("retry_delay"), draft.run.run_count)
        scheduled_time = draft.now + dt.timedelta(seconds=delay)
        awaiting_retry = new_state(
            StateType.SCHEDULED,
            "AwaitingRetry",
            draft.now,
            message=proposed.message,
            data=proposed.data,
            details={"scheduled_time": format_time(scheduled_time)},
        )
        self.reject(draft, awaiting_retry, "The task run has retries left.")


def retry_delay_seconds(retry_delay: Any, run_count: int) -> float:
    """Return the delay before the retry that follows attempt `run_count`."""
    if isinstance(retry_delay, list):
        if not retry_delay:
            return 0.0
        # A run failing from RUNNING has run_count >= 1. At 0 the index is -1,
        # which reads the last entry, as Prefect 3.9.1 does.
        index = min(run_count - 1, len(retry_delay) - 1)
        return float(retry_delay[index])
    return float(retry_delay or 0)


class RenameReruns(OrchestrationRule):
    """Name the RUNNING state of a task run that has run before.

    It becomes "Retrying" after an AwaitingRetry state and "Rerunning"
    otherwise.
    """

    FROM_STATES = ANY_STATE
    TO_STATES = frozenset({StateType.RUNNING})

    def before(self, draft: TransitionDraft) -> None:
        initial = draft.initial_state
        if initial is None or draft.proposed_state is None:
            return
        if draft.run.run_count > 0:
            retrying = initial.name == "AwaitingRetry"
            self.rename(draft, "Retrying" if retrying else "Rerunning")


class TrackFlowRunAttempt(OrchestrationRule):
    """Record which attempt of its flow run a task run started in."""

    FROM_STATES = ANY_STATE
    TO_STATES = frozenset({StateType.RUNNING})

    def after(self, draft: TransitionDraft) -> None:
        if draft.run.flow_run_id is not None:
            draft.update_run(flow_run_run_count=draft.run.flow_run_current_run_count)


class CopyTaskParametersId(OrchestrationRule):
    """Carry a background task run's `task_parameters_id` to its next state.

    An id proposed on the new state wins.
    """

    FROM_STATES = frozenset({StateType.SCHEDULED, StateType.PENDING})
    TO_STATES = frozenset({StateType.PENDING, StateType.RUNNING})

    def before(self, draft: TransitionDraft) -> None:
        initial, proposed = draft.initial_state, draft.proposed_state
        if initial is None or proposed is None:
            return
        if not proposed.state_details.get("task_parameters_id"):
            draft.update_proposed_details(
                task_parameters_id=initial.state_details.get("task_parameters_id")
            )
