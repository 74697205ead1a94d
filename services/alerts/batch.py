"""A batch of events applied in memory: the subjects it touches loaded together, written together.

Before the batch's first event, the rows of every subject its facts name are read in one query a
table (courses, citizens, workers, teams; the deadline rows and the alerts not resolved of those
subjects, locked); the handlers change these rows in memory, and after each event the rules that
react to it look at the subjects it changed as `evaluation` does in SQL — the same views, the same
`evaluation.settle` — so each event has the verdicts it would have alone, in stream order, and an
alert raised and resolved within the batch is recorded with both transitions. At the end what
changed is written with one statement a kind of row (`executemany`), in the caller's transaction
(the checkpoint's).

Locks: the deadline rows of the batch's subjects are locked in one statement, ordered by subject
and rule, then their alerts that are not resolved. The poller and the other lookers lock one
subject's rows in rule order (deadlines.py, evaluation._WATCHED), an open alert only holding its
deadline row, and a person's change locks the one alert: no order of two of them is the reverse of
another's, so none deadlocks with a batch.
"""

import json
import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import asyncpg

from services.alerts import evaluation, imported, rules
from services.alerts.evaluation import UNASSIGNED_TEAM, Changed, Config
from services.alerts.rules import TeamView, WorkerView

Key = tuple[str, str]  # (municipality, id)
AlertKey = tuple[str, str, str, str]  # (rule, municipality, subject_type, subject_id)
Row = dict[str, Any]

_NEW_COURSE: Row = dict(
    started_on=None,
    ended_on=None,
    end_reason=None,
    follow_on_offer=None,
    support_worker=None,
    worker_changes=0,
    actual_minutes=0,
    last_face_to_face=None,
    progression_instrument=None,
    outreach_phase=None,
    outreach_phase_on=None,
    contact_established_on=None,
    handed_over_on=None,
)
COURSE_COLUMNS = ("municipality", "course_id", "citizen_id", "team", "method", *_NEW_COURSE, "follow_ups")
_COURSE_JSON = evaluation.COURSE_JSON_COLUMNS


@dataclass
class Alert:
    """An alert of the batch's subjects that is not resolved, or was while the batch ran."""

    id: uuid.UUID
    state: str
    severity: str
    team: str
    raised_at: datetime
    details: dict[str, Any]
    details_as_of: datetime | None
    snoozed_until: date | None
    transitions: int  # the number of its last transition
    raised: bool = False  # in this batch: inserted at the end
    changed: bool = False


def _keys(keys: Iterable[Key]) -> tuple[list[str], list[str]]:
    """(municipalities, ids): the arguments of `unnest($1::text[], $2::text[])`."""
    ordered = sorted(set(keys))
    return [m for m, _ in ordered], [i for _, i in ordered]


