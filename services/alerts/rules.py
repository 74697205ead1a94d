"""Alert rules (domain.md §8): what raises an alert, when, and when it clears. Pure, no I/O.

Each rule looks at a snapshot of one subject (a course, a citizen or a worker) and returns a
`Verdict`: from which day the condition holds (`raise_on`), or None when it does not hold and time
alone will not make it hold. Rules that are "immediately" raised return the day of the fact that
triggered them; time-based rules return a future day, which the service keeps as a durable
deadline. `recheck_on` asks to be looked at again on a day even though nothing is due (the next
follow-up window; the next time-gap check). `occurrence` tells occurrences of the same rule on the
same subject apart (phase 1 overdue vs phase 2 overdue), so one that was resolved by hand is not
raised again while the same occurrence still holds.
"""

import calendar
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Literal

from contracts.codes import CtiPhase, FollowOnOffer, Method
from contracts.instruments import Instrument

SubjectType = Literal["course", "citizen", "worker"]
Params = Mapping[str, float]


@dataclass(frozen=True)
class Rule:
    id: str
    name_da: str
    name_en: str
    severity: Literal["info", "warning", "critical"]
    subject_type: SubjectType
    trigger: Literal["time", "event"]
    defaults: dict[str, float]
    clears_when: str  # for the API and the docs: what resolves it automatically


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


PHASE_ORDER = tuple(p.value for p in (CtiPhase.CONTACT, CtiPhase.PHASE_1, CtiPhase.PHASE_2, CtiPhase.PHASE_3))


# --- Dates ---------------------------------------------------------------------------------------


# Registration keeps dates inside a window (contracts/dates.py); an event stored before it did may
# still carry one near the calendar's end: a deadline past the end is date.max, a day never reached.


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year = day.year + month // 12
    month = month % 12 + 1
    if year > date.max.year:
        return date.max
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def planned_phase_end(start: date, planned_end: date | None, months: int = 3) -> date:
    """Registration fills in the planned end; when it is absent the default is 3 months."""
    return planned_end if planned_end is not None else add_months(start, months)


def _day_after(day: date, days: float) -> date:
    """The first day on which `days` days after `day` have passed."""
    return _later(day, timedelta(days=int(days) + 1))


def _later(day: date, delta: timedelta) -> date:
    try:
        return day + delta
    except OverflowError:
        return date.max


# --- The rules -----------------------------------------------------------------------------------


def cti_phase_overdue(course: CourseView, p: Params, today: date) -> Verdict:
    phase = course.current_phase
    if not course.active or phase not in ("1", "2", "3"):
        return NOT_NOW
    start, planned_end = course.phases[phase]
    end = planned_phase_end(start, planned_end)
    return Verdict(
        raise_on=_day_after(end, p["grace_days"]), occurrence=f"phase {phase}",
        details={"phase": phase, "planned_end": end.isoformat()},
    )


def cti_course_overdue(course: CourseView, p: Params, today: date) -> Verdict:
    if not course.active or "1" not in course.phases:
        return NOT_NOW
    start = course.phases["1"][0]
    end = add_months(start, int(p["months"]))
    return Verdict(raise_on=_day_after(end, p["grace_days"]),
                   details={"phase_1_started": start.isoformat(), "planned_end": end.isoformat()})


def cti_contact_phase_long(course: CourseView, p: Params, today: date) -> Verdict:
    if not course.active or course.current_phase != "contact":
        return NOT_NOW
    start = course.phases["contact"][0]
    return Verdict(raise_on=_day_after(start, p["weeks"] * 7), details={"contact_phase_started": start.isoformat()})


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
            later = [course.phases[p][0] for p in PHASE_ORDER[PHASE_ORDER.index(value) + 1:] if p in course.phases]
            end = min(later) if later else planned_phase_end(start, planned_end)
            periods.append((start, end, hours))
        elif kind == "month":
            start = date.fromisoformat(value)
            periods.append((start, add_months(start, 1), hours))
    return sorted(periods)


