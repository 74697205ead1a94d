"""Alert rules (docs/domain.md §8): what raises an alert, when, and when it clears. Pure, no I/O.

The catalogue: each rule is declared once, with `@rule(...)` on its pure function (like `@kpi` for
the KPIs): its names, severity, the subject it is about, the facts it reacts to, its defaults, what
clears it and its definition. The handlers record facts and the evaluation asks the catalogue which
rules a fact concerns; `GET /v1/rules` serves the catalogue.

Each rule looks at a snapshot of one subject (a course, a citizen or a worker) and returns a
`Verdict`: from which day the condition holds (`raise_on`), or None when it does not hold and time
alone will not make it hold. Rules that are "immediately" raised return the day of the fact that
triggered them; time-based rules return a future day, which the service keeps as a durable
deadline. `recheck_on` asks to be looked at again on a day even though nothing is due (the next
follow-up window; the next time-gap check). `occurrence` tells occurrences of the same rule on the
same subject apart (phase 1 overdue vs phase 2 overdue), so one that was resolved by hand is not
raised again while the same occurrence still holds.
"""

import dataclasses
import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import pairwise
from typing import Any, Literal

from contracts.alerts import Severity
from contracts.codes import LEFT_SUPPORT, FollowOnOffer, Method, OutreachPhase
from contracts.instruments import Instrument
from contracts.methods import (
    CASELOAD_NORM,
    CTI_CONTACT_PHASE_WEEKS,
    CTI_MONTHS,
    CTI_PHASE_ORDER,
    FOLLOW_UP_MONTHS,
    FOLLOW_UP_WINDOW_DAYS,
    HANDLEPLAN_DAYS,
    NO_CONTACT_DAYS,
    RECOVERY_STAR_BASELINE_DAYS,
    RECOVERY_STAR_METHODS,
    RELEASE_MEETING_MONTHS,
    SHELTER_LONG_STAY_DAYS,
    SHELTER_READY_STAY_DAYS,
    STATUS_CADENCE,
    STATUS_KINDS,
    SURVEY_ROUND_MONTHS,
    UDREDNING_DAYS,
    WHO5_DEPRESSION,
    WHO5_MEANINGFUL_CHANGE,
    add_months,
    planned_phase_end,
    status_due_on,
)
from contracts.rule_config import CASELOAD_PARAM, effective
from contracts.surveys import FIDELITY_BY_METHOD, round_of, round_start

SubjectType = Literal["course", "citizen", "worker", "team"]
Trigger = Literal["time", "event"]
Params = Mapping[str, float]


@dataclass(frozen=True)
class Verdict:
    raise_on: date | None = None
    recheck_on: date | None = None
    occurrence: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    def holds(self, today: date) -> bool:
        return self.raise_on is not None and self.raise_on <= today

    def wake_on(self, today: date) -> date | None:
        """The next day the service must look at this subject again without a new fact."""
        if self.raise_on is not None and self.raise_on > today:
            return self.raise_on if self.recheck_on is None else min(self.raise_on, self.recheck_on)
        return self.recheck_on


NOT_NOW = Verdict()


# --- The catalogue -------------------------------------------------------------------------------

Check = Callable[[Any, Params, date], Verdict]  # (the subject's snapshot, parameters, today)


@dataclass(frozen=True)
class Rule:
    id: str
    name_da: str
    name_en: str
    severity: Severity
    trigger: Trigger  # time: a deadline can come due; event: only a fact makes it hold
    defaults: dict[str, float]
    clears_when: str  # what resolves it automatically
    definition: str
    definition_da: str
    clears_when_da: str
    checks: Mapping[SubjectType, Check]  # the subjects it is about, each with its pure function
    reacts_to: Mapping[SubjectType, frozenset[str]]  # subject -> the fact types that make it look again

    @property
    def subject_type(self) -> SubjectType:
        """The subject it is first about (handleplan_missing: the course; also the citizen)."""
        return next(iter(self.checks))

    def describe(self) -> dict[str, Any]:
        return {
            "rule": self.id,
            "name_da": self.name_da,
            "name_en": self.name_en,
            "severity": self.severity,
            "subject_type": self.subject_type,
            "subject_types": list(self.checks),
            "trigger": self.trigger,
            "reacts_to": {subject: sorted(facts) for subject, facts in self.reacts_to.items()},
            "defaults": self.defaults,
            "clears_when": self.clears_when,
            "clears_when_da": self.clears_when_da,
            "definition": self.definition,
            "definition_en": self.definition,
            "definition_da": self.definition_da,
        }


CATALOGUE: dict[str, Rule] = {}


def rule(
    id: str,
    name_da: str,
    name_en: str,
    severity: Severity,
    subject: SubjectType,
    *,  # noqa: A002
    trigger: Trigger,
    reacts_to: tuple[str, ...],
    defaults: dict[str, float],
    clears_when: str,
    definition: str,
    definition_da: str,
    clears_when_da: str,
) -> Callable[[Check], Check]:
    """Declares a rule in the catalogue, with the function that checks it for `subject`."""

    def register(check: Check) -> Check:
        assert id not in CATALOGUE, id
        CATALOGUE[id] = Rule(
            id,
            name_da,
            name_en,
            severity,
            trigger,
            defaults,
            clears_when,
            " ".join(definition.split()),
            " ".join(definition_da.split()),
            clears_when_da,
            {subject: check},
            {subject: frozenset(reacts_to)},
        )
        return check

    return register


def also_for(id: str, subject: SubjectType, *, reacts_to: tuple[str, ...]) -> Callable[[Check], Check]:  # noqa: A002
    """The same rule about another subject, with its own function (declared after the rule)."""

    def register(check: Check) -> Check:
        declared = CATALOGUE[id]
        assert subject not in declared.checks, (id, subject)
        CATALOGUE[id] = dataclasses.replace(
            declared,
            checks={**declared.checks, subject: check},
            reacts_to={**declared.reacts_to, subject: frozenset(reacts_to)},
        )
        return check

    return register


def reacting_to(fact_type: str, subject: SubjectType) -> tuple[str, ...]:
    """The rules about `subject` that a fact of this type makes look again, in catalogue order."""
    return tuple(r.id for r in CATALOGUE.values() if fact_type in r.reacts_to.get(subject, ()))


# The facts the rules react to, in groups. Every course rule looks again when its course starts,
# has its start corrected or ends.
COURSE_LIFE = ("CourseStarted", "CourseStartCorrected", "CourseEnded")
CTI_PHASES = ("CtiPhaseStarted", "CtiPhaseStartCorrected")
# What makes a citizen housed or not (`housed`): the same facts the KPIs read the housing from.
HOUSING = ("HousingSituationRecorded", "HousingGained", "HousingLost", "ShelterStayEnded")
SHELTER_STAY = ("ShelterStayStarted", "ShelterStayEnded")
HANDLEPLAN = ("HandleplanCreated", "HandleplanDeclined")


# --- Snapshots: what the service knows about a subject ------------------------------------------


