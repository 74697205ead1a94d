"""Imported history is history: the alerts open now, not a storm of past ones.

A fact imported from another system's history (EventMessage.imported, docs/import.md) changes what
the alerts service knows about its subjects like any fact, but the rules do not look at the subject
on its arrival: looked at "now" with only part of a past history in, a course started years ago
would raise alerts that the facts coming next resolve, a storm of alerts raised and resolved on
arrival. Instead the subjects an import touched are noted, and once no imported fact has arrived for
a quiet while (CASETRACK_ALERTS_IMPORT_QUIET_SECONDS, default 60: the import is over, or stopped),
each is looked at once, at now, with every rule: that raises what is open now and arms the
deadlines ahead, as the catch-up of a changed rule does (evaluation.catch_up_changed_rules).

A subject is settled in a transaction of its own, which also removes its note, unless an imported
fact noted it again meanwhile; a crash leaves the notes, and they are settled after the restart.
"""

import asyncio
import logging
from datetime import datetime, timedelta

import asyncpg

from runtime.clock import SystemClock
from runtime.metrics import ERRORS
from services.alerts import evaluation, rules
from services.alerts.evaluation import Changed

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS alert_imported_subjects (
    municipality text NOT NULL,
    subject_type text NOT NULL,           -- course, citizen, worker, team
    subject_id text NOT NULL,
    noted_at timestamptz NOT NULL DEFAULT clock_timestamp(),  -- wall time: the quiet while is real time
    PRIMARY KEY (municipality, subject_type, subject_id)
);
"""
CAUSE = "imported history"
DEFAULT_QUIET_SECONDS = 60.0


def subjects(municipality: str, changed: Changed) -> list[tuple[str, str, str]]:
    """The subjects an imported fact changed, as `note` takes them."""
    named = [("course", changed.course_id), ("citizen", changed.citizen_id)]
    named += [("worker", w) for w in changed.workers] + [("team", t) for t in changed.teams]
    return [(municipality, kind, subject) for kind, subject in named if subject is not None]


async def note(db: asyncpg.Connection, subjects: list[tuple[str, str, str]]) -> None:
    """In the transaction that applies the imported facts: their subjects (municipality, type, id)
    are to be looked at later."""
    await db.executemany(
        """INSERT INTO alert_imported_subjects (municipality, subject_type, subject_id) VALUES ($1, $2, $3)
           ON CONFLICT (municipality, subject_type, subject_id) DO UPDATE SET noted_at = clock_timestamp()""",
        subjects,
    )


async def settle_if_quiet(pool: asyncpg.Pool, now: datetime, quiet: timedelta) -> int:
    """Looks at every noted subject once no imported fact has arrived for `quiet`; returns how many."""
    async with pool.acquire() as db:
        quiet_now = await db.fetchval(
            """SELECT max(noted_at) < clock_timestamp() - $1::interval FROM alert_imported_subjects""", quiet
        )
    if not quiet_now:  # none noted (NULL), or an import still arriving
        return 0
    settled = 0
    every_rule = tuple(rules.CATALOGUE)
    while True:
        async with pool.acquire() as db, db.transaction():
            row = await db.fetchrow(
                """SELECT municipality, subject_type, subject_id, noted_at FROM alert_imported_subjects
                   ORDER BY municipality, subject_type, subject_id LIMIT 1 FOR UPDATE SKIP LOCKED"""
            )
            if row is None:
                return settled
            municipality, kind, subject = row["municipality"], row["subject_type"], row["subject_id"]
            if kind == "course":
                await evaluation.course(db, municipality, subject, now, CAUSE, only=every_rule)
            elif kind == "citizen":
                await evaluation.citizen(db, municipality, subject, now, CAUSE, only=every_rule)
                await evaluation.citizen_courses(db, municipality, subject, now, CAUSE, only=every_rule)
            elif kind == "worker":
                await evaluation.worker(db, municipality, subject, now, CAUSE, only=every_rule)
            else:
                await evaluation.team(db, municipality, subject, now, CAUSE, only=every_rule)
            await db.execute(
                """DELETE FROM alert_imported_subjects
                   WHERE municipality = $1 AND subject_type = $2 AND subject_id = $3 AND noted_at = $4""",
                municipality,
                kind,
                subject,
                row["noted_at"],
            )
            settled += 1


async def settle_forever(
    pool: asyncpg.Pool, clock: SystemClock, stop: asyncio.Event, interval: float, quiet: timedelta
) -> None:
    while not stop.is_set():
        try:
            settled = await settle_if_quiet(pool, clock.now(), quiet)
            if settled:
                log.info("imported history settled: %d subjects looked at once, at now", settled)
        except Exception:
            ERRORS.labels("alerts", "imported_history").inc()
            log.exception("settling imported history failed; retrying")
        try:
            await asyncio.wait_for(stop.wait(), timeout=interval)
        except TimeoutError:
            pass
