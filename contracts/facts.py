"""The facts a case system submits (domain.md §4), one pydantic model per fact type.

A fact is validated at the registration edge, stored as the payload of one event with the same
name, and published unchanged on the bus inside an `EventMessage`. The `type` field names the fact
and discriminates the union `Fact`.
"""

from datetime import date, datetime, timedelta, timezone
from typing import Annotated, Literal, Union

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    field_validator,
)

from contracts.codes import CtiPhase, Gender, HousingLossReason, HousingSituation, Method, OWN_HOME

MunicipalityCode = Annotated[str, StringConstraints(pattern=r"^\d{3}$")]
# Pseudonymous identifiers chosen by the case system; never a CPR number (see `_not_cpr`).
Identifier = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")]

EARLIEST_DATE = date(1900, 1, 1)


def _plausible_date(value: date) -> date:
    """Impossible dates are rejected: before 1900 or more than a day in the future."""
    _not_before_1900(value)
    if value > datetime.now(timezone.utc).date() + timedelta(days=1):
        raise ValueError("date is more than a day in the future")
    return value


def _not_cpr(value: str) -> str:
    """An id that looks like a CPR number (DDMMYY-SSSS or 10 digits) would leak personal data."""
    digits = value.replace("-", "")
    if len(digits) == 10 and digits.isdigit():
        raise ValueError("identifier looks like a CPR number; send a pseudonymous id")
    return value


def _not_before_1900(value: date) -> date:
    if value < EARLIEST_DATE:
        raise ValueError("date is before 1900")
    return value


EffectiveDate = Annotated[date, AfterValidator(_plausible_date)]
PlannedDate = Annotated[date, AfterValidator(_not_before_1900)]
PseudonymousId = Annotated[Identifier, AfterValidator(_not_cpr)]


class FactBase(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    municipality: MunicipalityCode = Field(description="3-digit municipality code, e.g. 101")
    citizen_id: PseudonymousId = Field(description="pseudonymous citizen id")
    effective_date: EffectiveDate = Field(description="when it happened (not when it was told)")


class CourseFact(FactBase):
    course_id: PseudonymousId = Field(description="the course (forløb) the fact is about")


class CitizenRegistered(FactBase):
    type: Literal["CitizenRegistered"] = "CitizenRegistered"
    birth_year: int | None = Field(default=None, ge=1900, le=2100)
    gender: Gender = Gender.UNKNOWN
    target_groups: tuple[Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{1,40}$")], ...] = ()


class VisitationDecided(CourseFact):
    """A decision to give the citizen a course under a method; it opens the course."""

    type: Literal["VisitationDecided"] = "VisitationDecided"
    method: Method
    team: Identifier
    assessment_done: bool | None = None
    fits_target_group: bool | None = None


class CourseStarted(CourseFact):
    type: Literal["CourseStarted"] = "CourseStarted"
    support_worker: Identifier | None = None


class CtiPhaseStarted(CourseFact):
    type: Literal["CtiPhaseStarted"] = "CtiPhaseStarted"
    phase: CtiPhase
    planned_end: PlannedDate | None = Field(
        default=None, description="default: 3 months after the phase start"
    )


class HousingGained(FactBase):
    type: Literal["HousingGained"] = "HousingGained"
    housing: HousingSituation = Field(description="an own-home code, e.g. almen")

    @field_validator("housing")
    @classmethod
    def _own_home(cls, housing: HousingSituation) -> HousingSituation:
        if housing not in OWN_HOME:
            raise ValueError(f"housing gained must be an own-home code, got {housing.value}")
        return housing


class HousingLost(FactBase):
    type: Literal["HousingLost"] = "HousingLost"
    reason: HousingLossReason


class HandleplanCreated(FactBase):
    """A §141 handleplan was created for the citizen."""

    type: Literal["HandleplanCreated"] = "HandleplanCreated"
    course_id: PseudonymousId | None = None


CourseEndReason = Literal[
    "completed",
    "no_longer_needs_support",
    "needs_other_support",
    "does_not_want_support",
    "contact_lost",
    "moved",
    "prison",
    "died",
    "other",
]


class CourseEnded(CourseFact):
    type: Literal["CourseEnded"] = "CourseEnded"
    reason: CourseEndReason


Fact = Annotated[
    Union[
        CitizenRegistered,
        VisitationDecided,
        CourseStarted,
        CtiPhaseStarted,
        HousingGained,
        HousingLost,
        HandleplanCreated,
        CourseEnded,
    ],
    Field(discriminator="type"),
]

FACT_TYPES: tuple[type[FactBase], ...] = tuple(Fact.__origin__.__args__)  # type: ignore[attr-defined]
fact_adapter: TypeAdapter[Fact] = TypeAdapter(Fact)
