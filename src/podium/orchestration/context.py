"""The data that orchestration rules read and return.

These are plain frozen dataclasses rather than wire models, so the rules
stay independent of HTTP and storage. The storage layer converts to and
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

    `state_details` contains the contract's StateDetails fields as JSON values
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
    the enclosing flow run (None when it has no state yet), and
    `flow_run_current_run_count` is that flow run's `run_count`. Both are
    read only when `flow_run_id` is set. `flow_run_run_count` is the
    task run's own column: the flow run attempt it last ran in.
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
    flow_run_current_run_count: int = 0
    parent_task_run_id: UUID | None = None


@dataclass(frozen=True)
class TransitionContext:
    """A proposed transition: the run, its current state and the new state.

    Storage builds it as follows before calling `orchestrate`:

    - `proposed_state` has a fresh `id`, `timestamp=now`, a name (the
      type in title case, such as "Running", when the client sent none) and,
      for SCHEDULED, a `scheduled_time` (now when the client sent none).
    - `initial_state` is the run's current state, with `data` holding its
      stored result, since rules protect COMPLETED runs that have one.
    - `run` is read in the same transaction that will write the result, for
      task runs together with the enclosing flow run's state and run count.
    """

    run: RunSnapshot
    initial_state: StateSnapshot | None
    proposed_state: StateSnapshot
    now: dt.datetime
    force: bool = False


@dataclass(frozen=True)
class TransitionResult:
    """What orchestration decided about a proposed transition.

    This is the contract between `orchestrate` and storage:

    - `status` is the contract's SetStateStatus.
    - `state` is the state to return to the client. With `write_state` it is
      the accepted state, possibly amended by the rules (renamed, details
      copied, `flow_run_id`/`task_run_id` set, timestamp moved 1 microsecond
      past the current state's), or a state a rule substituted with a fresh
      id. Without `write_state` it is the run's current state, unchanged,
      or None when the run has none.
    - `write_state` is true when `state` must be inserted and become the
      run's current state (and so set the run's state_id, state_type,
      state_name and state_timestamp, which `run_updates` never contains).
      It is true for every ACCEPT and for a REJECT whose rule substituted a
      state: AwaitingRetry for a failure with retries left, Cancelled for a
      CANCELLING run without infrastructure, Failed for a timed-out pause,
      Paused "NotReady" for a task of a paused flow run. It is false for a
      REJECT that keeps the current state, and for every WAIT and ABORT.
    - `reason` explains every REJECT, WAIT and ABORT, and is None for ACCEPT.
    - `delay_seconds` is set for WAIT only: whole seconds until the client
      may propose again.
    - `run_updates` holds new values of run columns, named as RunSnapshot
      names them: `run_count`, `empirical_policy` (the whole new policy
      dict), `start_time`, `end_time` (None clears it), `total_run_time`
      (seconds), `expected_start_time`, `next_scheduled_start_time`,
      `flow_run_run_count`. Storage applies them whatever the status, since
      a few rejections update `empirical_policy` too.

    Storage also does what needs IO: the HTTP code (201 when a state was
    written, 200 otherwise) and, when a subflow run's state is written,
    giving its parent task run a copy of it.
    """

    status: SetStateStatus
    state: StateSnapshot | None
    write_state: bool
    reason: str | None = None
    delay_seconds: int | None = None
    run_updates: dict[str, Any] = field(default_factory=dict)