@dataclass(frozen=True)
class Measurement:
    on: date
    instrument: str
    score: float | None  # WHO-5 index, the total for UCLA-3/ORS/SRS; None for Likert/Recovery Star


@dataclass(frozen=True)
class CitizenView:
    citizen_id: str
    housed: bool | None = None  # None: not known
    housing_lost_on: date | None = None
    stay_started_on: date | None = None  # the open §110 stay, if any
    stay_contact_on: date | None = None
    ready_to_move_on: date | None = None
    handleplan_on: date | None = None
    eviction_risk_on: date | None = None
    eviction_risk_kind: str | None = None
    has_active_course: bool = False
    release_on: date | None = None  # the open Køreplan's planned release, if any
    release_meeting_on: date | None = None  # its release meeting, once held
    udredning_started_on: date | None = None  # Udredning og Plan in progress during the §110 stay
    # The latest day of each status kind registered for the citizen: housing, income, employment.
    status_on: Mapping[str, date] = field(default_factory=dict)


@dataclass(frozen=True)
class CourseView:
    course_id: str
    citizen_id: str
    team: str
    method: str
    started_on: date | None = None
    ended_on: date | None = None
    end_reason: str | None = None
    follow_on_offer: str | None = None
    support_worker: str | None = None
    worker_changes: int = 0
    # CTI phase -> (start, planned end), as last recorded
    phases: Mapping[str, tuple[date, date | None]] = field(default_factory=dict)
    # "phase:1" or "month:2026-03-01" -> expected hours
    planned_hours: Mapping[str, float] = field(default_factory=dict)
    actual_minutes: int = 0
    last_face_to_face: date | None = None
    measurements: tuple[Measurement, ...] = ()
    progression_instrument: str | None = None
    progression: tuple[tuple[date, float], ...] = ()
    follow_ups: frozenset[int] = frozenset()
    citizen: CitizenView | None = None
    outreach_phase: str | None = None  # the current SEL §99 outreach phase, and the day it began
    outreach_phase_on: date | None = None
    contact_established_on: date | None = None  # the first face-to-face or phone/digital contact
    handed_over_on: date | None = None  # CourseHandedOver: handed over to a named follow-on offer

    @property
    def active(self) -> bool:
        return self.started_on is not None and self.ended_on is None

    @property
    def current_phase(self) -> str | None:
        started = [p for p in PHASE_ORDER if p in self.phases]
        return started[-1] if started else None


@dataclass(frozen=True)
class WorkerView:
    worker_id: str
    active_courses: Mapping[str, int]  # method -> number of active courses


@dataclass(frozen=True)
class TeamView:
    team_id: str
    methods: frozenset[str]
    registered_on: date
    fidelity_rounds: frozenset[str] = frozenset()  # rounds with an answer to the team's fidelity checklist


PHASE_ORDER = tuple(p.value for p in CTI_PHASE_ORDER)


# --- Dates ---------------------------------------------------------------------------------------


# Registration keeps dates inside a window (contracts/dates.py); an event stored before it did may
# still carry one near the calendar's end: a deadline past the end is date.max, a day never reached.


def _day_after(day: date, days: float) -> date:
    """The first day on which `days` days after `day` have passed."""
    return _later(day, timedelta(days=int(days) + 1))


def _later(day: date, delta: timedelta) -> date:
    try:
        return day + delta
    except OverflowError:
        return date.max


def _reaching(day: date, days: float) -> date:
    """The day on which `days` days have passed since `day` (a stay that began on `day` reaches them)."""
    return _later(day, timedelta(days=int(days)))


# --- The rules -----------------------------------------------------------------------------------


@rule(
    "cti_phase_overdue",
    "CTI-fase overskredet",
    "CTI phase overdue",
    "warning",
    "course",
    trigger="time",
    reacts_to=COURSE_LIFE + CTI_PHASES,
    defaults={"grace_days": 14},
    clears_when="the next phase starts, or the course ends",
    definition="""
    The current phase (1, 2 or 3) of an active CTI course is still its current phase `grace_days`
    days after the phase's planned end (as registered with the phase start; 3 months after the
    start when none was given): raised the day after. Each phase is its own occurrence.
    """,
    definition_da="""
    Et aktivt CTI-forløbs aktuelle fase (1, 2 eller 3) er stadig den aktuelle `grace_days` dage
    efter fasens planlagte slut (som registreret ved fasens start; 3 måneder efter starten, hvis
    intet blev angivet): rejses dagen efter. Hver fase er sin egen forekomst.
    """,
    clears_when_da="næste fase begynder, eller forløbet slutter",
)
def cti_phase_overdue(course: CourseView, p: Params, today: date) -> Verdict:
    phase = course.current_phase
    if not course.active or phase not in ("1", "2", "3"):
        return NOT_NOW
    start, planned_end = course.phases[phase]
    end = planned_phase_end(start, planned_end)
    return Verdict(
        raise_on=_day_after(end, p["grace_days"]),
        occurrence=f"phase {phase}",
        details={"phase": phase, "planned_end": end.isoformat()},
    )


@rule(
    "cti_course_overdue",
    "CTI-forløb overskredet",
    "CTI course overdue",
    "warning",
    "course",
    trigger="time",
    reacts_to=COURSE_LIFE + CTI_PHASES,
    defaults={"months": CTI_MONTHS, "grace_days": 14},
    clears_when="the course ends",
    definition="""
    An active CTI course is still active `months` months and `grace_days` days after phase 1
    started: raised the day after.
    """,
    definition_da="""
    Et aktivt CTI-forløb er stadig aktivt `months` måneder og `grace_days` dage efter, at fase 1
    begyndte: rejses dagen efter.
    """,
    clears_when_da="forløbet slutter",
)
def cti_course_overdue(course: CourseView, p: Params, today: date) -> Verdict:
    if not course.active or "1" not in course.phases:
        return NOT_NOW
    start = course.phases["1"][0]
    end = add_months(start, int(p["months"]))
    return Verdict(
        raise_on=_day_after(end, p["grace_days"]),
        details={"phase_1_started": start.isoformat(), "planned_end": end.isoformat()},
    )


@rule(
    "cti_contact_phase_long",
    "Lang kontaktfase",
    "Contact phase long",
    "warning",
    "course",
    trigger="time",
    reacts_to=COURSE_LIFE + CTI_PHASES,
    defaults={"weeks": CTI_CONTACT_PHASE_WEEKS},
    clears_when="phase 1 starts, or the course ends",
    definition="""
    An active CTI course is still in the contact phase (kontaktskabelse, before phase 1) `weeks`
    weeks after the contact phase started: raised the day after.
    """,
    definition_da="""
    Et aktivt CTI-forløb er stadig i kontaktfasen (kontaktskabelse, før fase 1) `weeks` uger efter,
    at kontaktfasen begyndte: rejses dagen efter.
    """,
    clears_when_da="fase 1 begynder, eller forløbet slutter",
)
def cti_contact_phase_long(course: CourseView, p: Params, today: date) -> Verdict:
    if not course.active or course.current_phase != "contact":
        return NOT_NOW
    start = course.phases["contact"][0]
    return Verdict(raise_on=_day_after(start, p["weeks"] * 7), details={"contact_phase_started": start.isoformat()})


