"""Event-triggered part of the alerts service: one plain function per event type.

Each handler records what the rules need to know about the subject the fact is about and returns
the subjects it changed; the rules that react to the fact (the catalogue in `rules` says which)
then look at them. That raises "immediate" alerts at once, resolves alerts whose condition cleared,
and (re)arms the deadlines of the time-based rules; a deadline already in the past (a backdated
fact) is raised at once too. A handler names no rules: a new rule declares the facts it reacts to.
"""

import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import asyncpg

from contracts import facts
from contracts.codes import ContactKind, HousingSituation
from contracts.events import EventMessage
from contracts.instruments import Instrument, score
from contracts.methods import CONTACT_ESTABLISHED_KINDS, OWN_HOME
from contracts.surveys import FIDELITY_BY_METHOD
from services.alerts import evaluation, imported
from services.alerts.evaluation import Changed

Clock = Callable[[], datetime]
Handler = Callable[[asyncpg.Connection, Any], Awaitable[Changed | None]]


async def _citizen_row(db: asyncpg.Connection, municipality: str, citizen_id: str) -> None:
    await db.execute(
        "INSERT INTO alert_citizens (municipality, citizen_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        municipality,
        citizen_id,
    )


async def _update_citizen(db: asyncpg.Connection, fact: facts.CitizenFact, assignments: str, *values: object) -> None:
    assert fact.citizen_id is not None, "registration replaces a CPR number by a citizen id"
    await _citizen_row(db, fact.municipality, fact.citizen_id)
    await db.execute(
        f"UPDATE alert_citizens SET {assignments} WHERE municipality = $1 AND citizen_id = $2",
        fact.municipality,
        fact.citizen_id,
        *values,
    )


async def _update_course(
    db: asyncpg.Connection, fact: facts.CourseFact, assignments: str, *values: object
) -> str | None:
    """Changes the course's row; returns its support worker, or None when the course is unknown."""
    return await db.fetchval(
        f"""UPDATE alert_courses SET {assignments} WHERE municipality = $1 AND course_id = $2
            RETURNING coalesce(support_worker, '')""",
        fact.municipality,
        fact.course_id,
        *values,
    )


# --- Organisation -------------------------------------------------------------------------------


async def worker_registered(db: asyncpg.Connection, fact: facts.WorkerRegistered) -> Changed:
    await db.execute(
        """INSERT INTO alert_workers (municipality, worker_id, team, role, email, active)
           VALUES ($1, $2, $3, $4, $5, true)
           ON CONFLICT (municipality, worker_id) DO UPDATE
           SET team = EXCLUDED.team, role = EXCLUDED.role, email = EXCLUDED.email, active = true""",
        fact.municipality,
        fact.worker_id,
        fact.team_id,
        fact.role.value,
        fact.email,
    )
    return Changed(workers=(fact.worker_id,))


async def worker_moved_team(db: asyncpg.Connection, fact: facts.WorkerMovedTeam) -> Changed:
    await db.execute(
        "UPDATE alert_workers SET team = $3 WHERE municipality = $1 AND worker_id = $2",
        fact.municipality,
        fact.worker_id,
        fact.team_id,
    )
    return Changed(workers=(fact.worker_id,))


async def worker_left(db: asyncpg.Connection, fact: facts.WorkerLeft) -> None:
    await db.execute(
        "UPDATE alert_workers SET active = false WHERE municipality = $1 AND worker_id = $2",
        fact.municipality,
        fact.worker_id,
    )


# --- Citizen ------------------------------------------------------------------------------------


async def _status_registered(db: asyncpg.Connection, fact: facts.CitizenFact, kind: str) -> None:
    """A part of the citizen's status (status_due) was registered on the fact's day; the latest day counts."""
    await _update_citizen(
        db,
        fact,
        """status_on = status_on || jsonb_build_object($3::text,
               greatest(coalesce((status_on ->> $3::text)::date, $4::date), $4::date)::text)""",
        kind,
        fact.effective_date,
    )


