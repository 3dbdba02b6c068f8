"""Wire models for automations: triggers, actions, filters and sorts."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from enum import StrEnum
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PlainSerializer,
    Tag,
    field_validator,
    model_validator,
)

from podium.schemas.base import ActionModel, ObjectModel, unique_tags
from podium.schemas.filtering import FilterModel, OperatorFilter
from podium.schemas.states import StateType

# A time span sent as seconds or as an ISO 8601 duration, returned as seconds.
Seconds = Annotated[
    dt.timedelta, PlainSerializer(lambda span: span.total_seconds(), return_type=float)
]

# Labels mapped to one accepted value or a list of them. Values are globs
# (`*`, `?`), and a leading `!` negates one.
ResourceSpecification = dict[str, str | list[str]]

# Proactive triggers look at windows of at least this length, as in Prefect 3.9.1.
MIN_PROACTIVE_WITHIN = dt.timedelta(seconds=10)


class Posture(StrEnum):
    Reactive = "Reactive"
    Proactive = "Proactive"


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


class TriggerModel(BaseModel):
    """Base for triggers; unknown fields are ignored, as the Prefect server does."""

    model_config = ConfigDict(extra="ignore")

    id: UUID = Field(default_factory=uuid.uuid4)


class EventTrigger(TriggerModel):
    """Fires on the presence (Reactive) or absence (Proactive) of matching events."""

    type: Literal["event"] = "event"
    match: ResourceSpecification = Field(default_factory=dict)
    match_related: ResourceSpecification | list[ResourceSpecification] = Field(
        default_factory=dict
    )
    after: list[str] = Field(default_factory=list)
    expect: list[str] = Field(default_factory=list)
    for_each: list[str] = Field(default_factory=list)
    posture: Posture
    threshold: int = 1
    within: Seconds = Field(default=dt.timedelta(0), ge=dt.timedelta(0))

    _unique_lists = field_validator("after", "expect", "for_each")(_unique)

    @model_validator(mode="after")
    def _check_proactive_window(self) -> EventTrigger:
        if self.posture == Posture.Proactive:
            if self.within == dt.timedelta(0):
                self.within = MIN_PROACTIVE_WITHIN
            elif self.within < MIN_PROACTIVE_WITHIN:
                raise ValueError(
                    "within must be at least 10 seconds for a Proactive trigger"
                )
        return self

    @property
    def related_specifications(self) -> list[ResourceSpecification]:
        if isinstance(self.match_related, list):
            return self.match_related
        return [self.match_related]

    @property
    def immediate(self) -> bool:
        """Whether each matching event is judged alone, with no time window."""
        return self.posture == Posture.Reactive and self.within == dt.timedelta(0)


class CompoundTrigger(TriggerModel):
    """Fires when `require` of its child triggers fired within `within`."""

    type: Literal["compound"] = "compound"
    triggers: list[AnyTrigger]
    within: Seconds | None
    require: int | Literal["any", "all"]

    @model_validator(mode="after")
    def _check_require(self) -> CompoundTrigger:
        if isinstance(self.require, int) and not 1 <= self.require <= len(
            self.triggers
        ):
            raise ValueError(
                "require must be between 1 and the number of triggers "
                f"({len(self.triggers)}), or 'any' or 'all'"
            )
        return self

    @property
    def expected_firings(self) -> int:
        if self.require == "any":
            return 1
        if self.require == "all":
            return len(self.triggers)
        return self.require


class SequenceTrigger(TriggerModel):
    """Fires when all of its child triggers fired in order within `within`."""

    type: Literal["sequence"] = "sequence"
    triggers: list[AnyTrigger]
    within: Seconds | None

    @property
    def expected_firings(self) -> int:
        return len(self.triggers)


def _trigger_type(value: Any) -> str:
    # A trigger without a type is an event trigger, as in the Prefect API.
    if isinstance(value, dict):
        return str(value.get("type", "event"))
    return str(getattr(value, "type", "event"))


AnyTrigger = Annotated[
    Annotated[EventTrigger, Tag("event")]
    | Annotated[CompoundTrigger, Tag("compound")]
    | Annotated[SequenceTrigger, Tag("sequence")],
    Discriminator(_trigger_type),
]
CompositeTrigger = CompoundTrigger | SequenceTrigger
CompoundTrigger.model_rebuild()
SequenceTrigger.model_rebuild()


def all_triggers(trigger: EventTrigger | CompositeTrigger) -> list[Any]:
    """Return the trigger and every trigger nested in it, parents first."""
    if isinstance(trigger, EventTrigger):
        return [trigger]
    return [trigger, *(t for child in trigger.triggers for t in all_triggers(child))]


def reset_trigger_ids(trigger: EventTrigger | CompositeTrigger) -> None:
    """Give the trigger and its children new ids; the server never keeps the client's."""
    for each in all_triggers(trigger):
        each.id = uuid.uuid4()


