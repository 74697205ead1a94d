"""The message a raised or changed alert becomes on the bus (stream CASETRACK_ALERTS)."""

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

ALERTS_STREAM = "CASETRACK_ALERTS"
ALERTS_SUBJECT_ROOT = "casetrack.alerts"

AlertState = Literal["open", "acknowledged", "snoozed", "resolved"]
Severity = Literal["info", "warning", "critical"]


def alert_subject(municipality: str, team: str) -> str:
    return f"{ALERTS_SUBJECT_ROOT}.{municipality}.{team}"


def alert_message_id(alert_id: UUID, transition: int) -> str:
    """The Nats-Msg-Id of one transition of an alert: published again after a crash, it is stored once."""
    return f"{alert_id}:{transition}"


class AlertHeaders(BaseModel):
    nats_msg_id: str = Field(
        alias="Nats-Msg-Id",
        pattern=r"^[0-9a-f-]{36}:[0-9]+$",
        description="<alert_id>:<transition>: the stream keeps each transition once",
    )


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
