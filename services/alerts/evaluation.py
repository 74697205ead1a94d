"""Looks at one subject with the rules and settles what follows: raise, resolve, or keep a deadline.

The deadline poller (a day has come), a rule's re-evaluation and the settling of imported history
load the subject and carry out the decision here in SQL, in the caller's transaction, so an alert
and the deadline row that records it commit together. A batch of events (a fact changed the
subject, batch.py) uses the same views (`course_view`, `citizen_view`) and the same decision
(`settle`) on the rows it holds in memory.
"""

import hashlib
import json
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

import asyncpg

from services.alerts import rules, store
from services.alerts.rules import CitizenView, CourseView, Measurement, TeamView, Verdict, WorkerView

UNASSIGNED_TEAM = "unassigned"
T = TypeVar("T")


@dataclass(frozen=True)
class Changed:
    """The subjects a fact changed, for the rules that react to it to look at. A citizen fact (no
    course): the rules about the citizen and about each of the citizen's courses."""

    citizen_id: str | None = None
    course_id: str | None = None
    workers: tuple[str | None, ...] = ()
    teams: tuple[str, ...] = ()


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


Config = dict[str, dict[str, dict[str, float]]]

# A course as the rules see it, with its `_WATCHED` rows by rule.
Loaded = tuple[CourseView, dict[str, Mapping[str, Any]]]


async def overrides(db: asyncpg.Connection, municipality: str, config: Config | None = None) -> Config:
    """rule -> scope -> overridden parameters, for one municipality; `config` where the caller has
    read them already (a batch of events reads them once)."""
    if config is not None:
        return config
    result: Config = {}
    for row in await db.fetch(
        "SELECT rule, scope, params FROM alert_rule_config WHERE municipality = $1", municipality
    ):
        result.setdefault(row["rule"], {})[row["scope"]] = json.loads(row["params"])
    return result


def _citizen_columns(municipality: str, citizen_id: str) -> str:
    """What the rules see of a citizen, as select-list columns named citizen_*: their row (NULLs
    where there is none), the team of their latest course and whether one is active. The
    arguments are the SQL expressions of the municipality and the citizen id.

    Whether one is active is read as the first of the citizen's courses in the order that puts the
    active ones first (active if any is), not as a count `WHERE ... AND ended_on IS NULL`: a
    planner without statistics (tables filled within the last minute, as after an import) answered
    that count from the partial index alert_courses_worker, reading every open course of the
    municipality, each time a course was looked at."""
    return f"""citizen.citizen_id AS citizen_known, citizen.housed AS citizen_housed,
        citizen.housing_lost_on AS citizen_housing_lost_on, citizen.stay_started_on AS citizen_stay_started_on,
        citizen.stay_contact_on AS citizen_stay_contact_on, citizen.ready_to_move_on AS citizen_ready_to_move_on,
        citizen.handleplan_on AS citizen_handleplan_on, citizen.eviction_risk_on AS citizen_eviction_risk_on,
        citizen.eviction_risk_kind AS citizen_eviction_risk_kind,
        citizen.udredning_started_on AS citizen_udredning_started_on, citizen.release_on AS citizen_release_on,
        citizen.release_meeting_on AS citizen_release_meeting_on, citizen.status_on AS citizen_status_on,
        (SELECT team FROM alert_courses WHERE municipality = {municipality} AND citizen_id = {citizen_id}
         ORDER BY {_LATEST_FIRST} LIMIT 1) AS citizen_latest_course_team,
        (SELECT {_ACTIVE} FROM alert_courses WHERE municipality = {municipality} AND citizen_id = {citizen_id}
         ORDER BY {_LATEST_FIRST} LIMIT 1) AS citizen_has_active_course"""


# A course that has started and not ended; a citizen's courses, the active first, the latest first.
_ACTIVE = "(ended_on IS NULL AND started_on IS NOT NULL)"
_LATEST_FIRST = f"{_ACTIVE} DESC, started_on DESC NULLS LAST"