async def _housing_is(db: asyncpg.Connection, fact: facts.CitizenFact, housing: HousingSituation) -> Changed:
    """The citizen's housing is now `housing`: housed in an own home (domain §5, as the KPIs count
    it) or not; `unknown` leaves what is known as it was."""
    if housing in OWN_HOME:
        await _update_citizen(db, fact, "housed = true, housing_lost_on = NULL")
    elif housing != HousingSituation.UNKNOWN:
        await _update_citizen(db, fact, "housed = false")
    return Changed(citizen_id=fact.citizen_id)


async def housing_situation_recorded(db: asyncpg.Connection, fact: facts.HousingSituationRecorded) -> Changed:
    await _status_registered(db, fact, "housing")
    return await _housing_is(db, fact, fact.housing)


async def housing_gained(db: asyncpg.Connection, fact: facts.HousingGained) -> Changed:
    await _status_registered(db, fact, "housing")
    return await _housing_is(db, fact, fact.housing)


async def income_type_recorded(db: asyncpg.Connection, fact: facts.IncomeTypeRecorded) -> Changed:
    await _status_registered(db, fact, "income")
    return Changed(citizen_id=fact.citizen_id)


async def employment_status_recorded(db: asyncpg.Connection, fact: facts.EmploymentStatusRecorded) -> Changed:
    await _status_registered(db, fact, "employment")
    return Changed(citizen_id=fact.citizen_id)


async def housing_lost(db: asyncpg.Connection, fact: facts.HousingLost) -> Changed:
    await _update_citizen(db, fact, "housed = false, housing_lost_on = $3", fact.effective_date)
    return Changed(citizen_id=fact.citizen_id)


async def shelter_stay_started(db: asyncpg.Connection, fact: facts.ShelterStayStarted) -> Changed:
    await _status_registered(db, fact, "housing")
    await _update_citizen(
        db, fact, "stay_started_on = $3, stay_contact_on = NULL, ready_to_move_on = NULL", fact.effective_date
    )
    return Changed(citizen_id=fact.citizen_id)


async def shelter_stay_ended(db: asyncpg.Connection, fact: facts.ShelterStayEnded) -> Changed:
    """The stay is over; its destination is the citizen's housing now (an own home is housing gained)."""
    await _status_registered(db, fact, "housing")
    await _update_citizen(
        db,
        fact,
        "stay_started_on = NULL, stay_contact_on = NULL, ready_to_move_on = NULL, udredning_started_on = NULL",
    )
    return await _housing_is(db, fact, fact.destination)


async def shelter_contact_made(db: asyncpg.Connection, fact: facts.ShelterContactMade) -> Changed:
    await _update_citizen(db, fact, "stay_contact_on = $3", fact.effective_date)
    return Changed(citizen_id=fact.citizen_id)


async def udredning_started(db: asyncpg.Connection, fact: facts.UdredningStarted) -> Changed:
    await _update_citizen(db, fact, "udredning_started_on = $3", fact.effective_date)
    return Changed(citizen_id=fact.citizen_id)


async def udredning_completed(db: asyncpg.Connection, fact: facts.UdredningCompleted) -> Changed:
    await _update_citizen(db, fact, "udredning_started_on = NULL")
    return Changed(citizen_id=fact.citizen_id)


async def release_planned(db: asyncpg.Connection, fact: facts.ReleasePlanned) -> Changed:
    await _update_citizen(db, fact, "release_on = $3, release_meeting_on = NULL", fact.planned_release_on)
    return Changed(citizen_id=fact.citizen_id)


async def release_meeting_held(db: asyncpg.Connection, fact: facts.ReleaseMeetingHeld) -> Changed:
    await _update_citizen(db, fact, "release_meeting_on = $3", fact.effective_date)
    return Changed(citizen_id=fact.citizen_id)


async def release_completed(db: asyncpg.Connection, fact: facts.ReleaseCompleted) -> Changed:
    await _update_citizen(db, fact, "release_on = NULL, release_meeting_on = NULL")
    return Changed(citizen_id=fact.citizen_id)


async def assessed_ready_to_move(db: asyncpg.Connection, fact: facts.AssessedReadyToMove) -> Changed:
    await _update_citizen(db, fact, "ready_to_move_on = coalesce(ready_to_move_on, $3)", fact.effective_date)
    return Changed(citizen_id=fact.citizen_id)


