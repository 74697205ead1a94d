"""The facts a case system submits (docs/domain.md §4), one pydantic model per fact type.

A fact is validated at the registration edge, stored as the payload of one event with the same
name, and published unchanged on the bus inside an `EventMessage`. The `type` field names the fact
and discriminates the union `Fact`. Every fact has a municipality and an effective date (when it
happened); the recorded time (when it was told) and who told it are added by registration.
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union
from uuid import UUID

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from contracts.codes import (
    ContactKind,
    CourseEndReason,
    CtiPhase,
    EmploymentStatus,
    EvictionRiskKind,
    FollowOnOffer,
    FollowUpAnswer,
    Gender,
    HandoverOffer,
    HousingLossReason,
    HousingSituation,
    IncomeType,
    JobcentreCategory,
    Method,
    OutreachPhase,
    ReferralChannel,
    ReferralDestination,
    ReferralSource,
    ReleaseFrom,
    ShelterDischarge,
    VisitationRefusal,
    WaitingListHousing,
    WorkerRole,
)
from contracts.dates import OLDEST_DATE, DateWindow
from contracts.instruments import Instrument, answer_problems
from contracts.methods import FOLLOW_UP_MONTHS, OWN_HOME
from contracts.municipalities import CODE_PATTERN, DANISH_MUNICIPALITIES
from contracts.surveys import ItemId, Partner, Round, SurveyDefinition, SurveyId, round_start, shipped


@dataclass(frozen=True)
class Admission:
    """The checks registration makes on a fact beyond its shape, given as the validation context:
    `fact_adapter.validate_python(raw, context=Admission(...))`. They depend on configuration and on
    today, so they are made when a fact is admitted, not when a stored event is read back."""

    municipalities: frozenset[str] = field(default_factory=lambda: frozenset(DANISH_MUNICIPALITIES))
    window: DateWindow = field(default_factory=DateWindow)
    # The day the fact is judged on: today, or for an imported fact the day its source system
    # recorded it (what was "in the future" then, docs/import.md).
    today: date | None = None


def _admission(info: ValidationInfo) -> Admission | None:
    return info.context if isinstance(info.context, Admission) else None


def _today(info: ValidationInfo | None = None) -> date:
    admission = _admission(info) if info is not None else None
    if admission is not None and admission.today is not None:
        return admission.today
    return datetime.now(UTC).date()


def _out_of_range(problem: str) -> PydanticCustomError:
    return PydanticCustomError("date_out_of_range", "date is {problem}", {"problem": problem})


def _known_municipality(value: str, info: ValidationInfo) -> str:
    admission = _admission(info)
    if admission is not None and value not in admission.municipalities:
        raise PydanticCustomError("unknown_municipality", "{code} is not a known municipality code", {"code": value})
    return value


def _not_before_oldest(value: date) -> date:
    if value < OLDEST_DATE:
        raise _out_of_range(f"before {OLDEST_DATE.isoformat()}")
    return value


def _plausible_date(value: date, info: ValidationInfo) -> date:
    """Impossible dates are rejected: before the window or more than a day in the future."""
    _not_before_oldest(value)
    admission = _admission(info)
    if admission is not None and value < admission.window.earliest:
        raise _out_of_range(f"before {admission.window.earliest.isoformat()}")
    if value > _today(info) + timedelta(days=1):
        raise _out_of_range("more than a day in the future")
    return value


def _planned_date(value: date, info: ValidationInfo) -> date:
    """A plan may lie ahead, but inside the window: far dates overflow the rules' arithmetic."""
    _not_before_oldest(value)
    admission = _admission(info)
    if admission is not None:
        problem = admission.window.problem(value, _today(info))
        if problem is not None:
            raise _out_of_range(problem)
    return value


def _not_cpr(value: str) -> str:
    """An id that looks like a CPR number (DDMMYY-SSSS or 10 digits) would leak personal data."""
    digits = value.replace("-", "")
    if len(digits) == 10 and digits.isdigit():
        raise PydanticCustomError(
            "cpr_shaped_identifier",
            "identifier looks like a CPR number; send it as `cpr` or send a pseudonymous id",
        )
    return value


