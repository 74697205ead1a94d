"""Who read which personal data: one entry per read, kept on the stream CASETRACK_AUDIT."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

AUDIT_STREAM = "CASETRACK_AUDIT"
AUDIT_SUBJECT_ROOT = "casetrack.audit"

SubjectType = Literal["citizen", "course", "team", "worker"]


def audit_subject(municipality: str, subject_type: str, subject_id: str) -> str:
    return f"{AUDIT_SUBJECT_ROOT}.{municipality}.{subject_type}.{subject_id}"


class AuditEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    at: datetime
    service: str
    actor: str
    role: str
    municipality: str
    action: str  # e.g. read_history
    subject_type: SubjectType
    subject_id: str