# The columns of alert_citizens the rules read (all but the key).
CITIZEN_COLUMNS = (
    "housed",
    "housing_lost_on",
    "stay_started_on",
    "stay_contact_on",
    "ready_to_move_on",
    "handleplan_on",
    "eviction_risk_on",
    "eviction_risk_kind",
    "udredning_started_on",
    "release_on",
    "release_meeting_on",
    "status_on",
)


def citizen_view(citizen_id: str, row: Mapping[str, Any] | None, has_active_course: bool) -> CitizenView:
    """The citizen as the rules see it from their row (`CITIZEN_COLUMNS`, status_on decoded), None
    while the citizen is not known."""
    if row is None:
        return CitizenView(citizen_id, has_active_course=has_active_course)
    return CitizenView(
        citizen_id=citizen_id,
        housed=row["housed"],
        housing_lost_on=row["housing_lost_on"],
        stay_started_on=row["stay_started_on"],
        stay_contact_on=row["stay_contact_on"],
        ready_to_move_on=row["ready_to_move_on"],
        handleplan_on=row["handleplan_on"],
        eviction_risk_on=row["eviction_risk_on"],
        eviction_risk_kind=row["eviction_risk_kind"],
        has_active_course=has_active_course,
        udredning_started_on=row["udredning_started_on"],
        release_on=row["release_on"],
        release_meeting_on=row["release_meeting_on"],
        status_on={kind: date.fromisoformat(on) for kind, on in row["status_on"].items()},
    )


def _citizen_view(citizen_id: str, row: asyncpg.Record) -> tuple[CitizenView, str]:
    """The citizen and their team from the columns of `_citizen_columns`."""
    team, active = row["citizen_latest_course_team"] or UNASSIGNED_TEAM, row["citizen_has_active_course"] is True
    citizen = None
    if row["citizen_known"] is not None:
        citizen = {column: row[f"citizen_{column}"] for column in CITIZEN_COLUMNS}
        citizen["status_on"] = json.loads(citizen["status_on"])
    return citizen_view(citizen_id, citizen, active), team


async def load_citizen(db: asyncpg.Connection, municipality: str, citizen_id: str) -> tuple[CitizenView, str]:
    """The citizen as the rules see it, and the team their alerts go to (that of the latest active course)."""
    row = await db.fetchrow(
        f"""SELECT {_citizen_columns("$1", "$2")}
            FROM (SELECT 1) AS one
            LEFT JOIN alert_citizens AS citizen ON citizen.municipality = $1 AND citizen.citizen_id = $2""",
        municipality,
        citizen_id,
    )
    return _citizen_view(citizen_id, row)


_COURSE_FROM = """FROM alert_courses AS course
    LEFT JOIN alert_citizens AS citizen
      ON citizen.municipality = course.municipality AND citizen.citizen_id = course.citizen_id"""


async def load_course(db: asyncpg.Connection, municipality: str, course_id: str) -> CourseView | None:
    """The course as the rules see it, its citizen's in it; one round trip."""
    row = await db.fetchrow(
        f"""SELECT course.*, {_citizen_columns("course.municipality", "course.citizen_id")}
            {_COURSE_FROM} WHERE course.municipality = $1 AND course.course_id = $2""",
        municipality,
        course_id,
    )
    return None if row is None else _course_view(course_id, row)