# Codes and identifiers are ASCII: `\d` would also match other scripts' digits (١٠١).
MunicipalityCode = Annotated[str, StringConstraints(pattern=CODE_PATTERN)]
Identifier = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")]
# A CPR number as it may arrive at the registration edge; it is never stored or published.
CprNumber = Annotated[str, StringConstraints(pattern=r"^[0-9]{6}-?[0-9]{4}$")]

# In a fact: a municipality casetrack knows (the 98 Danish ones, or those configured).
FactMunicipality = Annotated[MunicipalityCode, AfterValidator(_known_municipality)]
EffectiveDate = Annotated[date, AfterValidator(_plausible_date)]
PlannedDate = Annotated[date, AfterValidator(_planned_date)]
# Every id a fact carries (citizen, course, team, worker, shelter) is pseudonymous: never a CPR number.
PseudonymousId = Annotated[Identifier, AfterValidator(_not_cpr)]
Hours = Annotated[float, Field(ge=0, le=10_000)]


def _schema_as_validated(schema: dict[str, Any], model: type[BaseModel]) -> None:
    """The JSON schema says what validation asks: `type` defaults in Python (`CitizenRegistered(...)`)
    but names the fact in the union, so a fact without it is refused; and where a model validator
    asks for exactly one of two fields (`_one_identity`, `_phase_or_month`), so does the schema."""
    required = schema.setdefault("required", [])
    if "type" not in required:
        required.insert(0, "type")
    properties = schema.get("properties", {})
    pairs = []
    for owner, pair in _EXACTLY_ONE.items():
        if not issubclass(model, owner):
            continue
        shown = [name for name in pair if name in properties]
        if len(shown) == len(pair):
            pairs.append(pair)
        else:  # a serialised fact (an event) never carries `cpr`: its citizen_id is always there
            required.extend(name for name in shown if name not in required)
    one_of = [
        {"oneOf": [{"required": [name], "properties": {name: {"not": {"type": "null"}}}} for name in pair]}
        for pair in pairs
    ]
    if len(one_of) == 1:
        schema.update(one_of[0])
    elif one_of:
        schema["allOf"] = one_of


class FactBase(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra=_schema_as_validated)
    if TYPE_CHECKING:
        type: str  # each fact type declares its own Literal

    municipality: FactMunicipality = Field(
        description="a known municipality's 3-digit code (kommunekode), e.g. 101; see contracts/municipalities.py"
    )
    effective_date: EffectiveDate = Field(description="when it happened (not when it was told)")


class CitizenFact(FactBase):
    citizen_id: PseudonymousId | None = Field(
        default=None, description="pseudonymous citizen id; or send `cpr` and casetrack derives it"
    )
    cpr: CprNumber | None = Field(
        default=None,
        exclude=True,  # never serialised: not stored, not published, not logged
        repr=False,
        description="CPR number, accepted at the edge only: replaced by a keyed pseudonym",
    )

    @model_validator(mode="after")
    def _one_identity(self) -> "CitizenFact":
        if (self.citizen_id is None) == (self.cpr is None):
            raise ValueError("send exactly one of citizen_id and cpr")
        return self


class CourseFact(CitizenFact):
    course_id: PseudonymousId = Field(description="the course (forløb) the fact is about")


# --- Organisation facts -------------------------------------------------------------------------


class TeamRegistered(FactBase):
    type: Literal["TeamRegistered"] = "TeamRegistered"
    team_id: PseudonymousId
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    methods: tuple[Method, ...] = Field(min_length=1)


class WorkerRegistered(FactBase):
    type: Literal["WorkerRegistered"] = "WorkerRegistered"
    worker_id: PseudonymousId
    team_id: PseudonymousId
    role: WorkerRole
    email: Annotated[str, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)] | None = Field(
        default=None, description="work e-mail, for alert digests"
    )


class WorkerMovedTeam(FactBase):
    type: Literal["WorkerMovedTeam"] = "WorkerMovedTeam"
    worker_id: PseudonymousId
    team_id: PseudonymousId


