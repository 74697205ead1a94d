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


class EventMessage(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    event_id: UUID = Field(description="stable identity of the stored event; also the Nats-Msg-Id")
    position: int = Field(ge=1, description="position in the registration log: the global order")
    schema_version: int = Field(ge=1)
    recorded_at: datetime = Field(description="when casetrack was told")
    recorded_by: str = Field(description="the client that recorded the fact")
    fact: Fact

    @property
    def type(self) -> str:
        return self.fact.type

    @property
    def subject(self) -> str:
        return event_subject(self.fact.municipality, self.fact.type)