async def _load_course_watched(
    db: asyncpg.Connection, municipality: str, course_id: str, selected: Iterable[str]
) -> tuple[CourseView, dict[str, Mapping[str, Any]]] | None:
    """`load_course` and, in the same round trip, `_WATCHED` for the `selected` rules: the course's
    deadline rows locked as `_settle_all` locks them (None, and nothing locked, without the course)."""
    row = await fresh(
        lambda: db.fetchrow(
            f"""WITH {_WATCHED}
                SELECT course.*, {_citizen_columns("course.municipality", "course.citizen_id")},
                  (SELECT coalesce(json_agg(watched ORDER BY rule), '[]') FROM watched) AS watched,
                  (SELECT bool_or(changed_meanwhile) FROM watched) AS changed_meanwhile
                {_COURSE_FROM} WHERE course.municipality = $1 AND course.course_id = $3""",
            municipality,
            "course",
            course_id,
            sorted(selected),
        ),
        lambda row: row is not None and row["changed_meanwhile"],
    )
    if row is None:
        return None
    watched: dict[str, Mapping[str, Any]] = {
        w["rule"]: {**w, "due_on": _date(w["due_on"])} for w in json.loads(row["watched"])
    }
    return _course_view(course_id, row), watched


# The jsonb columns of alert_courses, decoded in `decode_course` and encoded in `encode_course`.
COURSE_JSON_COLUMNS = ("phases", "planned_hours", "measurements", "progression")


def decode_course(row: Mapping[str, Any]) -> dict[str, Any]:
    """A row of alert_courses with the values the rules see: its jsonb columns decoded (phases
    {phase: (start, planned end)}, measurements [Measurement], progression [(day, value)]) and
    follow_ups a list."""
    course = dict(row)
    course["phases"] = {p: (date.fromisoformat(s), _date(e)) for p, (s, e) in json.loads(row["phases"]).items()}
    course["planned_hours"] = json.loads(row["planned_hours"])
    course["measurements"] = [Measurement(date.fromisoformat(d), i, s) for d, i, s in json.loads(row["measurements"])]
    course["progression"] = [(date.fromisoformat(d), v) for d, v in json.loads(row["progression"])]
    course["follow_ups"] = list(row["follow_ups"])
    return course


def encode_course(course: Mapping[str, Any]) -> dict[str, str]:
    """The jsonb columns of a `decode_course` row, as JSON."""
    return {
        "phases": json.dumps({p: [s.isoformat(), e and e.isoformat()] for p, (s, e) in course["phases"].items()}),
        "planned_hours": json.dumps(course["planned_hours"]),
        "measurements": json.dumps([[m.on.isoformat(), m.instrument, m.score] for m in course["measurements"]]),
        "progression": json.dumps([[d.isoformat(), v] for d, v in course["progression"]]),
    }


def course_view(row: Mapping[str, Any], citizen: CitizenView) -> CourseView:
    """The course as the rules see it from its row (`decode_course`)."""
    return CourseView(
        course_id=row["course_id"],
        citizen_id=row["citizen_id"],
        team=row["team"],
        method=row["method"],
        started_on=row["started_on"],
        ended_on=row["ended_on"],
        end_reason=row["end_reason"],
        follow_on_offer=row["follow_on_offer"],
        support_worker=row["support_worker"],
        worker_changes=row["worker_changes"],
        phases=dict(row["phases"]),
        planned_hours=dict(row["planned_hours"]),
        actual_minutes=row["actual_minutes"],
        last_face_to_face=row["last_face_to_face"],
        measurements=tuple(row["measurements"]),
        progression_instrument=row["progression_instrument"],
        progression=tuple(row["progression"]),
        follow_ups=frozenset(row["follow_ups"]),
        outreach_phase=row["outreach_phase"],
        outreach_phase_on=row["outreach_phase_on"],
        contact_established_on=row["contact_established_on"],
        handed_over_on=row["handed_over_on"],
        citizen=citizen,
    )


def _course_view(course_id: str, row: asyncpg.Record) -> CourseView:
    citizen, _ = _citizen_view(row["citizen_id"], row)
    return course_view(decode_course(row), citizen)