class WorkerLeft(FactBase):
    type: Literal["WorkerLeft"] = "WorkerLeft"
    worker_id: PseudonymousId


# --- Municipality facts (periodic figures for the structure KPIs) -------------------------------


class VacantHomes(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    max_rent_dkk: int = Field(ge=0, le=100_000, description="upper bound of the monthly rent band")
    rooms: int = Field(ge=1, le=10)
    count: int = Field(ge=0, le=1_000_000)


class HousingStockReported(FactBase):
    """Figures for a period; `effective_date` is the period's last day."""

    type: Literal["HousingStockReported"] = "HousingStockReported"
    period_start: EffectiveDate
    vacant_cheap_homes: tuple[VacantHomes, ...] = ()
    mean_wait_days_cheap: float | None = Field(default=None, ge=0, le=10_000)
    mean_wait_days_emergency: float | None = Field(default=None, ge=0, le=10_000)
    allocation_right_homes_vacant: int | None = Field(default=None, ge=0)
    allocation_right_vacancy_paid_dkk: float | None = Field(default=None, ge=0, description="tomgangsleje")

    @model_validator(mode="after")
    def _period(self) -> "HousingStockReported":
        if self.period_start > self.effective_date:
            raise ValueError("period_start is after the period's end (effective_date)")
        return self


# --- Organisation surveys and meetings (docs/surveys.md) ---------------------------------------


class SurveyDefined(FactBase):
    """The municipality's own survey, or its own version of a shipped one (contracts/surveys.py)."""

    type: Literal["SurveyDefined"] = "SurveyDefined"
    survey: SurveyDefinition


class SurveyAnswered(FactBase):
    """One set of answers to a survey round. It names no respondent: for an anonymous survey none
    is stored anywhere (docs/surveys.md §3), and registration records it as told by `anonymous`."""

    type: Literal["SurveyAnswered"] = "SurveyAnswered"
    survey: SurveyId
    version: int = Field(ge=1, le=1000)
    round: Round = Field(description="the round answered, a half-year (2026-H2) or a quarter (2026-Q3)")
    team: PseudonymousId | None = Field(
        default=None, description="the team answered for; none for a survey the municipality answers"
    )
    answers: dict[ItemId, int] = Field(max_length=80, description="item id -> a value on the survey's scale")

    @field_validator("round")
    @classmethod
    def _round_begun(cls, value: str, info: ValidationInfo) -> str:
        """A round is answered once it has begun (like an effective date, at most a day ahead)."""
        if round_start(value) > _today(info) + timedelta(days=1):
            raise _out_of_range(f"round {value} has not begun")
        return value

    @model_validator(mode="after")
    def _answers_fit_survey(self) -> "SurveyAnswered":
        definition = shipped(self.survey, self.version)  # a municipality's own: checked by registration
        if definition is not None:
            problems = definition.answer_problems(self.answers)
            if problems:
                raise ValueError("; ".join(problems))
            if (definition.respondent == "municipality") != (self.team is None):
                raise ValueError("send team for a survey a worker or team answers, and only then")
        return self


class PartnerMeetingHeld(FactBase):
    """A team held a meeting with partners about its citizens (cross-disciplinary cooperation)."""

    type: Literal["PartnerMeetingHeld"] = "PartnerMeetingHeld"
    team: PseudonymousId
    partners: tuple[Partner, ...] = Field(min_length=1, max_length=len(Partner))


# --- Citizen facts ------------------------------------------------------------------------------


class CitizenRegistered(CitizenFact):
    type: Literal["CitizenRegistered"] = "CitizenRegistered"
    birth_year: int | None = Field(default=None, ge=1900, le=2100)
    gender: Gender = Gender.UNKNOWN
    target_groups: tuple[Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{1,40}$")], ...] = ()
    # Personal details, like `cpr` accepted at the edge only: registration keeps them encrypted
    # with a key of the citizen's own (erased with the citizen), never in the event.
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = Field(
        default=None, exclude=True, repr=False, description="full name; kept encrypted, never in the event"
    )
    birth_date: EffectiveDate | None = Field(
        default=None, exclude=True, repr=False, description="birth date; kept encrypted, never in the event"
    )


class HousingWaitingListRegistered(CitizenFact):
    type: Literal["HousingWaitingListRegistered"] = "HousingWaitingListRegistered"
    housing_type: WaitingListHousing


class HomeOfferedViaAllocationRight(CitizenFact):
    """A home offered through the municipal allocation right (anvisningsret)."""

    type: Literal["HomeOfferedViaAllocationRight"] = "HomeOfferedViaAllocationRight"
    accepted: bool


class HousingSituationRecorded(CitizenFact):
    type: Literal["HousingSituationRecorded"] = "HousingSituationRecorded"
    housing: HousingSituation


class HousingGained(CitizenFact):
    """The citizen moved into an own home; `effective_date` is the move-in date."""

    type: Literal["HousingGained"] = "HousingGained"
    housing: HousingSituation = Field(description="an own-home code, e.g. almen")

    @field_validator("housing")
    @classmethod
    def _own_home(cls, housing: HousingSituation) -> HousingSituation:
        if housing not in OWN_HOME:
            raise ValueError(f"housing gained must be an own-home code, got {housing.value}")
        return housing


class HousingLost(CitizenFact):
    """Schema version 2 adds `lost_housing`."""

    type: Literal["HousingLost"] = "HousingLost"
    reason: HousingLossReason
    lost_housing: HousingSituation | None = Field(
        default=None,
        description="the own home that was lost; filled in by registration from the citizen's history "
        "(`unknown` in events recorded before schema version 2)",
    )


class ShelterStayStarted(CitizenFact):
    """A §110 stay began (indskrivning)."""

    type: Literal["ShelterStayStarted"] = "ShelterStayStarted"
    shelter: PseudonymousId


class ShelterStayEnded(CitizenFact):
    type: Literal["ShelterStayEnded"] = "ShelterStayEnded"
    discharge: ShelterDischarge
    destination: HousingSituation = HousingSituation.UNKNOWN


class UdredningStarted(CitizenFact):
    """*Udredning og Plan* began during the citizen's open §110 stay (docs/domain.md §1): it starts
    at once and is finished within 6 weeks."""

    type: Literal["UdredningStarted"] = "UdredningStarted"


class UdredningCompleted(CitizenFact):
    """*Udredning og Plan* was finished, with its recommendations on housing and on support."""

    type: Literal["UdredningCompleted"] = "UdredningCompleted"
    recommended_housing: HousingSituation = Field(description="the housing the plan recommends")
    recommended_support: Method | None = Field(
        default=None, description="the support method the plan recommends; none: no support needed"
    )


class ReleasePlanned(CitizenFact):
    """*Køreplan*: the citizen's release from prison or discharge from hospital or treatment is
    planned for a day (docs/domain.md §1); the effective date is when it was planned."""

    type: Literal["ReleasePlanned"] = "ReleasePlanned"
    release_from: ReleaseFrom
    planned_release_on: PlannedDate = Field(description="the planned day of release or discharge")


class ReleaseMeetingHeld(CitizenFact):
    """*Køreplan*: the meeting before release was held, and whether housing and support were agreed."""

    type: Literal["ReleaseMeetingHeld"] = "ReleaseMeetingHeld"
    housing_agreed: bool
    support_agreed: bool


class ReleaseCompleted(CitizenFact):
    """*Køreplan*: the citizen was released or discharged (the effective date); the Køreplan ends."""

    type: Literal["ReleaseCompleted"] = "ReleaseCompleted"
    housing: HousingSituation = Field(default=HousingSituation.UNKNOWN, description="where the citizen went")


class ShelterContactMade(CitizenFact):
    """The municipality contacted the citizen during the §110 stay."""

    type: Literal["ShelterContactMade"] = "ShelterContactMade"


class AssessedReadyToMove(CitizenFact):
    type: Literal["AssessedReadyToMove"] = "AssessedReadyToMove"


class HandleplanOffered(CitizenFact):
    """A §141 handleplan was offered."""

    type: Literal["HandleplanOffered"] = "HandleplanOffered"
    course_id: PseudonymousId | None = None


class HandleplanCreated(CitizenFact):
    """A §141 handleplan was created for the citizen."""

    type: Literal["HandleplanCreated"] = "HandleplanCreated"
    course_id: PseudonymousId | None = None


class HandleplanDeclined(CitizenFact):
    type: Literal["HandleplanDeclined"] = "HandleplanDeclined"
    course_id: PseudonymousId | None = None


class HandleplanRevised(CitizenFact):
    type: Literal["HandleplanRevised"] = "HandleplanRevised"
    course_id: PseudonymousId | None = None


class EvictionRiskRegistered(CitizenFact):
    type: Literal["EvictionRiskRegistered"] = "EvictionRiskRegistered"
    kind: EvictionRiskKind


class EvictionPrevented(CitizenFact):
    type: Literal["EvictionPrevented"] = "EvictionPrevented"


class EvictionCarriedOut(CitizenFact):
    type: Literal["EvictionCarriedOut"] = "EvictionCarriedOut"


class IncomeTypeRecorded(CitizenFact):
    type: Literal["IncomeTypeRecorded"] = "IncomeTypeRecorded"
    income_type: IncomeType


class EmploymentStatusRecorded(CitizenFact):
    type: Literal["EmploymentStatusRecorded"] = "EmploymentStatusRecorded"
    status: EmploymentStatus
    jobcentre_category: JobcentreCategory | None = None


class SubstanceTreatmentStarted(CitizenFact):
    type: Literal["SubstanceTreatmentStarted"] = "SubstanceTreatmentStarted"


class SubstanceTreatmentEnded(CitizenFact):
    type: Literal["SubstanceTreatmentEnded"] = "SubstanceTreatmentEnded"


class FollowUpRecorded(CourseFact):
    """N months after the course ended: does the citizen keep an own home?"""

    type: Literal["FollowUpRecorded"] = "FollowUpRecorded"
    months_after_end: Literal[FOLLOW_UP_MONTHS]  # type: ignore[valid-type]
    keeps_own_housing: FollowUpAnswer


class ReferralReceived(CitizenFact):
    """A referral (henvendelse) about the citizen reached the municipality: the funnel's first step."""

    type: Literal["ReferralReceived"] = "ReferralReceived"
    referral_id: Identifier
    source: ReferralSource
    channel: ReferralChannel
    concern: Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{1,40}$")] | None = Field(
        default=None, description="what the referral is about, as a code (e.g. isolation, eviction_risk)"
    )


class ReferralAssessed(CitizenFact):
    """The referral was assessed: in the target group or not, already supported, referred on."""

    type: Literal["ReferralAssessed"] = "ReferralAssessed"
    referral_id: Identifier
    in_target_group: bool
    already_supported: bool = False
    referred_to: ReferralDestination | None = Field(default=None, description="referred on to, if so")


class VisitationRefused(CitizenFact):
    """The visitation asked for after a referral was refused (afslag): the funnel's step "visitation
    decided or refused" for a referral that opens no course (a granted one is VisitationDecided)."""

    type: Literal["VisitationRefused"] = "VisitationRefused"
    referral_id: Identifier
    method: Method = Field(description="the method the visitation was about")
    reason: VisitationRefusal


class ConsentGiven(CitizenFact):
    type: Literal["ConsentGiven"] = "ConsentGiven"
    scope: Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{1,40}$")] = Field(
        description="what the consent covers, e.g. outcome_measurements"
    )


