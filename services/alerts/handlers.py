"""Event-triggered part of the alerts service: one plain function per event type.

Each handler records what the rules need to know about the subject the fact is about, then asks
`evaluation` to look at the subjects it changed. That raises "immediate" alerts at once, resolves
alerts whose condition cleared, and (re)arms the deadlines of the time-based rules; a deadline
already in the past (a backdated fact) is raised at once too.
"""

import json
from collections.abc import Awaitable, Callable
from datetime import datetime

import asyncpg

from contracts import facts
from contracts.codes import ContactKind
from contracts.events import EventMessage
from contracts.instruments import Instrument, score
from contracts.methods import OWN_HOME
from services.alerts import evaluation, rules

Clock = Callable[[], datetime]
Handler = Callable[[asyncpg.Connection, EventMessage, Clock], Awaitable[None]]

CTI_RULES = ("cti_phase_overdue", "cti_course_overdue", "cti_contact_phase_long", "cti_started_without_housing",
             "no_contact", "time_gap")


async def _citizen_row(db: asyncpg.Connection, municipality: str, citizen_id: str) -> None:
    await db.execute(
        "INSERT INTO alert_citizens (municipality, citizen_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        municipality, citizen_id,
    )


async def _update_citizen(db: asyncpg.Connection, fact: facts.CitizenFact, assignments: str, *values: object) -> None:
    assert fact.citizen_id is not None, "registration replaces a CPR number by a citizen id"
    await _citizen_row(db, fact.municipality, fact.citizen_id)
    await db.execute(
        f"UPDATE alert_citizens SET {assignments} WHERE municipality = $1 AND citizen_id = $2",
        fact.municipality, fact.citizen_id, *values,
    )


async def _update_course(db: asyncpg.Connection, fact: facts.CourseFact, assignments: str, *values: object) -> str | None:
    """Changes the course's row; returns its support worker, or None when the course is unknown."""
    return await db.fetchval(
        f"""UPDATE alert_courses SET {assignments} WHERE municipality = $1 AND course_id = $2
            RETURNING coalesce(support_worker, '')""",
        fact.municipality, fact.course_id, *values,
    )


# --- Organisation -------------------------------------------------------------------------------


async def worker_registered(db: asyncpg.Connection, event: EventMessage, now: Clock) -> None:
    fact = event.fact
    await db.execute(
        """INSERT INTO alert_workers (municipality, worker_id, team, role, email, active)
           VALUES ($1, $2, $3, $4, $5, true)
           ON CONFLICT (municipality, worker_id) DO UPDATE
           SET team = EXCLUDED.team, role = EXCLUDED.role, email = EXCLUDED.email, active = true""",
        fact.municipality, fact.worker_id, fact.team_id, fact.role.value, fact.email,
    )
    await evaluation.worker(db, fact.municipality, fact.worker_id, now(), event.type)


async def worker_moved_team(db: asyncpg.Connection, event: EventMessage, now: Clock) -> None:
    fact = event.fact
    await db.execute(
        "UPDATE alert_workers SET team = $3 WHERE municipality = $1 AND worker_id = $2",
        fact.municipality, fact.worker_id, fact.team_id,
    )
    await evaluation.worker(db, fact.municipality, fact.worker_id, now(), event.type)


async def worker_left(db: asyncpg.Connection, event: EventMessage, now: Clock) -> None:
    fact = event.fact
    await db.execute(
        "UPDATE alert_workers SET active = false WHERE municipality = $1 AND worker_id = $2",
        fact.municipality, fact.worker_id,
    )


# --- Citizen ------------------------------------------------------------------------------------


async def _citizen_changed(db: asyncpg.Connection, event: EventMessage, now: Clock, citizen_rules: tuple[str, ...],
                           course_rules: tuple[str, ...] = ()) -> None:
    fact = event.fact
    await evaluation.citizen(db, fact.municipality, fact.citizen_id, now(), event.type, only=citizen_rules)
    if course_rules:
        await evaluation.citizen_courses(db, fact.municipality, fact.citizen_id, now(), event.type, only=course_rules)


async def housing_situation_recorded(db: asyncpg.Connection, event: EventMessage, now: Clock) -> None:
    fact = event.fact
    if fact.housing in OWN_HOME:
        await _update_citizen(db, fact, "housed = true, housing_lost_on = NULL")
    elif fact.housing.value != "unknown":
        await _update_citizen(db, fact, "housed = false")
    await _citizen_changed(db, event, now, ("housing_lost",), ("cti_started_without_housing",))


async def housing_gained(db: asyncpg.Connection, event: EventMessage, now: Clock) -> None:
    await _update_citizen(db, event.fact, "housed = true, housing_lost_on = NULL")
    await _citizen_changed(db, event, now, ("housing_lost",), ("cti_started_without_housing",))


