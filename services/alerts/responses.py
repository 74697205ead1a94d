"""What the alerts service's HTTP endpoints answer on success, as they document it (OpenAPI),
and the events of its live stream (server-sent events)."""

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from contracts.alerts import AlertState, Severity
from runtime.responses import Number, Timestamp
from services.alerts.rules import SubjectType, Trigger

Params = dict[str, Number]  # a rule's thresholds by name


class Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AlertOut(Answer):
    id: str = Field(description="the alert's id (a UUID)")
    rule: str
    subject_type: Literal["course", "citizen", "worker", "team"]
    subject_id: str = Field(description="pseudonymous id of the course, citizen, worker or team")
    municipality: str
    team: str
    state: AlertState
    severity: Severity
    raised_at: Timestamp
    snoozed_until: date | None
    details: dict[str, Any] = Field(description="what the rule found, e.g. days since the last contact")
    details_text: dict[Literal["da", "en"], str] = Field(
        description="the details in words, numbers and dates in the language's format"
    )
    details_as_of: Timestamp = Field(description="when the details were last worked out for the subject")


class TransitionOut(Answer):
    transition: int = Field(description="1 for raised, then one more per change")
    state: AlertState = Field(description="the state it went to")
    at: Timestamp
    by: str = Field(description="who acted: the authenticated caller, or the service itself")
    on_behalf_of: str | None
    note: str | None


class AlertWithHistoryOut(AlertOut):
    history: list[TransitionOut]


class AlertsOut(Answer):
    municipality: str
    alerts: list[AlertOut] = Field(description="one page, newest first")
    total: int = Field(description="every alert that matches the filters, over all pages")
    offset: int
    limit: int
    next_offset: int | None = Field(description="the offset of the next page; null on the last")


class AlertEvent(AlertOut):
    """The `data` of one event of GET /v1/alerts/stream: the alert after one transition, and that
    transition."""

    transition: int
    at: Timestamp
    by: str
    on_behalf_of: str | None
    note: str | None


# The live stream in the document: each server-sent event is `id: <n>`, `event: alert` and the
# alert as JSON in `data` (Open API 3.1 describes one event of a text/event-stream).
STREAM_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "server-sent events, one per alert transition; comments keep the connection alive",
        "content": {
            "text/event-stream": {
                "schema": {
                    "type": "object",
                    "required": ["data", "event", "id"],
                    "properties": {
                        "id": {"type": "string", "description": "resume after it with Last-Event-ID"},
                        "event": {"const": "alert"},
                        "data": {
                            "type": "string",
                            "contentMediaType": "application/json",
                            "contentSchema": AlertEvent.model_json_schema(mode="serialization"),
                        },
                    },
                }
            }
        },
    }
}


class RuleOut(Answer):
    rule: str
    name_da: str
    name_en: str
    severity: Severity
    subject_type: SubjectType = Field(description="the subject the rule is first about")
    subject_types: list[SubjectType]
    trigger: Trigger = Field(description="time: a deadline can come due; event: only a fact makes it hold")
    reacts_to: dict[str, list[str]] = Field(description="subject type -> the fact types that make it look again")
    defaults: Params
    clears_when: str = Field(description="what resolves it automatically (English)")
    clears_when_da: str
    definition: str = Field(description="the English definition (as definition_en)")
    definition_en: str
    definition_da: str


class RuleInMunicipalityOut(RuleOut):
    overrides: dict[str, Params] = Field(
        description='scope ("" for the municipality, "team:<id>", "method:<method>") -> its overridden thresholds'
    )
    effective: Params = Field(description="the thresholds that apply in the municipality as a whole")


class RulesOut(Answer):
    rules: list[RuleOut]


class MunicipalityRulesOut(Answer):
    municipality: str
    rules: list[RuleInMunicipalityOut]


class RuleConfigOut(RuleOut):
    municipality: str
    scope: str = Field(description='"" for the municipality, "team:<id>" or "method:<method>"')
    overrides: dict[str, Params]
    effective: Params = Field(description="the thresholds that apply to the scope asked for")


class ClockOut(Answer):
    now: Timestamp
    adjustable: bool
