"""What registration's HTTP endpoints answer on success, as they document it (OpenAPI)."""

from datetime import date, datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from contracts.events import EventMessage
from contracts.facts import Fact
from runtime.errors import ErrorDetail
from runtime.responses import Timestamp


class Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ReceiptOut(Answer):
    event_id: UUID
    position: int = Field(description="position in the registration log (read-your-writes: GET /v1/position)")
    type: str = Field(description="the fact's type")
    recorded_at: Timestamp
    citizen_id: str | None = Field(
        default=None,
        description="the pseudonymous id, also when a CPR number was sent; only on facts about a citizen",
    )


class BatchResult(Answer):
    index: int = Field(description="the fact's place in the batch, from 0")
    status: int = Field(description="what POST /v1/facts would have answered for this fact alone")
    receipt: ReceiptOut | None = Field(default=None, description="when stored (status 201)")
    error: ErrorDetail | None = Field(default=None, description="when refused")


class BatchOut(Answer):
    accepted: int
    rejected: int
    results: list[BatchResult]


class HistoryEvent(Answer):
    """One stored event: its fact (effective date inside), when it was recorded and by whom."""

    event_id: UUID
    schema_version: int
    recorded_at: datetime = Field(description="when casetrack was told")
    recorded_by: str = Field(description="the client that recorded the fact")
    fact: Fact

    @classmethod
    def of(cls, message: EventMessage) -> "HistoryEvent":
        # Built without validating again: the fact was validated when it was admitted, and
        # validating it again with today's checks could refuse what was right when it was stored.
        return cls.model_construct(
            event_id=message.event_id,
            schema_version=message.schema_version,
            recorded_at=message.recorded_at,
            recorded_by=message.recorded_by,
            fact=message.fact,
        )


class CitizenHistoryOut(Answer):
    citizen_id: str
    events: list[HistoryEvent]


class CourseHistoryOut(Answer):
    citizen_id: str
    course_id: str
    events: list[HistoryEvent]


class TeamHistoryOut(Answer):
    team_id: str
    events: list[HistoryEvent]


class WorkerHistoryOut(Answer):
    worker_id: str
    events: list[HistoryEvent]


class MunicipalityHistoryOut(Answer):
    municipality: str
    events: list[HistoryEvent]


class PersonalDetailsOut(Answer):
    citizen_id: str
    cpr: str | None
    name: str | None
    birth_date: date | None