# Actions ---------------------------------------------------------------------

Source = Literal["selected", "inferred"]


class ActionBase(BaseModel):
    model_config = ConfigDict(extra="ignore")


def _check_source(source: str, target_id: UUID | None, field: str) -> None:
    if source == "selected" and target_id is None:
        raise ValueError(f"{field} is required when source is 'selected'")
    if source == "inferred" and target_id is not None:
        raise ValueError(f"{field} is not allowed when source is 'inferred'")


class DoNothing(ActionBase):
    type: Literal["do-nothing"] = "do-nothing"


class RunDeployment(ActionBase):
    type: Literal["run-deployment"] = "run-deployment"
    source: Source = "selected"
    deployment_id: UUID | None = None
    parameters: dict[str, Any] | None = None
    job_variables: dict[str, Any] | None = None
    schedule_after: Seconds = Field(default=dt.timedelta(0), ge=dt.timedelta(0))

    @model_validator(mode="after")
    def _check(self) -> RunDeployment:
        _check_source(self.source, self.deployment_id, "deployment_id")
        return self


class PauseDeployment(ActionBase):
    type: Literal["pause-deployment"] = "pause-deployment"
    source: Source = "selected"
    deployment_id: UUID | None = None

    @model_validator(mode="after")
    def _check(self) -> PauseDeployment:
        _check_source(self.source, self.deployment_id, "deployment_id")
        return self


class ResumeDeployment(ActionBase):
    type: Literal["resume-deployment"] = "resume-deployment"
    source: Source = "selected"
    deployment_id: UUID | None = None

    @model_validator(mode="after")
    def _check(self) -> ResumeDeployment:
        _check_source(self.source, self.deployment_id, "deployment_id")
        return self


class CancelFlowRun(ActionBase):
    type: Literal["cancel-flow-run"] = "cancel-flow-run"


class DeleteFlowRun(ActionBase):
    type: Literal["delete-flow-run"] = "delete-flow-run"


class ChangeFlowRunState(ActionBase):
    type: Literal["change-flow-run-state"] = "change-flow-run-state"
    name: str | None = None
    state: StateType
    message: str | None = None
    force: bool = False


class SuspendFlowRun(ActionBase):
    type: Literal["suspend-flow-run"] = "suspend-flow-run"


class ResumeFlowRun(ActionBase):
    type: Literal["resume-flow-run"] = "resume-flow-run"


class PauseWorkQueue(ActionBase):
    type: Literal["pause-work-queue"] = "pause-work-queue"
    source: Source = "selected"
    work_queue_id: UUID | None = None

    @model_validator(mode="after")
    def _check(self) -> PauseWorkQueue:
        _check_source(self.source, self.work_queue_id, "work_queue_id")
        return self


class ResumeWorkQueue(ActionBase):
    type: Literal["resume-work-queue"] = "resume-work-queue"
    source: Source = "selected"
    work_queue_id: UUID | None = None

    @model_validator(mode="after")
    def _check(self) -> ResumeWorkQueue:
        _check_source(self.source, self.work_queue_id, "work_queue_id")
        return self


class PauseWorkPool(ActionBase):
    type: Literal["pause-work-pool"] = "pause-work-pool"
    source: Source = "selected"
    work_pool_id: UUID | None = None

    @model_validator(mode="after")
    def _check(self) -> PauseWorkPool:
        _check_source(self.source, self.work_pool_id, "work_pool_id")
        return self


class ResumeWorkPool(ActionBase):
    type: Literal["resume-work-pool"] = "resume-work-pool"
    source: Source = "selected"
    work_pool_id: UUID | None = None

    @model_validator(mode="after")
    def _check(self) -> ResumeWorkPool:
        _check_source(self.source, self.work_pool_id, "work_pool_id")
        return self


class PauseAutomation(ActionBase):
    type: Literal["pause-automation"] = "pause-automation"
    source: Source = "selected"
    automation_id: UUID | None = None

    @model_validator(mode="after")
    def _check(self) -> PauseAutomation:
        _check_source(self.source, self.automation_id, "automation_id")
        return self


class ResumeAutomation(ActionBase):
    type: Literal["resume-automation"] = "resume-automation"
    source: Source = "selected"
    automation_id: UUID | None = None

    @model_validator(mode="after")
    def _check(self) -> ResumeAutomation:
        _check_source(self.source, self.automation_id, "automation_id")
        return self