async def load_worker(db: asyncpg.Connection, municipality: str, worker_id: str) -> tuple[WorkerView, str]:
    counts = await db.fetch(
        """SELECT method, count(*) AS n FROM alert_courses
           WHERE municipality = $1 AND support_worker = $2 AND started_on IS NOT NULL AND ended_on IS NULL
           GROUP BY method""",
        municipality,
        worker_id,
    )
    team = await db.fetchval(
        "SELECT team FROM alert_workers WHERE municipality = $1 AND worker_id = $2", municipality, worker_id
    )
    if team is None:
        team = await db.fetchval(
            """SELECT team FROM alert_courses WHERE municipality = $1 AND support_worker = $2
               GROUP BY team ORDER BY count(*) DESC, team LIMIT 1""",
            municipality,
            worker_id,
        )
    return WorkerView(worker_id, {r["method"]: r["n"] for r in counts}), team or UNASSIGNED_TEAM


async def load_team(db: asyncpg.Connection, municipality: str, team_id: str) -> TeamView | None:
    row = await db.fetchrow(
        "SELECT methods, registered_on FROM alert_teams WHERE municipality = $1 AND team_id = $2", municipality, team_id
    )
    if row is None:
        return None
    rounds = await db.fetch(
        "SELECT round FROM alert_fidelity_rounds WHERE municipality = $1 AND team_id = $2", municipality, team_id
    )
    return TeamView(team_id, frozenset(row["methods"]), row["registered_on"], frozenset(r["round"] for r in rounds))


def rules_for(only: Iterable[str] | None, cause: str, subject_type: rules.SubjectType) -> tuple[str, ...]:
    """The rules to look with: `only`, or else those the catalogue says react to the fact `cause`."""
    chosen = rules.reacting_to(cause, subject_type) if only is None else tuple(only)
    return tuple(r for r in chosen if subject_type in rules.CATALOGUE[r].checks)


def verdicts_of(
    view: Any,
    subject_type: rules.SubjectType,
    selected: tuple[str, ...],
    config: dict[str, Any],
    today: date,
    team: str,
    method: str | None = None,
) -> dict[str, Verdict]:
    verdicts = {}
    for rule_id in selected:
        rule = rules.CATALOGUE[rule_id]
        params = rules.effective_params(rule, config.get(rule_id, {}), team=team, method=method)
        verdicts[rule_id] = rule.checks[subject_type](view, params, today)
    return verdicts


async def course(
    db: asyncpg.Connection,
    municipality: str,
    course_id: str,
    now: datetime,
    cause: str,
    only: Iterable[str] | None = None,
    config: Config | None = None,
    loaded: Loaded | None = None,  # the course and its `_WATCHED` rows, where the caller has them (`courses_due`)
    writes: store.Writes | None = None,
) -> bool:
    """Whether the subject was looked at (False: no such subject, or no rule to look with)."""
    selected = rules_for(only, cause, "course")
    if not selected:
        return False
    loaded = loaded or await _load_course_watched(db, municipality, course_id, selected)
    if loaded is None:
        return False
    view, watched = loaded
    config = await overrides(db, municipality, config)
    verdicts = verdicts_of(view, "course", selected, config, now.date(), view.team, view.method)
    await _settle_all(db, "course", course_id, municipality, view.team, verdicts, now, cause, watched, writes)
    return True


async def citizen(
    db: asyncpg.Connection,
    municipality: str,
    citizen_id: str,
    now: datetime,
    cause: str,
    only: Iterable[str] | None = None,
    config: Config | None = None,
    writes: store.Writes | None = None,
) -> bool:
    """Whether the subject was looked at (False: no such subject, or no rule to look with)."""
    selected = rules_for(only, cause, "citizen")
    if not selected:
        return False
    view, team = await load_citizen(db, municipality, citizen_id)
    config = await overrides(db, municipality, config)
    verdicts = verdicts_of(view, "citizen", selected, config, now.date(), team)
    await _settle_all(db, "citizen", citizen_id, municipality, team, verdicts, now, cause, writes=writes)
    return True