async def handleplan_in_place(
    db: asyncpg.Connection, fact: facts.HandleplanCreated | facts.HandleplanDeclined
) -> Changed:
    """Created or declined: either way the §141 duty has been met for now (for every course of the citizen)."""
    await _update_citizen(db, fact, "handleplan_on = coalesce(handleplan_on, $3)", fact.effective_date)
    return Changed(citizen_id=fact.citizen_id)


async def eviction_risk_registered(db: asyncpg.Connection, fact: facts.EvictionRiskRegistered) -> Changed:
    await _update_citizen(
        db, fact, "eviction_risk_on = $3, eviction_risk_kind = $4", fact.effective_date, fact.kind.value
    )
    return Changed(citizen_id=fact.citizen_id)


async def eviction_over(db: asyncpg.Connection, fact: facts.EvictionPrevented | facts.EvictionCarriedOut) -> Changed:
    """Prevented or carried out: the risk is no longer open (a loss of housing has its own rule)."""
    await _update_citizen(db, fact, "eviction_risk_on = NULL, eviction_risk_kind = NULL")
    return Changed(citizen_id=fact.citizen_id)


# --- Course -------------------------------------------------------------------------------------


def _course(fact: facts.CourseFact, *workers: str | None) -> Changed:
    return Changed(citizen_id=fact.citizen_id, course_id=fact.course_id, workers=workers)


async def visitation_decided(db: asyncpg.Connection, fact: facts.VisitationDecided) -> None:
    await db.execute(
        """INSERT INTO alert_courses (municipality, course_id, citizen_id, team, method)
           VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING""",
        fact.municipality,
        fact.course_id,
        fact.citizen_id,
        fact.team,
        fact.method.value,
    )
    await _citizen_row(db, fact.municipality, fact.citizen_id)  # type: ignore[arg-type]  # a course fact names its citizen


async def course_started(db: asyncpg.Connection, fact: facts.CourseStarted) -> Changed | None:
    worker = await _update_course(
        db,
        fact,
        "started_on = $3, support_worker = coalesce($4, support_worker)",
        fact.effective_date,
        fact.support_worker,
    )
    return None if worker is None else _course(fact, worker or None)


async def course_start_corrected(db: asyncpg.Connection, fact: facts.CourseStartCorrected) -> Changed | None:
    return None if await _update_course(db, fact, "started_on = $3", fact.effective_date) is None else _course(fact)


async def support_worker_changed(db: asyncpg.Connection, fact: facts.SupportWorkerChanged) -> Changed | None:
    previous = await db.fetchval(
        "SELECT support_worker FROM alert_courses WHERE municipality = $1 AND course_id = $2",
        fact.municipality,
        fact.course_id,
    )
    if (
        await _update_course(db, fact, "support_worker = $3, worker_changes = worker_changes + 1", fact.support_worker)
        is None
    ):
        return None
    return _course(fact, previous, fact.support_worker)


async def cti_phase_started(
    db: asyncpg.Connection, fact: facts.CtiPhaseStarted | facts.CtiPhaseStartCorrected
) -> Changed | None:
    planned_end = fact.planned_end.isoformat() if fact.planned_end else None
    entry = json.dumps({fact.phase.value: [fact.effective_date.isoformat(), planned_end]})
    return None if await _update_course(db, fact, "phases = phases || $3::jsonb", entry) is None else _course(fact)


async def outreach_phase_started(db: asyncpg.Connection, fact: facts.OutreachPhaseStarted) -> Changed | None:
    update = "outreach_phase = $3, outreach_phase_on = $4"
    if await _update_course(db, fact, update, fact.phase.value, fact.effective_date) is None:
        return None
    return _course(fact)


async def time_planned(db: asyncpg.Connection, fact: facts.TimePlanned) -> Changed | None:
    month = fact.month.isoformat() if fact.month is not None else None  # TimePlanned: a phase or a month
    key = f"phase:{fact.cti_phase.value}" if fact.cti_phase is not None else f"month:{month}"
    if (
        await _update_course(
            db, fact, "planned_hours = planned_hours || $3::jsonb", json.dumps({key: fact.expected_hours})
        )
        is None
    ):
        return None
    return _course(fact)


