"""The data that orchestration rules read and return.

These are plain frozen dataclasses rather than wire models, so the rules
stay independent of HTTP and storage; the storage layer converts to and
from them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from uuid import UUID


class StateType(StrEnum):
    SCHEDULED = "SCHEDULED"
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    CRASHED = "CRASHED"
    PAUSED = "PAUSED"
    CANCELLING = "CANCELLING"


TERMINAL_STATE_TYPES = frozenset(
    {StateType.COMPLETED, StateType.FAILED, StateType.CANCELLED, StateType.CRASHED}
)


class SetStateStatus(StrEnum):
    ACCEPT = "ACCEPT"
    REJECT = "REJECT"
    ABORT = "ABORT"
    WAIT = "WAIT"


class RunKind(StrEnum):
    FLOW_RUN = "flow_run"
    TASK_RUN = "task_run"


@dataclass(frozen=True)
class StateSnapshot:
    """One state of a run, as stored or as proposed by a client.

    `state_details` holds the contract's StateDetails fields as JSON values
    (ids and times as strings), exactly as they are stored.
    """

    id: UUID
    type: StateType
    name: str
    timestamp: dt.datetime
    message: str | None = None
    state_details: dict[str, Any] = field(default_factory=dict)
    data: Any = None

    @property
    def is_terminal(self) -> bool:
        return self.type in TERMINAL_STATE_TYPES


@dataclass(frozen=True)
class RunSnapshot:
    """The fields of a flow run or task run that rules read or change.

    `empirical_policy` is the run's stored retry policy (FlowRunPolicy or
    TaskRunPolicy as JSON). For task runs, `flow_run_state` is the state of
    the enclosing flow run, or None when there is none.
    """

    id: UUID
    kind: RunKind
    name: str
    run_count: int = 0
    empirical_policy: dict[str, Any] = field(default_factory=dict)
    start_time: dt.datetime | None = None
    end_time: dt.datetime | None = None
    expected_start_time: dt.datetime | None = None
    next_scheduled_start_time: dt.datetime | None = None
    total_run_time: float = 0.0
    deployment_id: UUID | None = None
    infrastructure_pid: str | None = None
    flow_run_id: UUID | None = None
    flow_run_state: StateSnapshot | None = None
    flow_run_run_count: int = 0


@dataclass(frozen=True)
class TransitionContext:
    """A proposed transition: the run, its current state and the new state."""

    run: RunSnapshot
    initial_state: StateSnapshot | None
    proposed_state: StateSnapshot
    now: dt.datetime
    force: bool = False


@dataclass(frozen=True)
class TransitionResult:
    """What orchestration decided about a proposed transition.

    - `status` is the contract's SetStateStatus.
    - `state` is the state to return to the client: the accepted (possibly
      amended) state, the state the rules substituted, or the current state.
    - `write_state` says whether `state` must be stored as the run's new
      current state. It is true for ACCEPT, and also for a REJECT whose rule
      substituted a different state (for example AwaitingRetry instead of
      Failed, or Cancelled instead of Cancelling for a run with no
      infrastructure).
    - `reason` explains every REJECT, WAIT and ABORT.
    - `delay_seconds` is set for WAIT.
    - `run_updates` are column values for the run row, such as `run_count`,
      `start_time`, `end_time`, `total_run_time`, `expected_start_time`,
      `next_scheduled_start_time` or `empirical_policy`.
    """

    status: SetStateStatus
    state: StateSnapshot | None
    write_state: bool
    reason: str | None = None
    delay_seconds: float | None = None
    run_updates: dict[str, Any] = field(default_factory=dict)