def expected_hours_by(course: CourseView, day: date) -> float:
    """Cumulative expected hours up to `day`: each period's hours spread evenly over it."""
    total = 0.0
    for start, end, hours in _periods(course):
        length = max((end - start).days, 1)
        elapsed = min(max((day - start).days, 0), length)
        total += hours * elapsed / length
    return total


def time_gap(course: CourseView, p: Params, today: date) -> Verdict:
    periods = _periods(course)
    if not course.active or not periods:
        return NOT_NOW
    first_check = _later(periods[0][0], timedelta(weeks=p["weeks"]))
    if today < first_check:
        return Verdict(recheck_on=first_check)
    recheck = today + timedelta(days=int(p["check_every_days"]))
    expected = expected_hours_by(course, today)
    if expected <= 0:
        return Verdict(recheck_on=recheck)
    actual = course.actual_minutes / 60
    deviation = (actual - expected) / expected * 100
    if abs(deviation) <= p["percent"]:
        return Verdict(recheck_on=recheck)
    direction = "over" if deviation > 0 else "under"
    return Verdict(
        raise_on=today, recheck_on=recheck, occurrence=direction,
        details={"direction": direction, "expected_hours": round(expected, 1), "actual_hours": round(actual, 1),
                 "deviation_percent": round(deviation, 1),
                 "suggests": "revisitation to a more intensive method" if direction == "over" else "contact problems"},
    )


def expected_value_on(checkpoints: tuple[tuple[date, float], ...], day: date) -> float | None:
    """The expected progression on `day`, linear between checkpoints; None before the first."""
    points = sorted(checkpoints)
    if not points or day < points[0][0]:
        return None
    for (d0, v0), (d1, v1) in zip(points, points[1:]):
        if d0 <= day <= d1:
            return v0 + (v1 - v0) * (day - d0).days / max((d1 - d0).days, 1)
    return points[-1][1]


def progression_gap(course: CourseView, p: Params, today: date) -> Verdict:
    if not course.active or course.progression_instrument is None:
        return NOT_NOW
    latest = [m for m in course.measurements if m.instrument == course.progression_instrument and m.score is not None]
    if not latest:
        return NOT_NOW
    measurement = max(latest, key=lambda m: m.on)
    expected = expected_value_on(course.progression, measurement.on)
    if expected is None or expected - measurement.score < p["points"]:
        return NOT_NOW
    return Verdict(raise_on=measurement.on, occurrence=measurement.on.isoformat(), details={
        "instrument": measurement.instrument, "measured": measurement.score, "expected": round(expected, 1),
        "measured_on": measurement.on.isoformat()})


def _handleplan_in_place(citizen: CitizenView | None) -> bool:
    return citizen is not None and citizen.handleplan_on is not None


def handleplan_missing_course(course: CourseView, p: Params, today: date) -> Verdict:
    if not course.active or _handleplan_in_place(course.citizen):
        return NOT_NOW
    assert course.started_on is not None
    return Verdict(raise_on=_day_after(course.started_on, p["days"]), occurrence="course",
                   details={"since": "course_start", "started": course.started_on.isoformat()})


def handleplan_missing_citizen(citizen: CitizenView, p: Params, today: date) -> Verdict:
    if citizen.stay_started_on is None or _handleplan_in_place(citizen):
        return NOT_NOW
    return Verdict(raise_on=_day_after(citizen.stay_started_on, p["days"]), occurrence="shelter_stay",
                   details={"since": "shelter_stay_start", "started": citizen.stay_started_on.isoformat()})


def shelter_no_contact(citizen: CitizenView, p: Params, today: date) -> Verdict:
    if citizen.stay_started_on is None or citizen.stay_contact_on is not None:
        return NOT_NOW
    return Verdict(raise_on=_day_after(citizen.stay_started_on, p["days"]),
                   details={"stay_started": citizen.stay_started_on.isoformat()})