@rule(
    "cti_started_without_housing",
    "CTI fase 1 uden bolig",
    "CTI phase 1 without housing",
    "warning",
    "course",
    trigger="time",
    reacts_to=COURSE_LIFE + CTI_PHASES + HOUSING,
    defaults={"days": 30},
    clears_when="housing is gained, phase 1 ends, or the course ends",
    definition="""
    An active CTI course has been in phase 1 for `days` days and its citizen is not housed: raised
    the day after. Housed means an own home (almen, private rental, owner, skæv bolig, shared
    supported; domain §5), as the KPIs count it: from housing gained, a housing situation recorded
    with an own-home code, or a §110 stay that ended into an own home (its destination). Housing
    lost, or a situation or stay destination that is not an own home, makes the citizen not housed;
    `unknown` leaves it as it was.
    """,
    definition_da="""
    Et aktivt CTI-forløb har været i fase 1 i `days` dage, og borgeren har ikke egen bolig: rejses
    dagen efter. Egen bolig er almen bolig, privat leje, ejerbolig, skæv bolig eller bofællesskab
    med støtte (domænebeskrivelsen §5), talt som nøgletallene tæller: fra opnået bolig, en
    registreret boligsituation med en egen-bolig-kode eller et §110-ophold, der sluttede i egen
    bolig. Mistet bolig eller en situation, der ikke er egen bolig, gør borgeren uden bolig;
    `ukendt` ændrer intet.
    """,
    clears_when_da="borgeren får bolig, fase 1 slutter, eller forløbet slutter",
)
def cti_started_without_housing(course: CourseView, p: Params, today: date) -> Verdict:
    if not course.active or course.current_phase != "1":
        return NOT_NOW
    if course.citizen is not None and course.citizen.housed:
        return NOT_NOW
    start = course.phases["1"][0]
    return Verdict(raise_on=_day_after(start, p["days"]), details={"phase_1_started": start.isoformat()})


def _periods(course: CourseView) -> list[tuple[date, date, float]]:
    """(start, end, expected hours) of each planned period: a CTI phase or an ICM/ACT month."""
    periods = []
    for key, hours in course.planned_hours.items():
        kind, _, value = key.partition(":")
        if kind == "phase" and value in course.phases:
            start, planned_end = course.phases[value]
            later = [course.phases[p][0] for p in PHASE_ORDER[PHASE_ORDER.index(value) + 1 :] if p in course.phases]
            end = min(later) if later else planned_phase_end(start, planned_end)
            periods.append((start, end, hours))
        elif kind == "month":
            periods.append((*_month(value), hours))
    return sorted(periods)


@functools.lru_cache(maxsize=4096)
def _month(value: str) -> tuple[date, date]:
    """A planned month's first day and the first day after it (looked up at every contact: kept)."""
    start = date.fromisoformat(value)
    return start, add_months(start, 1)


def expected_hours_by(course: CourseView, day: date) -> float:
    """Cumulative expected hours up to `day`: each period's hours spread evenly over it."""
    return _expected_hours(_periods(course), day)


def _expected_hours(periods: list[tuple[date, date, float]], day: date) -> float:
    total = 0.0
    for start, end, hours in periods:
        length = max((end - start).days, 1)
        elapsed = min(max((day - start).days, 0), length)
        total += hours * elapsed / length
    return total


@rule(
    "time_gap",
    "Tidsforbrug afviger",
    "Time deviates from plan",
    "info",
    "course",
    trigger="time",
    reacts_to=COURSE_LIFE + CTI_PHASES + ("TimePlanned", "ContactRecorded"),
    defaults={"percent": 30, "weeks": 4, "check_every_days": 7},
    clears_when="actual hours come back within the band",
    definition="""
    Cumulative over the course: each planned period (a CTI phase, an ICM/ACT month; time planned)
    spreads its expected hours evenly over its days, and the actual hours are all recorded contact
    minutes. From `weeks` weeks after the first planned period starts, checked every
    `check_every_days` days and on every contact: raised when the actual hours deviate from the
    expected by more than ±`percent` %. "over" suggests revisitation to a more intensive method,
    "under" suggests contact problems; each direction is its own occurrence.
    """,
    definition_da="""
    Samlet over forløbet: hver planlagt periode (en CTI-fase, en ICM/ACT-måned; afsat tid) fordeler
    sine forventede timer jævnt over sine dage, og de faktiske timer er alle registrerede
    kontaktminutter. Fra `weeks` uger efter den første planlagte periodes start, tjekket hver
    `check_every_days` dag og ved hver kontakt: rejses, når de faktiske timer afviger mere end
    ±`percent` % fra de forventede. Over planen kan tyde på behov for revisitation til en mere
    intensiv metode, under planen på problemer med kontakten; hver retning er sin egen forekomst.
    """,
    clears_when_da="de faktiske timer er igen inden for grænsen",
)
def time_gap(course: CourseView, p: Params, today: date) -> Verdict:
    periods = _periods(course)
    if not course.active or not periods:
        return NOT_NOW
    first_check = _later(periods[0][0], timedelta(weeks=p["weeks"]))
    if today < first_check:
        return Verdict(recheck_on=first_check)
    recheck = today + timedelta(days=int(p["check_every_days"]))
    expected = _expected_hours(periods, today)
    if expected <= 0:
        return Verdict(recheck_on=recheck)
    actual = course.actual_minutes / 60
    deviation = (actual - expected) / expected * 100
    if abs(deviation) <= p["percent"]:
        return Verdict(recheck_on=recheck)
    direction = "over" if deviation > 0 else "under"
    return Verdict(
        raise_on=today,
        recheck_on=recheck,
        occurrence=direction,
        details={
            "direction": direction,
            "expected_hours": round(expected, 1),
            "actual_hours": round(actual, 1),
            "deviation_percent": round(deviation, 1),
            "suggests": "more_intensive_method" if direction == "over" else "contact_problems",
        },
    )


def expected_value_on(checkpoints: tuple[tuple[date, float], ...], day: date) -> float | None:
    """The expected progression on `day`, linear between checkpoints; None before the first."""
    points = sorted(checkpoints)
    if not points or day < points[0][0]:
        return None
    for (d0, v0), (d1, v1) in pairwise(points):
        if d0 <= day <= d1:
            return v0 + (v1 - v0) * (day - d0).days / max((d1 - d0).days, 1)
    return points[-1][1]


