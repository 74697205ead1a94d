"""The message a raised or changed alert becomes on the bus (stream CASETRACK_ALERTS)."""

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict

ALERTS_STREAM = "CASETRACK_ALERTS"
ALERTS_SUBJECT_ROOT = "casetrack.alerts"

AlertState = Literal["open", "acknowledged", "snoozed", "resolved"]
Severity = Literal["info", "warning", "critical"]


def alert_subject(municipality: str, team: str) -> str:
    return f"{ALERTS_SUBJECT_ROOT}.{municipality}.{team}"


class AlertMessage(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    alert_id: UUID
    transition: int  # 1 for raised, then one more per lifecycle transition
    rule: str
    subject_type: Literal["course", "citizen", "worker", "team"]
    subject_id: str
    municipality: str
    team: str
    state: AlertState
    severity: Severity
    raised_at: datetime
    details: dict[str, str | int | float | bool | None]
