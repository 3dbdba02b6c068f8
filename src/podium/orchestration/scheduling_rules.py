"""Rules about when a run may be submitted and start: shared by flow and task runs."""

from __future__ import annotations

import datetime as dt
import math

from podium.orchestration.context import StateType
from podium.orchestration.rules import (
    ANY_STATE,
    OrchestrationRule,
    TransitionDraft,
    parse_time,
)


class PreventPendingTransitions(OrchestrationRule):
    """Abort PENDING proposals for runs that are already submitted or stopped.

    A worker proposes PENDING before it submits a run, so a second worker
    that picks up the same run must be stopped here. A PENDING run may still
    move through named PENDING sub-states (for example Pending, Submitting,
    InfrastructurePending) as long as the new name differs and is not the
    plain "Pending" a second worker would send. Cancelled runs are re-run
    through SCHEDULED (deployments) or straight to RUNNING, never PENDING.
    """

    FROM_STATES = frozenset(
        {
            StateType.PENDING,
            StateType.RUNNING,
            StateType.CANCELLING,
            StateType.CANCELLED,
        }
    )
    TO_STATES = frozenset({StateType.PENDING})

    def before(self, draft: TransitionDraft) -> None:
        initial, proposed = draft.initial_state, draft.proposed_state
        if initial is None or proposed is None:
            return

        renames_pending_sub_state = (
            initial.type == StateType.PENDING
            and initial.name != proposed.name
            and proposed.name != "Pending"
        )
        if renames_pending_sub_state:
            # Earlier rules stored these on the first PENDING state; keep them.
            details = initial.state_details
            draft.update_proposed_details(
                scheduled_time=details.get("scheduled_time"),
                deployment_concurrency_lease_id=details.get(
                    "deployment_concurrency_lease_id"
                ),
            )
            return

        self.abort(
            draft,
            f"The run is already {initial.type.value} and cannot be moved to "
            "PENDING again.",
        )


class CopyScheduledTime(OrchestrationRule):
    """Carry the scheduled time of a SCHEDULED state over to the PENDING one.

    A scheduled time proposed on the PENDING state itself wins.
    """

    FROM_STATES = frozenset({StateType.SCHEDULED})
    TO_STATES = frozenset({StateType.PENDING})

    def before(self, draft: TransitionDraft) -> None:
        initial, proposed = draft.initial_state, draft.proposed_state
        if initial is None or proposed is None:
            return
        if not proposed.state_details.get("scheduled_time"):
            draft.update_proposed_details(
                scheduled_time=initial.state_details.get("scheduled_time")
            )


class WaitForScheduledTime(OrchestrationRule):
    """Make a run wait until its scheduled time, by the server's clock, to start.

    Only RUNNING proposals wait. Submitting a scheduled run early
    (SCHEDULED to PENDING) is allowed, and the scheduled time travels on the
    PENDING state, so PENDING to RUNNING waits instead.
    """

    FROM_STATES = frozenset({StateType.SCHEDULED, StateType.PENDING})
    TO_STATES = frozenset({StateType.RUNNING})

    def before(self, draft: TransitionDraft) -> None:
        initial = draft.initial_state
        if initial is None or draft.proposed_state is None:
            return
        scheduled_time = parse_time(initial.state_details.get("scheduled_time"))
        if scheduled_time is None:
            return

        delay_seconds = round_delay_seconds(scheduled_time - draft.now)
        if delay_seconds > 0:
            self.wait(draft, delay_seconds, "The scheduled time is in the future.")


def round_delay_seconds(delay: dt.timedelta) -> int:
    """Round a delay to whole seconds, as WAIT responses carry an integer.

    A fraction above one half rounds up. An exact half rounds down, which is
    what Prefect 3.9.1 does.
    """
    whole_seconds = math.floor(delay.total_seconds())
    fraction = delay.microseconds / 1_000_000
    return whole_seconds + (1 if fraction > 0.5 else 0)


class MarkOnlyScheduledRunsLate(OrchestrationRule):
    """Reject a "Late" state for runs that are not scheduled or already late."""

    FROM_STATES = ANY_STATE
    TO_STATES = frozenset({StateType.SCHEDULED})

    def before(self, draft: TransitionDraft) -> None:
        initial, proposed = draft.initial_state, draft.proposed_state
        if initial is None or proposed is None or proposed.name != "Late":
            return
        if initial.type != StateType.SCHEDULED:
            self.reject(draft, None, "Only scheduled runs can be marked late.")
        elif initial.name == "Late":
            self.reject(draft, None, "The run is already marked late.")
