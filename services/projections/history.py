"""What was known about a municipality's courses and citizens: the facts folded in log order.

Pure domain, no I/O. The fold keeps every effective date, so a KPI can ask "as it stood on day D"
by comparing dates; which facts were known at all ("as of" a recorded date) is decided before the
fold, by the store (store.py). Corrections are later facts that replace an earlier value; a
`FactWithdrawn` takes a course's contact, time plan, expected progression, measurement or follow-up
back out of the fold (found by its event id), so every figure built on it follows.

What a course or citizen gathers a few of (workers, phases, stays, housing entries ...) is a tuple,
replaced by a longer one as facts come: most hold none or a few, the empty tuple is shared, and a
list took 56 bytes empty and room to grow besides — a tenth of a history's memory.
"""

from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from contracts import facts as f
from contracts.codes import (
    CitizenMethod,
    CourseEndReason,
    CtiPhase,
    EmploymentStatus,
    FollowOnOffer,
    FollowUpAnswer,
    Gender,
    HandoverOffer,
    HousingSituation,
    IncomeType,
    Method,
    OutreachPhase,
    ReferralChannel,
    ReferralDestination,
    ReferralSource,
    ShelterDischarge,
    WorkerRole,
)
from contracts.instruments import Instrument
from contracts.methods import BACKDATED_AFTER_DAYS, CTI_MONTHS, cti_planned_end, planned_phase_end
from services.projections.columns import Contact, Contacts, Measurement, Measurements, TimePlans


@dataclass(frozen=True, slots=True)
class Record:
    """One fact as the read model keeps it: with its log position and when it was recorded."""

    position: int
    recorded_at: datetime
    fact: f.FactBase
    event_id: UUID | None = None  # known for facts applied since the read model kept it


