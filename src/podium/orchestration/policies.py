"""Ordered rule sets for flow runs and task runs."""

from __future__ import annotations

from podium.orchestration.context import (
    SetStateStatus,
    TransitionContext,
    TransitionResult,
)


def orchestrate(context: TransitionContext) -> TransitionResult:
    """Decide a proposed transition.

    TODO: placeholder that accepts everything until the rule sets land.
    """
    return TransitionResult(
        status=SetStateStatus.ACCEPT, state=context.proposed_state, write_state=True
    )