def shelter_stay_long(citizen: CitizenView, p: Params, today: date) -> Verdict:
    if citizen.stay_started_on is None:
        return NOT_NOW
    candidates = [(_day_after(citizen.stay_started_on, p["any_days"] - 1), "stay_length")]
    if citizen.ready_to_move_on is not None:
        candidates.append((_day_after(citizen.ready_to_move_on, p["ready_days"]), "ready_to_move"))
    raise_on, reason = min(candidates)
    return Verdict(raise_on=raise_on, details={"reason": reason, "stay_started": citizen.stay_started_on.isoformat()})


CADENCE_PARAM = {("CTI", "1"): "cti_phase_1_days", ("CTI", "2"): "cti_phase_2_days",
                 ("CTI", "3"): "cti_phase_3_days", ("ICM", None): "icm_days", ("ACT", None): "act_days"}


def no_contact(course: CourseView, p: Params, today: date) -> Verdict:
    if not course.active:
        return NOT_NOW
    phase = course.current_phase if course.method == Method.CTI.value else None
    param = CADENCE_PARAM.get((course.method, phase))
    if param is None:  # §85, CTI before phase 1 (the contact phase has its own rule)
        return NOT_NOW
    assert course.started_on is not None
    since = max(d for d in (course.started_on, course.last_face_to_face) if d is not None)
    return Verdict(raise_on=_day_after(since, p[param]), occurrence=since.isoformat(),
                   details={"last_face_to_face": course.last_face_to_face.isoformat() if course.last_face_to_face else None,
                            "allowed_days": p[param]})


def housing_lost(citizen: CitizenView, p: Params, today: date) -> Verdict:
    if citizen.housed is not False or citizen.housing_lost_on is None or not citizen.has_active_course:
        return NOT_NOW
    return Verdict(raise_on=citizen.housing_lost_on, occurrence=citizen.housing_lost_on.isoformat(),
                   details={"lost_on": citizen.housing_lost_on.isoformat()})


def eviction_risk(citizen: CitizenView, p: Params, today: date) -> Verdict:
    if citizen.eviction_risk_on is None:
        return NOT_NOW
    return Verdict(raise_on=citizen.eviction_risk_on, occurrence=citizen.eviction_risk_on.isoformat(),
                   details={"kind": citizen.eviction_risk_kind, "registered_on": citizen.eviction_risk_on.isoformat()})


FOLLOW_UP_MONTHS = (6, 9, 12)


def follow_up_due(course: CourseView, p: Params, today: date) -> Verdict:
    if course.ended_on is None:
        return NOT_NOW
    window = int(p["window_days"])
    missed, upcoming = [], []
    for months in FOLLOW_UP_MONTHS:
        if months in course.follow_ups:
            continue
        due = _day_after(add_months(course.ended_on, months), window)
        (missed if due <= today else upcoming).append((months, due))
    recheck = upcoming[0][1] if upcoming else None
    if not missed:
        return Verdict(raise_on=recheck)
    months, due = missed[-1]
    return Verdict(raise_on=due, recheck_on=recheck, occurrence=str(months),
                   details={"months_after_end": months, "missed": ",".join(str(m) for m, _ in missed),
                            "course_ended": course.ended_on.isoformat()})


def worker_changes(course: CourseView, p: Params, today: date) -> Verdict:
    if not course.active or course.worker_changes <= p["max_changes"]:
        return NOT_NOW
    return Verdict(raise_on=today, details={"changes": course.worker_changes})


CASELOAD_PARAM = {"CTI": "cti", "ICM": "icm", "ACT": "act"}


def caseload_over_norm(worker: WorkerView, p: Params, today: date) -> Verdict:
    over = {m: n for m, n in sorted(worker.active_courses.items()) if m in CASELOAD_PARAM and n > p[CASELOAD_PARAM[m]]}
    if not over:
        return NOT_NOW
    return Verdict(raise_on=today, occurrence=",".join(over),
                   details={"over": ",".join(f"{m}:{n}/{int(p[CASELOAD_PARAM[m]])}" for m, n in over.items())})


