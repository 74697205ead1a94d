"""The alerts service's tables, and the lifecycle changes on them (asyncpg)."""

import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

import asyncpg

from services.alerts.details import texts as describe_details

SCHEMA = """
CREATE TABLE IF NOT EXISTS alert_courses (
    municipality text NOT NULL,
    course_id text NOT NULL,
    citizen_id text NOT NULL,
    team text NOT NULL,
    method text NOT NULL,
    started_on date,
    ended_on date,
    end_reason text,
    follow_on_offer text,
    support_worker text,
    worker_changes int NOT NULL DEFAULT 0,
    phases jsonb NOT NULL DEFAULT '{}',         -- phase -> [start, planned end]
    planned_hours jsonb NOT NULL DEFAULT '{}',  -- "phase:1" / "month:2026-03-01" -> hours
    actual_minutes int NOT NULL DEFAULT 0,
    last_face_to_face date,
    measurements jsonb NOT NULL DEFAULT '[]',   -- [[date, instrument, score], ...]
    progression_instrument text,
    progression jsonb NOT NULL DEFAULT '[]',    -- [[date, value], ...]
    follow_ups int[] NOT NULL DEFAULT '{}',
    PRIMARY KEY (municipality, course_id)
);
CREATE INDEX IF NOT EXISTS alert_courses_citizen ON alert_courses (municipality, citizen_id);
CREATE INDEX IF NOT EXISTS alert_courses_worker ON alert_courses (municipality, support_worker) WHERE ended_on IS NULL;
CREATE TABLE IF NOT EXISTS alert_citizens (
    municipality text NOT NULL,
    citizen_id text NOT NULL,
    housed boolean,
    housing_lost_on date,
    stay_started_on date,
    stay_contact_on date,
    ready_to_move_on date,
    handleplan_on date,
    eviction_risk_on date,
    eviction_risk_kind text,
    PRIMARY KEY (municipality, citizen_id)
);
-- status_due: the latest day of each status kind registered (housing, income, employment).
ALTER TABLE alert_citizens ADD COLUMN IF NOT EXISTS status_on jsonb NOT NULL DEFAULT '{}';
-- udredning_overdue: the day the stay's Udredning og Plan began, until it is completed.
ALTER TABLE alert_citizens ADD COLUMN IF NOT EXISTS udredning_started_on date;
-- release_meeting_missing: the open Køreplan's planned release and its meeting.
ALTER TABLE alert_citizens ADD COLUMN IF NOT EXISTS release_on date;
-- outreach_phase_long, bridging_ended_without_handover: the course's current outreach phase and its start.
ALTER TABLE alert_courses ADD COLUMN IF NOT EXISTS outreach_phase text;
ALTER TABLE alert_courses ADD COLUMN IF NOT EXISTS outreach_phase_on date;
ALTER TABLE alert_citizens ADD COLUMN IF NOT EXISTS release_meeting_on date;
-- recovery_star_baseline_missing: the course's first face-to-face or phone/digital contact;
-- bridging_ended_without_handover: the day of the course's handover (CourseHandedOver).
ALTER TABLE alert_courses ADD COLUMN IF NOT EXISTS contact_established_on date;
ALTER TABLE alert_courses ADD COLUMN IF NOT EXISTS handed_over_on date;
CREATE TABLE IF NOT EXISTS alert_workers (
    municipality text NOT NULL,
    worker_id text NOT NULL,
    team text NOT NULL,
    role text NOT NULL,
    email text,
    active boolean NOT NULL DEFAULT true,
    PRIMARY KEY (municipality, worker_id)
);
CREATE TABLE IF NOT EXISTS alert_teams (
    municipality text NOT NULL,
    team_id text NOT NULL,
    methods text[] NOT NULL,
    registered_on date NOT NULL,
    PRIMARY KEY (municipality, team_id)
);
-- The rounds in which a team's fidelity checklist was answered (fidelity_round_due): no answers, no respondent.
CREATE TABLE IF NOT EXISTS alert_fidelity_rounds (
    municipality text NOT NULL,
    team_id text NOT NULL,
    round text NOT NULL,
    PRIMARY KEY (municipality, team_id, round)
);
CREATE TABLE IF NOT EXISTS alert_rule_config (
    rule text NOT NULL,
    municipality text NOT NULL,
    scope text NOT NULL,  -- "" for the whole municipality, "team:<id>" or "method:<CTI|ICM|...>"
    params jsonb NOT NULL,
    updated_at timestamptz NOT NULL,
    updated_by text NOT NULL,
    PRIMARY KEY (rule, municipality, scope)
);
-- Rules whose configuration changed in a municipality and is still to be published on
-- CASETRACK_RULE_CONFIG (contracts/rule_config.py): this table is that outbox.
CREATE TABLE IF NOT EXISTS alert_rule_config_outbox (
    rule text NOT NULL,
    municipality text NOT NULL,
    changed_at timestamptz NOT NULL,
    changed_by text NOT NULL,
    PRIMARY KEY (rule, municipality)
);
-- What each rule's definition and defaults were when the service last looked at every subject with it.
CREATE TABLE IF NOT EXISTS alert_rule_definitions (
    rule text PRIMARY KEY,
    fingerprint text NOT NULL
);
-- One row per (rule, subject) the service watches: when to look again (due_on, while pending),
-- and which occurrence of the condition an alert was already raised for.
CREATE TABLE IF NOT EXISTS alert_deadlines (
    rule text NOT NULL,
    subject_type text NOT NULL,
    subject_id text NOT NULL,
    municipality text NOT NULL,
    team text NOT NULL,
    due_on date,
    state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done')),
    raised_for text,
    PRIMARY KEY (rule, municipality, subject_type, subject_id)
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
    snoozed_until date,
    details jsonb NOT NULL DEFAULT '{}'
);
-- At most one alert that is not resolved per (rule, subject).
CREATE UNIQUE INDEX IF NOT EXISTS alerts_one_open
    ON alerts (rule, municipality, subject_type, subject_id) WHERE state <> 'resolved';
CREATE INDEX IF NOT EXISTS alerts_by_municipality ON alerts (municipality, state);
-- A subject's alerts that are not resolved (a batch of events reads those of its subjects together).
CREATE INDEX IF NOT EXISTS alerts_open_by_subject
    ON alerts (municipality, subject_type, subject_id) WHERE state <> 'resolved';
-- When the details were last worked out: at raising, and again whenever the rule looks at the subject.
ALTER TABLE alerts ADD COLUMN IF NOT EXISTS details_as_of timestamptz;
CREATE INDEX IF NOT EXISTS alerts_snoozed ON alerts (snoozed_until) WHERE state = 'snoozed';
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
-- `by` is who acted (the authenticated caller, or casetrack); `on_behalf_of` a person they named.
ALTER TABLE alert_transitions ADD COLUMN IF NOT EXISTS on_behalf_of text;
CREATE TABLE IF NOT EXISTS alert_digests (
    municipality text NOT NULL,
    worker_id text NOT NULL,
    day date NOT NULL,
    email text NOT NULL,
    alerts int NOT NULL,
    sent_at timestamptz NOT NULL,
    PRIMARY KEY (municipality, worker_id, day)
);
"""


