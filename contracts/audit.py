"""Who read which personal data: one entry per read, kept on the stream CASETRACK_AUDIT."""

from datetime import datetime
from typing import Literal
from uuid import UUID, uuid4

from pydantic import BaseModel, ConfigDict, Field

AUDIT_STREAM = "CASETRACK_AUDIT"
AUDIT_SUBJECT_ROOT = "casetrack.audit"

# "municipality": a list of the whole municipality (subject_id: its code); "team"/"worker": a team's
# list or one worker's (the roster, the by-name list), besides a team's or worker's history.
SubjectType = Literal["citizen", "course", "team", "worker", "municipality"]


def audit_subject(service: str, municipality: str, subject_type: str, subject_id: str) -> str:
    """Where `service` records a read: each service may publish under its own name only (casetrack.natsauth)."""
    return f"{AUDIT_SUBJECT_ROOT}.{service}.{municipality}.{subject_type}.{subject_id}"


class AuditHeaders(BaseModel):
    nats_msg_id: UUID = Field(alias="Nats-Msg-Id", description="the entry's id: the stream keeps each entry once")


class AuditEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: UUID = Field(default_factory=uuid4, description="published as Nats-Msg-Id: the stream keeps an entry once")
    at: datetime
    service: str
    actor: str
    role: str
    municipality: str
    action: str  # e.g. read_history
    subject_type: SubjectType
    subject_id: str
    filter: dict[str, str] | None = Field(
        default=None, description="a read of a list: the filter it was read with (query parameters given)"
    )
