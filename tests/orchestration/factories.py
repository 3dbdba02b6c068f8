"""Builders for orchestration tests: states, runs and one-call transitions."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any
from uuid import UUID, uuid4

from podium.orchestration import (
    RunKind,
    RunSnapshot,
    StateSnapshot,
    StateType,
    TransitionContext,
    TransitionResult,
    orchestrate,
)
from podium.orchestration.rules import OrchestrationRule, TransitionDraft

NOW = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)
FLOW_RUN_ID = UUID("00000000-0000-4000-8000-000000000001")
TASK_RUN_ID = UUID("00000000-0000-4000-8000-000000000002")
DEPLOYMENT_ID = UUID("00000000-0000-4000-8000-000000000003")


def seconds(value: float) -> dt.timedelta:
    return dt.timedelta(seconds=value)


def iso(value: dt.datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def state(
    type: StateType,
    name: str | None = None,
    *,
    at: dt.datetime = NOW,
    message: str | None = None,
    data: Any = None,
    **details: Any,
) -> StateSnapshot:
    """Build a state; keyword arguments beyond the named ones are state details."""
    default_name = type.value.title()
    return StateSnapshot(
        id=uuid4(),
        type=type,
        name=name or default_name,
        timestamp=at,
        message=message,
        data=data,
        state_details=details,
    )


def scheduled(at_time: dt.datetime, name: str = "Scheduled", **kwargs: Any):
    return state(StateType.SCHEDULED, name, scheduled_time=iso(at_time), **kwargs)


def flow_run(**fields: Any) -> RunSnapshot:
    values: dict[str, Any] = {"id": FLOW_RUN_ID, "kind": RunKind.FLOW_RUN}
    values["name"] = "brave-otter"
    values.update(fields)
    return RunSnapshot(**values)


def task_run(**fields: Any) -> RunSnapshot:
    values: dict[str, Any] = {
        "id": TASK_RUN_ID,
        "kind": RunKind.TASK_RUN,
        "name": "add-0",
        "flow_run_id": FLOW_RUN_ID,
        "flow_run_state": state(StateType.RUNNING, at=NOW - seconds(60)),
        "flow_run_current_run_count": 1,
        "flow_run_run_count": 1,
    }
    values.update(fields)
    return RunSnapshot(**values)


def propose(
    run: RunSnapshot,
    initial: StateSnapshot | None,
    proposed: StateSnapshot,
    *,
    now: dt.datetime = NOW,
    force: bool = False,
) -> TransitionResult:
    context = TransitionContext(
        run=run,
        initial_state=initial,
        proposed_state=proposed,
        now=now,
        force=force,
    )
    return orchestrate(context)


def run_rule(
    rule_type: type[OrchestrationRule],
    run: RunSnapshot,
    initial: StateSnapshot | None,
    proposed: StateSnapshot,
    *,
    now: dt.datetime = NOW,
) -> TransitionDraft:
    """Run one rule's `before` and then its `after` or `cleanup`, as a policy would."""
    draft = TransitionDraft(
        run=run, initial_state=initial, proposed_state=proposed, now=now
    )
    rule = rule_type(draft.initial_type, draft.proposed_type)
    assert rule_type.governs(draft.initial_type, draft.proposed_type)
    rule.before(draft)
    if rule.sees_own_transition(draft):
        rule.after(draft)
    else:
        rule.cleanup(draft)
    return draft


class RunHistory:
    """Apply results to a run the way storage would, for multi-step tests."""

    def __init__(self, run: RunSnapshot, current: StateSnapshot | None = None):
        self.run = run
        self.current = current
        self.written: list[StateSnapshot] = []

    def propose(
        self,
        proposed: StateSnapshot,
        *,
        now: dt.datetime = NOW,
        force: bool = False,
    ) -> TransitionResult:
        result = propose(self.run, self.current, proposed, now=now, force=force)
        self.run = dataclasses.replace(self.run, **result.run_updates)
        if result.write_state:
            assert result.state is not None
            self.current = result.state
            self.written.append(result.state)
        return result