@dataclass(frozen=True, slots=True)
class Phase:
    phase: CtiPhase
    start: date
    planned_end: date | None

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled (snapshots.py) as its constructor's arguments: the dataclasses module's own
        state for a frozen class with slots looks its fields up again for every object."""
        return (Phase, (self.phase, self.start, self.planned_end))


@dataclass(slots=True)
class Course:
    course_id: str
    citizen_id: str
    method: Method
    team: str
    decided_on: date
    assessment_done: bool | None = None
    fits_target_group: bool | None = None
    started_on: date | None = None
    ended_on: date | None = None
    end_reason: CourseEndReason | None = None
    follow_on_offer: FollowOnOffer | None = None
    workers: tuple[tuple[date, str], ...] = ()  # (from, worker), by date
    phases: tuple[Phase, ...] = ()  # as recorded
    phases_by_start: tuple[Phase, ...] = ()  # the same, by start (stable)
    progression: dict[Instrument, list[tuple[date, float]]] = field(default_factory=dict)
    contacts: Contacts = field(default_factory=Contacts)  # by date (then as recorded), as columns
    measurements: Measurements = field(default_factory=Measurements)  # as recorded, as columns
    follow_ups: tuple[tuple[date, int, FollowUpAnswer], ...] = ()
    outreach_phases: tuple[tuple[date, OutreachPhase], ...] = ()  # by start (stable)
    handed_over: tuple[date, HandoverOffer] | None = None  # CourseHandedOver: the day and the offer
    # What a FactWithdrawn may take back: each plan (columns.TimePlans) and expected progression as
    # recorded (the latest standing one counts), the contacts and measurements by their event ids
    # (columns.Contacts, columns.Measurements), and the follow-ups by event id — kept as the ids'
    # 16 bytes one after the other and the follow-ups in the same order: a dict of UUID objects
    # took two thirds of a contact's memory, and a withdrawal is rare.
    plans: TimePlans = field(default_factory=TimePlans)
    progressions: tuple[tuple[UUID | None, Instrument, list[tuple[date, float]]], ...] = ()
    entry_ids: bytearray = field(default_factory=bytearray)
    entry_values: tuple[tuple[date, int, FollowUpAnswer], ...] = ()

    @property
    def entries(self) -> dict[UUID, Contact | Measurement | tuple[date, int, FollowUpAnswer]]:
        """The contacts, measurements and follow-ups a FactWithdrawn may take back, by event id."""
        ids = bytes(self.entry_ids)
        kept: dict[UUID, Contact | Measurement | tuple[date, int, FollowUpAnswer]] = dict(self.contacts.by_id())
        kept |= self.measurements.by_id()
        kept |= {UUID(bytes=ids[16 * i : 16 * i + 16]): value for i, value in enumerate(self.entry_values)}
        return kept

    def keep(self, event_id: UUID, entry: tuple[date, int, FollowUpAnswer]) -> None:
        """`entry` came with the fact stored as `event_id`: a FactWithdrawn naming it takes it back."""
        self.entry_ids += event_id.bytes
        self.entry_values += (entry,)

    def _take_entry(self, event_id: UUID) -> tuple[date, int, FollowUpAnswer] | None:
        wanted, at = event_id.bytes, -1
        while (at := self.entry_ids.find(wanted, at + 1)) != -1:
            if at % 16 == 0:
                del self.entry_ids[at : at + 16]
                entry = self.entry_values[at // 16]
                self.entry_values = self.entry_values[: at // 16] + self.entry_values[at // 16 + 1 :]
                return entry
        return None

    def withdraw(self, event_id: UUID) -> None:
        """The fact of this course stored as `event_id` no longer counts."""
        if self.contacts.withdraw(event_id) or self.measurements.withdraw(event_id):
            return
        entry = self._take_entry(event_id)
        if entry is not None:
            at = self.follow_ups.index(entry)
            self.follow_ups = self.follow_ups[:at] + self.follow_ups[at + 1 :]
        self.plans.withdraw(event_id)
        if any(e == event_id for e, _, _ in self.progressions):
            self.progressions = tuple(p for p in self.progressions if p[0] != event_id)
            self.progression = {instrument: points for _, instrument, points in self.progressions}

    @property
    def planned_hours(self) -> dict[CtiPhase | date, float]:
        """The latest standing plan of each unit (a later plan replaces the earlier), worked out from
        the plans when asked: kept beside them, it took a tenth of a history's memory."""
        return self.plans.planned_hours()

    def active_on(self, day: date) -> bool:
        return self.started_on is not None and self.started_on <= day and (self.ended_on is None or self.ended_on > day)

    def active_days(self, start: date, end: date) -> int:
        """Days of [start, end] on which the course was active."""
        span = self.active_span(start, end)
        return (span[1] - span[0]).days + 1 if span else 0

    def active_span(self, start: date, end: date) -> tuple[date, date] | None:
        """The days of [start, end] on which the course was active, as [first, last]; None if none."""
        if self.started_on is None:
            return None
        first = max(start, self.started_on)
        last = min(end, self.ended_on - timedelta(days=1)) if self.ended_on else end
        return (first, last) if first <= last else None

    def contacts_between(self, start: date | None, end: date) -> list[Contact]:
        """The contacts on the days [start, end] (from the first one if `start` is None)."""
        return self.contacts.between(start, end)

    def minutes_between(self, start: date | None, end: date) -> int:
        """The minutes of the contacts on the days [start, end] (from the first one if `start` is None)."""
        return self.contacts.minutes_between(start, end)

    def worker_on(self, day: date) -> str | None:
        current = None
        for since, worker in sorted(self.workers):
            if since <= day:
                current = worker
        return current

    def phase_on(self, day: date) -> CtiPhase | None:
        current = None
        for phase in self.phases_by_start:
            if phase.start > day:
                break
            current = phase.phase
        return current

    def planned_end(self, cti_months: int = CTI_MONTHS) -> date | None:
        """CTI runs `cti_months` from phase 1 (or to phase 3's own planned end); other methods are open-ended."""
        if self.method != Method.CTI:
            return None
        third = [p for p in self.phases if p.phase == CtiPhase.PHASE_3 and p.planned_end]
        if third:
            return third[-1].planned_end
        first = [p for p in self.phases if p.phase == CtiPhase.PHASE_1]
        start = first[0].start if first else self.started_on
        return cti_planned_end(start, cti_months) if start else None

    def outreach_phase_on(self, day: date) -> OutreachPhase | None:
        """The SEL §99 outreach phase the course was in on `day` (None before its first phase)."""
        current = None
        for start, phase in self.outreach_phases:
            if start > day:
                break
            current = phase
        return current

    def time_unit(self, day: date) -> CtiPhase | date:
        """The double-bottom-line unit a day belongs to: its CTI phase, or its month."""
        if self.method == Method.CTI:
            return self.phase_on(day) or CtiPhase.CONTACT
        return day.replace(day=1)

    def unit_start(self, unit: CtiPhase | date) -> date | None:
        if isinstance(unit, CtiPhase):
            starts = [p.start for p in self.phases if p.phase == unit]
            return min(starts) if starts else None
        return unit