async def citizen_courses(
    db: asyncpg.Connection,
    municipality: str,
    citizen_id: str,
    now: datetime,
    cause: str,
    only: Iterable[str] | None = None,
    config: Config | None = None,
) -> None:
    if not rules_for(only, cause, "course"):
        return
    for row in await db.fetch(
        "SELECT course_id FROM alert_courses WHERE municipality = $1 AND citizen_id = $2 ORDER BY course_id",
        municipality,
        citizen_id,
    ):
        await course(db, municipality, row["course_id"], now, cause, only, config)


async def worker(
    db: asyncpg.Connection,
    municipality: str,
    worker_id: str | None,
    now: datetime,
    cause: str,
    only: Iterable[str] | None = None,
    config: Config | None = None,
    writes: store.Writes | None = None,
) -> bool:
    """Whether the subject was looked at (False: no such subject, or no rule to look with)."""
    selected = rules_for(only, cause, "worker")
    if worker_id is None or not selected:
        return False
    view, team = await load_worker(db, municipality, worker_id)
    config = await overrides(db, municipality, config)
    verdicts = verdicts_of(view, "worker", selected, config, now.date(), team)
    await _settle_all(db, "worker", worker_id, municipality, team, verdicts, now, cause, writes=writes)
    return True


async def team(
    db: asyncpg.Connection,
    municipality: str,
    team_id: str,
    now: datetime,
    cause: str,
    only: Iterable[str] | None = None,
    config: Config | None = None,
    writes: store.Writes | None = None,
) -> bool:
    """Whether the subject was looked at (False: no such subject, or no rule to look with)."""
    selected = rules_for(only, cause, "team")
    if not selected:
        return False
    view = await load_team(db, municipality, team_id)
    if view is None:
        return False
    config = await overrides(db, municipality, config)
    verdicts = verdicts_of(view, "team", selected, config, now.date(), team_id)
    await _settle_all(db, "team", team_id, municipality, team_id, verdicts, now, cause, writes=writes)
    return True


async def subject(
    db: asyncpg.Connection,
    rule_id: str,
    subject_type: str,
    municipality: str,
    subject_id: str,
    now: datetime,
    cause: str,
    config: Config | None = None,
    loaded: Loaded | None = None,
    writes: store.Writes | None = None,
) -> bool:
    """Looks at one (rule, subject) again: the poller's entry. Whether it was looked at (then its
    deadline was moved on). `loaded`: a course subject as `courses_due` read it; `writes`: where
    its writes are held back to be sent with others (`store.Writes`)."""
    only = (rule_id,)
    if subject_type == "course":
        return await course(db, municipality, subject_id, now, cause, only, config, loaded, writes)
    elif subject_type == "citizen":
        return await citizen(db, municipality, subject_id, now, cause, only, config, writes)
    elif subject_type == "team":
        return await team(db, municipality, subject_id, now, cause, only, config, writes)
    else:
        return await worker(db, municipality, subject_id, now, cause, only, config, writes)


async def rule_everywhere(pool: asyncpg.Pool, rule: rules.Rule, municipality: str, now: datetime, cause: str) -> None:
    """Looks at every subject of the municipality with one rule again (its thresholds changed).
    One transaction per subject, like the poller, so it never holds many locks at once."""
    subjects: list[tuple[str, str]] = []
    async with pool.acquire() as db:
        if "course" in rule.checks:
            subjects += [
                ("course", r[0])
                for r in await db.fetch(
                    "SELECT course_id FROM alert_courses WHERE municipality = $1 ORDER BY 1", municipality
                )
            ]
        if "citizen" in rule.checks:
            subjects += [
                ("citizen", r[0])
                for r in await db.fetch(
                    "SELECT citizen_id FROM alert_citizens WHERE municipality = $1 ORDER BY 1", municipality
                )
            ]
        if "worker" in rule.checks:
            subjects += [
                ("worker", r[0])
                for r in await db.fetch(
                    """SELECT support_worker FROM alert_courses WHERE municipality = $1 AND support_worker IS NOT NULL
                   UNION SELECT worker_id FROM alert_workers WHERE municipality = $1 ORDER BY 1""",
                    municipality,
                )
            ]
        if "team" in rule.checks:
            subjects += [
                ("team", r[0])
                for r in await db.fetch(
                    "SELECT team_id FROM alert_teams WHERE municipality = $1 ORDER BY 1", municipality
                )
            ]
    for subject_type, subject_id in subjects:
        async with pool.acquire() as db, db.transaction():
            await subject(db, rule.id, subject_type, municipality, subject_id, now, cause)


