"""Time-triggered part of the alerts service: durable deadlines in PostgreSQL, picked by a poller.

Deadlines are rows, never in-memory timers, so a restart loses none. `FOR UPDATE SKIP LOCKED`
lets several replicas poll together: each due deadline is taken by exactly one of them, and the
alert it raises commits in the same transaction as the deadline's change to `fired`.
"""

import asyncio
import json
import logging

import asyncpg

from runtime.clock import SystemClock
from runtime.metrics import ERRORS
from services.alerts import rules, store

log = logging.getLogger(__name__)


async def fire_due_deadlines(pool: asyncpg.Pool, clock: SystemClock, limit: int = 500) -> int:
    """One poll cycle; returns how many due deadlines it took."""
    async with pool.acquire() as db, db.transaction():
        due = await db.fetch(
            """SELECT * FROM alert_deadlines
               WHERE state = 'pending' AND due_on < $1
               ORDER BY due_on LIMIT $2 FOR UPDATE SKIP LOCKED""",
            clock.today(), limit,
        )
        for deadline in due:
            rule = rules.RULES[deadline["rule"]]
            details = json.loads(deadline["details"]) | {"due_on": deadline["due_on"].isoformat()}
            await store.raise_alert(
                db, rule=rule.id, severity=rule.severity, subject_type=deadline["subject_type"],
                subject_id=deadline["subject_id"], municipality=deadline["municipality"],
                team=deadline["team"], details=details, at=clock.now(),
            )
            await db.execute(
                "UPDATE alert_deadlines SET state = 'fired' WHERE rule = $1 AND municipality = $2 AND subject_id = $3",
                deadline["rule"], deadline["municipality"], deadline["subject_id"],
            )
    return len(due)


async def poll_forever(
    pool: asyncpg.Pool, clock: SystemClock, stop: asyncio.Event, wake: asyncio.Event, interval: float
) -> None:
    while not stop.is_set():
        try:
            while await fire_due_deadlines(pool, clock):
                pass
        except Exception:
            ERRORS.labels("alerts", "poll").inc()
            log.exception("deadline poll failed; retrying")
        wake.clear()
        try:
            await asyncio.wait_for(wake.wait(), timeout=interval)
        except asyncio.TimeoutError:
            pass
