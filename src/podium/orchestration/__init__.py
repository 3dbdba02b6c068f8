"""The orchestration core: states, transition rules and policies.

Everything here is pure: no IO, no SQL, no settings and no clock other than
the `now` a caller passes in. Storage loads a run into a `TransitionContext`,
calls `orchestrate`, and persists what the `TransitionResult` says.
"""

from podium.orchestration.context import (
    RunKind,
    RunSnapshot,
    SetStateStatus,
    StateSnapshot,
    StateType,
    TransitionContext,
    TransitionResult,
)
from podium.orchestration.policies import orchestrate

__all__ = [
    "RunKind",
    "RunSnapshot",
    "SetStateStatus",
    "StateSnapshot",
    "StateType",
    "TransitionContext",
    "TransitionResult",
    "orchestrate",
]
