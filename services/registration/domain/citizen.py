"""The citizen aggregate: one citizen's facts and the rules that hold across them.

One consistency boundary per citizen, because the rules span the citizen's courses, stays and
housing (one active course per method, housing lost only while housed, ...). Each decision is one
public method that checks its rule and then records one event named in the domain's words; the
event carries the validated fact unchanged.
"""

import calendar
from dataclasses import dataclass, replace
from datetime import date
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from contracts.codes import CTI_PHASE_ORDER, CtiPhase, Method, OWN_HOME
from contracts.facts import (
    CitizenRegistered,
    CourseEnded,
    CourseStarted,
    CtiPhaseStarted,
    HandleplanCreated,
    HousingGained,
    HousingLost,
    VisitationDecided,
)
from services.registration.domain import rules
from services.registration.domain.rules import RuleViolation

_CITIZEN_NAMESPACE = uuid5(NAMESPACE_URL, "https://casetrack.dk/citizen")
DEFAULT_PHASE_MONTHS = 3


def citizen_uuid(citizen_id: str) -> UUID:
    return uuid5(_CITIZEN_NAMESPACE, citizen_id)


def add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class Course:
    course_id: str
    method: Method
    team: str
    decided_on: date
    started_on: date | None = None
    ended_on: date | None = None
    cti_phase: CtiPhase | None = None
    cti_phase_started_on: date | None = None

    @property
    def active(self) -> bool:
        return self.ended_on is None


class Citizen(Aggregate):
    @staticmethod
    def create_id(fact: CitizenRegistered, recorded_by: str) -> UUID:
        return citizen_uuid(fact.citizen_id)

    @event("CitizenRegistered")
    def __init__(self, fact: CitizenRegistered, recorded_by: str):
        self.citizen_id = fact.citizen_id
        self.municipality = fact.municipality
        self.housed = False
        self.courses: dict[str, Course] = {}
        self.handleplans: list[date] = []

    # Decisions: check the rule, then record one event.

    def decide_visitation(self, fact: VisitationDecided, recorded_by: str) -> None:
        if fact.course_id in self.courses:
            raise RuleViolation(rules.COURSE_ALREADY_EXISTS)
        if any(c.active and c.method == fact.method for c in self.courses.values()):
            raise RuleViolation(rules.ACTIVE_COURSE_FOR_METHOD)
        self._visitation_decided(fact, recorded_by)

    def start_course(self, fact: CourseStarted, recorded_by: str) -> None:
        course = self._open_course(fact.course_id)
        if course.started_on is not None:
            raise RuleViolation(rules.COURSE_ALREADY_STARTED)
        if fact.effective_date < course.decided_on:
            raise RuleViolation(rules.COURSE_STARTS_BEFORE_VISITATION)
        self._course_started(fact, recorded_by)

    def start_cti_phase(self, fact: CtiPhaseStarted, recorded_by: str) -> None:
        course = self._open_course(fact.course_id)
        if course.method != Method.CTI:
            raise RuleViolation(rules.NOT_A_CTI_COURSE)
        if course.started_on is None:
            raise RuleViolation(rules.COURSE_NOT_STARTED)
        if course.cti_phase is not None and CTI_PHASE_ORDER.index(fact.phase) <= CTI_PHASE_ORDER.index(
            course.cti_phase
        ):
            raise RuleViolation(rules.CTI_PHASE_NOT_FORWARD)
        earliest = course.cti_phase_started_on or course.started_on
        if fact.effective_date < earliest:
            raise RuleViolation(rules.PHASE_STARTS_BEFORE_PREVIOUS)
        if fact.planned_end is None:
            fact = fact.model_copy(
                update={"planned_end": add_months(fact.effective_date, DEFAULT_PHASE_MONTHS)}
            )
        elif fact.planned_end < fact.effective_date:
            raise RuleViolation(rules.PLANNED_END_BEFORE_START)
        self._cti_phase_started(fact, recorded_by)

    def end_course(self, fact: CourseEnded, recorded_by: str) -> None:
        course = self._open_course(fact.course_id)
        if fact.effective_date < (course.started_on or course.decided_on):
            raise RuleViolation(rules.COURSE_ENDS_BEFORE_START)
        self._course_ended(fact, recorded_by)

    def gain_housing(self, fact: HousingGained, recorded_by: str) -> None:
        # Moving from one home to another is a housing change, not a loss: no rule to check.
        self._housing_gained(fact, recorded_by)

    def lose_housing(self, fact: HousingLost, recorded_by: str) -> None:
        if not self.housed:
            raise RuleViolation(rules.NOT_HOUSED)
        self._housing_lost(fact, recorded_by)

    def create_handleplan(self, fact: HandleplanCreated, recorded_by: str) -> None:
        if fact.course_id is not None and fact.course_id not in self.courses:
            raise rules.course_not_found()
        self._handleplan_created(fact, recorded_by)

    def _open_course(self, course_id: str) -> Course:
        course = self.courses.get(course_id)
        if course is None:
            raise rules.course_not_found()
        if not course.active:
            raise RuleViolation(rules.COURSE_ENDED)
        return course

    # Events: these bodies also run when the citizen is loaded from its history.

    @event("VisitationDecided")
    def _visitation_decided(self, fact: VisitationDecided, recorded_by: str) -> None:
        self.courses[fact.course_id] = Course(
            course_id=fact.course_id, method=fact.method, team=fact.team, decided_on=fact.effective_date
        )

    @event("CourseStarted")
    def _course_started(self, fact: CourseStarted, recorded_by: str) -> None:
        self._update_course(fact.course_id, started_on=fact.effective_date)

    @event("CtiPhaseStarted")
    def _cti_phase_started(self, fact: CtiPhaseStarted, recorded_by: str) -> None:
        self._update_course(fact.course_id, cti_phase=fact.phase, cti_phase_started_on=fact.effective_date)

    @event("CourseEnded")
    def _course_ended(self, fact: CourseEnded, recorded_by: str) -> None:
        self._update_course(fact.course_id, ended_on=fact.effective_date)

    @event("HousingGained")
    def _housing_gained(self, fact: HousingGained, recorded_by: str) -> None:
        self.housed = fact.housing in OWN_HOME

    @event("HousingLost")
    def _housing_lost(self, fact: HousingLost, recorded_by: str) -> None:
        self.housed = False

    @event("HandleplanCreated")
    def _handleplan_created(self, fact: HandleplanCreated, recorded_by: str) -> None:
        self.handleplans.append(fact.effective_date)

    def _update_course(self, course_id: str, **changes: object) -> None:
        self.courses[course_id] = replace(self.courses[course_id], **changes)