async def housing_lost(db: asyncpg.Connection, event: EventMessage, now: Clock) -> None:
    await _update_citizen(db, event.fact, "housed = false, housing_lost_on = $3", event.fact.effective_date)
    await _citizen_changed(db, event, now, ("housing_lost",), ("cti_started_without_housing",))


SHELTER_RULES = ("shelter_no_contact", "shelter_stay_long", "handleplan_missing")


async def shelter_stay_started(db: asyncpg.Connection, event: EventMessage, now: Clock) -> None:
    await _update_citizen(db, event.fact, "stay_started_on = $3, stay_contact_on = NULL, ready_to_move_on = NULL",
                          event.fact.effective_date)
    await _citizen_changed(db, event, now, SHELTER_RULES)


async def shelter_stay_ended(db: asyncpg.Connection, event: EventMessage, now: Clock) -> None:
    await _update_citizen(db, event.fact, "stay_started_on = NULL, stay_contact_on = NULL, ready_to_move_on = NULL")
    await _citizen_changed(db, event, now, SHELTER_RULES)


async def shelter_contact_made(db: asyncpg.Connection, event: EventMessage, now: Clock) -> None:
    await _update_citizen(db, event.fact, "stay_contact_on = $3", event.fact.effective_date)
    await _citizen_changed(db, event, now, ("shelter_no_contact",))


async def assessed_ready_to_move(db: asyncpg.Connection, event: EventMessage, now: Clock) -> None:
    await _update_citizen(db, event.fact, "ready_to_move_on = coalesce(ready_to_move_on, $3)", event.fact.effective_date)
    await _citizen_changed(db, event, now, ("shelter_stay_long",))


async def handleplan_in_place(db: asyncpg.Connection, event: EventMessage, now: Clock) -> None:
    """Created or declined: either way the §141 duty has been met for now."""
    await _update_citizen(db, event.fact, "handleplan_on = coalesce(handleplan_on, $3)", event.fact.effective_date)
    await _citizen_changed(db, event, now, ("handleplan_missing",), ("handleplan_missing",))


async def eviction_risk_registered(db: asyncpg.Connection, event: EventMessage, now: Clock) -> None:
    await _update_citizen(db, event.fact, "eviction_risk_on = $3, eviction_risk_kind = $4",
                          event.fact.effective_date, event.fact.kind.value)
    await _citizen_changed(db, event, now, ("eviction_risk",))


async def eviction_over(db: asyncpg.Connection, event: EventMessage, now: Clock) -> None:
    """Prevented or carried out: the risk is no longer open (a loss of housing has its own rule)."""
    await _update_citizen(db, event.fact, "eviction_risk_on = NULL, eviction_risk_kind = NULL")
    await _citizen_changed(db, event, now, ("eviction_risk",))


# --- Course -------------------------------------------------------------------------------------


async def visitation_decided(db: asyncpg.Connection, event: EventMessage, now: Clock) -> None:
    fact = event.fact
    await db.execute(
        """INSERT INTO alert_courses (municipality, course_id, citizen_id, team, method)
           VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING""",
        fact.municipality, fact.course_id, fact.citizen_id, fact.team, fact.method.value,
    )
    await _citizen_row(db, fact.municipality, fact.citizen_id)


async def course_started(db: asyncpg.Connection, event: EventMessage, now: Clock) -> None:
    fact = event.fact
    worker = await _update_course(db, fact, "started_on = $3, support_worker = coalesce($4, support_worker)",
                                  fact.effective_date, fact.support_worker)
    if worker is None:
        return
    await evaluation.course(db, fact.municipality, fact.course_id, now(), event.type)
    await evaluation.citizen(db, fact.municipality, fact.citizen_id, now(), event.type, only=("housing_lost",))
    await evaluation.worker(db, fact.municipality, worker or None, now(), event.type)


async def course_start_corrected(db: asyncpg.Connection, event: EventMessage, now: Clock) -> None:
    fact = event.fact
    if await _update_course(db, fact, "started_on = $3", fact.effective_date) is not None:
        await evaluation.course(db, fact.municipality, fact.course_id, now(), event.type)


async def support_worker_changed(db: asyncpg.Connection, event: EventMessage, now: Clock) -> None:
    fact = event.fact
    previous = await db.fetchval(
        "SELECT support_worker FROM alert_courses WHERE municipality = $1 AND course_id = $2",
        fact.municipality, fact.course_id,
    )
    if await _update_course(db, fact, "support_worker = $3, worker_changes = worker_changes + 1",
                            fact.support_worker) is None:
        return
    await evaluation.course(db, fact.municipality, fact.course_id, now(), event.type, only=("worker_changes",))
    await evaluation.worker(db, fact.municipality, previous, now(), event.type)
    await evaluation.worker(db, fact.municipality, fact.support_worker, now(), event.type)


