"""The citizen aggregate: one citizen's facts and the rules that hold across them.

One consistency boundary per citizen, because the rules span the citizen's courses, stays and
housing (one active course per method, housing lost only while housed, one open §110 stay, ...).
`record` checks the fact against the rules (a `RuleViolation` or `UnknownSubject` records nothing)
and then records one event named after the fact, carrying the fact (`apply_fact` keeps the state).
"""

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from typing import Any
from uuid import NAMESPACE_URL, UUID

from eventsourcing.domain import Aggregate, event

from contracts.codes import CourseEndReason, CtiPhase, HousingSituation, Method, OutreachPhase
from contracts.facts import (
    FACT_TYPES,
    WITHDRAWABLE_FACTS,
    AssessedReadyToMove,
    CitizenErased,
    CitizenFact,
    CitizenRegistered,
    ConsentGiven,
    ConsentWithdrawn,
    ContactRecorded,
    CourseEnded,
    CourseFact,
    CourseHandedOver,
    CourseStartCorrected,
    CourseStarted,
    CtiPhaseStartCorrected,
    CtiPhaseStarted,
    EvictionCarriedOut,
    EvictionPrevented,
    EvictionRiskRegistered,
    ExpectedProgressionSet,
    FactBase,
    FactWithdrawn,
    FollowUpRecorded,
    HandleplanCreated,
    HandleplanDeclined,
    HandleplanOffered,
    HandleplanRevised,
    HousingGained,
    HousingLost,
    HousingSituationRecorded,
    MeasurementRecorded,
    OutreachPhaseStarted,
    ReferralAssessed,
    ReferralReceived,
    ReleaseCompleted,
    ReleaseMeetingHeld,
    ReleasePlanned,
    ShelterContactMade,
    ShelterStayEnded,
    ShelterStayStarted,
    SubstanceTreatmentEnded,
    SubstanceTreatmentStarted,
    SupportWorkerChanged,
    TimePlanned,
    UdredningCompleted,
    UdredningStarted,
    VisitationDecided,
    VisitationRefused,
    schema_version,
)
from contracts.methods import CTI_PHASE_ORDER, OWN_HOME, follow_up_due, planned_phase_end
from services.registration.domain import rules
from services.registration.domain.recorded import FactRecorded, define_fact_events, event_class
from services.registration.domain.rules import RuleViolation
from services.registration.domain.uuids import uuid5

_CITIZEN_NAMESPACE = uuid5(NAMESPACE_URL, "https://casetrack.dk/citizen")


def citizen_uuid(municipality: str, citizen_id: str) -> UUID:
    """Per municipality: another municipality's citizen with the same id is another aggregate."""
    return uuid5(_CITIZEN_NAMESPACE, f"{municipality}:{citizen_id}")


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
    previous_cti_phase_started_on: date | None = None
    first_cti_phase_started_on: date | None = None
    outreach_phase: OutreachPhase | None = None
    handed_over: bool = False
    support_worker: str | None = None
    follow_ups: frozenset[int] = frozenset()

    @property
    def active(self) -> bool:
        return self.ended_on is None


def _upcast_housing_lost_v1_v2(state: dict[str, Any]) -> None:
    # v1 did not say which home was lost; registration knows it from v2 on.
    fact = state["fact"]
    if isinstance(fact, dict):
        fact.setdefault("lost_housing", HousingSituation.UNKNOWN.value)
    elif fact.lost_housing is None:
        state["fact"] = fact.model_copy(update={"lost_housing": HousingSituation.UNKNOWN})


