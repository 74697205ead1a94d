"""The message every stored event becomes on the bus (stream CASETRACK_EVENTS)."""

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from contracts.facts import Fact

EVENTS_STREAM = "CASETRACK_EVENTS"
EVENTS_SUBJECT_ROOT = "casetrack.events"


def event_subject(municipality: str, event_type: str) -> str:
    """Subjects carry the municipality so permissions and consumers can be scoped by it."""
    return f"{EVENTS_SUBJECT_ROOT}.{municipality}.{event_type}"


class EventHeaders(BaseModel):
    nats_msg_id: UUID = Field(alias="Nats-Msg-Id", description="the event id: the stream keeps each event once")


IMPORT_SOURCE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"


class Imported(BaseModel):
    """Where an imported fact comes from: the source system and when that system recorded it
    (`casetrack import`, docs/import.md). Added in version 2 of the bus contract; absent on facts
    told to casetrack directly."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str = Field(pattern=IMPORT_SOURCE_PATTERN, description="the source system, e.g. its name")
    recorded_at: datetime = Field(description="when the source system recorded the fact")


class EventMessage(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    event_id: UUID = Field(description="stable identity of the stored event; also the Nats-Msg-Id")
    position: int = Field(ge=1, description="position in the registration log: the global order")
    schema_version: int = Field(ge=1)
    recorded_at: datetime = Field(description="when casetrack was told")
    recorded_by: str = Field(description="the client that recorded the fact")
    fact: Fact
    imported: Imported | None = Field(
        default=None,
        description="for a fact imported from another system's history: the source and its recorded time "
        "(since version 2 of the bus contract; absent otherwise)",
    )

    @property
    def known_at(self) -> datetime:
        """When the fact became known: the source system's recorded time for an imported fact, else
        when casetrack was told. What `as_of` questions filter by."""
        return self.imported.recorded_at if self.imported is not None else self.recorded_at

    @property
    def type(self) -> str:
        return self.fact.type

    @property
    def subject(self) -> str:
        return event_subject(self.fact.municipality, self.fact.type)