@dataclass(frozen=True)
class DeadlineWrite:
    """A (rule, subject)'s deadline row as it is to be: inserted (there is none yet) or updated."""

    kind: Literal["insert", "update"]
    team: str
    due_on: date | None
    state: str
    raised_for: str | None


# A statement and its arguments.
Statement = tuple[str, tuple[Any, ...]]


class Writes:
    """Statements held back, to be sent together at the end of a transaction: one `executemany` (one
    round trip) a statement, in the order of their steps. Each (rule, subject) writes at most one
    statement a step, and a step's statements are about different (rule, subject)s, so sent a step
    at a time they do what they would have done one after the other."""

    def __init__(self) -> None:
        self._statements: dict[tuple[int, str], list[tuple[Any, ...]]] = {}

    def add(self, step: int, statement: Statement) -> None:
        sql, args = statement
        self._statements.setdefault((step, sql), []).append(args)

    async def send(self, db: asyncpg.Connection) -> None:
        for step_sql in sorted(self._statements):
            await db.executemany(step_sql[1], self._statements[step_sql])
        self._statements.clear()


# The deadline row written, in SQL; the placeholders name the parameters' numbers.
_DEADLINE_SQL = {
    "insert": """INSERT INTO alert_deadlines
                   (rule, subject_type, subject_id, municipality, team, due_on, state, raised_for)
                 VALUES ({rule}, {subject_type}, {subject_id}, {municipality},
                         {team}, {due_on}, {state}, {raised_for})""",
    "update": """UPDATE alert_deadlines
                 SET due_on = {due_on}, state = {state}, raised_for = {raised_for}, team = {team}
                 WHERE rule = {rule} AND municipality = {municipality}
                   AND subject_type = {subject_type} AND subject_id = {subject_id}""",
}


def deadline_statement(
    *, rule: str, municipality: str, subject_type: str, subject_id: str, deadline: DeadlineWrite
) -> Statement:
    """The deadline row written: its statement and arguments."""
    sql = _DEADLINE_SQL[deadline.kind].format(
        rule="$1",
        subject_type="$2",
        subject_id="$3",
        municipality="$4",
        team="$5",
        due_on="$6",
        state="$7",
        raised_for="$8",
    )
    return sql, (
        rule,
        subject_type,
        subject_id,
        municipality,
        deadline.team,
        deadline.due_on,
        deadline.state,
        deadline.raised_for,
    )