def wellbeing_low(course: CourseView, p: Params, today: date) -> Verdict:
    if not course.active:
        return NOT_NOW
    who5 = sorted((m for m in course.measurements if m.instrument == Instrument.WHO5.value), key=lambda m: m.on)
    if not who5:
        return NOT_NOW
    latest = who5[-1]
    dropped = len(who5) > 1 and who5[-2].score - latest.score >= p["drop_points"]
    if latest.score > p["index_at_most"] and not dropped:
        return NOT_NOW
    return Verdict(raise_on=latest.on, occurrence=latest.on.isoformat(), details={
        "index": latest.score, "previous": who5[-2].score if len(who5) > 1 else None,
        "measured_on": latest.on.isoformat(), "reason": "low" if latest.score <= p["index_at_most"] else "drop"})


def measurement_missing(course: CourseView, p: Params, today: date) -> Verdict:
    if course.started_on is None:
        return NOT_NOW
    if course.ended_on is not None:
        ends = [m for m in course.measurements if m.on >= course.ended_on - timedelta(days=int(p["days"]))]
        if ends:
            return NOT_NOW
        return Verdict(raise_on=course.ended_on, occurrence="end", details={"missing": "end", "ended": course.ended_on.isoformat()})
    if course.measurements:
        return NOT_NOW
    return Verdict(raise_on=_day_after(course.started_on, p["days"]), occurrence="baseline",
                   details={"missing": "baseline", "started": course.started_on.isoformat()})


POOR_FOLLOW_ON = {FollowOnOffer.POOR.value, FollowOnOffer.NONE.value}


def no_follow_on_offer(course: CourseView, p: Params, today: date) -> Verdict:
    if course.ended_on is None or course.follow_on_offer not in POOR_FOLLOW_ON:
        return NOT_NOW
    return Verdict(raise_on=course.ended_on, details={"follow_on_offer": course.follow_on_offer,
                                                      "ended": course.ended_on.isoformat()})


def _rule(id: str, da: str, en: str, severity: str, subject: str, trigger: str, defaults: dict[str, float], clears: str) -> Rule:
    return Rule(id, da, en, severity, subject, trigger, defaults, clears)  # type: ignore[arg-type]


RULE_LIST = (
    _rule("cti_phase_overdue", "CTI-fase overskredet", "CTI phase overdue", "warning", "course", "time",
          {"grace_days": 14}, "the next phase starts, or the course ends"),
    _rule("cti_course_overdue", "CTI-forløb overskredet", "CTI course overdue", "warning", "course", "time",
          {"months": 9, "grace_days": 14}, "the course ends"),
    _rule("cti_contact_phase_long", "Lang kontaktfase", "Contact phase long", "warning", "course", "time",
          {"weeks": 8}, "phase 1 starts, or the course ends"),
    _rule("cti_started_without_housing", "CTI fase 1 uden bolig", "CTI phase 1 without housing", "warning", "course",
          "time", {"days": 30}, "housing is gained, phase 1 ends, or the course ends"),
    _rule("time_gap", "Tidsforbrug afviger", "Time deviates from plan", "info", "course", "time",
          {"percent": 30, "weeks": 4, "check_every_days": 7}, "actual hours come back within the band"),
    _rule("progression_gap", "Progression under forventet", "Progression below expected", "info", "course", "event",
          {"points": 10}, "a later measurement is within the gap, or the course ends"),
    _rule("handleplan_missing", "Handleplan mangler", "Handleplan missing", "warning", "course", "time",
          {"days": 30}, "a handleplan is created or declined; the course or the §110 stay ends"),
    _rule("shelter_no_contact", "Ingen kontakt under §110-ophold", "No contact during §110 stay", "warning",
          "citizen", "time", {"days": 7}, "the municipality contacts the citizen, or the stay ends"),
    _rule("shelter_stay_long", "Langt §110-ophold", "Long §110 stay", "warning", "citizen", "time",
          {"ready_days": 90, "any_days": 120}, "the stay ends"),
    _rule("no_contact", "Ingen personlig kontakt", "No face-to-face contact", "warning", "course", "time",
          {"cti_phase_1_days": 14, "cti_phase_2_days": 21, "cti_phase_3_days": 45, "icm_days": 14, "act_days": 7},
          "a face-to-face contact is recorded, or the course ends"),
    _rule("housing_lost", "Bolig mistet", "Housing lost", "critical", "citizen", "event",
          {}, "housing is gained again, or the citizen has no active course"),
    _rule("eviction_risk", "Risiko for udsættelse", "Eviction risk", "critical", "citizen", "event",
          {}, "the eviction is prevented or carried out"),
    _rule("follow_up_due", "Opfølgning mangler", "Follow-up missing", "info", "course", "time",
          {"window_days": 30}, "the follow-up is recorded"),
    _rule("worker_changes", "Mange skift af medarbejder", "Many support worker changes", "info", "course", "event",
          {"max_changes": 2}, "the course ends"),
    _rule("caseload_over_norm", "Sagsstamme over norm", "Caseload over norm", "warning", "worker", "event",
          {"cti": 12, "icm": 8, "act": 10}, "the worker's active courses are within the norm"),
    _rule("wellbeing_low", "Lav trivsel", "Low well-being", "warning", "course", "event",
          {"index_at_most": 28, "drop_points": 10}, "a later WHO-5 is above the limit without a drop; the course ends"),
    _rule("measurement_missing", "Måling mangler", "Measurement missing", "info", "course", "time",
          {"days": 30}, "a (baseline or end) measurement is recorded"),
    _rule("no_follow_on_offer", "Intet opfølgende tilbud", "No follow-on offer", "warning", "course", "event",
          {}, "none: resolve by hand"),
)
RULES: dict[str, Rule] = {rule.id: rule for rule in RULE_LIST}
CTI_PHASE_OVERDUE = RULES["cti_phase_overdue"]