class Citizen(Aggregate):
    class Recorded(FactRecorded):
        pass

    @staticmethod
    def create_id(fact: CitizenRegistered, recorded_by: str) -> UUID:
        return citizen_uuid(fact.municipality, fact.citizen_id)  # type: ignore[arg-type]

    @event("CitizenRegistered")
    def __init__(self, fact: CitizenRegistered, recorded_by: str):
        self.citizen_id = fact.citizen_id
        self.municipality = fact.municipality
        self.registered_on = fact.effective_date
        self.erased = False
        self.housing: HousingSituation | None = None
        self.shelter_stay_started_on: date | None = None
        # This stay's Udredning og Plan: (started or completed on, completed).
        self.udredning: tuple[date, bool] | None = None
        self.release_planned_on: date | None = None  # the open Køreplan: the day it was made
        self.eviction_risk_open = False
        self.in_treatment = False
        self.consents: set[str] = set()
        self.referrals: dict[str, tuple[date, bool]] = {}  # referral id -> (received on, assessed)
        self.referrals_assessed_on: dict[str, date] = {}
        self.visitations_refused: set[str] = set()  # the referrals whose visitation was refused
        self.handleplans: list[date] = []
        self.courses: dict[str, Course] = {}
        # The course facts a FactWithdrawn may still take back, by event id; withdrawn ones leave.
        self.withdrawable: dict[UUID, CourseFact] = {}
        self.withdrawn: set[UUID] = set()

    @property
    def housed(self) -> bool:
        return self.housing in OWN_HOME

    def record(self, fact: FactBase, recorded_by: str) -> None:
        """Checks the fact against the rules, then records it as one event."""
        if self.erased:
            raise RuleViolation(rules.CITIZEN_ERASED)
        if isinstance(fact, CitizenRegistered):
            raise RuleViolation(rules.CITIZEN_ALREADY_REGISTERED)
        check = _CHECKS.get(type(fact))
        if check is not None:
            fact = check(self, fact) or fact
        self.trigger_event(event_class(self, fact), fact=fact, recorded_by=recorded_by)

    # Checks: each raises when the fact breaks a rule, and may complete the fact (defaults).

    def _check_housing_lost(self, fact: HousingLost) -> HousingLost:
        if not self.housed:
            raise RuleViolation(rules.NOT_HOUSED)
        return fact.model_copy(update={"lost_housing": self.housing})

    def _check_shelter_stay_started(self, fact: ShelterStayStarted) -> None:
        if self.shelter_stay_started_on is not None:
            raise RuleViolation(rules.SHELTER_STAY_ALREADY_OPEN)

    def _check_in_shelter(
        self, fact: ShelterStayEnded | ShelterContactMade | AssessedReadyToMove | UdredningStarted
    ) -> None:
        if self.shelter_stay_started_on is None:
            raise RuleViolation(rules.NO_OPEN_SHELTER_STAY)
        if fact.effective_date < self.shelter_stay_started_on:
            raise RuleViolation(rules.BEFORE_SHELTER_STAY)

    def _check_udredning_started(self, fact: UdredningStarted) -> None:
        self._check_in_shelter(fact)
        if self.udredning is not None:
            raise RuleViolation(rules.UDREDNING_ALREADY_STARTED)

    def _check_udredning_completed(self, fact: UdredningCompleted) -> None:
        if self.udredning is None or self.udredning[1]:
            raise RuleViolation(rules.NO_UDREDNING_STARTED)
        if fact.effective_date < self.udredning[0]:
            raise RuleViolation(rules.UDREDNING_COMPLETED_BEFORE_STARTED)

    def _check_release_planned(self, fact: ReleasePlanned) -> None:
        if self.release_planned_on is not None:
            raise RuleViolation(rules.RELEASE_ALREADY_PLANNED)

    def _check_release_open(self, fact: ReleaseMeetingHeld | ReleaseCompleted) -> None:
        if self.release_planned_on is None:
            raise RuleViolation(rules.NO_RELEASE_PLANNED)
        if fact.effective_date < self.release_planned_on:
            raise RuleViolation(rules.BEFORE_RELEASE_PLANNED)

    def _check_eviction_risk(self, fact: EvictionRiskRegistered) -> None:
        if not self.housed:
            raise RuleViolation(rules.EVICTION_RISK_NOT_HOUSED)

    def _check_eviction_outcome(self, fact: EvictionPrevented | EvictionCarriedOut) -> None:
        if not self.eviction_risk_open:
            raise RuleViolation(rules.NO_OPEN_EVICTION_RISK)

    def _check_treatment_started(self, fact: SubstanceTreatmentStarted) -> None:
        if self.in_treatment:
            raise RuleViolation(rules.TREATMENT_ALREADY_STARTED)

    def _check_treatment_ended(self, fact: SubstanceTreatmentEnded) -> None:
        if not self.in_treatment:
            raise RuleViolation(rules.NO_OPEN_TREATMENT)

    def _check_consent_withdrawn(self, fact: ConsentWithdrawn) -> None:
        if fact.scope not in self.consents:
            raise RuleViolation(rules.NO_CONSENT_TO_WITHDRAW)

    def _check_referral_received(self, fact: ReferralReceived) -> None:
        if fact.referral_id in self.referrals:
            raise RuleViolation(rules.REFERRAL_ALREADY_EXISTS)

    def _check_referral_assessed(self, fact: ReferralAssessed) -> None:
        if fact.referral_id not in self.referrals:
            raise RuleViolation(rules.REFERRAL_NOT_FOUND)
        received_on, assessed = self.referrals[fact.referral_id]
        if assessed:
            raise RuleViolation(rules.REFERRAL_ALREADY_ASSESSED)
        if fact.effective_date < received_on:
            raise RuleViolation(rules.REFERRAL_ASSESSED_BEFORE_RECEIVED)

    def _check_visitation_refused(self, fact: VisitationRefused) -> None:
        if fact.referral_id not in self.referrals:
            raise RuleViolation(rules.REFERRAL_NOT_FOUND)
        assessed_on = self.referrals_assessed_on.get(fact.referral_id)
        if assessed_on is None:
            raise RuleViolation(rules.REFERRAL_NOT_ASSESSED)
        if fact.referral_id in self.visitations_refused:
            raise RuleViolation(rules.VISITATION_ALREADY_REFUSED)
        if fact.effective_date < assessed_on:
            raise RuleViolation(rules.VISITATION_REFUSED_BEFORE_ASSESSED)

    def _check_handleplan(
        self, fact: HandleplanOffered | HandleplanCreated | HandleplanDeclined | HandleplanRevised
    ) -> None:
        if fact.course_id is not None:
            self._open_course(fact.course_id, fact.effective_date)

    def _check_handleplan_revised(self, fact: HandleplanRevised) -> None:
        self._check_handleplan(fact)
        if not self.handleplans:
            raise RuleViolation(rules.NO_HANDLEPLAN_TO_REVISE)

    def _check_visitation(self, fact: VisitationDecided) -> None:
        if fact.course_id in self.courses:
            raise RuleViolation(rules.COURSE_ALREADY_EXISTS)
        if any(c.active and c.method == fact.method for c in self.courses.values()):
            raise RuleViolation(rules.ACTIVE_COURSE_FOR_METHOD)

    def _check_course_started(self, fact: CourseStarted) -> None:
        course = self._open_course(fact.course_id)
        if course.started_on is not None:
            raise RuleViolation(rules.COURSE_ALREADY_STARTED)
        if fact.effective_date < course.decided_on:
            raise RuleViolation(rules.COURSE_STARTS_BEFORE_VISITATION)

    def _check_course_fact(self, fact: CourseFact) -> None:
        self._open_course(fact.course_id, fact.effective_date)

    def _check_support_worker(self, fact: SupportWorkerChanged) -> None:
        course = self._open_course(fact.course_id, fact.effective_date)
        if course.support_worker == fact.support_worker:
            raise RuleViolation(rules.SUPPORT_WORKER_UNCHANGED)

    def _check_cti_phase(self, fact: CtiPhaseStarted) -> CtiPhaseStarted:
        course = self._open_course(fact.course_id)
        if course.method != Method.CTI:
            raise RuleViolation(rules.NOT_A_CTI_COURSE)
        if course.started_on is None:
            raise RuleViolation(rules.COURSE_NOT_STARTED)
        if course.cti_phase is not None and _phase_index(fact.phase) <= _phase_index(course.cti_phase):
            raise RuleViolation(rules.CTI_PHASE_NOT_FORWARD)
        if fact.effective_date < (course.cti_phase_started_on or course.started_on):
            raise RuleViolation(rules.PHASE_STARTS_BEFORE_PREVIOUS)
        return _with_planned_end(fact)

    def _check_outreach_phase(self, fact: OutreachPhaseStarted) -> None:
        course = self._open_course(fact.course_id, fact.effective_date)
        if course.method != Method.OUTREACH:
            raise RuleViolation(rules.NOT_AN_OUTREACH_COURSE)
        if course.outreach_phase == fact.phase:
            raise RuleViolation(rules.OUTREACH_PHASE_UNCHANGED)

    def _check_handed_over(self, fact: CourseHandedOver) -> None:
        course = self._open_course(fact.course_id, fact.effective_date)
        if course.started_on is None:
            raise RuleViolation(rules.COURSE_NOT_STARTED)
        if course.handed_over:
            raise RuleViolation(rules.COURSE_ALREADY_HANDED_OVER)

    def _check_time_planned(self, fact: TimePlanned) -> None:
        course = self._open_course(fact.course_id, fact.effective_date)
        if fact.cti_phase is not None and course.method != Method.CTI:
            raise RuleViolation(rules.NOT_A_CTI_COURSE)
        if fact.month is not None and course.method == Method.CTI:
            raise RuleViolation(rules.CTI_TIME_PLANNED_PER_PHASE)

    def _check_course_ended(self, fact: CourseEnded) -> None:
        course = self._open_course(fact.course_id)
        if fact.effective_date < (course.started_on or course.decided_on):
            raise RuleViolation(rules.COURSE_ENDS_BEFORE_START)
        revisitation = fact.reason == CourseEndReason.NEEDS_OTHER_SUPPORT
        if revisitation and fact.revisitation_method is None:
            raise RuleViolation(rules.REVISITATION_METHOD_REQUIRED)
        if not revisitation and fact.revisitation_method is not None:
            raise RuleViolation(rules.REVISITATION_METHOD_WITHOUT_REVISITATION)
        if fact.revisitation_method == course.method:
            raise RuleViolation(rules.REVISITATION_TO_SAME_METHOD)

    def _check_follow_up(self, fact: FollowUpRecorded) -> None:
        course = self._course(fact.course_id)
        if course.ended_on is None:
            raise RuleViolation(rules.COURSE_NOT_ENDED)
        if fact.effective_date < follow_up_due(course.ended_on, fact.months_after_end):
            raise RuleViolation(rules.FOLLOW_UP_BEFORE_DUE)
        if fact.months_after_end in course.follow_ups:
            raise RuleViolation(rules.FOLLOW_UP_ALREADY_RECORDED)

    # Corrections are allowed on ended courses, but must leave the course consistent.

    def _check_course_start_corrected(self, fact: CourseStartCorrected) -> None:
        course = self._course(fact.course_id)
        if course.started_on is None:
            raise RuleViolation(rules.COURSE_NOT_STARTED)
        if fact.effective_date < course.decided_on:
            raise RuleViolation(rules.COURSE_STARTS_BEFORE_VISITATION)
        if course.ended_on is not None and fact.effective_date > course.ended_on:
            raise RuleViolation(rules.COURSE_START_AFTER_END)
        first_phase = course.first_cti_phase_started_on
        if first_phase is not None and fact.effective_date > first_phase:
            raise RuleViolation(rules.COURSE_START_AFTER_CTI_PHASE)

    def _check_cti_phase_start_corrected(self, fact: CtiPhaseStartCorrected) -> CtiPhaseStartCorrected:
        course = self._course(fact.course_id)
        if course.method != Method.CTI:
            raise RuleViolation(rules.NOT_A_CTI_COURSE)
        if course.cti_phase != fact.phase:
            raise RuleViolation(rules.NOT_CURRENT_CTI_PHASE)
        earliest = course.previous_cti_phase_started_on or course.started_on or course.decided_on
        if fact.effective_date < earliest:
            raise RuleViolation(rules.PHASE_STARTS_BEFORE_PREVIOUS)
        if course.ended_on is not None and fact.effective_date > course.ended_on:
            raise RuleViolation(rules.PHASE_STARTS_AFTER_COURSE_END)
        return _with_planned_end(fact)

    def _check_fact_withdrawn(self, fact: FactWithdrawn) -> None:
        self._course(fact.course_id)
        if fact.withdrawn_event_id in self.withdrawn:
            raise RuleViolation(rules.FACT_ALREADY_WITHDRAWN)
        original = self.withdrawable.get(fact.withdrawn_event_id)
        if original is None or original.course_id != fact.course_id:
            raise RuleViolation(rules.FACT_NOT_WITHDRAWABLE)

    def _course(self, course_id: str) -> Course:
        course = self.courses.get(course_id)
        if course is None:
            raise rules.course_not_found()
        return course

    def _open_course(self, course_id: str, on: date | None = None) -> Course:
        course = self._course(course_id)
        if not course.active:
            raise RuleViolation(rules.COURSE_ENDED)
        if on is not None and on < course.decided_on:
            raise RuleViolation(rules.BEFORE_VISITATION)
        return course

    # State: runs when a fact is recorded and when the citizen is loaded from its history.

    def apply_fact(self, fact: FactBase) -> None:
        apply = _APPLY.get(type(fact))
        if apply is not None:
            apply(self, fact)

    def note_event(self, event_id: UUID, fact: FactBase) -> None:
        """Called with each recorded event's id (domain/recorded.py): keeps what may be withdrawn."""
        if fact.type in WITHDRAWABLE_FACTS and isinstance(fact, CourseFact):
            self.withdrawable[event_id] = fact
        elif isinstance(fact, FactWithdrawn):
            original = self.withdrawable.pop(fact.withdrawn_event_id, None)
            self.withdrawn.add(fact.withdrawn_event_id)
            if isinstance(original, FollowUpRecorded) and original.course_id in self.courses:
                # The follow-up may be recorded again, rightly this time.
                course = self.courses[original.course_id]
                self._update_course(course.course_id, follow_ups=course.follow_ups - {original.months_after_end})

    def _update_course(self, course_id: str, **changes: Any) -> None:
        self.courses[course_id] = replace(self.courses[course_id], **changes)

    def _phase_started(self, fact: CtiPhaseStarted) -> None:
        course = self.courses[fact.course_id]
        self._update_course(
            fact.course_id,
            cti_phase=fact.phase,
            cti_phase_started_on=fact.effective_date,
            previous_cti_phase_started_on=course.cti_phase_started_on,
            first_cti_phase_started_on=course.first_cti_phase_started_on or fact.effective_date,
        )

    def _phase_start_corrected(self, fact: CtiPhaseStartCorrected) -> None:
        course = self.courses[fact.course_id]
        first = course.first_cti_phase_started_on
        if course.previous_cti_phase_started_on is None:  # the first phase is the one corrected
            first = fact.effective_date
        self._update_course(fact.course_id, cti_phase_started_on=fact.effective_date, first_cti_phase_started_on=first)


