"""Ordered rule sets for flow runs and task runs, and `orchestrate`.

The order matters: the first rule that rejects, delays or aborts a proposal
stops the rules after it, so cheap refusals come before rules that amend the
state.

TODO: Prefect 3.9.1 also enforces concurrency limits (task run tags,
deployment limits) and the task result cache in these policies. Those need
storage, so they are not part of this pure core yet.
"""

from __future__ import annotations

from podium.orchestration.bookkeeping import record_transition
from podium.orchestration.context import (
    RunKind,
    RunSnapshot,
    SetStateStatus,
    TransitionContext,
    TransitionResult,
)
from podium.orchestration.flow_rules import (
    CancelRunsWithoutInfrastructure,
    HandleCancellingTransitions,
    HandlePausingFlowRuns,
    HandleResumingFlowRuns,
    HandleTerminalFlowRunTransitions,
    KeepDeploymentConcurrencyLease,
    ProtectPersistedResults,
    RejectDuplicateTransitions,
    RetryFailedFlows,
)
from podium.orchestration.rules import (
    OrchestrationRule,
    TransitionDraft,
    select_rules,
)
from podium.orchestration.scheduling_rules import (
    CopyScheduledTime,
    MarkOnlyScheduledRunsLate,
    PreventPendingTransitions,
    WaitForScheduledTime,
)
from podium.orchestration.task_rules import (
    CopyTaskParametersId,
    HandleTerminalTaskRunTransitions,
    PreventRunningTasksFromStoppedFlows,
    RenameReruns,
    RetryFailedTasks,
    TrackFlowRunAttempt,
)

Policy = tuple[type[OrchestrationRule], ...]

FLOW_RUN_POLICY: Policy = (
    KeepDeploymentConcurrencyLease,
    RejectDuplicateTransitions,
    HandleTerminalFlowRunTransitions,
    HandleCancellingTransitions,
    CancelRunsWithoutInfrastructure,
    PreventPendingTransitions,
    MarkOnlyScheduledRunsLate,
    HandlePausingFlowRuns,
    HandleResumingFlowRuns,
    CopyScheduledTime,
    WaitForScheduledTime,
    RetryFailedFlows,
)

# A forced flow run transition still keeps its lease and stored result, and
# still cancels runs that have no infrastructure (the UI cancels scheduled
# runs this way).
FORCED_FLOW_RUN_POLICY: Policy = (
    KeepDeploymentConcurrencyLease,
    ProtectPersistedResults,
    CancelRunsWithoutInfrastructure,
)

TASK_RUN_POLICY: Policy = (
    HandleTerminalTaskRunTransitions,
    PreventRunningTasksFromStoppedFlows,
    CopyScheduledTime,
    WaitForScheduledTime,
    RetryFailedTasks,
    RenameReruns,
    TrackFlowRunAttempt,
)

FORCED_TASK_RUN_POLICY: Policy = ()

# Background (deferred) task runs have no enclosing flow run to check, are
# submitted once like flow runs, and carry their parameters between states.
# They get this policy even when forced.
BACKGROUND_TASK_RUN_POLICY: Policy = (
    PreventPendingTransitions,
    HandleTerminalTaskRunTransitions,
    CopyScheduledTime,
    CopyTaskParametersId,
    WaitForScheduledTime,
    RetryFailedTasks,
    RenameReruns,
    TrackFlowRunAttempt,
)

# Columns of RunSnapshot that rules and bookkeeping may change.
RUN_UPDATE_COLUMNS = (
    "run_count",
    "empirical_policy",
    "start_time",
    "end_time",
    "expected_start_time",
    "next_scheduled_start_time",
    "total_run_time",
    "flow_run_run_count",
)


def select_policy(context: TransitionContext) -> Policy:
    if context.run.kind == RunKind.FLOW_RUN:
        return FORCED_FLOW_RUN_POLICY if context.force else FLOW_RUN_POLICY
    if context.proposed_state.state_details.get("deferred"):
        return BACKGROUND_TASK_RUN_POLICY
    return FORCED_TASK_RUN_POLICY if context.force else TASK_RUN_POLICY


def orchestrate(context: TransitionContext) -> TransitionResult:
    """Decide a proposed state transition for a flow run or task run.

    Pure: it reads only `context` and returns what storage must write, as
    described on `TransitionResult`.
    """
    draft = TransitionDraft.from_context(context)
    rules = select_rules(
        select_policy(context), draft.initial_type, draft.proposed_type
    )

    entered: list[OrchestrationRule] = []
    for rule in rules:
        # A rule only governs the transition it was selected for.
        if rule.sees_own_transition(draft):
            rule.before(draft)
            entered.append(rule)

    record_transition(draft)

    for rule in reversed(entered):
        if rule.sees_own_transition(draft):
            rule.after(draft)
        else:
            rule.cleanup(draft)

    return build_result(context, draft)


def build_result(
    context: TransitionContext, draft: TransitionDraft
) -> TransitionResult:
    writes_state = draft.proposed_state is not None
    return TransitionResult(
        status=draft.status,
        state=draft.proposed_state if writes_state else context.initial_state,
        write_state=writes_state,
        reason=draft.reason if draft.status != SetStateStatus.ACCEPT else None,
        delay_seconds=draft.delay_seconds,
        run_updates=changed_columns(context.run, draft.run),
    )


def changed_columns(before: RunSnapshot, after: RunSnapshot) -> dict[str, object]:
    return {
        name: getattr(after, name)
        for name in RUN_UPDATE_COLUMNS
        if getattr(after, name) != getattr(before, name)
    }