# handleplan_missing is about a course (after its start) or a citizen (after a §110 stay start).
COURSE_RULES: dict[str, Callable[[CourseView, Params, date], Verdict]] = {
    "cti_phase_overdue": cti_phase_overdue,
    "cti_course_overdue": cti_course_overdue,
    "cti_contact_phase_long": cti_contact_phase_long,
    "cti_started_without_housing": cti_started_without_housing,
    "time_gap": time_gap,
    "progression_gap": progression_gap,
    "handleplan_missing": handleplan_missing_course,
    "no_contact": no_contact,
    "follow_up_due": follow_up_due,
    "worker_changes": worker_changes,
    "wellbeing_low": wellbeing_low,
    "measurement_missing": measurement_missing,
    "no_follow_on_offer": no_follow_on_offer,
}
CITIZEN_RULES: dict[str, Callable[[CitizenView, Params, date], Verdict]] = {
    "handleplan_missing": handleplan_missing_citizen,
    "shelter_no_contact": shelter_no_contact,
    "shelter_stay_long": shelter_stay_long,
    "housing_lost": housing_lost,
    "eviction_risk": eviction_risk,
}
WORKER_RULES: dict[str, Callable[[WorkerView, Params, date], Verdict]] = {
    "caseload_over_norm": caseload_over_norm,
}


# --- Configuration -------------------------------------------------------------------------------


def effective_params(rule: Rule, overrides: Mapping[str, Mapping[str, float]], *, team: str | None = None,
                     method: str | None = None) -> dict[str, float]:
    """Defaults, then the municipality's overrides (scope ""), then the method's, then the team's."""
    params = dict(rule.defaults)
    for scope in ("", f"method:{method}" if method else None, f"team:{team}" if team else None):
        if scope is not None:
            params |= overrides.get(scope, {})
    return params


def param_problems(rule: Rule, params: Mapping[str, Any]) -> list[dict[str, str]]:
    """What is wrong with overrides for this rule; empty when they are valid."""
    problems = []
    for key, value in params.items():
        if key not in rule.defaults:
            problems.append({"field": key, "problem": f"unknown parameter; known: {', '.join(rule.defaults) or 'none'}"})
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
