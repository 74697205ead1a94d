"""The alerts service's tables, and the lifecycle changes on them (asyncpg)."""

import json
import uuid
from datetime import date, datetime
from typing import Any

import asyncpg

SCHEMA = """
CREATE TABLE IF NOT EXISTS alert_courses (
    municipality text NOT NULL,
    course_id text NOT NULL,
    citizen_id text NOT NULL,
    team text NOT NULL,
    method text NOT NULL,
    PRIMARY KEY (municipality, course_id)
);
CREATE TABLE IF NOT EXISTS alert_deadlines (
    rule text NOT NULL,
    subject_type text NOT NULL,
    subject_id text NOT NULL,
    municipality text NOT NULL,
    team text NOT NULL,
    due_on date NOT NULL,
    details jsonb NOT NULL DEFAULT '{}',
    state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'fired', 'cancelled')),
    PRIMARY KEY (rule, municipality, subject_id)
);
CREATE INDEX IF NOT EXISTS alert_deadlines_due ON alert_deadlines (due_on) WHERE state = 'pending';
CREATE TABLE IF NOT EXISTS alerts (
    id uuid PRIMARY KEY,
    rule text NOT NULL,
    subject_type text NOT NULL,
    subject_id text NOT NULL,
    municipality text NOT NULL,
    team text NOT NULL,
    state text NOT NULL CHECK (state IN ('open', 'acknowledged', 'snoozed', 'resolved')),
    severity text NOT NULL,
    raised_at timestamptz NOT NULL,
    details jsonb NOT NULL DEFAULT '{}'
);
-- At most one alert that is not resolved per (rule, subject).
CREATE UNIQUE INDEX IF NOT EXISTS alerts_one_open
    ON alerts (rule, municipality, subject_id) WHERE state <> 'resolved';
CREATE INDEX IF NOT EXISTS alerts_by_municipality ON alerts (municipality, state);
CREATE TABLE IF NOT EXISTS alert_transitions (
    id bigserial PRIMARY KEY,
    alert_id uuid NOT NULL REFERENCES alerts (id),
    transition int NOT NULL,
    state text NOT NULL,
    at timestamptz NOT NULL,
    by text NOT NULL,
    note text,
    published boolean NOT NULL DEFAULT false,
    UNIQUE (alert_id, transition)
);
CREATE INDEX IF NOT EXISTS alert_transitions_unpublished ON alert_transitions (id) WHERE NOT published;
"""


async def arm_deadline(
    db: asyncpg.Connection, *, rule: str, subject_type: str, subject_id: str, municipality: str,
    team: str, due_on: date, details: dict[str, Any],
) -> None:
    await db.execute(
        """INSERT INTO alert_deadlines (rule, subject_type, subject_id, municipality, team, due_on, details, state)
           VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending')
           ON CONFLICT (rule, municipality, subject_id) DO UPDATE
           SET due_on = EXCLUDED.due_on, details = EXCLUDED.details, team = EXCLUDED.team, state = 'pending'""",
        rule, subject_type, subject_id, municipality, team, due_on, json.dumps(details),
    )


async def cancel_deadline(db: asyncpg.Connection, *, rule: str, municipality: str, subject_id: str) -> None:
    await db.execute(
        "UPDATE alert_deadlines SET state = 'cancelled' WHERE rule = $1 AND municipality = $2 AND subject_id = $3 AND state = 'pending'",
        rule, municipality, subject_id,
    )


async def raise_alert(
    db: asyncpg.Connection, *, rule: str, severity: str, subject_type: str, subject_id: str,
    municipality: str, team: str, details: dict[str, Any], at: datetime,
) -> uuid.UUID | None:
    """Raises an alert unless one is already open for (rule, subject); returns its id if raised."""
    alert_id = uuid.uuid4()
    inserted = await db.fetchval(
        """INSERT INTO alerts (id, rule, subject_type, subject_id, municipality, team, state, severity, raised_at, details)
           VALUES ($1, $2, $3, $4, $5, $6, 'open', $7, $8, $9)
           ON CONFLICT (rule, municipality, subject_id) WHERE state <> 'resolved' DO NOTHING
           RETURNING id""",
        alert_id, rule, subject_type, subject_id, municipality, team, severity, at, json.dumps(details),
    )
    if inserted is None:
        return None
    await _transition(db, alert_id, "open", at, "casetrack", None)
    return alert_id


async def resolve_open(
    db: asyncpg.Connection, *, rule: str, municipality: str, subject_id: str, at: datetime, by: str, note: str
) -> None:
    """Resolves the open alert for (rule, subject), if any: the condition has cleared."""
    alert_id = await db.fetchval(
        """UPDATE alerts SET state = 'resolved'
           WHERE rule = $1 AND municipality = $2 AND subject_id = $3 AND state <> 'resolved'
           RETURNING id""",
        rule, municipality, subject_id,
    )
    if alert_id is not None:
        await _transition(db, alert_id, "resolved", at, by, note)


async def _transition(
    db: asyncpg.Connection, alert_id: uuid.UUID, state: str, at: datetime, by: str, note: str | None
) -> None:
    await db.execute(
        """INSERT INTO alert_transitions (alert_id, transition, state, at, by, note)
           SELECT $1, coalesce(max(transition), 0) + 1, $2, $3, $4, $5
           FROM alert_transitions WHERE alert_id = $1""",
        alert_id, state, at, by, note,
    )


async def list_alerts(
    db: asyncpg.Pool, *, municipality: str, state: str | None, team: str | None, rule: str | None
) -> list[dict[str, Any]]:
    rows = await db.fetch(
        """SELECT * FROM alerts
           WHERE municipality = $1 AND ($2::text IS NULL OR state = $2)
             AND ($3::text IS NULL OR team = $3) AND ($4::text IS NULL OR rule = $4)
           ORDER BY raised_at DESC LIMIT 1000""",
        municipality, state, team, rule,
    )
    return [alert_row(row) for row in rows]


def alert_row(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "rule": row["rule"],
        "subject_type": row["subject_type"],
        "subject_id": row["subject_id"],
        "municipality": row["municipality"],
        "team": row["team"],
        "state": row["state"],
        "severity": row["severity"],
        "raised_at": row["raised_at"].isoformat(),
        "details": json.loads(row["details"]),
    }