async def courses_due(
    db: asyncpg.Connection, due: Sequence[tuple[str, str, str]]
) -> dict[tuple[str, str, str], Loaded]:
    """For deadlines of courses the caller holds (rule, municipality, course id): each course as
    the rules see it, with its `_WATCHED` row for that rule, in one round trip for all of them.
    Courses there are no more are left out. The deadline rows are not locked again: the caller
    holds them, and read them here, after taking them, sees what whoever held them before wrote."""
    if not due:
        return {}
    rows = await db.fetch(
        f"""SELECT wanted.rule AS deadline_rule, course.*,
              {_citizen_columns("course.municipality", "course.citizen_id")},
              deadline.due_on AS deadline_due_on, deadline.state AS deadline_state,
              deadline.raised_for AS deadline_raised_for, deadline.team AS deadline_team,
              deadline.rule IS NOT NULL AS deadline_has_row,
              EXISTS (SELECT 1 FROM alerts
                      WHERE alerts.rule = wanted.rule AND alerts.municipality = wanted.municipality
                        AND alerts.subject_type = 'course' AND alerts.subject_id = wanted.course_id
                        AND alerts.state <> 'resolved') AS deadline_alert_open
            FROM unnest($1::text[], $2::text[], $3::text[]) AS wanted (rule, municipality, course_id)
            JOIN alert_courses AS course
              ON course.municipality = wanted.municipality AND course.course_id = wanted.course_id
            LEFT JOIN alert_citizens AS citizen
              ON citizen.municipality = course.municipality AND citizen.citizen_id = course.citizen_id
            LEFT JOIN alert_deadlines AS deadline
              ON deadline.rule = wanted.rule AND deadline.municipality = wanted.municipality
                 AND deadline.subject_type = 'course' AND deadline.subject_id = wanted.course_id""",
        [rule for rule, _, _ in due],
        [municipality for _, municipality, _ in due],
        [course_id for _, _, course_id in due],
    )
    return {
        (row["deadline_rule"], row["municipality"], row["course_id"]): (
            _course_view(row["course_id"], row),
            {
                row["deadline_rule"]: {
                    "rule": row["deadline_rule"],
                    "due_on": row["deadline_due_on"],
                    "state": row["deadline_state"],
                    "raised_for": row["deadline_raised_for"],
                    "team": row["deadline_team"],
                    "has_row": row["deadline_has_row"],
                    "alert_open": row["deadline_alert_open"],
                }
            },
        )
        for row in rows
    }


def fingerprint(rule: rules.Rule) -> str:
    """Changes when what the rule raises changes: its definition (which describes its function) or its defaults."""
    return hashlib.sha256(json.dumps([rule.definition, rule.defaults], sort_keys=True).encode()).hexdigest()