# The number of an alert's next transition, in SQL.
_NEXT_TRANSITION = "(SELECT coalesce(max(transition), 0) + 1 FROM alert_transitions WHERE alert_id = {alert_id})"


def raising(
    *,
    rule: str,
    severity: str,
    subject_type: str,
    subject_id: str,
    municipality: str,
    team: str,
    details: dict[str, Any],
    at: datetime,
    deadline: DeadlineWrite | None = None,
) -> Statement:
    """Raises an alert unless one is already open for (rule, subject): the alert, its first
    transition and (`deadline`) the (rule, subject)'s deadline row as it is to be, in one statement."""
    moved = ""
    extra: tuple[Any, ...] = ()
    if deadline is not None:
        moved = ", moved AS ({})".format(
            _DEADLINE_SQL[deadline.kind].format(
                rule="$2",
                subject_type="$3",
                subject_id="$4",
                municipality="$5",
                team="$10",
                due_on="$11",
                state="$12",
                raised_for="$13",
            )
        )
        extra = (deadline.team, deadline.due_on, deadline.state, deadline.raised_for)
    sql = f"""WITH raised AS (
              INSERT INTO alerts
                (id, rule, subject_type, subject_id, municipality, team, state, severity, raised_at, details)
              VALUES ($1, $2, $3, $4, $5, $6, 'open', $7, $8, $9)
              ON CONFLICT (rule, municipality, subject_type, subject_id) WHERE state <> 'resolved' DO NOTHING
              RETURNING id){moved}
            INSERT INTO alert_transitions (alert_id, transition, state, at, by, note, on_behalf_of)
            SELECT id, 1, 'open', $8, 'casetrack', NULL, NULL FROM raised
            RETURNING alert_id"""
    return sql, (
        uuid.uuid4(),
        rule,
        subject_type,
        subject_id,
        municipality,
        team,
        severity,
        at,
        json.dumps(details),
        *extra,
    )


def refreshing(
    *, rule: str, municipality: str, subject_type: str, subject_id: str, details: dict[str, Any], at: datetime
) -> Statement:
    """The open alert of (rule, subject) shows the subject's figures as they are now: the statement."""
    return (
        """UPDATE alerts SET details = $5, details_as_of = $6
           WHERE rule = $1 AND municipality = $2 AND subject_type = $3 AND subject_id = $4 AND state <> 'resolved'
             AND (details <> $5::jsonb OR details_as_of IS DISTINCT FROM $6)""",
        (rule, municipality, subject_type, subject_id, json.dumps(details), at),
    )


def resolving(
    *, rule: str, municipality: str, subject_type: str, subject_id: str, at: datetime, by: str, note: str
) -> Statement:
    """Resolves the open alert for (rule, subject), if any (the condition has cleared): the state and
    its transition in one statement."""
    return (
        f"""WITH resolved AS (
              UPDATE alerts SET state = 'resolved', snoozed_until = NULL
              WHERE rule = $1 AND municipality = $2 AND subject_type = $3 AND subject_id = $4
                AND state <> 'resolved'
              RETURNING id)
            INSERT INTO alert_transitions (alert_id, transition, state, at, by, note, on_behalf_of)
            SELECT id, {_NEXT_TRANSITION.format(alert_id="resolved.id")}, 'resolved', $5, $6, $7, NULL FROM resolved
            RETURNING alert_id""",
        (rule, municipality, subject_type, subject_id, at, by, note),
    )


class TransitionRefused(Exception):
    def __init__(self, reason: str, state: str):
        super().__init__(reason)
        self.reason = reason
        self.state = state


# Which states a person may move an alert to, from which.
MANUAL_TRANSITIONS = {
    "acknowledged": {"open", "snoozed"},
    "snoozed": {"open", "acknowledged"},
    "resolved": {"open", "acknowledged", "snoozed"},
}


async def change_state(
    db: asyncpg.Connection,
    alert_id: uuid.UUID,
    *,
    state: str,
    at: datetime,
    by: str,
    note: str | None,
    snoozed_until: date | None = None,
    on_behalf_of: str | None = None,
) -> dict[str, Any] | None:
    """A person acknowledges, snoozes or resolves an alert; None when there is no such alert.
    `by` is the authenticated caller; `on_behalf_of` a person they say they act for."""
    current = await db.fetchval("SELECT state FROM alerts WHERE id = $1 FOR UPDATE", alert_id)
    if current is None:
        return None
    if current not in MANUAL_TRANSITIONS[state]:
        raise TransitionRefused(f"cannot go from {current} to {state}", current)
    await db.execute("UPDATE alerts SET state = $2, snoozed_until = $3 WHERE id = $1", alert_id, state, snoozed_until)
    await _transition(db, alert_id, state, at, by, note, on_behalf_of)
    return await get_alert(db, alert_id)


