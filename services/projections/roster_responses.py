"""What the roster and the by-name list answer (OpenAPI): the rows of roster.py and homeless_list.py."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from contracts.codes import CtiPhase, HousingSituation, Method
from contracts.instruments import Instrument


class Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PhaseOut(Answer):
    phase: CtiPhase
    ends_on: str | None = Field(description="the phase's planned end (the contact phase: 8 weeks from the start)")
    days_left: int | None = Field(description="days to the planned end; negative: overdue by that many")


class ContactOut(Answer):
    last_face_to_face_on: str | None
    days_since: int | None = Field(description="days since the last face-to-face contact; null: none yet")
    every_days: int | None = Field(description="the method's cadence on the day (contracts/methods.py)")


class HoursOut(Answer):
    actual: float = Field(description="hours of all contacts up to the day")
    expected: float | None = Field(description="hours expected so far: each planned unit spread over its days")
    gap: float | None = Field(description="actual - expected, in hours")
    gap_percent: float | None = Field(description="the gap in % of the expected hours")


class MeasurementOut(Answer):
    instrument: Instrument
    value: float = Field(description="the headline score (WHO-5 index, sums, Likert/Recovery Star means)")
    expected: float | None = Field(description="the expected progression on its day, linear between checkpoints")
    on: str


class HousingOut(Answer):
    situation: HousingSituation | None


class DueOut(Answer):
    kind: Literal["measurement", "follow_up", "contact", "handleplan", "phase_change", "course_end"]
    due_on: str
    days_left: int = Field(description="negative: overdue by that many days")


class RosterRowOut(Answer):
    course: str
    citizen: str = Field(description="the citizen's pseudonymous id")
    method: Method
    team: str
    worker: str | None = Field(description="the support worker on the day")
    state: Literal["active", "ended", "planned"]
    start: str | None
    ended_on: str | None
    phase: PhaseOut | None = Field(description="CTI only")
    contact: ContactOut
    hours: HoursOut
    measurement: MeasurementOut | None
    housing: HousingOut
    next_due: DueOut | None


class RosterOut(Answer):
    municipality: str
    on: str
    as_of: str | None
    state: Literal["active", "ended", "all"]
    sort: Literal["overdue", "gap", "last_contact"]
    team: str | None
    worker: str | None
    method: Method | None
    rows: list[RosterRowOut]
    total: int
    page: int
    pages: int
    page_size: int


class CourseRefOut(Answer):
    course: str
    method: Method


class HomelessCitizenOut(Answer):
    citizen: str = Field(description="the citizen's pseudonymous id")
    situation: HousingSituation | None
    homeless_since: str | None
    days_homeless: int | None
    ready_to_move: bool = Field(description="assessed ready to move in the §110 stay open on the day")
    ready_to_move_on: str | None
    courses: list[CourseRefOut] = Field(description="the citizen's courses active on the day")
    inflow: Literal["new", "returned"] | None = Field(description="entered the list this month")


class InflowOut(Answer):
    new: int
    returned: int


class OutflowOut(Answer):
    housed: int
    other: int


class HomelessListOut(Answer):
    municipality: str
    team: str | None
    sort: Literal["days_homeless", "ready_to_move", "inflow"]
    on: str
    as_of: str | None
    month_from: str = Field(description="inflow and outflow count from this day (the month's first) to `on`")
    total: int
    inflow: InflowOut
    outflow: OutflowOut
    citizens: list[HomelessCitizenOut]