@dataclass(slots=True)
class Stay:
    """A §110 shelter stay."""

    start: date
    end: date | None = None
    contact_on: date | None = None
    ready_on: date | None = None
    shelter: str = ""
    discharge: ShelterDischarge | None = None
    destination: HousingSituation | None = None

    def nights(self, start: date, end: date) -> int:
        """Bed-days (nights) of the stay within [start, end]: each night counted on its evening."""
        last_night = (self.end - timedelta(days=1)) if self.end else end
        first, last = max(start, self.start), min(end, last_night)
        return max(0, (last - first).days + 1)


@dataclass(slots=True)
class Referral:
    """A referral (henvendelse) about the citizen, and its assessment once made."""

    referral_id: str
    received_on: date
    source: ReferralSource
    channel: ReferralChannel
    assessed_on: date | None = None
    in_target_group: bool | None = None
    already_supported: bool | None = None
    referred_to: ReferralDestination | None = None
    refused_on: date | None = None  # VisitationRefused: the visitation asked for was refused


@dataclass(slots=True)
class Citizen:
    citizen_id: str
    first_seen: date
    housing: tuple[tuple[date, int, HousingSituation, str], ...] = ()  # (on, pos, code, how)
    stays: tuple[Stay, ...] = ()
    handleplans: tuple[date, ...] = ()
    eviction_risks: tuple[date, ...] = ()
    evictions_prevented: tuple[date, ...] = ()
    evictions_carried_out: tuple[date, ...] = ()
    incomes: tuple[tuple[date, int, IncomeType], ...] = ()
    employment: tuple[tuple[date, int, EmploymentStatus], ...] = ()
    treatment: tuple[tuple[date, int, bool], ...] = ()
    activity: "array[int]" = field(default_factory=lambda: array("i"))  # the days (ordinal) it had a fact on, in order
    allocation_offers: tuple[tuple[date, bool], ...] = ()
    waiting_lists: tuple[date, ...] = ()
    consents: tuple[tuple[date, int, str, bool], ...] = ()  # (on, pos, scope, given)
    birth_year: int | None = None
    gender: Gender = Gender.UNKNOWN
    target_groups: tuple[str, ...] = ()
    referrals: dict[str, Referral] = field(default_factory=dict)
    # The citizen methods (CitizenMethod) as spans [first day, last day or None while open]:
    # Udredning og Plan from UdredningStarted to UdredningCompleted (or the stay's end), Køreplan
    # from ReleasePlanned to ReleaseCompleted.
    spans: dict[CitizenMethod, list[list[date | None]]] = field(default_factory=dict)
    # Facts about the citizen, and those told more than BACKDATED_AFTER_DAYS after they happened,
    # by the course they are about ("" for a citizen fact): the data-quality figures.
    facts_told: dict[str, int] = field(default_factory=dict)
    facts_backdated: dict[str, int] = field(default_factory=dict)

    def consents_on(self, scope: str, day: date) -> bool:
        """Whether the citizen's consent to `scope` stood on `day` (given and not withdrawn since)."""
        return bool(latest([(d, p, given) for d, p, s, given in self.consents if s == scope], day))

    def follows(self, method: CitizenMethod, start: date, end: date) -> bool:
        """Whether the citizen followed the citizen method on a day of [start, end]."""
        return any(
            first is not None and first <= end and (last is None or last >= start)
            for first, last in self.spans.get(method, [])
        )

    def open_span(self, method: CitizenMethod, day: date) -> None:
        self.spans.setdefault(method, []).append([day, None])

    def close_span(self, method: CitizenMethod, day: date) -> None:
        for span in self.spans.get(method, []):
            if span[1] is None:
                span[1] = day

    def housing_on(self, day: date) -> HousingSituation | None:
        return latest([(d, p, code) for d, p, code, _ in self.housing], day)

    def housing_entries(self, start: date, end: date) -> list[tuple[date, int, HousingSituation, str]]:
        return sorted(entry for entry in self.housing if start <= entry[0] <= end)

    def in_treatment_on(self, day: date) -> bool:
        return bool(latest(self.treatment, day))

    def active_on(self, day: date, within_days: int) -> bool:
        latest_seen = bisect_right(self.activity, day.toordinal())  # the first day after `day`
        return latest_seen > 0 and self.activity[latest_seen - 1] > day.toordinal() - within_days


