"""Applies events to the KPI read models. One plain function per event type."""

from collections.abc import Awaitable, Callable

import asyncpg

from contracts.events import EventMessage

SCHEMA = """
CREATE TABLE IF NOT EXISTS kpi_courses (
    municipality text NOT NULL,
    course_id text NOT NULL,
    citizen_id text NOT NULL,
    method text NOT NULL,
    team text NOT NULL,
    decided_on date NOT NULL,
    started_on date,
    ended_on date,
    PRIMARY KEY (municipality, course_id)
);
CREATE INDEX IF NOT EXISTS kpi_courses_started ON kpi_courses (municipality, started_on);
CREATE TABLE IF NOT EXISTS kpi_handleplans (
    municipality text NOT NULL,
    citizen_id text NOT NULL,
    created_on date NOT NULL,
    event_position bigint PRIMARY KEY
);
CREATE INDEX IF NOT EXISTS kpi_handleplans_citizen ON kpi_handleplans (municipality, citizen_id);
-- Events applied, by type: for operations, and the proof that each event counts once.
CREATE TABLE IF NOT EXISTS projection_event_counts (
    event_type text PRIMARY KEY,
    applied bigint NOT NULL
);
"""

Handler = Callable[[asyncpg.Connection, EventMessage], Awaitable[None]]


async def visitation_decided(db: asyncpg.Connection, event: EventMessage) -> None:
    fact = event.fact
    await db.execute(
        """INSERT INTO kpi_courses (municipality, course_id, citizen_id, method, team, decided_on)
           VALUES ($1, $2, $3, $4, $5, $6)""",
        fact.municipality, fact.course_id, fact.citizen_id, fact.method.value, fact.team,
        fact.effective_date,
    )


async def course_started(db: asyncpg.Connection, event: EventMessage) -> None:
    fact = event.fact
    await db.execute(
        "UPDATE kpi_courses SET started_on = $3 WHERE municipality = $1 AND course_id = $2",
        fact.municipality, fact.course_id, fact.effective_date,
    )


async def course_ended(db: asyncpg.Connection, event: EventMessage) -> None:
    fact = event.fact
    await db.execute(
        "UPDATE kpi_courses SET ended_on = $3 WHERE municipality = $1 AND course_id = $2",
        fact.municipality, fact.course_id, fact.effective_date,
    )


async def handleplan_created(db: asyncpg.Connection, event: EventMessage) -> None:
    fact = event.fact
    await db.execute(
        "INSERT INTO kpi_handleplans (municipality, citizen_id, created_on, event_position) VALUES ($1, $2, $3, $4)",
        fact.municipality, fact.citizen_id, fact.effective_date, event.position,
    )


HANDLERS: dict[str, Handler] = {
    "VisitationDecided": visitation_decided,
    "CourseStarted": course_started,
    "CourseEnded": course_ended,
    "HandleplanCreated": handleplan_created,
}


async def apply(db: asyncpg.Connection, event: EventMessage) -> None:
    handler = HANDLERS.get(event.type)
    if handler is not None:  # events no KPI needs yet are only counted
        await handler(db, event)
    await db.execute(
        """INSERT INTO projection_event_counts (event_type, applied) VALUES ($1, 1)
           ON CONFLICT (event_type) DO UPDATE SET applied = projection_event_counts.applied + 1""",
        event.type,
    )
