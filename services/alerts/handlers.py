"""Event-triggered part of the alerts service: one plain function per event type.

Each handler records what the rules need to know about the subject the fact is about, in the
batch's rows in memory (`batch.Batch`: loaded together before, written together after), and
returns the subjects it changed; the rules that react to the fact (the catalogue in `rules` says
which) then look at them. That raises "immediate" alerts at once, resolves alerts whose condition
cleared, and (re)arms the deadlines of the time-based rules; a deadline already in the past (a
backdated fact) is raised at once too. A handler names no rules: a new rule declares the facts it
reacts to.
"""

from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime
from typing import Any

import asyncpg

from contracts import facts
from contracts.codes import ContactKind, HousingSituation
from contracts.events import EventMessage
from contracts.instruments import Instrument, score
from contracts.methods import CONTACT_ESTABLISHED_KINDS, OWN_HOME
from contracts.surveys import FIDELITY_BY_METHOD
from services.alerts.batch import Batch
from services.alerts.evaluation import Changed
from services.alerts.rules import Measurement

Clock = Callable[[], datetime]
Handler = Callable[[Batch, Any], Changed | None]
Row = dict[str, Any]


def _citizen(batch: Batch, fact: facts.CitizenFact) -> Row:
    """The citizen's row, made when they are not known yet."""
    assert fact.citizen_id is not None, "registration replaces a CPR number by a citizen id"
    return batch.citizen(fact.municipality, fact.citizen_id)


def _greatest(*days: date | None) -> date | None:
    """SQL's greatest: the latest day, NULLs ignored."""
    known = [d for d in days if d is not None]
    return max(known) if known else None


def _least(*days: date | None) -> date | None:
    known = [d for d in days if d is not None]
    return min(known) if known else None


# --- Organisation -------------------------------------------------------------------------------


def worker_registered(batch: Batch, fact: facts.WorkerRegistered) -> Changed:
    batch.register_worker(fact.municipality, fact.worker_id, fact.team_id, fact.role.value, fact.email)
    return Changed(workers=(fact.worker_id,))


def worker_moved_team(batch: Batch, fact: facts.WorkerMovedTeam) -> Changed:
    worker = batch.worker(fact.municipality, fact.worker_id)
    if worker is not None:
        worker["team"] = fact.team_id
    return Changed(workers=(fact.worker_id,))


def worker_left(batch: Batch, fact: facts.WorkerLeft) -> None:
    worker = batch.worker(fact.municipality, fact.worker_id)
    if worker is not None:
        worker["active"] = False


# --- Citizen ------------------------------------------------------------------------------------


def _status_registered(batch: Batch, fact: facts.CitizenFact, kind: str) -> None:
    """A part of the citizen's status (status_due) was registered on the fact's day; the latest day counts."""
    status_on = _citizen(batch, fact)["status_on"]
    day = fact.effective_date.isoformat()
    status_on[kind] = max(status_on.get(kind, day), day)  # ISO days order as the days do


def _housing_is(batch: Batch, fact: facts.CitizenFact, housing: HousingSituation) -> Changed:
    """The citizen's housing is now `housing`: housed in an own home (domain §5, as the KPIs count
    it) or not; `unknown` leaves what is known as it was."""
    citizen = _citizen(batch, fact)
    if housing in OWN_HOME:
        citizen.update(housed=True, housing_lost_on=None)
    elif housing != HousingSituation.UNKNOWN:
        citizen["housed"] = False
    return Changed(citizen_id=fact.citizen_id)


def housing_situation_recorded(batch: Batch, fact: facts.HousingSituationRecorded) -> Changed:
    _status_registered(batch, fact, "housing")
    return _housing_is(batch, fact, fact.housing)


def housing_gained(batch: Batch, fact: facts.HousingGained) -> Changed:
    _status_registered(batch, fact, "housing")
    return _housing_is(batch, fact, fact.housing)


def income_type_recorded(batch: Batch, fact: facts.IncomeTypeRecorded) -> Changed:
    _status_registered(batch, fact, "income")
    return Changed(citizen_id=fact.citizen_id)


def employment_status_recorded(batch: Batch, fact: facts.EmploymentStatusRecorded) -> Changed:
    _status_registered(batch, fact, "employment")
    return Changed(citizen_id=fact.citizen_id)