@rule(
    "progression_gap",
    "Progression under forventet",
    "Progression below expected",
    "info",
    "course",
    trigger="event",
    reacts_to=COURSE_LIFE + ("ExpectedProgressionSet", "MeasurementRecorded"),
    defaults={"points": WHO5_MEANINGFUL_CHANGE},
    clears_when="a later measurement is within the gap, or the course ends",
    definition="""
    The latest measurement of an active course on the instrument of its expected progression is
    `points` points or more below the expected value on the measurement's day (linear between the
    checkpoints; WHO-5 as index 0-100): raised on the measurement's day.
    """,
    definition_da="""
    Et aktivt forløbs seneste måling med redskabet for den forventede progression ligger `points`
    point eller mere under den forventede værdi på målingens dag (lineært mellem kontrolpunkterne;
    WHO-5 som indeks 0-100): rejses på målingens dag.
    """,
    clears_when_da="en senere måling er inden for afstanden, eller forløbet slutter",
)
def progression_gap(course: CourseView, p: Params, today: date) -> Verdict:
    if not course.active or course.progression_instrument is None:
        return NOT_NOW
    latest = [m for m in course.measurements if m.instrument == course.progression_instrument and m.score is not None]
    if not latest:
        return NOT_NOW
    measurement = max(latest, key=lambda m: m.on)
    expected = expected_value_on(course.progression, measurement.on)
    assert measurement.score is not None  # only scored measurements were kept
    if expected is None or expected - measurement.score < p["points"]:
        return NOT_NOW
    return Verdict(
        raise_on=measurement.on,
        occurrence=measurement.on.isoformat(),
        details={
            "instrument": measurement.instrument,
            "measured": measurement.score,
            "expected": round(expected, 1),
            "measured_on": measurement.on.isoformat(),
        },
    )


def _handleplan_in_place(citizen: CitizenView | None) -> bool:
    return citizen is not None and citizen.handleplan_on is not None


@rule(
    "handleplan_missing",
    "Handleplan mangler",
    "Handleplan missing",
    "warning",
    "course",
    trigger="time",
    reacts_to=COURSE_LIFE + HANDLEPLAN,
    defaults={"days": HANDLEPLAN_DAYS},
    clears_when="a handleplan is created or declined; the course or the §110 stay ends",
    definition="""
    No §141 handleplan `days` days after an active course started (about the course), or after a
    §110 stay started (about the citizen): raised the day after. Created or declined both count
    (the duty is met), and any handleplan on record counts for later courses and stays.
    """,
    definition_da="""
    Ingen §141-handleplan `days` dage efter, at et aktivt forløb begyndte (om forløbet), eller efter
    at et §110-ophold begyndte (om borgeren): rejses dagen efter. Både udarbejdet og afslået tæller
    (pligten er opfyldt), og enhver registreret handleplan tæller for senere forløb og ophold.
    """,
    clears_when_da="en handleplan udarbejdes eller afslås; forløbet eller §110-opholdet slutter",
)
def handleplan_missing_course(course: CourseView, p: Params, today: date) -> Verdict:
    if not course.active or _handleplan_in_place(course.citizen):
        return NOT_NOW
    assert course.started_on is not None
    return Verdict(
        raise_on=_day_after(course.started_on, p["days"]),
        occurrence="course",
        details={"since": "course_start", "started": course.started_on.isoformat()},
    )


@also_for("handleplan_missing", "citizen", reacts_to=SHELTER_STAY + HANDLEPLAN)
def handleplan_missing_citizen(citizen: CitizenView, p: Params, today: date) -> Verdict:
    if citizen.stay_started_on is None or _handleplan_in_place(citizen):
        return NOT_NOW
    return Verdict(
        raise_on=_day_after(citizen.stay_started_on, p["days"]),
        occurrence="shelter_stay",
        details={"since": "shelter_stay_start", "started": citizen.stay_started_on.isoformat()},
    )


@rule(
    "shelter_no_contact",
    "Ingen kontakt under §110-ophold",
    "No contact during §110 stay",
    "warning",
    "citizen",
    trigger="time",
    reacts_to=SHELTER_STAY + ("ShelterContactMade",),
    defaults={"days": 7},
    clears_when="the municipality contacts the citizen, or the stay ends",
    definition="""
    A §110 stay without contact from the municipality `days` days after the stay started: raised
    the day after.
    """,
    definition_da="""
    Et §110-ophold uden kontakt fra kommunen `days` dage efter opholdets start: rejses dagen efter.
    """,
    clears_when_da="kommunen får kontakt med borgeren, eller opholdet slutter",
)
def shelter_no_contact(citizen: CitizenView, p: Params, today: date) -> Verdict:
    if citizen.stay_started_on is None or citizen.stay_contact_on is not None:
        return NOT_NOW
    return Verdict(
        raise_on=_day_after(citizen.stay_started_on, p["days"]),
        details={"stay_started": citizen.stay_started_on.isoformat()},
    )


@rule(
    "shelter_stay_long",
    "Langt §110-ophold",
    "Long §110 stay",
    "warning",
    "citizen",
    trigger="time",
    reacts_to=SHELTER_STAY + ("AssessedReadyToMove",),
    defaults={"ready_days": SHELTER_READY_STAY_DAYS, "any_days": SHELTER_LONG_STAY_DAYS},
    clears_when="the stay ends",
    definition="""
    A citizen assessed ready to move is still in the §110 stay `ready_days` days after the stay
    began (the national goal: stays of at most 3-4 months for those ready to move): raised on that
    day, or on the day of the assessment when it comes later. Any stay, ready or not, is raised on
    reaching `any_days` days.
    """,
    definition_da="""
    En borger, der er vurderet klar til egen bolig, er stadig på §110-tilbuddet `ready_days` dage
    efter opholdets start (det nationale mål: ophold på højst 3-4 måneder for dem, der er klar til
    bolig): rejses den dag, eller på vurderingens dag, hvis den kommer senere. Ethvert ophold, klar
    eller ej, rejses, når det når `any_days` dage.
    """,
    clears_when_da="opholdet slutter",
)
def shelter_stay_long(citizen: CitizenView, p: Params, today: date) -> Verdict:
    if citizen.stay_started_on is None:
        return NOT_NOW
    candidates = [(_reaching(citizen.stay_started_on, p["any_days"]), "stay_length")]
    if citizen.ready_to_move_on is not None:
        ready_since = max(_reaching(citizen.stay_started_on, p["ready_days"]), citizen.ready_to_move_on)
        candidates.append((ready_since, "ready_to_move"))
    raise_on, reason = min(candidates)
    return Verdict(raise_on=raise_on, details={"reason": reason, "stay_started": citizen.stay_started_on.isoformat()})


@rule(
    "udredning_overdue",
    "Udredning og Plan overskredet",
    "Udredning og Plan overdue",
    "warning",
    "citizen",
    trigger="time",
    reacts_to=SHELTER_STAY + ("UdredningStarted", "UdredningCompleted"),
    defaults={"days": UDREDNING_DAYS},
    clears_when="the Udredning og Plan is completed with its recommendations, or the stay ends",
    definition="""
    An Udredning og Plan begun during a §110 stay is not completed `days` days after it began (the
    method: finished within 6 weeks, with recommendations on housing and support): raised the day
    after.
    """,
    definition_da="""
    En Udredning og Plan, påbegyndt under et §110-ophold, er ikke afsluttet `days` dage efter
    starten (metoden: afsluttet inden for 6 uger, med anbefalinger om bolig og støtte): rejses
    dagen efter.
    """,
    clears_when_da="Udredning og Plan afsluttes med sine anbefalinger, eller opholdet slutter",
)
def udredning_overdue(citizen: CitizenView, p: Params, today: date) -> Verdict:
    if citizen.udredning_started_on is None:
        return NOT_NOW
    return Verdict(
        raise_on=_day_after(citizen.udredning_started_on, p["days"]),
        details={"started": citizen.udredning_started_on.isoformat()},
    )