class ConsentWithdrawn(CitizenFact):
    type: Literal["ConsentWithdrawn"] = "ConsentWithdrawn"
    scope: Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{1,40}$")]


class CitizenErased(CitizenFact):
    """An erasure request: personal details are made unreadable, statistics remain."""

    type: Literal["CitizenErased"] = "CitizenErased"


# --- Course facts -------------------------------------------------------------------------------


class VisitationDecided(CourseFact):
    """A decision to give the citizen a course under a method; it opens the course."""

    type: Literal["VisitationDecided"] = "VisitationDecided"
    method: Method
    team: PseudonymousId
    assessment_done: bool | None = Field(default=None, description="assessment done before start")
    fits_target_group: bool | None = None


class CourseStarted(CourseFact):
    type: Literal["CourseStarted"] = "CourseStarted"
    support_worker: PseudonymousId | None = None


class SupportWorkerChanged(CourseFact):
    type: Literal["SupportWorkerChanged"] = "SupportWorkerChanged"
    support_worker: PseudonymousId
    reason: Annotated[str, StringConstraints(max_length=200)] | None = None


class CtiPhaseStarted(CourseFact):
    type: Literal["CtiPhaseStarted"] = "CtiPhaseStarted"
    phase: CtiPhase
    planned_end: PlannedDate | None = Field(default=None, description="default: 3 months after the phase start")