def housing_lost(batch: Batch, fact: facts.HousingLost) -> Changed:
    _citizen(batch, fact).update(housed=False, housing_lost_on=fact.effective_date)
    return Changed(citizen_id=fact.citizen_id)


def shelter_stay_started(batch: Batch, fact: facts.ShelterStayStarted) -> Changed:
    _status_registered(batch, fact, "housing")
    _citizen(batch, fact).update(stay_started_on=fact.effective_date, stay_contact_on=None, ready_to_move_on=None)
    return Changed(citizen_id=fact.citizen_id)


def shelter_stay_ended(batch: Batch, fact: facts.ShelterStayEnded) -> Changed:
    """The stay is over; its destination is the citizen's housing now (an own home is housing gained)."""
    _status_registered(batch, fact, "housing")
    _citizen(batch, fact).update(
        stay_started_on=None, stay_contact_on=None, ready_to_move_on=None, udredning_started_on=None
    )
    return _housing_is(batch, fact, fact.destination)


def shelter_contact_made(batch: Batch, fact: facts.ShelterContactMade) -> Changed:
    _citizen(batch, fact)["stay_contact_on"] = fact.effective_date
    return Changed(citizen_id=fact.citizen_id)


def udredning_started(batch: Batch, fact: facts.UdredningStarted) -> Changed:
    _citizen(batch, fact)["udredning_started_on"] = fact.effective_date
    return Changed(citizen_id=fact.citizen_id)


def udredning_completed(batch: Batch, fact: facts.UdredningCompleted) -> Changed:
    _citizen(batch, fact)["udredning_started_on"] = None
    return Changed(citizen_id=fact.citizen_id)


def release_planned(batch: Batch, fact: facts.ReleasePlanned) -> Changed:
    _citizen(batch, fact).update(release_on=fact.planned_release_on, release_meeting_on=None)
    return Changed(citizen_id=fact.citizen_id)


def release_meeting_held(batch: Batch, fact: facts.ReleaseMeetingHeld) -> Changed:
    _citizen(batch, fact)["release_meeting_on"] = fact.effective_date
    return Changed(citizen_id=fact.citizen_id)


def release_completed(batch: Batch, fact: facts.ReleaseCompleted) -> Changed:
    _citizen(batch, fact).update(release_on=None, release_meeting_on=None)
    return Changed(citizen_id=fact.citizen_id)


def assessed_ready_to_move(batch: Batch, fact: facts.AssessedReadyToMove) -> Changed:
    citizen = _citizen(batch, fact)
    citizen["ready_to_move_on"] = citizen["ready_to_move_on"] or fact.effective_date
    return Changed(citizen_id=fact.citizen_id)


def handleplan_in_place(batch: Batch, fact: facts.HandleplanCreated | facts.HandleplanDeclined) -> Changed:
    """Created or declined: either way the §141 duty has been met for now (for every course of the citizen)."""
    citizen = _citizen(batch, fact)
    citizen["handleplan_on"] = citizen["handleplan_on"] or fact.effective_date
    return Changed(citizen_id=fact.citizen_id)


def eviction_risk_registered(batch: Batch, fact: facts.EvictionRiskRegistered) -> Changed:
    _citizen(batch, fact).update(eviction_risk_on=fact.effective_date, eviction_risk_kind=fact.kind.value)
    return Changed(citizen_id=fact.citizen_id)


def eviction_over(batch: Batch, fact: facts.EvictionPrevented | facts.EvictionCarriedOut) -> Changed:
    """Prevented or carried out: the risk is no longer open (a loss of housing has its own rule)."""
    _citizen(batch, fact).update(eviction_risk_on=None, eviction_risk_kind=None)
    return Changed(citizen_id=fact.citizen_id)


# --- Course -------------------------------------------------------------------------------------


def _course(fact: facts.CourseFact, *workers: str | None) -> Changed:
    return Changed(citizen_id=fact.citizen_id, course_id=fact.course_id, workers=workers)


def visitation_decided(batch: Batch, fact: facts.VisitationDecided) -> None:
    assert fact.citizen_id is not None, "a course fact names its citizen"
    batch.add_course(fact.municipality, fact.course_id, fact.citizen_id, fact.team, fact.method.value)
    batch.citizen(fact.municipality, fact.citizen_id)