@rule(
    "release_meeting_missing",
    "Køreplan: møde før løsladelse mangler",
    "Release meeting missing",
    "warning",
    "citizen",
    trigger="time",
    reacts_to=("ReleasePlanned", "ReleaseMeetingHeld", "ReleaseCompleted"),
    defaults={"months": RELEASE_MEETING_MONTHS},
    clears_when="the release meeting is held, or the citizen is released",
    definition="""
    A Køreplan's release from prison or discharge from hospital or treatment is planned, and no
    release meeting (to agree housing and support before release) has been held `months` months
    before the planned day: raised on that day (on the day the release was planned, when it is
    planned at shorter notice).
    """,
    definition_da="""
    En køreplans løsladelse fra fængsel eller udskrivning fra hospital eller behandling er planlagt,
    men der er ikke holdt møde før løsladelsen (om bolig og støtte) `months` måneder før den
    planlagte dag: rejses den dag (eller på dagen for planlægningen, hvis varslet er kortere).
    """,
    clears_when_da="mødet før løsladelsen holdes, eller borgeren løslades",
)
def release_meeting_missing(citizen: CitizenView, p: Params, today: date) -> Verdict:
    if citizen.release_on is None or citizen.release_meeting_on is not None:
        return NOT_NOW
    return Verdict(
        raise_on=add_months(citizen.release_on, -int(p["months"])),
        occurrence=citizen.release_on.isoformat(),
        details={"planned_release": citizen.release_on.isoformat()},
    )


# outreach_phase_long: a parameter per outreach phase; 0 (the default) leaves the phase unchecked.
OUTREACH_PHASE_PARAM = {phase.value: f"{phase.value}_days" for phase in OutreachPhase}


@rule(
    "outreach_phase_long",
    "Opsøgende fase varer længe",
    "Outreach phase long",
    "info",
    "course",
    trigger="time",
    reacts_to=COURSE_LIFE + ("OutreachPhaseStarted",),
    defaults=dict.fromkeys(OUTREACH_PHASE_PARAM.values(), 0),
    clears_when="the next outreach phase starts, or the course ends",
    definition="""
    SEL §99 outreach has no fixed deadlines, so this rule is off until a municipality configures
    a duration for a phase (`contact_making_days`, `relationship_days`, `bridging_days`; 0: off).
    An active course is still in the phase longer than its configured days after the phase began:
    raised the day after. Each phase is its own occurrence.
    """,
    definition_da="""
    Opsøgende arbejde efter SEL §99 har ingen faste frister, så reglen er slået fra, indtil en
    kommune angiver en varighed for en fase (`contact_making_days`, `relationship_days`,
    `bridging_days`; 0: slået fra). Et aktivt forløb er stadig i fasen flere dage efter fasens
    start end angivet: rejses dagen efter. Hver fase er sin egen forekomst.
    """,
    clears_when_da="næste opsøgende fase begynder, eller forløbet slutter",
)
def outreach_phase_long(course: CourseView, p: Params, today: date) -> Verdict:
    if not course.active or course.outreach_phase is None or course.outreach_phase_on is None:
        return NOT_NOW
    allowed = p.get(OUTREACH_PHASE_PARAM.get(course.outreach_phase, ""), 0)
    if allowed <= 0:
        return NOT_NOW
    return Verdict(
        raise_on=_day_after(course.outreach_phase_on, allowed),
        occurrence=course.outreach_phase,
        details={"outreach_phase": course.outreach_phase, "started": course.outreach_phase_on.isoformat()},
    )


HANDED_OVER = {FollowOnOffer.HIGH.value, FollowOnOffer.SOME.value}


@rule(
    "bridging_ended_without_handover",
    "Brobygning sluttede uden overdragelse",
    "Bridging ended without handover",
    "warning",
    "course",
    trigger="event",
    reacts_to=COURSE_LIFE + ("OutreachPhaseStarted", "CourseHandedOver"),
    defaults={},
    clears_when="none: resolve by hand",
    definition="""
    An outreach course ended in its bridging phase (brobygning og overdragelse) without a handover:
    no CourseHandedOver to a named offer, and the follow-on offer at the end was not in place
    (ringe, slet ikke or ved ikke): raised on the end day.
    """,
    definition_da="""
    Et opsøgende forløb sluttede i fasen brobygning og overdragelse uden overdragelse: ingen
    overdragelse til et navngivet tilbud, og et tilbud efter forløbet var ikke på plads (ringe,
    slet ikke eller ved ikke): rejses på slutdagen.
    """,
    clears_when_da="ingen: løses i hånden",
)
def bridging_ended_without_handover(course: CourseView, p: Params, today: date) -> Verdict:
    if (
        course.ended_on is None
        or course.outreach_phase != OutreachPhase.BRIDGING.value
        or course.follow_on_offer in HANDED_OVER
        or (course.handed_over_on is not None and course.handed_over_on <= course.ended_on)
    ):
        return NOT_NOW
    return Verdict(
        raise_on=course.ended_on,
        details={"ended": course.ended_on.isoformat(), "follow_on_offer": course.follow_on_offer or "ved_ikke"},
    )


@rule(
    "recovery_star_baseline_missing",
    "Recovery-stjerne mangler ved start",
    "Recovery Star baseline missing",
    "info",
    "course",
    trigger="time",
    reacts_to=COURSE_LIFE + ("ContactRecorded", "MeasurementRecorded"),
    defaults={"days": RECOVERY_STAR_BASELINE_DAYS},
    clears_when="a Recovery Star measurement is recorded on or after the day contact was established",
    definition="""
    An active outreach course (§99, whose outcome measure is the Recovery Star) has no Recovery Star
    measurement on or after the day contact was established (its first face-to-face or phone/digital
    contact) within `days` days of that day: raised the day after.
    """,
    definition_da="""
    Et aktivt opsøgende forløb (§99, hvor Recovery-stjernen er effektmålet) har ingen måling med
    Recovery-stjernen på eller efter dagen, hvor der blev skabt kontakt (første møde eller
    telefon/digitale kontakt), inden for `days` dage fra den dag: rejses dagen efter.
    """,
    clears_when_da="en måling med Recovery-stjernen registreres på eller efter dagen, hvor der blev skabt kontakt",
)
def recovery_star_baseline_missing(course: CourseView, p: Params, today: date) -> Verdict:
    established = course.contact_established_on
    if not course.active or established is None or course.method not in RECOVERY_STAR_METHODS:
        return NOT_NOW
    if any(m.instrument == "RECOVERY_STAR" and m.on >= established for m in course.measurements):
        return NOT_NOW
    return Verdict(
        raise_on=_day_after(established, p["days"]),
        details={"contact_established": established.isoformat()},
    )