async def cti_phase_started(db: asyncpg.Connection, event: EventMessage, now: Clock) -> None:
    fact = event.fact
    planned_end = fact.planned_end.isoformat() if fact.planned_end else None
    entry = json.dumps({fact.phase.value: [fact.effective_date.isoformat(), planned_end]})
    if await _update_course(db, fact, "phases = phases || $3::jsonb", entry) is not None:
        await evaluation.course(db, fact.municipality, fact.course_id, now(), event.type, only=CTI_RULES)


async def time_planned(db: asyncpg.Connection, event: EventMessage, now: Clock) -> None:
    fact = event.fact
    key = f"phase:{fact.cti_phase.value}" if fact.cti_phase is not None else f"month:{fact.month.isoformat()}"
    if await _update_course(db, fact, "planned_hours = planned_hours || $3::jsonb",
                            json.dumps({key: fact.expected_hours})) is not None:
        await evaluation.course(db, fact.municipality, fact.course_id, now(), event.type, only=("time_gap",))


async def expected_progression_set(db: asyncpg.Connection, event: EventMessage, now: Clock) -> None:
    fact = event.fact
    checkpoints = json.dumps([[c.on.isoformat(), c.value] for c in fact.checkpoints])
    if await _update_course(db, fact, "progression_instrument = $3, progression = $4::jsonb",
                            fact.instrument.value, checkpoints) is not None:
        await evaluation.course(db, fact.municipality, fact.course_id, now(), event.type, only=("progression_gap",))


async def contact_recorded(db: asyncpg.Connection, event: EventMessage, now: Clock) -> None:
    fact = event.fact
    face_to_face = fact.effective_date if fact.kind == ContactKind.FACE_TO_FACE else None
    if await _update_course(
        db, fact,
        "actual_minutes = actual_minutes + $3, last_face_to_face = greatest(last_face_to_face, $4)",
        fact.minutes, face_to_face,
    ) is not None:
        await evaluation.course(db, fact.municipality, fact.course_id, now(), event.type, only=("no_contact", "time_gap"))


MEASURED_SCORE = {Instrument.WHO5: "index", Instrument.UCLA3: "total", Instrument.ORS: "total", Instrument.SRS: "total"}


async def measurement_recorded(db: asyncpg.Connection, event: EventMessage, now: Clock) -> None:
    fact = event.fact
    key = MEASURED_SCORE.get(fact.instrument)
    value = score(fact.instrument, fact.answers)[key] if key else None  # Likert/Recovery Star: no single score
    entry = json.dumps([[fact.effective_date.isoformat(), fact.instrument.value, value]])
    if await _update_course(db, fact, "measurements = measurements || $3::jsonb", entry) is not None:
        await evaluation.course(db, fact.municipality, fact.course_id, now(), event.type,
                                only=("measurement_missing", "wellbeing_low", "progression_gap"))


async def course_ended(db: asyncpg.Connection, event: EventMessage, now: Clock) -> None:
    fact = event.fact
    worker = await _update_course(db, fact, "ended_on = $3, end_reason = $4, follow_on_offer = $5",
                                  fact.effective_date, fact.reason.value, fact.follow_on_offer.value)
    if worker is None:
        return
    await evaluation.course(db, fact.municipality, fact.course_id, now(), event.type)
    await evaluation.citizen(db, fact.municipality, fact.citizen_id, now(), event.type, only=("housing_lost",))
    await evaluation.worker(db, fact.municipality, worker or None, now(), event.type)


async def follow_up_recorded(db: asyncpg.Connection, event: EventMessage, now: Clock) -> None:
    fact = event.fact
    if await _update_course(db, fact, "follow_ups = array_append(array_remove(follow_ups, $3), $3)",
                            fact.months_after_end) is not None:
        await evaluation.course(db, fact.municipality, fact.course_id, now(), event.type, only=("follow_up_due",))


HANDLERS: dict[str, Handler] = {
    "WorkerRegistered": worker_registered,
    "WorkerMovedTeam": worker_moved_team,
    "WorkerLeft": worker_left,
    "HousingSituationRecorded": housing_situation_recorded,
    "HousingGained": housing_gained,
    "HousingLost": housing_lost,
    "ShelterStayStarted": shelter_stay_started,
    "ShelterStayEnded": shelter_stay_ended,
    "ShelterContactMade": shelter_contact_made,
    "AssessedReadyToMove": assessed_ready_to_move,
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
    "MeasurementRecorded": measurement_recorded,
    "CourseEnded": course_ended,
    "FollowUpRecorded": follow_up_recorded,
}

assert set(rules.COURSE_RULES) | set(rules.CITIZEN_RULES) | set(rules.WORKER_RULES) == set(rules.RULES)


def applier(now: Clock) -> Callable[[asyncpg.Connection, EventMessage], Awaitable[None]]:
    async def apply(db: asyncpg.Connection, event: EventMessage) -> None:
        handler = HANDLERS.get(event.type)
        if handler is not None:
            await handler(db, event, now)

    return apply