def course_started(batch: Batch, fact: facts.CourseStarted) -> Changed | None:
    row = batch.course(fact.municipality, fact.course_id)
    if row is None:
        return None
    row["started_on"] = fact.effective_date
    if fact.support_worker is not None:
        row["support_worker"] = fact.support_worker
    return _course(fact, row["support_worker"] or None)


def course_start_corrected(batch: Batch, fact: facts.CourseStartCorrected) -> Changed | None:
    row = batch.course(fact.municipality, fact.course_id)
    if row is None:
        return None
    row["started_on"] = fact.effective_date
    return _course(fact)


def support_worker_changed(batch: Batch, fact: facts.SupportWorkerChanged) -> Changed | None:
    row = batch.course(fact.municipality, fact.course_id)
    if row is None:
        return None
    previous = row["support_worker"]
    row["support_worker"] = fact.support_worker
    row["worker_changes"] += 1
    return _course(fact, previous, fact.support_worker)


def cti_phase_started(batch: Batch, fact: facts.CtiPhaseStarted | facts.CtiPhaseStartCorrected) -> Changed | None:
    row = batch.course(fact.municipality, fact.course_id)
    if row is None:
        return None
    row["phases"][fact.phase.value] = (fact.effective_date, fact.planned_end)
    return _course(fact)


def outreach_phase_started(batch: Batch, fact: facts.OutreachPhaseStarted) -> Changed | None:
    row = batch.course(fact.municipality, fact.course_id)
    if row is None:
        return None
    row.update(outreach_phase=fact.phase.value, outreach_phase_on=fact.effective_date)
    return _course(fact)


def time_planned(batch: Batch, fact: facts.TimePlanned) -> Changed | None:
    row = batch.course(fact.municipality, fact.course_id)
    if row is None:
        return None
    month = fact.month.isoformat() if fact.month is not None else None  # TimePlanned: a phase or a month
    key = f"phase:{fact.cti_phase.value}" if fact.cti_phase is not None else f"month:{month}"
    row["planned_hours"][key] = fact.expected_hours
    return _course(fact)


def expected_progression_set(batch: Batch, fact: facts.ExpectedProgressionSet) -> Changed | None:
    row = batch.course(fact.municipality, fact.course_id)
    if row is None:
        return None
    row["progression_instrument"] = fact.instrument.value
    row["progression"] = [(c.on, c.value) for c in fact.checkpoints]
    return _course(fact)


def contact_recorded(batch: Batch, fact: facts.ContactRecorded) -> Changed | None:
    row = batch.course(fact.municipality, fact.course_id)
    if row is None:
        return None
    face_to_face = fact.effective_date if fact.kind == ContactKind.FACE_TO_FACE else None
    established = fact.effective_date if fact.kind in CONTACT_ESTABLISHED_KINDS else None
    row["actual_minutes"] += fact.minutes
    row["last_face_to_face"] = _greatest(row["last_face_to_face"], face_to_face)
    row["contact_established_on"] = _least(row["contact_established_on"], established)
    return _course(fact)


def course_handed_over(batch: Batch, fact: facts.CourseHandedOver) -> Changed | None:
    row = batch.course(fact.municipality, fact.course_id)
    if row is None:
        return None
    row["handed_over_on"] = fact.effective_date
    return _course(fact)


MEASURED_SCORE = {Instrument.WHO5: "index", Instrument.UCLA3: "total", Instrument.ORS: "total", Instrument.SRS: "total"}


def measurement_recorded(batch: Batch, fact: facts.MeasurementRecorded) -> Changed | None:
    row = batch.course(fact.municipality, fact.course_id)
    if row is None:
        return None
    key = MEASURED_SCORE.get(fact.instrument)
    value = score(fact.instrument, fact.answers)[key] if key else None  # Likert/Recovery Star: no single score
    row["measurements"].append(Measurement(fact.effective_date, fact.instrument.value, value))
    return _course(fact)


def course_ended(batch: Batch, fact: facts.CourseEnded) -> Changed | None:
    row = batch.course(fact.municipality, fact.course_id)
    if row is None:
        return None
    row.update(ended_on=fact.effective_date, end_reason=fact.reason.value, follow_on_offer=fact.follow_on_offer.value)
    return _course(fact, row["support_worker"] or None)