CADENCE_PARAM = {
    ("CTI", "1"): "cti_phase_1_days",
    ("CTI", "2"): "cti_phase_2_days",
    ("CTI", "3"): "cti_phase_3_days",
    ("ICM", None): "icm_days",
    ("ACT", None): "act_days",
}


@rule(
    "no_contact",
    "Ingen personlig kontakt",
    "No face-to-face contact",
    "warning",
    "course",
    trigger="time",
    reacts_to=COURSE_LIFE + CTI_PHASES + ("ContactRecorded",),
    defaults={CADENCE_PARAM[key]: days for key, days in NO_CONTACT_DAYS.items()},
    clears_when="a face-to-face contact is recorded, or the course ends",
    definition="""
    No face-to-face contact for longer than the method's cadence allows (CTI phase 1, 2, 3:
    `cti_phase_1_days`, `cti_phase_2_days`, `cti_phase_3_days`; ICM `icm_days`; ACT `act_days`),
    counted from the last face-to-face contact or the course start: raised the day after. No
    cadence in the CTI contact phase (cti_contact_phase_long covers it) or for §85.
    """,
    definition_da="""
    Ingen personlig kontakt i længere tid, end metodens kadence tillader (CTI fase 1, 2, 3:
    `cti_phase_1_days`, `cti_phase_2_days`, `cti_phase_3_days`; ICM `icm_days`; ACT `act_days`),
    regnet fra den seneste personlige kontakt eller forløbets start: rejses dagen efter. Ingen
    kadence i CTI's kontaktfase (den har sin egen regel) eller for §85.
    """,
    clears_when_da="en personlig kontakt registreres, eller forløbet slutter",
)
def no_contact(course: CourseView, p: Params, today: date) -> Verdict:
    if not course.active:
        return NOT_NOW
    phase = course.current_phase if course.method == Method.CTI.value else None
    param = CADENCE_PARAM.get((course.method, phase))
    if param is None:  # §85, CTI before phase 1 (the contact phase has its own rule)
        return NOT_NOW
    assert course.started_on is not None
    since = max(d for d in (course.started_on, course.last_face_to_face) if d is not None)
    return Verdict(
        raise_on=_day_after(since, p[param]),
        occurrence=since.isoformat(),
        details={
            "last_face_to_face": course.last_face_to_face.isoformat() if course.last_face_to_face else None,
            "allowed_days": p[param],
        },
    )


@rule(
    "housing_lost",
    "Bolig mistet",
    "Housing lost",
    "critical",
    "citizen",
    trigger="event",
    reacts_to=HOUSING + ("CourseStarted", "CourseEnded"),
    defaults={},
    clears_when="housing is gained again, or the citizen has no active course",
    definition="""
    The citizen lost their housing while they have an active course: raised on the day of the
    loss. Housed again (as for cti_started_without_housing) resolves it.
    """,
    definition_da="""
    Borgeren har mistet sin bolig, mens borgeren har et aktivt forløb: rejses på dagen for tabet. Ny
    egen bolig (som for CTI-reglen om bolig) løser den.
    """,
    clears_when_da="borgeren får bolig igen, eller har ikke længere et aktivt forløb",
)
def housing_lost(citizen: CitizenView, p: Params, today: date) -> Verdict:
    if citizen.housed is not False or citizen.housing_lost_on is None or not citizen.has_active_course:
        return NOT_NOW
    return Verdict(
        raise_on=citizen.housing_lost_on,
        occurrence=citizen.housing_lost_on.isoformat(),
        details={"lost_on": citizen.housing_lost_on.isoformat()},
    )


@rule(
    "eviction_risk",
    "Risiko for udsættelse",
    "Eviction risk",
    "critical",
    "citizen",
    trigger="event",
    reacts_to=("EvictionRiskRegistered", "EvictionPrevented", "EvictionCarriedOut"),
    defaults={},
    clears_when="the eviction is prevented or carried out",
    definition="""
    An eviction risk is registered (second rent reminder, bailiff case, other): raised on its day.
    A loss of the home has its own rule (housing_lost).
    """,
    definition_da="""
    Der er registreret en risiko for udsættelse (anden rykker for husleje, fogedsag, anden risiko):
    rejses på dagen. Tab af boligen har sin egen regel.
    """,
    clears_when_da="udsættelsen afværges eller gennemføres",
)
def eviction_risk(citizen: CitizenView, p: Params, today: date) -> Verdict:
    if citizen.eviction_risk_on is None:
        return NOT_NOW
    return Verdict(
        raise_on=citizen.eviction_risk_on,
        occurrence=citizen.eviction_risk_on.isoformat(),
        details={"kind": citizen.eviction_risk_kind, "registered_on": citizen.eviction_risk_on.isoformat()},
    )


@rule(
    "follow_up_due",
    "Opfølgning mangler",
    "Follow-up missing",
    "info",
    "course",
    trigger="time",
    reacts_to=COURSE_LIFE + ("FollowUpRecorded",),
    defaults={"window_days": FOLLOW_UP_WINDOW_DAYS},
    clears_when="the follow-up is recorded",
    definition="""
    After a course that ended because the citizen left support (completed, or no longer needs
    support), each of the 6-, 9- and 12-month follow-ups is due by the end of its ±`window_days`
    window: raised the day after a window closes without it. Not after a revisitation to another
    method, death, moving away, lost contact or the other end reasons. A later missed window raises
    again even if the earlier alert was resolved by hand.
    """,
    definition_da="""
    Efter et forløb, der sluttede, fordi borgeren forlod støtten (gennemført, eller har ikke længere
    brug for støtte), skal opfølgningen efter 6, 9 og 12 måneder være gjort inden udgangen af sit
    vindue på ±`window_days` dage: rejses dagen efter, at et vindue lukker uden opfølgning. Ikke
    efter revisitation til en anden metode, død, fraflytning, mistet kontakt eller de andre
    afslutningsårsager. Et senere overskredet vindue rejses igen, også hvis den tidligere advarsel
    blev løst i hånden.
    """,
    clears_when_da="opfølgningen registreres",
)
def follow_up_due(course: CourseView, p: Params, today: date) -> Verdict:
    if course.ended_on is None or course.end_reason not in LEFT_SUPPORT:
        return NOT_NOW
    window = int(p["window_days"])
    missed: list[tuple[int, date]] = []
    upcoming: list[tuple[int, date]] = []
    for months in FOLLOW_UP_MONTHS:
        if months in course.follow_ups:
            continue
        due = _day_after(add_months(course.ended_on, months), window)
        (missed if due <= today else upcoming).append((months, due))
    recheck = upcoming[0][1] if upcoming else None
    if not missed:
        return Verdict(raise_on=recheck)
    months, due = missed[-1]
    return Verdict(
        raise_on=due,
        recheck_on=recheck,
        occurrence=str(months),
        details={
            "months_after_end": months,
            "missed": ",".join(str(m) for m, _ in missed),
            "course_ended": course.ended_on.isoformat(),
        },
    )