@dataclass(slots=True)
class HousingStock:
    period_start: date
    period_end: date
    report: f.HousingStockReported


@dataclass(frozen=True, slots=True)
class Team:
    team_id: str
    name: str
    methods: tuple[Method, ...]

    def __reduce__(self) -> tuple[Any, ...]:  # see Phase
        return (Team, (self.team_id, self.name, self.methods))


@dataclass(slots=True)
class History:
    """One municipality's courses, citizens and periodic reports, as far as they were known."""

    municipality: str
    courses: dict[str, Course] = field(default_factory=dict)
    citizens: dict[str, Citizen] = field(default_factory=dict)
    stock: list[HousingStock] = field(default_factory=list)
    registered_teams: dict[str, Team] = field(default_factory=dict)
    worker_roles: dict[str, WorkerRole] = field(default_factory=dict)  # WorkerRegistered: each worker's role

    def teams(self) -> list[Team]:
        """The registered teams (TeamRegistered), and any other team a course names, by id."""
        found = dict(self.registered_teams)
        for course in self.courses.values():
            if course.team not in found:
                found[course.team] = Team(course.team, course.team, (course.method,))
        return sorted(found.values(), key=lambda t: t.team_id)

    def courses_for(self, team: str | None = None, method: Method | None = None) -> list[Course]:
        return [
            c
            for c in self.courses.values()
            if (team is None or c.team == team) and (method is None or c.method == method)
        ]

    def citizens_for(self, team: str | None = None, method: Method | None = None) -> list[Citizen]:
        """All citizens, or with a team/method filter those who have a course of it."""
        if team is None and method is None:
            return list(self.citizens.values())
        ids = {c.citizen_id for c in self.courses_for(team, method)}
        return [self.citizens[i] for i in sorted(ids) if i in self.citizens]


def fold(municipality: str, records: list[Record]) -> History:
    return advance(History(municipality), sorted(records, key=lambda r: r.position))


def advance(history: History, records: list[Record]) -> History:
    """Folds in facts that come after every fact already in `history`, in log order."""
    for record in records:
        _apply(history, record)
    return history


def _citizen(history: History, fact: f.CitizenFact) -> Citizen:
    citizen_id = fact.citizen_id or ""
    citizen = history.citizens.get(citizen_id)
    if citizen is None:
        citizen = history.citizens[citizen_id] = Citizen(citizen_id, fact.effective_date)
    citizen.first_seen = min(citizen.first_seen, fact.effective_date)
    seen = fact.effective_date.toordinal()
    at = bisect_left(citizen.activity, seen)
    if at == len(citizen.activity) or citizen.activity[at] != seen:  # each day once: active_on asks for the latest
        citizen.activity.insert(at, seen)
    return citizen


_days: dict[date, date] = {}


def _day(day: date) -> date:
    """One date object per calendar day: histories hold one for nearly every fact."""
    return _days.setdefault(day, day)