def follow_up_recorded(batch: Batch, fact: facts.FollowUpRecorded) -> Changed | None:
    row = batch.course(fact.municipality, fact.course_id)
    if row is None:
        return None
    follow_ups = [months for months in row["follow_ups"] if months != fact.months_after_end]
    row["follow_ups"] = [*follow_ups, fact.months_after_end]
    return _course(fact)


def team_registered(batch: Batch, fact: facts.TeamRegistered) -> Changed:
    batch.register_team(fact.municipality, fact.team_id, [m.value for m in fact.methods], fact.effective_date)
    return Changed(teams=(fact.team_id,))


def survey_answered(batch: Batch, fact: facts.SurveyAnswered) -> Changed | None:
    """Only that the team's fidelity checklist was answered in the round (docs/surveys.md §6)."""
    if fact.team is None or fact.survey not in FIDELITY_BY_METHOD.values():
        return None
    batch.fidelity_round(fact.municipality, fact.team, fact.round)
    return Changed(teams=(fact.team,))


HANDLERS: dict[str, Handler] = {
    "TeamRegistered": team_registered,
    "SurveyAnswered": survey_answered,
    "WorkerRegistered": worker_registered,
    "WorkerMovedTeam": worker_moved_team,
    "WorkerLeft": worker_left,
    "HousingSituationRecorded": housing_situation_recorded,
    "IncomeTypeRecorded": income_type_recorded,
    "EmploymentStatusRecorded": employment_status_recorded,
    "HousingGained": housing_gained,
    "HousingLost": housing_lost,
    "ShelterStayStarted": shelter_stay_started,
    "ShelterStayEnded": shelter_stay_ended,
    "ShelterContactMade": shelter_contact_made,
    "AssessedReadyToMove": assessed_ready_to_move,
    "UdredningStarted": udredning_started,
    "UdredningCompleted": udredning_completed,
    "OutreachPhaseStarted": outreach_phase_started,
    "ReleasePlanned": release_planned,
    "ReleaseMeetingHeld": release_meeting_held,
    "ReleaseCompleted": release_completed,
    "HandleplanCreated": handleplan_in_place,
    "HandleplanDeclined": handleplan_in_place,
    "EvictionRiskRegistered": eviction_risk_registered,
    "EvictionPrevented": eviction_over,
    "EvictionCarriedOut": eviction_over,
    "VisitationDecided": visitation_decided,
    "CourseStarted": course_started,
    "CourseStartCorrected": course_start_corrected,
    "SupportWorkerChanged": support_worker_changed,
    "CtiPhaseStarted": cti_phase_started,
    "CtiPhaseStartCorrected": cti_phase_started,
    "TimePlanned": time_planned,
    "ExpectedProgressionSet": expected_progression_set,
    "ContactRecorded": contact_recorded,
    "CourseHandedOver": course_handed_over,
    "MeasurementRecorded": measurement_recorded,
    "CourseEnded": course_ended,
    "FollowUpRecorded": follow_up_recorded,
}


def batch_applier(now: Clock) -> Callable[[asyncpg.Connection, Sequence[EventMessage]], Awaitable[None]]:
    """`applier` for a batch of events in one transaction (CheckpointedApplier's `apply_batch`): the
    rows of every subject the batch touches loaded together, each event's handler and then the rules
    that react to it, in stream order, against those rows in memory, and what changed written
    together at the end (`batch.Batch`). An imported fact is noted, not looked at (imported.py)."""

    async def apply_batch(db: asyncpg.Connection, events: Sequence[EventMessage]) -> None:
        applied = [event for event in events if event.type in HANDLERS]
        looked_at = any(event.imported is None for event in applied)
        batch = await Batch.load(db, [event.fact for event in applied], looked_at)
        for event in applied:
            changed = HANDLERS[event.type](batch, event.fact)
            if changed is None:
                continue
            if event.imported is not None:  # history: looked at once it is all in
                batch.note_imported(event.fact.municipality, changed)
            else:
                batch.after_fact(event.type, event.fact.municipality, changed, now())
        await batch.write(db)

    return apply_batch


def applier(now: Clock) -> Callable[[asyncpg.Connection, EventMessage], Awaitable[None]]:
    """One event (a re-drive of a parked one): `batch_applier`'s path, so the two never differ."""
    apply_batch = batch_applier(now)

    async def apply(db: asyncpg.Connection, event: EventMessage) -> None:
        await apply_batch(db, [event])

    return apply