@rule(
    "worker_changes",
    "Mange skift af medarbejder",
    "Many support worker changes",
    "info",
    "course",
    trigger="event",
    reacts_to=COURSE_LIFE + ("SupportWorkerChanged",),
    defaults={"max_changes": 2},
    clears_when="the course ends",
    definition="""
    The support worker of an active course has changed more than `max_changes` times: raised on the
    change.
    """,
    definition_da="""
    Et aktivt forløb har skiftet støttemedarbejder mere end `max_changes` gange: rejses ved skiftet.
    """,
    clears_when_da="forløbet slutter",
)
def worker_changes(course: CourseView, p: Params, today: date) -> Verdict:
    if not course.active or course.worker_changes <= p["max_changes"]:
        return NOT_NOW
    return Verdict(raise_on=today, details={"changes": course.worker_changes})


@rule(
    "caseload_over_norm",
    "Sagsstamme over norm",
    "Caseload over norm",
    "warning",
    "worker",
    trigger="event",
    reacts_to=("WorkerRegistered", "WorkerMovedTeam", "CourseStarted", "SupportWorkerChanged", "CourseEnded"),
    defaults={param: CASELOAD_NORM[method] for method, param in CASELOAD_PARAM.items()},
    clears_when="the worker's active courses are within the norm",
    definition="""
    A worker's active courses of a method exceed the norm (CTI `cti`, ICM `icm`, ACT `act`): raised
    at once, one alert per worker listing each method over its norm.
    """,
    definition_da="""
    En medarbejders aktive forløb med en metode overstiger normen (CTI `cti`, ICM `icm`, ACT `act`):
    rejses straks, én advarsel pr. medarbejder med hver metode over sin norm.
    """,
    clears_when_da="medarbejderens aktive forløb er inden for normen",
)
def caseload_over_norm(worker: WorkerView, p: Params, today: date) -> Verdict:
    norm = {method.value: p[param] for method, param in CASELOAD_PARAM.items()}
    over = {m: n for m, n in sorted(worker.active_courses.items()) if m in norm and n > norm[m]}
    if not over:
        return NOT_NOW
    return Verdict(
        raise_on=today,
        occurrence=",".join(over),
        details={"over": ",".join(f"{m}:{n}/{int(norm[m])}" for m, n in over.items())},
    )


@rule(
    "wellbeing_low",
    "Lav trivsel",
    "Low well-being",
    "warning",
    "course",
    trigger="event",
    reacts_to=COURSE_LIFE + ("MeasurementRecorded",),
    defaults={"index_at_most": WHO5_DEPRESSION, "drop_points": WHO5_MEANINGFUL_CHANGE},
    clears_when="a later WHO-5 is above the limit without a drop; the course ends",
    definition="""
    The latest WHO-5 of an active course has an index of at most `index_at_most`, or dropped by
    `drop_points` points or more since the previous WHO-5: raised on the measurement's day.
    """,
    definition_da="""
    Et aktivt forløbs seneste WHO-5 har et indeks på højst `index_at_most`, eller er faldet
    `drop_points` point eller mere siden forrige WHO-5: rejses på målingens dag.
    """,
    clears_when_da="en senere WHO-5 er over grænsen uden fald; forløbet slutter",
)
def wellbeing_low(course: CourseView, p: Params, today: date) -> Verdict:
    if not course.active:
        return NOT_NOW
    who5 = sorted(
        (m for m in course.measurements if m.instrument == Instrument.WHO5.value and m.score is not None),
        key=lambda m: m.on,
    )
    if not who5:
        return NOT_NOW
    latest = who5[-1]
    scores = [m.score for m in who5 if m.score is not None]  # all of them: the filter above
    dropped = len(scores) > 1 and scores[-2] - scores[-1] >= p["drop_points"]
    if scores[-1] > p["index_at_most"] and not dropped:
        return NOT_NOW
    return Verdict(
        raise_on=latest.on,
        occurrence=latest.on.isoformat(),
        details={
            "index": latest.score,
            "previous": who5[-2].score if len(who5) > 1 else None,
            "measured_on": latest.on.isoformat(),
            "reason": "low" if scores[-1] <= p["index_at_most"] else "drop",
        },
    )


@rule(
    "measurement_missing",
    "Måling mangler",
    "Measurement missing",
    "info",
    "course",
    trigger="time",
    reacts_to=COURSE_LIFE + ("MeasurementRecorded",),
    defaults={"days": 30},
    clears_when="a (baseline or end) measurement is recorded",
    definition="""
    No measurement within `days` days of the course start (baseline): raised the day after. A
    course that ends without a measurement in the `days` days before its end: raised on the end day.
    """,
    definition_da="""
    Ingen måling inden for `days` dage fra forløbets start (udgangspunkt): rejses dagen efter. Et
    forløb, der slutter uden en måling i de sidste `days` dage før slutningen: rejses på slutdagen.
    """,
    clears_when_da="en måling (ved start eller slut) registreres",
)
def measurement_missing(course: CourseView, p: Params, today: date) -> Verdict:
    if course.started_on is None:
        return NOT_NOW
    if course.ended_on is not None:
        ends = [m for m in course.measurements if m.on >= course.ended_on - timedelta(days=int(p["days"]))]
        if ends:
            return NOT_NOW
        return Verdict(
            raise_on=course.ended_on, occurrence="end", details={"missing": "end", "ended": course.ended_on.isoformat()}
        )
    if course.measurements:
        return NOT_NOW
    return Verdict(
        raise_on=_day_after(course.started_on, p["days"]),
        occurrence="baseline",
        details={"missing": "baseline", "started": course.started_on.isoformat()},
    )


POOR_FOLLOW_ON = {FollowOnOffer.POOR.value, FollowOnOffer.NONE.value}


@rule(
    "no_follow_on_offer",
    "Intet opfølgende tilbud",
    "No follow-on offer",
    "warning",
    "course",
    trigger="event",
    reacts_to=COURSE_LIFE,
    defaults={},
    clears_when="none: resolve by hand",
    definition="""
    A course ended with the follow-on offer ringe or slet ikke: raised on the end day.
    """,
    definition_da="""
    Et forløb sluttede med et tilbud efter forløbet i ringe grad eller slet ikke: rejses på
    slutdagen.
    """,
    clears_when_da="ingen: løses i hånden",
)
def no_follow_on_offer(course: CourseView, p: Params, today: date) -> Verdict:
    if course.ended_on is None or course.follow_on_offer not in POOR_FOLLOW_ON:
        return NOT_NOW
    return Verdict(
        raise_on=course.ended_on,
        details={"follow_on_offer": course.follow_on_offer, "ended": course.ended_on.isoformat()},
    )


CTI_STATUS = STATUS_CADENCE[Method.CTI]