def _open_stay(citizen: Citizen, day: date) -> Stay | None:
    open_stays = [s for s in citizen.stays if s.end is None and s.start <= day]
    return max(open_stays, key=lambda s: s.start) if open_stays else None


def _apply(history: History, record: Record) -> None:  # noqa: C901 - one branch per fact type
    fact, position = record.fact, record.position
    if isinstance(fact, f.HousingStockReported):
        history.stock.append(HousingStock(fact.period_start, fact.effective_date, fact))
        return
    if isinstance(fact, f.TeamRegistered):
        history.registered_teams[fact.team_id] = Team(fact.team_id, fact.name, fact.methods)
        return
    if isinstance(fact, f.WorkerRegistered):
        history.worker_roles[fact.worker_id] = fact.role
        return
    if not isinstance(fact, f.CitizenFact):
        return  # the other organisation facts: no figure uses them yet
    citizen = _citizen(history, fact)
    day = _day(fact.effective_date)
    about = getattr(fact, "course_id", None) or ""
    citizen.facts_told[about] = citizen.facts_told.get(about, 0) + 1
    if (record.recorded_at.date() - day).days > BACKDATED_AFTER_DAYS:
        citizen.facts_backdated[about] = citizen.facts_backdated.get(about, 0) + 1
    course = history.courses.get(getattr(fact, "course_id", None) or "")
    match fact:
        case f.VisitationDecided():
            history.courses[fact.course_id] = Course(
                fact.course_id,
                citizen.citizen_id,
                fact.method,
                fact.team,
                day,
                fact.assessment_done,
                fact.fits_target_group,
            )
        case f.CourseStarted() if course:
            course.started_on = day
            if fact.support_worker:
                course.workers += ((day, fact.support_worker),)
        case f.CourseStartCorrected() if course:
            course.started_on = day
            if course.workers:
                course.workers = ((day, course.workers[0][1]), *course.workers[1:])
        case f.SupportWorkerChanged() if course:
            course.workers += ((day, fact.support_worker),)
        case f.CtiPhaseStarted() if course:
            course.phases += (Phase(fact.phase, day, planned_phase_end(day, fact.planned_end)),)
            course.phases_by_start = tuple(sorted(course.phases, key=lambda p: p.start))
        case f.CtiPhaseStartCorrected() if course:
            phase = Phase(fact.phase, day, planned_phase_end(day, fact.planned_end))
            course.phases = (*[p for p in course.phases if p.phase != fact.phase], phase)
            course.phases_by_start = tuple(sorted(course.phases, key=lambda p: p.start))
        case f.TimePlanned() if course:
            unit: CtiPhase | date | None = fact.cti_phase if fact.cti_phase is not None else fact.month
            assert unit is not None  # TimePlanned's validator: a phase or a month
            course.plans.add(unit, fact.expected_hours, record.event_id)
        case f.ExpectedProgressionSet() if course:
            points = sorted((c.on, c.value) for c in fact.checkpoints)
            course.progression[fact.instrument] = points
            course.progressions += ((record.event_id, fact.instrument, points),)
        case f.ContactRecorded() if course:
            course.contacts.add(Contact(day, fact.minutes, fact.kind), record.event_id)
        case f.MeasurementRecorded() if course:
            course.measurements.add(Measurement(day, fact.instrument, fact.answers), record.event_id)
        case f.OutreachPhaseStarted() if course:
            at = bisect_right(course.outreach_phases, day, key=lambda p: p[0])  # after those of the same day
            course.outreach_phases = (*course.outreach_phases[:at], (day, fact.phase), *course.outreach_phases[at:])
        case f.CourseHandedOver() if course:
            course.handed_over = (day, fact.offer)
        case f.CourseEnded() if course:
            course.ended_on, course.end_reason, course.follow_on_offer = day, fact.reason, fact.follow_on_offer
        case f.FollowUpRecorded() if course:
            follow_up = (day, fact.months_after_end, fact.keeps_own_housing)
            course.follow_ups += (follow_up,)
            _keep(course, record, follow_up)
        case f.FactWithdrawn() if course:
            course.withdraw(fact.withdrawn_event_id)
        case f.CitizenRegistered():
            citizen.birth_year, citizen.gender = fact.birth_year, fact.gender
            citizen.target_groups = fact.target_groups
        case f.HousingSituationRecorded():
            citizen.housing += ((day, position, fact.housing, "recorded"),)
        case f.HousingGained():
            citizen.housing += ((day, position, fact.housing, "gained"),)
        case f.HousingLost():
            citizen.housing += ((day, position, HousingSituation.UNKNOWN, "lost"),)
        case f.ShelterStayStarted():
            citizen.stays += (Stay(day, shelter=fact.shelter),)
            citizen.housing += ((day, position, HousingSituation.SHELTER_110, "shelter"),)
        case f.ShelterStayEnded():
            stay = _open_stay(citizen, day)
            if stay:
                stay.end, stay.discharge, stay.destination = day, fact.discharge, fact.destination
            citizen.close_span(CitizenMethod.UDREDNING, day)  # an Udredning og Plan ends with its stay
            citizen.housing += ((day, position, fact.destination, "shelter_left"),)
        case f.ShelterContactMade():
            stay = _open_stay(citizen, day)
            if stay and stay.contact_on is None:
                stay.contact_on = day
        case f.AssessedReadyToMove():
            stay = _open_stay(citizen, day)
            if stay and stay.ready_on is None:
                stay.ready_on = day
        case f.HandleplanCreated():
            citizen.handleplans += (day,)
        case f.EvictionRiskRegistered():
            citizen.eviction_risks += (day,)
        case f.EvictionPrevented():
            citizen.evictions_prevented += (day,)
        case f.EvictionCarriedOut():
            citizen.evictions_carried_out += (day,)
        case f.IncomeTypeRecorded():
            citizen.incomes += ((day, position, fact.income_type),)
        case f.EmploymentStatusRecorded():
            citizen.employment += ((day, position, fact.status),)
        case f.SubstanceTreatmentStarted():
            citizen.treatment += ((day, position, True),)
        case f.SubstanceTreatmentEnded():
            citizen.treatment += ((day, position, False),)
        case f.HomeOfferedViaAllocationRight():
            citizen.allocation_offers += ((day, fact.accepted),)
        case f.HousingWaitingListRegistered():
            citizen.waiting_lists += (day,)
        case f.ReferralReceived():
            citizen.referrals[fact.referral_id] = Referral(fact.referral_id, day, fact.source, fact.channel)
        case f.ReferralAssessed() if fact.referral_id in citizen.referrals:
            referral = citizen.referrals[fact.referral_id]
            referral.assessed_on, referral.in_target_group = day, fact.in_target_group
            referral.already_supported, referral.referred_to = fact.already_supported, fact.referred_to
        case f.VisitationRefused() if fact.referral_id in citizen.referrals:
            citizen.referrals[fact.referral_id].refused_on = day
        case f.UdredningStarted():
            citizen.open_span(CitizenMethod.UDREDNING, day)
        case f.UdredningCompleted():
            citizen.close_span(CitizenMethod.UDREDNING, day)
        case f.ReleasePlanned():
            citizen.open_span(CitizenMethod.KOREPLAN, day)
        case f.ReleaseCompleted():
            citizen.close_span(CitizenMethod.KOREPLAN, day)
        case f.ConsentGiven():
            citizen.consents += ((day, position, fact.scope, True),)
        case f.ConsentWithdrawn():
            citizen.consents += ((day, position, fact.scope, False),)


def _keep(course: Course, record: Record, entry: tuple[date, int, FollowUpAnswer]) -> None:
    if record.event_id is not None:
        course.keep(record.event_id, entry)


def latest(entries: Iterable[tuple[date, int, Any]], day: date) -> Any:
    """The value of the latest (by effective date, then log position) entry on or before `day`."""
    known = [entry for entry in entries if entry[0] <= day]
    return max(known, key=lambda e: (e[0], e[1]))[2] if known else None