def _phase_index(phase: CtiPhase) -> int:
    return CTI_PHASE_ORDER.index(phase)


def _with_planned_end(fact: Any) -> Any:
    if fact.planned_end is None:
        return fact.model_copy(update={"planned_end": planned_phase_end(fact.effective_date)})
    if fact.planned_end < fact.effective_date:
        raise RuleViolation(rules.PLANNED_END_BEFORE_START)
    return fact


_CHECKS: dict[type[FactBase], Callable[[Citizen, Any], Any]] = {
    HousingLost: Citizen._check_housing_lost,
    ShelterStayStarted: Citizen._check_shelter_stay_started,
    ShelterStayEnded: Citizen._check_in_shelter,
    UdredningStarted: Citizen._check_udredning_started,
    ReleasePlanned: Citizen._check_release_planned,
    ReleaseMeetingHeld: Citizen._check_release_open,
    ReleaseCompleted: Citizen._check_release_open,
    UdredningCompleted: Citizen._check_udredning_completed,
    ShelterContactMade: Citizen._check_in_shelter,
    AssessedReadyToMove: Citizen._check_in_shelter,
    EvictionRiskRegistered: Citizen._check_eviction_risk,
    EvictionPrevented: Citizen._check_eviction_outcome,
    EvictionCarriedOut: Citizen._check_eviction_outcome,
    SubstanceTreatmentStarted: Citizen._check_treatment_started,
    SubstanceTreatmentEnded: Citizen._check_treatment_ended,
    ConsentWithdrawn: Citizen._check_consent_withdrawn,
    ReferralReceived: Citizen._check_referral_received,
    ReferralAssessed: Citizen._check_referral_assessed,
    VisitationRefused: Citizen._check_visitation_refused,
    CourseHandedOver: Citizen._check_handed_over,
    HandleplanOffered: Citizen._check_handleplan,
    HandleplanCreated: Citizen._check_handleplan,
    HandleplanDeclined: Citizen._check_handleplan,
    HandleplanRevised: Citizen._check_handleplan_revised,
    VisitationDecided: Citizen._check_visitation,
    CourseStarted: Citizen._check_course_started,
    SupportWorkerChanged: Citizen._check_support_worker,
    CtiPhaseStarted: Citizen._check_cti_phase,
    OutreachPhaseStarted: Citizen._check_outreach_phase,
    TimePlanned: Citizen._check_time_planned,
    ExpectedProgressionSet: Citizen._check_course_fact,
    ContactRecorded: Citizen._check_course_fact,
    MeasurementRecorded: Citizen._check_course_fact,
    CourseEnded: Citizen._check_course_ended,
    FollowUpRecorded: Citizen._check_follow_up,
    CourseStartCorrected: Citizen._check_course_start_corrected,
    CtiPhaseStartCorrected: Citizen._check_cti_phase_start_corrected,
    FactWithdrawn: Citizen._check_fact_withdrawn,
}