class SendNotification(ActionBase):
    type: Literal["send-notification"] = "send-notification"
    block_document_id: UUID
    subject: str = "Prefect automated notification"
    body: str


class CallWebhook(ActionBase):
    type: Literal["call-webhook"] = "call-webhook"
    block_document_id: UUID
    payload: str = ""

    @field_validator("payload", mode="before")
    @classmethod
    def _payload_as_text(cls, payload: Any) -> Any:
        # Older clients send the payload as a JSON object rather than a template.
        if isinstance(payload, dict):
            return json.dumps(payload, indent=2)
        return "" if payload is None else payload


AnyAction = Annotated[
    DoNothing
    | RunDeployment
    | PauseDeployment
    | ResumeDeployment
    | CancelFlowRun
    | DeleteFlowRun
    | ChangeFlowRunState
    | PauseWorkQueue
    | ResumeWorkQueue
    | SendNotification
    | CallWebhook
    | PauseAutomation
    | ResumeAutomation
    | SuspendFlowRun
    | ResumeFlowRun
    | PauseWorkPool
    | ResumeWorkPool,
    Field(discriminator="type"),
]


# Automations -----------------------------------------------------------------

Tags = Annotated[list[str], Field(default_factory=list)]

# Flow-run events that every run of a deployment emits; an automation that
# runs a deployment on them without narrowing would start runs forever.
_EVERY_RUN_EVENTS = {
    "prefect.flow-run.Scheduled",
    "prefect.flow-run.Pending",
    "prefect.flow-run.Running",
    "prefect.flow-run.*",
}


def _covers_every_flow_run(specification: ResourceSpecification) -> bool:
    if not specification:
        return True
    if set(specification) != {"prefect.resource.id"}:
        return False
    value = specification["prefect.resource.id"]
    values = [value] if isinstance(value, str) else value
    return "prefect.flow-run.*" in values


class AutomationCore(BaseModel):
    name: str
    description: str = ""
    enabled: bool = True
    tags: Tags
    trigger: AnyTrigger
    actions: list[AnyAction]
    actions_on_trigger: list[AnyAction] = Field(default_factory=list)
    actions_on_resolve: list[AnyAction] = Field(default_factory=list)

    _unique_tags = field_validator("tags")(unique_tags)

    @model_validator(mode="after")
    def _reject_run_deployment_loops(self) -> AutomationCore:
        trigger = self.trigger
        if (
            not self.enabled
            or not isinstance(trigger, EventTrigger)
            or trigger.posture != Posture.Reactive
            or not _EVERY_RUN_EVENTS.intersection(trigger.expect)
        ):
            return self
        for action in self.actions:
            if not isinstance(action, RunDeployment):
                continue
            if action.source == "inferred":
                raise ValueError(
                    "Running the deployment inferred from a flow-run state event "
                    "would start new runs forever; select a deployment and narrow "
                    "the trigger's match or match_related instead."
                )
            if _covers_every_flow_run(trigger.match) and any(
                _covers_every_flow_run(spec) for spec in trigger.related_specifications
            ):
                raise ValueError(
                    "Running a deployment on every flow run's state events may start "
                    "new runs forever; add labels to the trigger's match or "
                    "match_related that exclude the selected deployment's runs."
                )
        return self


class Automation(AutomationCore, ObjectModel):
    model_config = ConfigDict(from_attributes=True, extra="ignore")


class AutomationCreate(AutomationCore, ActionModel):
    owner_resource: str | None = None


class AutomationUpdate(AutomationCore, ActionModel):
    pass


class AutomationPartialUpdate(ActionModel):
    enabled: bool = True


class AutomationSort(StrEnum):
    CREATED_DESC = "CREATED_DESC"
    UPDATED_DESC = "UPDATED_DESC"
    NAME_ASC = "NAME_ASC"
    NAME_DESC = "NAME_DESC"


class AutomationFilterCreated(FilterModel):
    before_: dt.datetime | None = None


class AutomationFilterId(FilterModel):
    any_: list[UUID] | None = None


class AutomationFilterName(FilterModel):
    any_: list[str] | None = None


class AutomationFilterTags(OperatorFilter):
    all_: list[str] | None = None
    any_: list[str] | None = None
    is_null_: bool | None = None


class AutomationFilter(OperatorFilter):
    name: AutomationFilterName | None = None
    id: AutomationFilterId | None = None
    created: AutomationFilterCreated | None = None
    tags: AutomationFilterTags | None = None