@rule(
    "status_due",
    "Status mangler",
    "Status missing",
    "info",
    "course",
    trigger="time",
    reacts_to=COURSE_LIFE
    + CTI_PHASES
    + ("MeasurementRecorded", "HousingSituationRecorded", "HousingGained")
    + SHELTER_STAY
    + ("IncomeTypeRecorded", "EmploymentStatusRecorded"),
    defaults={
        "every_months": CTI_STATUS.every_months,
        "window_weeks": CTI_STATUS.window_weeks,
        "cti_final_measurement_months": CTI_STATUS.final_measurement_months,
    },
    clears_when="the missing registrations are recorded, or the course ends",
    definition="""
    An active course asks for a status every `every_months` months from its start: a housing
    situation (a situation recorded, housing gained, a §110 stay begun or ended), an income type,
    an employment status and a measurement, each registered within ±`window_weeks` weeks of the day
    it is due (or later): raised the day after the window closes without all four, one occurrence
    per status. A CTI course also asks for a measurement in the last `cti_final_measurement_months`
    month(s) of phase 3 (up to its planned end): raised the day after the planned end without it.
    The cadence is configurable per method (contracts/methods.py `STATUS_CADENCE`, and by method
    in the rule's configuration).
    """,
    definition_da="""
    Et aktivt forløb skal have en status hver `every_months` måned fra starten: boligsituation
    (registreret situation, opnået bolig, et §110-ophold begyndt eller afsluttet), indkomsttype,
    beskæftigelsesstatus og en måling, hver registreret inden for ±`window_weeks` uger fra den dag,
    statussen forfalder (eller senere): rejses dagen efter, at vinduet lukker uden alle fire, én
    forekomst pr. status. Et CTI-forløb skal desuden have en måling i fase 3's sidste
    `cti_final_measurement_months` måned(er) (frem til den planlagte slut): rejses dagen efter den
    planlagte slut uden den. Kadencen kan sættes pr. metode.
    """,
    clears_when_da="de manglende registreringer foretages, eller forløbet slutter",
)
def status_due(course: CourseView, p: Params, today: date) -> Verdict:
    if not course.active or p["every_months"] < 1:
        return NOT_NOW
    assert course.started_on is not None
    window = timedelta(weeks=int(p["window_weeks"]))
    latest: dict[str, date] = dict(course.citizen.status_on) if course.citizen else {}
    if course.measurements:
        latest["measurement"] = max(m.on for m in course.measurements)
    candidates: list[Verdict] = []
    number = 1
    while True:  # the status whose window closed last, and the next one
        due = status_due_on(course.started_on, number, int(p["every_months"]))
        closes = _later(due, window + timedelta(days=1))
        if closes > today:
            candidates.append(Verdict(raise_on=closes, occurrence=f"status {number}"))
            break
        number += 1
    if number > 1:
        due = status_due_on(course.started_on, number - 1, int(p["every_months"]))
        missing = [kind for kind in STATUS_KINDS if latest.get(kind) is None or latest[kind] < due - window]
        if missing:
            closes = _later(due, window + timedelta(days=1))
            details = {"due_on": due.isoformat(), "window_closes": (closes - timedelta(days=1)).isoformat()}
            candidates.append(
                Verdict(raise_on=closes, occurrence=f"status {number - 1}", details=details | {"status": missing})
            )
    months = int(p["cti_final_measurement_months"])
    if course.method == Method.CTI.value and "3" in course.phases and months > 0:
        start, planned_end = course.phases["3"]
        end = planned_phase_end(start, planned_end)
        since = add_months(end, -months)
        if not any(m.on >= since for m in course.measurements):
            candidates.append(
                Verdict(
                    raise_on=_later(end, timedelta(days=1)),
                    occurrence="final measurement",
                    details={"planned_end": end.isoformat(), "status": ["final_measurement"]},
                )
            )
    holding = sorted((v for v in candidates if v.holds(today)), key=lambda v: v.raise_on or date.max)
    waiting = sorted(v.raise_on for v in candidates if v.raise_on is not None and not v.holds(today))
    if not holding:
        return Verdict(raise_on=waiting[0] if waiting else None)
    first = holding[0]
    return Verdict(
        raise_on=first.raise_on,
        recheck_on=waiting[0] if waiting else None,
        occurrence=first.occurrence,
        details={k: (",".join(v) if isinstance(v, list) else v) for k, v in first.details.items()},
    )


# --- Configuration -------------------------------------------------------------------------------


def effective_params(
    rule: Rule, overrides: Mapping[str, Mapping[str, float]], *, team: str | None = None, method: str | None = None
) -> dict[str, float]:
    """Defaults, then the municipality's overrides (scope ""), then the method's, then the team's."""
    return effective(rule.defaults, overrides, team=team, method=method)


def param_problems(rule: Rule, params: Mapping[str, Any]) -> list[dict[str, str]]:
    """What is wrong with overrides for this rule; empty when they are valid."""
    problems = []
    for key, value in params.items():
        if key not in rule.defaults:
            problems.append(
                {"field": key, "problem": f"unknown parameter; known: {', '.join(rule.defaults) or 'none'}"}
            )
        elif isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 10_000:
            problems.append({"field": key, "problem": "must be a number from 0 to 10000"})
    return problems


def parse_scope(team: str | None, method: str | None) -> str:
    if team and method:
        raise ValueError("give a team or a method, not both")
    if team:
        return f"team:{team}"
    if method:
        return f"method:{Method(method).value}"
    return ""


@rule(
    "fidelity_round_due",
    "Fidelitetsmåling mangler",
    "Fidelity round due",
    "info",
    "team",
    trigger="time",
    reacts_to=("TeamRegistered", "SurveyAnswered"),
    defaults={"round_months": SURVEY_ROUND_MONTHS, "grace_days": 60},
    clears_when="an answer to the team's fidelity checklist for the round is recorded; the next round begins",
    definition="""
    A team that delivers a method with a fidelity checklist (CTI, ICM, ACT; docs/surveys.md) has no
    answer to it for the current round (half-years by default; `round_months` 3 for quarters)
    `grace_days` days after the round began (or after the team was registered, if later).
    """,
    definition_da="""
    Et team, der leverer en metode med en fidelitetstjekliste (CTI, ICM, ACT; docs/surveys.md), har
    ingen besvarelse af den i den aktuelle runde (halvår som standard; `round_months` 3 for kvartaler)
    `grace_days` dage efter rundens start (eller efter teamet blev registreret, hvis det er senere).
    """,
    clears_when_da="en besvarelse af teamets fidelitetstjekliste for runden registreres; næste runde begynder",
)
def fidelity_round_due(team: TeamView, p: Params, today: date) -> Verdict:
    if not any(m in FIDELITY_BY_METHOD for m in team.methods):
        return NOT_NOW
    months = int(p["round_months"])
    current = round_of(today, months)
    start = max(round_start(current), team.registered_on)
    next_round = add_months(round_start(current), months)
    if current in team.fidelity_rounds:
        return Verdict(recheck_on=next_round)  # the next round is due in its turn
    return Verdict(
        raise_on=start + timedelta(days=int(p["grace_days"])),
        recheck_on=next_round,
        occurrence=current,
        details={"round": current},
    )