class Batch:
    def __init__(self) -> None:
        self.configs: dict[str, Config] = {}
        self.reacting: dict[tuple[str, str], tuple[str, ...]] = {}  # evaluation.rules_for, once a batch
        self.courses: dict[Key, Row] = {}
        self.courses_of: dict[Key, list[Key]] = {}  # a citizen's courses, by (municipality, citizen)
        self.citizens: dict[Key, Row] = {}
        self.workers: dict[Key, Row] = {}
        self.teams: dict[Key, Row] = {}
        self.rounds: set[tuple[str, str, str]] = set()  # (municipality, team, round) answered
        # Outside the batch's courses (which are in `courses`): each worker's active courses by
        # method, and for a worker with no row, their courses by team.
        self.other_active: dict[Key, Counter[str]] = {}
        self.other_teams: dict[Key, Counter[str]] = {}
        self.deadlines: dict[AlertKey, Row] = {}
        self.alerts: dict[AlertKey, Alert] = {}  # not resolved
        # What the batch changed, written by `write`.
        self.stored_courses: set[Key] = set()
        self.stored_citizens: set[Key] = set()
        self.stored_workers: set[Key] = set()
        self.stored_deadlines: set[AlertKey] = set()
        self.changed_courses: set[Key] = set()
        self.changed_citizens: set[Key] = set()
        self.changed_workers: set[Key] = set()
        self.changed_teams: set[Key] = set()
        self.new_rounds: list[tuple[str, str, str]] = []
        self.changed_deadlines: set[AlertKey] = set()
        self.raised: list[tuple[AlertKey, Alert]] = []
        self.resolved: list[Alert] = []  # alerts that were open and are resolved now
        self.transitions: list[tuple[uuid.UUID, int, str, datetime, str, str | None]] = []
        self.notes: list[tuple[str, str, str]] = []  # imported subjects

    # --- Loading --------------------------------------------------------------------------------

    @classmethod
    async def load(cls, db: asyncpg.Connection, facts: Sequence[Any], looked_at: bool = True) -> "Batch":
        """The rows of every subject `facts` name (and of their citizens' courses and workers).
        `looked_at`: whether the rules look at any of them; not when every fact is imported history,
        whose subjects are only noted (and whose deadline rows are then left unlocked: the settling
        of imported history locks a subject's note before its deadline rows)."""
        batch = cls()
        if not facts:
            return batch
        municipalities = sorted({f.municipality for f in facts})
        for row in await db.fetch(
            "SELECT municipality, rule, scope, params FROM alert_rule_config WHERE municipality = ANY($1::text[])",
            municipalities,
        ):
            batch.configs.setdefault(row["municipality"], {}).setdefault(row["rule"], {})[row["scope"]] = json.loads(
                row["params"]
            )
        for municipality in municipalities:
            batch.configs.setdefault(municipality, {})
        course_ids = {(f.municipality, f.course_id) for f in facts if getattr(f, "course_id", None)}
        citizen_ids = {(f.municipality, f.citizen_id) for f in facts if getattr(f, "citizen_id", None)}
        for row in await db.fetch(
            """SELECT course.* FROM alert_courses AS course
               JOIN unnest($1::text[], $2::text[]) AS k (municipality, course_id)
                 ON course.municipality = k.municipality AND course.course_id = k.course_id
               UNION
               SELECT course.* FROM alert_courses AS course
               JOIN unnest($3::text[], $4::text[]) AS k (municipality, citizen_id)
                 ON course.municipality = k.municipality AND course.citizen_id = k.citizen_id""",
            *_keys(course_ids),
            *_keys(citizen_ids),
        ):
            batch._add(evaluation.decode_course(row))
        batch.stored_courses = set(batch.courses)
        citizen_ids |= {(m, course["citizen_id"]) for (m, _), course in batch.courses.items()}
        for row in await db.fetch(
            """SELECT citizen.* FROM alert_citizens AS citizen
               JOIN unnest($1::text[], $2::text[]) AS k (municipality, citizen_id)
                 ON citizen.municipality = k.municipality AND citizen.citizen_id = k.citizen_id""",
            *_keys(citizen_ids),
        ):
            citizen = dict(row)
            citizen["status_on"] = json.loads(citizen["status_on"])
            batch.citizens[row["municipality"], row["citizen_id"]] = citizen
        batch.stored_citizens = set(batch.citizens)
        worker_ids = {(f.municipality, f.worker_id) for f in facts if getattr(f, "worker_id", None)}
        worker_ids |= {(f.municipality, f.support_worker) for f in facts if getattr(f, "support_worker", None)}
        worker_ids |= {(m, c["support_worker"]) for (m, _), c in batch.courses.items() if c["support_worker"]}
        team_ids = {(f.municipality, f.team_id) for f in facts if f.type == "TeamRegistered"}
        team_ids |= {(f.municipality, f.team) for f in facts if f.type == "SurveyAnswered" and f.team}
        if worker_ids:
            await batch._load_workers(db, worker_ids, looked_at)
        if team_ids:
            await batch._load_teams(db, team_ids)
        subjects = (
            [(m, "course", i) for m, i in batch.courses]
            + [(m, "citizen", i) for m, i in citizen_ids]
            + [(m, "worker", i) for m, i in worker_ids]
            + [(m, "team", i) for m, i in team_ids]
        )
        if looked_at:
            await batch._load_watched(db, sorted(set(subjects)))
        return batch

    async def _load_workers(self, db: asyncpg.Connection, worker_ids: set[Key], looked_at: bool) -> None:
        loaded = _keys(self.courses)
        for row in await db.fetch(
            """SELECT worker.* FROM alert_workers AS worker
               JOIN unnest($1::text[], $2::text[]) AS k (municipality, worker_id)
                 ON worker.municipality = k.municipality AND worker.worker_id = k.worker_id""",
            *_keys(worker_ids),
        ):
            self.workers[row["municipality"], row["worker_id"]] = dict(row)
        self.stored_workers = set(self.workers)
        if not looked_at:  # what the rules see of them is not needed
            return
        for key in worker_ids:
            self.other_active[key] = Counter()
        for row in await db.fetch(
            f"""SELECT course.municipality, course.support_worker, course.method, count(*) AS n
                FROM alert_courses AS course
                JOIN unnest($1::text[], $2::text[]) AS k (municipality, worker_id)
                  ON course.municipality = k.municipality AND course.support_worker = k.worker_id
                WHERE course.ended_on IS NULL AND course.started_on IS NOT NULL AND {_NOT_LOADED}
                GROUP BY 1, 2, 3""",
            *_keys(worker_ids),
            *loaded,
        ):
            self.other_active[row["municipality"], row["support_worker"]][row["method"]] = row["n"]
        without_row = worker_ids - set(self.workers)
        for key in without_row:
            self.other_teams[key] = Counter()
        if without_row:
            for row in await db.fetch(
                f"""SELECT course.municipality, course.support_worker, course.team, count(*) AS n
                    FROM alert_courses AS course
                    JOIN unnest($1::text[], $2::text[]) AS k (municipality, worker_id)
                      ON course.municipality = k.municipality AND course.support_worker = k.worker_id
                    WHERE {_NOT_LOADED}
                    GROUP BY 1, 2, 3""",
                *_keys(without_row),
                *loaded,
            ):
                self.other_teams[row["municipality"], row["support_worker"]][row["team"]] = row["n"]

    async def _load_teams(self, db: asyncpg.Connection, team_ids: set[Key]) -> None:
        for row in await db.fetch(
            """SELECT team.* FROM alert_teams AS team
               JOIN unnest($1::text[], $2::text[]) AS k (municipality, team_id)
                 ON team.municipality = k.municipality AND team.team_id = k.team_id""",
            *_keys(team_ids),
        ):
            self.teams[row["municipality"], row["team_id"]] = dict(row)
        for row in await db.fetch(
            """SELECT rounds.municipality, rounds.team_id, rounds.round FROM alert_fidelity_rounds AS rounds
               JOIN unnest($1::text[], $2::text[]) AS k (municipality, team_id)
                 ON rounds.municipality = k.municipality AND rounds.team_id = k.team_id""",
            *_keys(team_ids),
        ):
            self.rounds.add((row["municipality"], row["team_id"], row["round"]))

    async def _load_watched(self, db: asyncpg.Connection, subjects: list[tuple[str, str, str]]) -> None:
        """The subjects' deadline rows, locked by subject and rule, then their alerts not resolved."""
        arguments = ([m for m, _, _ in subjects], [t for _, t, _ in subjects], [i for _, _, i in subjects])
        for row in await db.fetch(
            """SELECT deadline.rule, deadline.municipality, deadline.subject_type, deadline.subject_id,
                 deadline.due_on, deadline.state, deadline.raised_for, deadline.team
               FROM alert_deadlines AS deadline
               JOIN unnest($1::text[], $2::text[], $3::text[]) AS k (municipality, subject_type, subject_id)
                 ON deadline.municipality = k.municipality AND deadline.subject_type = k.subject_type
                AND deadline.subject_id = k.subject_id
               ORDER BY deadline.municipality, deadline.subject_type, deadline.subject_id, deadline.rule
               FOR UPDATE OF deadline""",
            *arguments,
        ):
            key = (row["rule"], row["municipality"], row["subject_type"], row["subject_id"])
            self.deadlines[key] = {c: row[c] for c in ("due_on", "state", "raised_for", "team")}
        self.stored_deadlines = set(self.deadlines)
        alerts = await db.fetch(
            """SELECT alert.* FROM alerts AS alert
               JOIN unnest($1::text[], $2::text[], $3::text[]) AS k (municipality, subject_type, subject_id)
                 ON alert.municipality = k.municipality AND alert.subject_type = k.subject_type
                AND alert.subject_id = k.subject_id
               WHERE alert.state <> 'resolved'
               ORDER BY alert.id
               FOR UPDATE OF alert""",
            *arguments,
        )
        # Their last transitions in a statement of its own, after the locks: a statement that waited
        # for an alert's lock returns the alert as its holder left it, but reads everything else as
        # committed when it began (READ COMMITTED), before that holder's transition.
        transitions = {
            row["alert_id"]: row["last"]
            for row in await db.fetch(
                """SELECT alert_id, max(transition) AS last FROM alert_transitions
                   WHERE alert_id = ANY($1::uuid[]) GROUP BY alert_id""",
                [row["id"] for row in alerts],
            )
        }
        for row in alerts:
            key = (row["rule"], row["municipality"], row["subject_type"], row["subject_id"])
            self.alerts[key] = Alert(
                row["id"],
                row["state"],
                row["severity"],
                row["team"],
                row["raised_at"],
                json.loads(row["details"]),
                row["details_as_of"],
                row["snoozed_until"],
                transitions.get(row["id"], 0),
            )

    # --- The rows, for the handlers ----------------------------------------------------------------

    def citizen(self, municipality: str, citizen_id: str) -> Row:
        """The citizen's row to change, made when they are not known yet."""
        key = (municipality, citizen_id)
        if key not in self.citizens:
            self.citizens[key] = {
                "municipality": municipality,
                "citizen_id": citizen_id,
                **{column: None for column in evaluation.CITIZEN_COLUMNS},
                "status_on": {},
            }
        self.changed_citizens.add(key)
        return self.citizens[key]

    def course(self, municipality: str, course_id: str) -> Row | None:
        """The course's row to change; None when the course is not known."""
        key = (municipality, course_id)
        if key in self.courses:
            self.changed_courses.add(key)
        return self.courses.get(key)

    def add_course(self, municipality: str, course_id: str, citizen_id: str, team: str, method: str) -> None:
        """A course decided on (nothing changes if it is known)."""
        key = (municipality, course_id)
        if key in self.courses:
            return
        self._add(
            {
                "municipality": municipality,
                "course_id": course_id,
                "citizen_id": citizen_id,
                "team": team,
                "method": method,
                **_NEW_COURSE,
                "phases": {},
                "planned_hours": {},
                "measurements": [],
                "progression": [],
                "follow_ups": [],
            }
        )
        self.changed_courses.add(key)

    def _add(self, course: Row) -> None:
        key = (course["municipality"], course["course_id"])
        self.courses[key] = course
        self.courses_of.setdefault((course["municipality"], course["citizen_id"]), []).append(key)

    def worker(self, municipality: str, worker_id: str) -> Row | None:
        key = (municipality, worker_id)
        if key in self.workers:
            self.changed_workers.add(key)
        return self.workers.get(key)

    def register_worker(self, municipality: str, worker_id: str, team: str, role: str, email: str | None) -> None:
        key = (municipality, worker_id)
        self.workers[key] = dict(
            municipality=municipality, worker_id=worker_id, team=team, role=role, email=email, active=True
        )
        self.changed_workers.add(key)

    def register_team(self, municipality: str, team_id: str, methods: list[str], registered_on: date) -> None:
        """A team registered again keeps the day it was first registered on."""
        key = (municipality, team_id)
        known = self.teams.get(key)
        self.teams[key] = dict(
            municipality=municipality,
            team_id=team_id,
            methods=methods,
            registered_on=known["registered_on"] if known else registered_on,
        )
        self.changed_teams.add(key)

    def fidelity_round(self, municipality: str, team_id: str, round: str) -> None:  # noqa: A002
        key = (municipality, team_id, round)
        if key not in self.rounds:
            self.rounds.add(key)
            self.new_rounds.append(key)

    def note_imported(self, municipality: str, changed: Changed) -> None:
        self.notes += imported.subjects(municipality, changed)

    # --- The rules, after each event (what evaluation does for one subject in SQL) -------------------

    def after_fact(self, fact_type: str, municipality: str, changed: Changed, now: datetime) -> None:
        if changed.course_id is not None:
            self._course(municipality, changed.course_id, now, fact_type)
        elif changed.citizen_id is not None and self._rules_for(fact_type, "course"):
            for _, course_id in sorted(self.courses_of.get((municipality, changed.citizen_id), ())):
                self._course(municipality, course_id, now, fact_type)
        if changed.citizen_id is not None:
            self._citizen(municipality, changed.citizen_id, now, fact_type)
        for worker_id in changed.workers:
            if worker_id is not None:
                self._worker(municipality, worker_id, now, fact_type)
        for team_id in changed.teams:
            self._team(municipality, team_id, now, fact_type)

    def _rules_for(self, cause: str, subject_type: rules.SubjectType) -> tuple[str, ...]:
        if (cause, subject_type) not in self.reacting:
            self.reacting[cause, subject_type] = evaluation.rules_for(None, cause, subject_type)
        return self.reacting[cause, subject_type]

    def _citizen_view(self, municipality: str, citizen_id: str) -> tuple[rules.CitizenView, str]:
        """As evaluation.load_citizen: their team is that of their latest course, active first."""
        courses = [self.courses[key] for key in self.courses_of.get((municipality, citizen_id), ())]
        latest = min(courses, key=_latest_first, default=None)
        active = latest is not None and _active(latest)
        view = evaluation.citizen_view(citizen_id, self.citizens.get((municipality, citizen_id)), active)
        return view, (latest["team"] if latest else None) or UNASSIGNED_TEAM

    def _course(self, municipality: str, course_id: str, now: datetime, cause: str) -> None:
        selected = self._rules_for(cause, "course")
        course = self.courses.get((municipality, course_id))
        if not selected or course is None:
            return
        citizen, _ = self._citizen_view(municipality, course["citizen_id"])
        view = evaluation.course_view(course, citizen)
        config = self.configs[municipality]
        verdicts = evaluation.verdicts_of(view, "course", selected, config, now.date(), view.team, view.method)
        self._settle_all("course", course_id, municipality, view.team, verdicts, now, cause)

    def _citizen(self, municipality: str, citizen_id: str, now: datetime, cause: str) -> None:
        selected = self._rules_for(cause, "citizen")
        if not selected:
            return
        view, team = self._citizen_view(municipality, citizen_id)
        verdicts = evaluation.verdicts_of(view, "citizen", selected, self.configs[municipality], now.date(), team)
        self._settle_all("citizen", citizen_id, municipality, team, verdicts, now, cause)

    def _worker(self, municipality: str, worker_id: str, now: datetime, cause: str) -> None:
        """As evaluation.load_worker: active courses by method; the team of their row, else the team
        most of their courses are in."""
        selected = self._rules_for(cause, "worker")
        if not selected:
            return
        key = (municipality, worker_id)
        active = Counter(self.other_active[key])
        teams = Counter(self.other_teams.get(key, ()))
        for (m, _), course in self.courses.items():
            if m == municipality and course["support_worker"] == worker_id:
                teams[course["team"]] += 1
                if _active(course):
                    active[course["method"]] += 1
        row = self.workers.get(key)
        if row is not None:
            team = row["team"]
        else:
            team = min(teams, key=lambda t: (-teams[t], t), default=UNASSIGNED_TEAM)
        view = WorkerView(worker_id, {method: n for method, n in active.items() if n})
        verdicts = evaluation.verdicts_of(view, "worker", selected, self.configs[municipality], now.date(), team)
        self._settle_all("worker", worker_id, municipality, team, verdicts, now, cause)

    def _team(self, municipality: str, team_id: str, now: datetime, cause: str) -> None:
        selected = self._rules_for(cause, "team")
        row = self.teams.get((municipality, team_id))
        if not selected or row is None:
            return
        rounds = frozenset(r for m, t, r in self.rounds if (m, t) == (municipality, team_id))
        view = TeamView(team_id, frozenset(row["methods"]), row["registered_on"], rounds)
        verdicts = evaluation.verdicts_of(view, "team", selected, self.configs[municipality], now.date(), team_id)
        self._settle_all("team", team_id, municipality, team_id, verdicts, now, cause)

    def _settle_all(
        self,
        subject_type: str,
        subject_id: str,
        municipality: str,
        team: str,
        verdicts: dict[str, rules.Verdict],
        now: datetime,
        cause: str,
    ) -> None:
        for rule_id in sorted(verdicts):
            rule, verdict = rules.CATALOGUE[rule_id], verdicts[rule_id]
            key = (rule_id, municipality, subject_type, subject_id)
            alert = self.alerts.get(key)
            settlement = evaluation.settle(
                rule, verdict, self.deadlines.get(key), alert is not None, now.date(), team, cause
            )
            if alert is not None and settlement.resolve_note is not None:
                self._transition(alert, "resolved", now, settlement.resolve_note)
                alert.state, alert.snoozed_until = "resolved", None
                del self.alerts[key]
                if not alert.raised:
                    self.resolved.append(alert)
                alert = None
            if (
                alert is not None
                and settlement.refresh
                and (alert.details, alert.details_as_of) != (verdict.details, now)
            ):
                alert.details, alert.details_as_of, alert.changed = verdict.details, now, True
            if settlement.raise_alert and alert is None:
                alert = Alert(uuid.uuid4(), "open", rule.severity, team, now, verdict.details, None, None, 0, True)
                self.alerts[key] = alert
                self.raised.append((key, alert))
                self._transition(alert, "open", now, None)
            if settlement.deadline is not None:
                write = settlement.deadline
                self.deadlines[key] = dict(
                    due_on=write.due_on, state=write.state, raised_for=write.raised_for, team=write.team
                )
                self.changed_deadlines.add(key)

    def _transition(self, alert: Alert, state: str, at: datetime, note: str | None) -> None:
        alert.transitions += 1
        self.transitions.append((alert.id, alert.transitions, state, at, "casetrack", note))

    # --- Writing ------------------------------------------------------------------------------------

    async def write(self, db: asyncpg.Connection) -> None:
        """What the batch changed, one statement a kind of row."""
        if self.changed_courses:
            await db.executemany(_UPSERT_COURSE, [self._course_row(key) for key in sorted(self.changed_courses)])
        if self.changed_citizens:
            await db.executemany(
                _UPSERT_CITIZEN,
                [
                    [*key, *(self._citizen_value(self.citizens[key], c) for c in evaluation.CITIZEN_COLUMNS)]
                    for key in sorted(self.changed_citizens)
                ],
            )
        if self.changed_workers:
            await db.executemany(
                _UPSERT_WORKER,
                [
                    [*key, *(self.workers[key][c] for c in ("team", "role", "email", "active"))]
                    for key in sorted(self.changed_workers)
                ],
            )
        if self.changed_teams:
            await db.executemany(
                _UPSERT_TEAM,
                [
                    [*key, self.teams[key]["methods"], self.teams[key]["registered_on"]]
                    for key in sorted(self.changed_teams)
                ],
            )
        if self.new_rounds:
            await db.executemany(
                """INSERT INTO alert_fidelity_rounds (municipality, team_id, round) VALUES ($1, $2, $3)
                   ON CONFLICT DO NOTHING""",
                self.new_rounds,
            )
        await self._write_alerts(db)
        if self.notes:
            await imported.note(db, self.notes)

    async def _write_alerts(self, db: asyncpg.Connection) -> None:
        # The resolved first: an alert raised again for the same (rule, subject) needs it out of the way.
        changed = self.resolved + [a for a in self.alerts.values() if a.changed and not a.raised]
        if changed:
            await db.executemany(
                """UPDATE alerts SET state = $2, snoozed_until = $3, details = $4, details_as_of = $5
                   WHERE id = $1""",
                [(a.id, a.state, a.snoozed_until, json.dumps(a.details), a.details_as_of) for a in changed],
            )
        if self.raised:  # new rows only: COPY
            await db.copy_records_to_table(
                "alerts",
                columns=_ALERT_COLUMNS,
                records=[
                    (a.id, *key, a.team, a.state, a.severity, a.raised_at, json.dumps(a.details), a.details_as_of)
                    for key, a in self.raised
                ],
            )
        if self.transitions:
            await db.copy_records_to_table("alert_transitions", columns=_TRANSITION_COLUMNS, records=self.transitions)
        deadlines = sorted(self.changed_deadlines)
        inserted = [k for k in deadlines if k not in self.stored_deadlines]
        if inserted:
            await db.copy_records_to_table(
                "alert_deadlines", columns=_DEADLINE_COLUMNS, records=[self._deadline_row(k) for k in inserted]
            )
        updated = [k for k in deadlines if k in self.stored_deadlines]
        if updated:
            await db.executemany(
                """UPDATE alert_deadlines SET team = $5, due_on = $6, state = $7, raised_for = $8
                   WHERE rule = $1 AND municipality = $2 AND subject_type = $3 AND subject_id = $4""",
                [self._deadline_row(k) for k in updated],
            )

    def _deadline_row(self, key: AlertKey) -> tuple[Any, ...]:
        return (*key, *(self.deadlines[key][c] for c in _DEADLINE_COLUMNS[4:]))

    def _course_row(self, key: Key) -> list[Any]:
        course = self.courses[key]
        encoded = evaluation.encode_course(course)
        return [course[c] for c in COURSE_COLUMNS] + [encoded[c] for c in _COURSE_JSON]

    @staticmethod
    def _citizen_value(citizen: Row, column: str) -> Any:
        return json.dumps(citizen[column]) if column == "status_on" else citizen[column]