async def catch_up_changed_rules(pool: asyncpg.Pool, now: datetime) -> list[str]:
    """Each rule that is new or whose fingerprint changed since the service last ran looks at every
    subject again: deadlines worked out under the earlier definition move, alerts that no longer
    hold resolve, and a new rule arms its deadlines for the subjects already known. The fingerprint
    is stored once that is done, so an interrupted catch-up is done again at the next start.
    Returns the rules it caught up."""
    async with pool.acquire() as db:
        known = {
            r["rule"]: r["fingerprint"] for r in await db.fetch("SELECT rule, fingerprint FROM alert_rule_definitions")
        }
        municipalities = [
            r[0]
            for r in await db.fetch(
                """SELECT municipality FROM alert_courses UNION SELECT municipality FROM alert_citizens
               UNION SELECT municipality FROM alert_workers ORDER BY 1"""
            )
        ]
    caught_up = []
    for rule in rules.CATALOGUE.values():
        if known.get(rule.id) == fingerprint(rule):
            continue
        for municipality in municipalities:
            await rule_everywhere(pool, rule, municipality, now, "rule definition changed")
        await pool.execute(
            """INSERT INTO alert_rule_definitions (rule, fingerprint) VALUES ($1, $2)
               ON CONFLICT (rule) DO UPDATE SET fingerprint = EXCLUDED.fingerprint""",
            rule.id,
            fingerprint(rule),
        )
        caught_up.append(rule.id)
    return caught_up


# For each of some rules ($4): the subject's deadline row, locked in rule order (has_row: there is
# one), and whether the rule's alert about the subject is open (or acknowledged, or snoozed). A
# rule raises one only holding the row's lock (and inserts the row with it), so with a row none
# opens meanwhile. $1 municipality, $2 subject type, $3 subject id.
#
# changed_meanwhile: the row was changed by a transaction that held it while this statement
# waited for it (the poller raising its alert, say). The lock returns the row as that transaction
# left it, but the rest of the statement (the alert, the subject) reads what was committed when
# the statement began, before it: `fresh` reads it all again, holding the locks now.
_WATCHED = """locked AS (
      SELECT rule, due_on, state, raised_for, team, xmin AS version FROM alert_deadlines
      WHERE municipality = $1 AND subject_type = $2 AND subject_id = $3 AND rule = ANY($4::text[])
      ORDER BY rule FOR UPDATE),
    watched AS (
      SELECT given.rule, locked.due_on, locked.state, locked.raised_for, locked.team,
        locked.rule IS NOT NULL AS has_row,
        EXISTS (SELECT 1 FROM alerts
                WHERE alerts.rule = given.rule AND alerts.municipality = $1
                  AND alerts.subject_type = $2 AND alerts.subject_id = $3
                  AND alerts.state <> 'resolved') AS alert_open,
        locked.version IS DISTINCT FROM
          (SELECT seen.xmin FROM alert_deadlines AS seen
           WHERE seen.rule = given.rule AND seen.municipality = $1
             AND seen.subject_type = $2 AND seen.subject_id = $3) AS changed_meanwhile
      FROM unnest($4::text[]) AS given (rule) LEFT JOIN locked ON locked.rule = given.rule)"""


async def fresh(read: Callable[[], Awaitable[T]], changed_meanwhile: Callable[[T], bool]) -> T:
    """What `read` (a statement with `_WATCHED`) returns, read once more if a row it locked was
    changed while it waited for the lock: the second time it holds the locks, and sees it all."""
    result = await read()
    return await read() if changed_meanwhile(result) else result


async def _settle_all(
    db: asyncpg.Connection,
    subject_type: str,
    subject_id: str,
    municipality: str,
    team: str,
    verdicts: dict[str, Verdict],
    now: datetime,
    cause: str,
    watched: dict[str, Mapping[str, Any]] | None = None,
    writes: store.Writes | None = None,
) -> None:
    """`watched`: the rows of `_WATCHED` for these verdicts' rules where the caller has them;
    `writes`: as `_settle`'s."""
    if watched is None:
        rows = await fresh(
            lambda: db.fetch(
                f"WITH {_WATCHED} SELECT * FROM watched ORDER BY rule",
                municipality,
                subject_type,
                subject_id,
                sorted(verdicts),
            ),
            lambda rows: any(row["changed_meanwhile"] for row in rows),
        )
        watched = {row["rule"]: row for row in rows}
    for rule_id in sorted(verdicts):
        await _settle(
            db,
            rules.CATALOGUE[rule_id],
            subject_type,
            subject_id,
            municipality,
            team,
            verdicts[rule_id],
            watched[rule_id] if watched[rule_id]["has_row"] else None,
            watched[rule_id]["alert_open"],
            now,
            cause,
            writes,
        )