class OutreachPhaseStarted(CourseFact):
    type: Literal["OutreachPhaseStarted"] = "OutreachPhaseStarted"
    phase: OutreachPhase


class TimePlanned(CourseFact):
    """Expected hours for a CTI phase, or for one ICM/ACT month (the double bottom line)."""

    type: Literal["TimePlanned"] = "TimePlanned"
    cti_phase: CtiPhase | None = None
    month: PlannedDate | None = Field(default=None, description="first day of the month (ICM/ACT)")
    expected_hours: Hours

    @model_validator(mode="after")
    def _phase_or_month(self) -> "TimePlanned":
        if (self.cti_phase is None) == (self.month is None):
            raise ValueError("send exactly one of cti_phase and month")
        if self.month is not None and self.month.day != 1:
            raise ValueError("month must be the first day of a month")
        return self


class ProgressionCheckpoint(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    on: PlannedDate
    value: float = Field(ge=0, le=100)


class ExpectedProgressionSet(CourseFact):
    type: Literal["ExpectedProgressionSet"] = "ExpectedProgressionSet"
    instrument: Instrument
    checkpoints: tuple[ProgressionCheckpoint, ...] = Field(min_length=1, max_length=60)


class ContactRecorded(CourseFact):
    type: Literal["ContactRecorded"] = "ContactRecorded"
    minutes: int = Field(ge=0, le=24 * 60)
    kind: ContactKind


class MeasurementRecorded(CourseFact):
    type: Literal["MeasurementRecorded"] = "MeasurementRecorded"
    instrument: Instrument
    answers: list[int] | dict[str, int] = Field(
        description="item answers: a list for WHO5/UCLA3/ORS/SRS, by name for LIKERT/RECOVERY_STAR"
    )

    @field_validator("answers")
    @classmethod
    def _answers_fit_instrument(
        cls, answers: list[int] | dict[str, int], info: ValidationInfo
    ) -> list[int] | dict[str, int]:
        instrument = info.data.get("instrument")
        if instrument is not None:
            problems = answer_problems(instrument, answers)
            if problems:
                raise ValueError("; ".join(problems))
        return answers


class CourseEnded(CourseFact):
    type: Literal["CourseEnded"] = "CourseEnded"
    reason: CourseEndReason
    revisitation_method: Method | None = Field(
        default=None, description="with reason needs_other_support: the method the citizen moves to"
    )
    follow_on_offer: FollowOnOffer = FollowOnOffer.UNKNOWN


class CourseHandedOver(CourseFact):
    """At the end of a course the citizen was handed over to a named follow-on offer (overdragelse):
    the funnel's last step. Recorded before or on the day the course ends."""

    type: Literal["CourseHandedOver"] = "CourseHandedOver"
    offer: HandoverOffer = Field(description="the follow-on offer the citizen was handed over to")
    provider: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = Field(
        default=None, description="the offer's name (the team, shelter or organisation), if any"
    )


class CourseStartCorrected(CourseFact):
    """A correction: the course started on `effective_date`, not on the date first recorded."""

    type: Literal["CourseStartCorrected"] = "CourseStartCorrected"


class CtiPhaseStartCorrected(CourseFact):
    """A correction: the current CTI phase started on `effective_date`."""

    type: Literal["CtiPhaseStartCorrected"] = "CtiPhaseStartCorrected"
    phase: CtiPhase
    planned_end: PlannedDate | None = None


# The course facts a FactWithdrawn may take back (docs/domain.md §4, corrections).
WITHDRAWABLE_FACTS: tuple[str, ...] = (
    "ContactRecorded",
    "TimePlanned",
    "ExpectedProgressionSet",
    "MeasurementRecorded",
    "FollowUpRecorded",
)


class FactWithdrawn(CourseFact):
    """A correction: the course's fact stored as event `withdrawn_event_id` (one of
    WITHDRAWABLE_FACTS) was entered by mistake and no longer counts. Nothing is deleted: the history
    keeps both, each with who recorded it and when; a corrected value is this withdrawal followed by
    the right fact. `effective_date` is the day of the withdrawal."""

    type: Literal["FactWithdrawn"] = "FactWithdrawn"
    withdrawn_event_id: UUID = Field(description="the event id of the fact withdrawn (its receipt's `event_id`)")
    reason: Annotated[str, StringConstraints(min_length=1, max_length=500)] = Field(
        description="why it is withdrawn, e.g. recorded on the wrong citizen"
    )


FACT_TYPES: tuple[type[FactBase], ...] = (
    TeamRegistered,
    WorkerRegistered,
    WorkerMovedTeam,
    WorkerLeft,
    HousingStockReported,
    SurveyDefined,
    SurveyAnswered,
    PartnerMeetingHeld,
    CitizenRegistered,
    HousingWaitingListRegistered,
    HomeOfferedViaAllocationRight,
    HousingSituationRecorded,
    HousingGained,
    HousingLost,
    ShelterStayStarted,
    ShelterStayEnded,
    UdredningStarted,
    UdredningCompleted,
    ReleasePlanned,
    ReleaseMeetingHeld,
    ReleaseCompleted,
    ShelterContactMade,
    AssessedReadyToMove,
    HandleplanOffered,
    HandleplanCreated,
    HandleplanDeclined,
    HandleplanRevised,
    EvictionRiskRegistered,
    EvictionPrevented,
    EvictionCarriedOut,
    IncomeTypeRecorded,
    EmploymentStatusRecorded,
    SubstanceTreatmentStarted,
    SubstanceTreatmentEnded,
    FollowUpRecorded,
    ConsentGiven,
    ConsentWithdrawn,
    ReferralReceived,
    ReferralAssessed,
    VisitationRefused,
    CitizenErased,
    VisitationDecided,
    CourseStarted,
    SupportWorkerChanged,
    CtiPhaseStarted,
    OutreachPhaseStarted,
    TimePlanned,
    ExpectedProgressionSet,
    ContactRecorded,
    MeasurementRecorded,
    CourseEnded,
    CourseHandedOver,
    CourseStartCorrected,
    CtiPhaseStartCorrected,
    FactWithdrawn,
)

# Fields of which a fact must carry exactly one (not null), by the model that asks it.
_EXACTLY_ONE: dict[type[BaseModel], tuple[str, str]] = {
    CitizenFact: ("citizen_id", "cpr"),
    TimePlanned: ("cti_phase", "month"),
}

# The schema version of each fact type's event (1 unless listed). A new version comes with an
# upcaster in registration that reads the events stored under the earlier ones.
SCHEMA_VERSIONS: dict[str, int] = {"HousingLost": 2}


def schema_version(fact_type: str) -> int:
    return SCHEMA_VERSIONS.get(fact_type, 1)


if TYPE_CHECKING:
    Fact = FactBase  # the union is built from a tuple, which the type checker cannot follow
else:
    Fact = Annotated[Union[FACT_TYPES], Field(discriminator="type")]  # noqa: UP007 (a union of a tuple)
fact_adapter: TypeAdapter[Fact] = TypeAdapter(Fact)


def admit(fact: FactBase, admission: Admission) -> FactBase:
    """A fact validated for its shape alone (e.g. by FastAPI), validated again with the admission
    checks; raises pydantic's ValidationError. The edge-only fields (cpr, personal details) are not
    serialised, so they are carried over by hand."""
    edge_only = {name: getattr(fact, name) for name, info in type(fact).model_fields.items() if info.exclude}
    return fact_adapter.validate_python(fact.model_dump() | edge_only, context=admission)