def _active(course: Row) -> bool:
    return course["started_on"] is not None and course["ended_on"] is None


def _latest_first(course: Row) -> tuple[bool, bool, int, str]:
    """evaluation._LATEST_FIRST: the active first, then the latest started (never started last)."""
    started = course["started_on"]
    return (not _active(course), started is None, -(started.toordinal() if started else 0), course["course_id"])


# Not one of the courses the batch loaded ($3, $4: their municipalities and ids).
_NOT_LOADED = """NOT EXISTS (SELECT 1 FROM unnest($3::text[], $4::text[]) AS loaded (municipality, course_id)
                 WHERE loaded.municipality = course.municipality AND loaded.course_id = course.course_id)"""


def _upsert(table: str, key: tuple[str, ...], columns: Sequence[str], casts: dict[str, str] | None = None) -> str:
    casts = casts or {}
    names = [*key, *columns]
    values = ", ".join(f"${i}{casts.get(name, '')}" for i, name in enumerate(names, 1))
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns)
    return f"""INSERT INTO {table} ({", ".join(names)}) VALUES ({values})
               ON CONFLICT ({", ".join(key)}) DO UPDATE SET {updates}"""


_UPSERT_COURSE = _upsert(
    "alert_courses",
    ("municipality", "course_id"),
    [*COURSE_COLUMNS[2:], *_COURSE_JSON],
    {c: "::jsonb" for c in _COURSE_JSON},
)
_UPSERT_CITIZEN = _upsert(
    "alert_citizens", ("municipality", "citizen_id"), evaluation.CITIZEN_COLUMNS, {"status_on": "::jsonb"}
)
_UPSERT_WORKER = _upsert("alert_workers", ("municipality", "worker_id"), ("team", "role", "email", "active"))
_UPSERT_TEAM = _upsert("alert_teams", ("municipality", "team_id"), ("methods", "registered_on"))

# The columns of the rows the batch adds (COPY).
_ALERT_COLUMNS = [
    "id",
    "rule",
    "municipality",
    "subject_type",
    "subject_id",
    "team",
    "state",
    "severity",
    "raised_at",
    "details",
    "details_as_of",
]
_TRANSITION_COLUMNS = ["alert_id", "transition", "state", "at", "by", "note"]
_DEADLINE_COLUMNS = ["rule", "municipality", "subject_type", "subject_id", "team", "due_on", "state", "raised_for"]
