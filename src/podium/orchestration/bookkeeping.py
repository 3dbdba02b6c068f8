"""Transforms that record a transition's outcome on the run's columns.

They run after the rules, on every transition that writes a state (forced
ones too), and see the state that will be written, which may be one a rule
substituted.
"""

from __future__ import annotations

import datetime as dt

from podium.orchestration.context import RunKind, StateSnapshot, StateType
from podium.orchestration.rules import (
    BookkeepingTransform,
    TransitionDraft,
    parse_time,
)


class SeparateStateTimestamps(BookkeepingTransform):
    """Move a flow run state 1 microsecond past the current state's timestamp.

    Two states written within one clock tick would otherwise share a
    timestamp, and a flow run's states are ordered by it.
    """

    def apply(self, draft: TransitionDraft, proposed: StateSnapshot) -> None:
        initial = draft.initial_state
        if initial is not None and proposed.timestamp == initial.timestamp:
            later = proposed.timestamp + dt.timedelta(microseconds=1)
            draft.update_proposed(timestamp=later)


class SetStartTime(BookkeepingTransform):
    """Record when the run first entered RUNNING."""

    def apply(self, draft: TransitionDraft, proposed: StateSnapshot) -> None:
        if proposed.type == StateType.RUNNING and draft.run.start_time is None:
            draft.update_run(start_time=proposed.timestamp)


class SetEndTime(BookkeepingTransform):
    """Record when the run finished, and forget it when the run leaves the end.

    A run that finishes without ever running also gets its start time. A
    move between two terminal states keeps the first end time.
    """

    def apply(self, draft: TransitionDraft, proposed: StateSnapshot) -> None:
        initial = draft.initial_state
        if initial is not None and initial.is_terminal and not proposed.is_terminal:
            draft.update_run(end_time=None)

        if proposed.is_terminal and draft.run.end_time is None:
            if draft.run.start_time is None:
                draft.update_run(start_time=proposed.timestamp)
            draft.update_run(end_time=proposed.timestamp)


class IncrementRunTime(BookkeepingTransform):
    """Add the time spent in the RUNNING state that the run is leaving."""

    def apply(self, draft: TransitionDraft, proposed: StateSnapshot) -> None:
        initial = draft.initial_state
        if initial is not None and initial.type == StateType.RUNNING:
            elapsed = (proposed.timestamp - initial.timestamp).total_seconds()
            draft.update_run(total_run_time=draft.run.total_run_time + elapsed)


class SetExpectedStartTime(BookkeepingTransform):
    """Estimate when the run should start, once, from its first written state.

    That is the scheduled time of a SCHEDULED state and otherwise the state's
    timestamp.
    """

    def apply(self, draft: TransitionDraft, proposed: StateSnapshot) -> None:
        if draft.run.expected_start_time is not None:
            return
        if proposed.type == StateType.SCHEDULED:
            expected = parse_time(proposed.state_details.get("scheduled_time"))
        else:
            expected = proposed.timestamp
        draft.update_run(expected_start_time=expected)


class SetNextScheduledStartTime(BookkeepingTransform):
    """Keep the scheduled time of a SCHEDULED run on the run, and clear it after."""

    def apply(self, draft: TransitionDraft, proposed: StateSnapshot) -> None:
        initial = draft.initial_state
        if initial is not None and initial.type == StateType.SCHEDULED:
            draft.update_run(next_scheduled_start_time=None)
        if proposed.type == StateType.SCHEDULED:
            scheduled_time = parse_time(proposed.state_details.get("scheduled_time"))
            draft.update_run(next_scheduled_start_time=scheduled_time)


class LinkStateToRun(BookkeepingTransform):
    """Set the run ids in the state's details.

    A subflow run's states also name the parent task run that tracks it, as
    `task_run_id`.
    """

    def apply(self, draft: TransitionDraft, proposed: StateSnapshot) -> None:
        run = draft.run
        if run.kind == RunKind.FLOW_RUN:
            draft.update_proposed_details(flow_run_id=str(run.id))
            if run.parent_task_run_id is not None:
                draft.update_proposed_details(task_run_id=str(run.parent_task_run_id))
        else:
            flow_run_id = str(run.flow_run_id) if run.flow_run_id else None
            draft.update_proposed_details(
                flow_run_id=flow_run_id, task_run_id=str(run.id)
            )


class IncrementFlowRunCount(BookkeepingTransform):
    """Count each attempt of a flow run: every entry into RUNNING but a resume."""

    def apply(self, draft: TransitionDraft, proposed: StateSnapshot) -> None:
        if proposed.type != StateType.RUNNING:
            return
        if draft.run.empirical_policy.get("resuming"):
            return
        draft.update_run(run_count=draft.run.run_count + 1)


class ClearResumingFlag(BookkeepingTransform):
    """Clear `empirical_policy.resuming` once the flow run runs or finishes."""

    def apply(self, draft: TransitionDraft, proposed: StateSnapshot) -> None:
        runs_or_ends = proposed.type == StateType.RUNNING or proposed.is_terminal
        if runs_or_ends and draft.run.empirical_policy.get("resuming"):
            draft.update_policy(resuming=False)


class IncrementTaskRunCount(BookkeepingTransform):
    """Count each entry of a task run into RUNNING."""

    def apply(self, draft: TransitionDraft, proposed: StateSnapshot) -> None:
        if proposed.type == StateType.RUNNING:
            draft.update_run(run_count=draft.run.run_count + 1)


COMMON_BOOKKEEPING: tuple[type[BookkeepingTransform], ...] = (
    SetStartTime,
    SetEndTime,
    IncrementRunTime,
    SetExpectedStartTime,
    SetNextScheduledStartTime,
    LinkStateToRun,
)

FLOW_RUN_BOOKKEEPING: tuple[type[BookkeepingTransform], ...] = (
    SeparateStateTimestamps,
    *COMMON_BOOKKEEPING,
    IncrementFlowRunCount,
    ClearResumingFlag,
)

TASK_RUN_BOOKKEEPING: tuple[type[BookkeepingTransform], ...] = (
    *COMMON_BOOKKEEPING,
    IncrementTaskRunCount,
)


def record_transition(draft: TransitionDraft) -> None:
    """Apply the run kind's bookkeeping, unless the rules left nothing to write."""
    transforms = (
        FLOW_RUN_BOOKKEEPING
        if draft.run.kind == RunKind.FLOW_RUN
        else TASK_RUN_BOOKKEEPING
    )
    for transform_type in transforms:
        # Each transform reads the state as amended by the ones before it.
        if draft.proposed_state is None:
            return
        transform_type().apply(draft, draft.proposed_state)