def _set(**changes: Callable[[Any], Any]) -> Callable[[Citizen, Any], None]:
    def apply(citizen: Citizen, fact: Any) -> None:
        for name, value in changes.items():
            setattr(citizen, name, value(fact))

    return apply


def _course(**changes: Callable[[Any, Any], Any]) -> Callable[[Citizen, Any], None]:
    def apply(citizen: Citizen, fact: Any) -> None:
        course = citizen.courses[fact.course_id]
        citizen._update_course(fact.course_id, **{k: v(fact, course) for k, v in changes.items()})

    return apply


def _visitation_decided(citizen: Citizen, fact: VisitationDecided) -> None:
    citizen.courses[fact.course_id] = Course(
        course_id=fact.course_id, method=fact.method, team=fact.team, decided_on=fact.effective_date
    )


def _referral_assessed(citizen: Citizen, fact: ReferralAssessed) -> None:
    citizen.referrals[fact.referral_id] = (citizen.referrals[fact.referral_id][0], True)
    citizen.referrals_assessed_on[fact.referral_id] = fact.effective_date


_APPLY: dict[type[FactBase], Callable[[Citizen, Any], None]] = {
    HousingSituationRecorded: _set(housing=lambda f: f.housing),
    HousingGained: _set(housing=lambda f: f.housing),
    HousingLost: _set(housing=lambda f: HousingSituation.UNKNOWN, eviction_risk_open=lambda f: False),
    ShelterStayStarted: _set(shelter_stay_started_on=lambda f: f.effective_date),
    ShelterStayEnded: _set(shelter_stay_started_on=lambda f: None, udredning=lambda f: None),
    UdredningStarted: _set(udredning=lambda f: (f.effective_date, False)),
    ReleasePlanned: _set(release_planned_on=lambda f: f.effective_date),
    ReleaseCompleted: _set(release_planned_on=lambda f: None),
    UdredningCompleted: _set(udredning=lambda f: (f.effective_date, True)),
    EvictionRiskRegistered: _set(eviction_risk_open=lambda f: True),
    EvictionPrevented: _set(eviction_risk_open=lambda f: False),
    EvictionCarriedOut: _set(eviction_risk_open=lambda f: False),
    SubstanceTreatmentStarted: _set(in_treatment=lambda f: True),
    SubstanceTreatmentEnded: _set(in_treatment=lambda f: False),
    ConsentGiven: lambda c, f: c.consents.add(f.scope),
    ConsentWithdrawn: lambda c, f: c.consents.discard(f.scope),
    ReferralReceived: lambda c, f: c.referrals.__setitem__(f.referral_id, (f.effective_date, False)),
    ReferralAssessed: _referral_assessed,
    VisitationRefused: lambda c, f: c.visitations_refused.add(f.referral_id),
    CourseHandedOver: _course(handed_over=lambda f, c: True),
    CitizenErased: _set(erased=lambda f: True),
    HandleplanCreated: lambda c, f: c.handleplans.append(f.effective_date),
    VisitationDecided: _visitation_decided,
    CourseStarted: _course(started_on=lambda f, c: f.effective_date, support_worker=lambda f, c: f.support_worker),
    SupportWorkerChanged: _course(support_worker=lambda f, c: f.support_worker),
    CtiPhaseStarted: Citizen._phase_started,
    CtiPhaseStartCorrected: Citizen._phase_start_corrected,
    OutreachPhaseStarted: _course(outreach_phase=lambda f, c: f.phase),
    CourseEnded: _course(ended_on=lambda f, c: f.effective_date),
    FollowUpRecorded: _course(follow_ups=lambda f, c: c.follow_ups | {f.months_after_end}),
    CourseStartCorrected: _course(started_on=lambda f, c: f.effective_date),
}

# Every fact about a citizen or a course, except the one that creates the citizen.
CITIZEN_FACTS: tuple[type[FactBase], ...] = tuple(
    fact_type for fact_type in FACT_TYPES if issubclass(fact_type, CitizenFact) and fact_type is not CitizenRegistered
)

define_fact_events(
    Citizen,
    [fact_type.__name__ for fact_type in CITIZEN_FACTS],
    HousingLost={
        "class_version": schema_version("HousingLost"),
        "upcast_v1_v2": staticmethod(_upcast_housing_lost_v1_v2),
    },
)
