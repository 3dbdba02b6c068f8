"""The machinery that orchestration rules and bookkeeping transforms run on.

A policy runs in two passes over one `TransitionDraft`:

1. Every rule whose `FROM_STATES` and `TO_STATES` match the requested
   transition runs `before` in policy order. A rule is skipped when an
   earlier rule has already changed the transition (rejected it with another
   state, or nullified it with a WAIT, ABORT or a reject to the current
   state). Renaming a state or editing its details does not change the
   transition, so later rules still run.
2. Bookkeeping transforms then update the run's columns from the state that
   will be written; they do nothing when no state will be written.

Finally each rule that ran `before` gets `after` if the transition is still
the one it saw (or the one it produced itself), or `cleanup` to undo its
changes to the run if a later rule changed the transition.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, ClassVar
from uuid import uuid4

from podium.orchestration.context import (
    RunSnapshot,
    SetStateStatus,
    StateSnapshot,
    StateType,
    TransitionContext,
)

ANY_STATE: frozenset[StateType | None] = frozenset([*StateType, None])
TERMINAL_STATES: frozenset[StateType | None] = frozenset(
    {StateType.COMPLETED, StateType.FAILED, StateType.CANCELLED, StateType.CRASHED}
)


@dataclass
class TransitionDraft:
    """The mutable working copy of a transition while a policy runs.

    `proposed_state` becomes None when a rule decides that nothing is written
    (a reject that keeps the current state, a WAIT or an ABORT). `run` is
    replaced, never mutated, when a rule changes a run column.
    """

    run: RunSnapshot
    initial_state: StateSnapshot | None
    proposed_state: StateSnapshot | None
    now: dt.datetime
    status: SetStateStatus = SetStateStatus.ACCEPT
    reason: str | None = None
    delay_seconds: int | None = None

    @classmethod
    def from_context(cls, context: TransitionContext) -> TransitionDraft:
        return cls(
            run=context.run,
            initial_state=context.initial_state,
            proposed_state=context.proposed_state,
            now=context.now,
        )

    @property
    def initial_type(self) -> StateType | None:
        return self.initial_state.type if self.initial_state else None

    @property
    def proposed_type(self) -> StateType | None:
        return self.proposed_state.type if self.proposed_state else None

    def update_run(self, **columns: Any) -> None:
        self.run = dataclasses.replace(self.run, **columns)

    def update_policy(self, **settings: Any) -> None:
        """Replace keys of the run's `empirical_policy`, keeping the others."""
        self.update_run(empirical_policy={**self.run.empirical_policy, **settings})

    def update_proposed(self, **fields: Any) -> None:
        if self.proposed_state is not None:
            self.proposed_state = dataclasses.replace(self.proposed_state, **fields)

    def update_proposed_details(self, **details: Any) -> None:
        if self.proposed_state is not None:
            merged = {**self.proposed_state.state_details, **details}
            self.update_proposed(state_details=merged)


class OrchestrationRule:
    """A rule that may accept, amend, reject, delay or abort a transition.

    Subclasses set `FROM_STATES` and `TO_STATES` (None stands for "no state")
    and override `before`, and `after` or `cleanup` where they change the run.
    Each orchestration makes fresh instances, so a rule may keep what it saw
    in `before` on `self` for `cleanup`.
    """

    FROM_STATES: ClassVar[frozenset[StateType | None]] = frozenset()
    TO_STATES: ClassVar[frozenset[StateType | None]] = frozenset()

    def __init__(self, from_type: StateType | None, to_type: StateType | None):
        self.from_type = from_type
        self.to_type = to_type

    @classmethod
    def governs(cls, from_type: StateType | None, to_type: StateType | None) -> bool:
        return from_type in cls.FROM_STATES and to_type in cls.TO_STATES

    def sees_own_transition(self, draft: TransitionDraft) -> bool:
        """Tell whether the draft still proposes the transition this rule saw."""
        return (
            draft.initial_type == self.from_type and draft.proposed_type == self.to_type
        )

    def before(self, draft: TransitionDraft) -> None:
        """Inspect the proposal and decide, before anything is written."""

    def after(self, draft: TransitionDraft) -> None:
        """Update the run once the transition this rule saw is settled."""

    def cleanup(self, draft: TransitionDraft) -> None:
        """Undo what `before` changed on the run after a later rule intervened."""

    def reject(
        self, draft: TransitionDraft, state: StateSnapshot | None, reason: str
    ) -> None:
        """Refuse the proposal, writing `state` instead, or nothing when None."""
        draft.proposed_state = state
        draft.status = SetStateStatus.REJECT
        draft.reason = reason
        self.to_type = state.type if state is not None else None

    def wait(self, draft: TransitionDraft, delay_seconds: int, reason: str) -> None:
        """Tell the client to propose the same transition again after a delay."""
        draft.proposed_state = None
        draft.status = SetStateStatus.WAIT
        draft.reason = reason
        draft.delay_seconds = delay_seconds
        self.to_type = None

    def abort(self, draft: TransitionDraft, reason: str) -> None:
        """Tell the client to stop orchestrating this run."""
        draft.proposed_state = None
        draft.status = SetStateStatus.ABORT
        draft.reason = reason
        draft.delay_seconds = None
        self.to_type = None

    def rename(self, draft: TransitionDraft, name: str) -> None:
        draft.update_proposed(name=name)


class BookkeepingTransform:
    """A step that records the outcome of a transition on the run's columns.

    Transforms run on every transition whose proposal survived the rules,
    forced ones included, and see the final proposed state.
    """

    def apply(self, draft: TransitionDraft, proposed: StateSnapshot) -> None:
        raise NotImplementedError


def new_state(
    type: StateType,
    name: str,
    now: dt.datetime,
    *,
    message: str | None = None,
    data: Any = None,
    details: dict[str, Any] | None = None,
) -> StateSnapshot:
    """Build a state that a rule substitutes for the proposed one."""
    return StateSnapshot(
        id=uuid4(),
        type=type,
        name=name,
        timestamp=now,
        message=message,
        data=data,
        state_details=dict(details or {}),
    )


def parse_time(value: Any) -> dt.datetime | None:
    """Read a time from state details, where it is stored as an ISO 8601 string.

    A time without an offset is taken as UTC.
    """
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        parsed = value
    else:
        parsed = dt.datetime.fromisoformat(str(value))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed


def format_time(value: dt.datetime) -> str:
    """Write a time for state details in the form the API returns (UTC, "Z")."""
    text = value.astimezone(dt.UTC).isoformat()
    return text.removesuffix("+00:00") + "Z"


def has_persisted_result(data: Any) -> bool:
    """Tell whether state data is a stored result reference.

    Clients send `{"type": "unpersisted", ...}` for results that exist only
    in the client's memory. Any other mapping points at a stored result.
    """
    return isinstance(data, dict) and data.get("type") != "unpersisted"


def select_rules(
    rule_types: Iterable[type[OrchestrationRule]],
    from_type: StateType | None,
    to_type: StateType | None,
) -> list[OrchestrationRule]:
    return [
        rule_type(from_type, to_type)
        for rule_type in rule_types
        if rule_type.governs(from_type, to_type)
    ]
