"""Event-triggered part of the alerts service: one plain function per event type.

Handlers arm, move or cancel deadlines and resolve alerts whose condition has cleared; raising
time-based alerts is the poller's job, so a deadline in the past (a backdated fact) fires on the
poller's next cycle.
"""

from collections.abc import Awaitable, Callable
from datetime import datetime

import asyncpg

from contracts.events import EventMessage
from services.alerts import rules, store

Clock = Callable[[], datetime]
Handler = Callable[[asyncpg.Connection, EventMessage, Clock], Awaitable[None]]


async def visitation_decided(db: asyncpg.Connection, event: EventMessage, now: Clock) -> None:
    fact = event.fact
    await db.execute(
        """INSERT INTO alert_courses (municipality, course_id, citizen_id, team, method)
           VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING""",
        fact.municipality, fact.course_id, fact.citizen_id, fact.team, fact.method.value,
    )


async def cti_phase_started(db: asyncpg.Connection, event: EventMessage, now: Clock) -> None:
    fact = event.fact
    team = await db.fetchval(
        "SELECT team FROM alert_courses WHERE municipality = $1 AND course_id = $2",
        fact.municipality, fact.course_id,
    )
    rule = rules.CTI_PHASE_OVERDUE
    # The phase moved on: an alert about the previous phase has cleared.
    await store.resolve_open(
        db, rule=rule.id, municipality=fact.municipality, subject_id=fact.course_id, at=now(),
        by="casetrack", note=f"phase {fact.phase.value} started",
    )
    await store.arm_deadline(
        db, rule=rule.id, subject_type="course", subject_id=fact.course_id,
        municipality=fact.municipality, team=team or "unknown",
        due_on=rules.cti_phase_due_on(fact),
        details={"phase": fact.phase.value, "planned_end": fact.planned_end.isoformat(),
                 "citizen_id": fact.citizen_id},
    )


async def course_ended(db: asyncpg.Connection, event: EventMessage, now: Clock) -> None:
    fact = event.fact
    rule = rules.CTI_PHASE_OVERDUE
    await store.cancel_deadline(db, rule=rule.id, municipality=fact.municipality, subject_id=fact.course_id)
    await store.resolve_open(
        db, rule=rule.id, municipality=fact.municipality, subject_id=fact.course_id, at=now(),
        by="casetrack", note="course ended",
    )


HANDLERS: dict[str, Handler] = {
    "VisitationDecided": visitation_decided,
    "CtiPhaseStarted": cti_phase_started,
    "CourseEnded": course_ended,
}


def applier(now: Clock) -> Callable[[asyncpg.Connection, EventMessage], Awaitable[None]]:
    async def apply(db: asyncpg.Connection, event: EventMessage) -> None:
        handler = HANDLERS.get(event.type)
        if handler is not None:
            await handler(db, event, now)

    return apply