async def wake_snoozed(db: asyncpg.Connection, today: date, at: datetime) -> int:
    """Snoozed alerts whose day has come are open again."""
    woken = await db.fetch(
        """UPDATE alerts SET state = 'open', snoozed_until = NULL
           WHERE id IN (SELECT id FROM alerts WHERE state = 'snoozed' AND snoozed_until <= $1
                        FOR UPDATE SKIP LOCKED)
           RETURNING id""",
        today,
    )
    for row in woken:
        await _transition(db, row["id"], "open", at, "casetrack", "snooze ended")
    return len(woken)


async def _transition(
    db: asyncpg.Connection,
    alert_id: uuid.UUID,
    state: str,
    at: datetime,
    by: str,
    note: str | None,
    on_behalf_of: str | None = None,
) -> None:
    await db.execute(
        """INSERT INTO alert_transitions (alert_id, transition, state, at, by, note, on_behalf_of)
           SELECT $1, coalesce(max(transition), 0) + 1, $2, $3, $4, $5, $6
           FROM alert_transitions WHERE alert_id = $1""",
        alert_id,
        state,
        at,
        by,
        note,
        on_behalf_of,
    )


_ALERT_FILTER = """WHERE municipality = $1 AND ($2::text IS NULL OR state = $2)
    AND ($3::text IS NULL OR team = $3) AND ($4::text IS NULL OR rule = $4) AND ($5::text IS NULL OR severity = $5)"""


async def list_alerts(
    db: asyncpg.Pool | asyncpg.Connection,
    *,
    municipality: str,
    state: str | None = None,
    team: str | None = None,
    rule: str | None = None,
    severity: str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    """One page of the matching alerts, newest first, and how many match in all."""
    filters = (municipality, state, team, rule, severity)
    rows = await db.fetch(
        f"SELECT *, count(*) OVER () AS total FROM alerts {_ALERT_FILTER}"
        " ORDER BY raised_at DESC, id LIMIT $6 OFFSET $7",
        *filters,
        limit,
        offset,
    )
    if not rows and offset:  # past the last page: the count alone
        return [], await db.fetchval(f"SELECT count(*) FROM alerts {_ALERT_FILTER}", *filters)
    return [alert_row(row) for row in rows], rows[0]["total"] if rows else 0


async def get_alert(db: asyncpg.Pool | asyncpg.Connection, alert_id: uuid.UUID) -> dict[str, Any] | None:
    row = await db.fetchrow("SELECT * FROM alerts WHERE id = $1", alert_id)
    if row is None:
        return None
    history = await db.fetch(
        """SELECT transition, state, at, by, on_behalf_of, note FROM alert_transitions
           WHERE alert_id = $1 ORDER BY transition""",
        alert_id,
    )
    return alert_row(row) | {
        "history": [
            {
                "transition": h["transition"],
                "state": h["state"],
                "at": h["at"].isoformat(),
                "by": h["by"],
                "on_behalf_of": h["on_behalf_of"],
                "note": h["note"],
            }
            for h in history
        ]
    }


def alert_row(row: asyncpg.Record) -> dict[str, Any]:
    details = json.loads(row["details"])
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
        "snoozed_until": row["snoozed_until"].isoformat() if row["snoozed_until"] else None,
        "details": details,
        "details_text": describe_details(details),
        "details_as_of": (row["details_as_of"] or row["raised_at"]).isoformat(),
    }


async def rule_config_changed(db: asyncpg.Connection, rule: str, municipality: str, at: datetime, by: str) -> None:
    """Queues the rule's configuration in the municipality for publishing, in the caller's transaction."""
    await db.execute(
        """INSERT INTO alert_rule_config_outbox (rule, municipality, changed_at, changed_by) VALUES ($1, $2, $3, $4)
           ON CONFLICT (rule, municipality)
           DO UPDATE SET changed_at = EXCLUDED.changed_at, changed_by = EXCLUDED.changed_by""",
        rule,
        municipality,
        at,
        by,
    )


async def republish_rule_config(db: asyncpg.Connection) -> None:
    """Queues every configured rule again (at start): a stream that lost a message gets it back."""
    await db.execute(
        """INSERT INTO alert_rule_config_outbox (rule, municipality, changed_at, changed_by)
           SELECT rule, municipality, max(updated_at), (array_agg(updated_by ORDER BY updated_at DESC))[1]
           FROM alert_rule_config GROUP BY rule, municipality
           ON CONFLICT (rule, municipality) DO NOTHING"""
    )
