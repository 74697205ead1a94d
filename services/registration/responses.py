"""What registration's HTTP endpoints answer on success, as they document it (OpenAPI)."""

from datetime import date, datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from contracts.events import EventMessage, Imported
from contracts.facts import Fact
from contracts.submission import BatchReport, FactReceipt


class Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")


# A stored fact and a batch's report are contracts of the bus too (the reply on casetrack.facts.submit).
ReceiptOut = FactReceipt
BatchOut = BatchReport


class HistoryEvent(Answer):
    """One stored event: its fact (effective date inside), when it was recorded and by whom."""

    event_id: UUID
    schema_version: int
    recorded_at: datetime = Field(description="when casetrack was told")
    recorded_by: str = Field(description="the client that recorded the fact")
    fact: Fact
    imported: Imported | None = Field(
        default=None, description="for an imported fact: the source system and when it recorded the fact"
    )

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
            imported=message.imported,
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