async def expected_progression_set(db: asyncpg.Connection, fact: facts.ExpectedProgressionSet) -> Changed | None:
    checkpoints = json.dumps([[c.on.isoformat(), c.value] for c in fact.checkpoints])
    if (
        await _update_course(
            db, fact, "progression_instrument = $3, progression = $4::jsonb", fact.instrument.value, checkpoints
        )
        is None
    ):
        return None
    return _course(fact)


async def contact_recorded(db: asyncpg.Connection, fact: facts.ContactRecorded) -> Changed | None:
    face_to_face = fact.effective_date if fact.kind == ContactKind.FACE_TO_FACE else None
    established = fact.effective_date if fact.kind in CONTACT_ESTABLISHED_KINDS else None
    if (
        await _update_course(
            db,
            fact,
            "actual_minutes = actual_minutes + $3, last_face_to_face = greatest(last_face_to_face, $4),"
            " contact_established_on = least(contact_established_on, $5)",
            fact.minutes,
            face_to_face,
            established,
        )
        is None
    ):
        return None
    return _course(fact)


async def course_handed_over(db: asyncpg.Connection, fact: facts.CourseHandedOver) -> Changed | None:
    if await _update_course(db, fact, "handed_over_on = $3", fact.effective_date) is None:
        return None
    return _course(fact)


MEASURED_SCORE = {Instrument.WHO5: "index", Instrument.UCLA3: "total", Instrument.ORS: "total", Instrument.SRS: "total"}


async def measurement_recorded(db: asyncpg.Connection, fact: facts.MeasurementRecorded) -> Changed | None:
    key = MEASURED_SCORE.get(fact.instrument)
    value = score(fact.instrument, fact.answers)[key] if key else None  # Likert/Recovery Star: no single score
    entry = json.dumps([[fact.effective_date.isoformat(), fact.instrument.value, value]])
    if await _update_course(db, fact, "measurements = measurements || $3::jsonb", entry) is None:
        return None
    return _course(fact)


async def course_ended(db: asyncpg.Connection, fact: facts.CourseEnded) -> Changed | None:
    worker = await _update_course(
        db,
        fact,
        "ended_on = $3, end_reason = $4, follow_on_offer = $5",
        fact.effective_date,
        fact.reason.value,
        fact.follow_on_offer.value,
    )
    return None if worker is None else _course(fact, worker or None)


async def follow_up_recorded(db: asyncpg.Connection, fact: facts.FollowUpRecorded) -> Changed | None:
    if (
        await _update_course(
            db, fact, "follow_ups = array_append(array_remove(follow_ups, $3), $3)", fact.months_after_end
        )
        is None
    ):
        return None
    return _course(fact)


async def team_registered(db: asyncpg.Connection, fact: facts.TeamRegistered) -> Changed:
    await db.execute(
        """INSERT INTO alert_teams (municipality, team_id, methods, registered_on) VALUES ($1, $2, $3, $4)
           ON CONFLICT (municipality, team_id) DO UPDATE SET methods = EXCLUDED.methods""",
        fact.municipality,
        fact.team_id,
        [m.value for m in fact.methods],
        fact.effective_date,
    )
    return Changed(teams=(fact.team_id,))


async def survey_answered(db: asyncpg.Connection, fact: facts.SurveyAnswered) -> Changed | None:
    """Only that the team's fidelity checklist was answered in the round (docs/surveys.md §6)."""
    if fact.team is None or fact.survey not in FIDELITY_BY_METHOD.values():
        return None
    await db.execute(
        "INSERT INTO alert_fidelity_rounds (municipality, team_id, round) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        fact.municipality,
        fact.team,
        fact.round,
    )
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


def applier(now: Clock) -> Callable[[asyncpg.Connection, EventMessage], Awaitable[None]]:
    async def apply(db: asyncpg.Connection, event: EventMessage) -> None:
        handler = HANDLERS.get(event.type)
        if handler is None:
            return
        changed = await handler(db, event.fact)
        if changed is not None and event.imported is not None:  # history: looked at once it is all in
            await imported.note(db, event.fact.municipality, changed)
        elif changed is not None:
            await evaluation.after_fact(db, event.type, event.fact.municipality, changed, now())

    return apply