@dataclass(frozen=True)
class Settlement:
    """What follows from a rule's verdict about a subject, given its deadline row and whether its
    alert is open: the decision the event handlers (in memory, a batch at a time) and the poller (in
    SQL) both carry out."""

    resolve_note: str | None  # the open alert is resolved first, with this note
    refresh: bool  # the open alert's details become the verdict's
    raise_alert: bool  # an alert is raised (with the deadline row, if any)
    deadline: store.DeadlineWrite | None  # the deadline row as it is to be, where it changes


def settle(
    rule: rules.Rule,
    verdict: Verdict,
    row: Mapping[str, Any] | None,
    alert_open: bool,
    today: date,
    team: str,
    cause: str,
) -> Settlement:
    """`row`: the (rule, subject)'s deadline row (due_on, state, raised_for, team), None without one."""
    raised_for = row["raised_for"] if row else None
    resolve_note = None
    refresh = raise_now = False
    if verdict.holds(today):
        if raised_for != verdict.occurrence:
            if raised_for is not None and alert_open:
                resolve_note = f"superseded by {verdict.occurrence or 'a new occurrence'}"
            raise_now = True
            raised_for = verdict.occurrence
        elif alert_open:
            refresh = True
    else:
        if alert_open:
            resolve_note = f"condition cleared ({cause})"
        raised_for = None
    wake = verdict.wake_on(today)
    if wake is not None and wake <= today:  # never due again today: the poller would spin
        wake = today + timedelta(days=1)
    state = "pending" if wake is not None else "done"
    deadline: store.DeadlineWrite | None = None
    if row is None:
        if wake is not None or raised_for is not None:  # else nothing to watch
            deadline = store.DeadlineWrite("insert", team, wake, state, raised_for)
    elif (row["due_on"], row["state"], row["raised_for"], row["team"]) != (wake, state, raised_for, team):
        deadline = store.DeadlineWrite("update", team, wake, state, raised_for)
    return Settlement(resolve_note, refresh, raise_now, deadline)


async def _settle(
    db: asyncpg.Connection,
    rule: rules.Rule,
    subject_type: str,
    subject_id: str,
    municipality: str,
    team: str,
    verdict: Verdict,
    row: Mapping[str, Any] | None,
    alert_open: bool,
    now: datetime,
    cause: str,
    writes: store.Writes | None = None,
) -> None:
    """`writes`: where the statements are held back to be sent with others (the poller's), else
    they are carried out here."""
    settlement = settle(rule, verdict, row, alert_open, now.date(), team, cause)
    key: dict[str, Any] = dict(
        rule=rule.id, municipality=municipality, subject_type=subject_type, subject_id=subject_id
    )
    statements: list[tuple[int, store.Statement]] = []  # (step, statement): the resolve before the raise
    if settlement.resolve_note is not None:
        statements.append((0, store.resolving(**key, at=now, by="casetrack", note=settlement.resolve_note)))
    if settlement.refresh:
        statements.append((1, store.refreshing(**key, details=verdict.details, at=now)))
    if settlement.raise_alert:  # the alert and the deadline row that records it, in one statement
        statements.append(
            (
                2,
                store.raising(
                    **key,
                    severity=rule.severity,
                    team=team,
                    details=verdict.details,
                    at=now,
                    deadline=settlement.deadline,
                ),
            )
        )
    elif settlement.deadline is not None:
        statements.append((2, store.deadline_statement(**key, deadline=settlement.deadline)))
    for step, (sql, args) in statements:
        if writes is None:
            await db.execute(sql, *args)
        else:
            writes.add(step, (sql, args))
