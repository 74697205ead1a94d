"""Time-triggered part of the alerts service: durable deadlines in PostgreSQL, picked by a poller.

Deadlines are rows, never in-memory timers, so a restart loses none. `FOR UPDATE SKIP LOCKED`
lets several replicas poll together: each due deadline is taken by exactly one of them, and the
alert it raises commits in the same transaction as the deadline row that records it was raised
(`raised_for`), so a crash before the commit leaves the deadline due and raises it once later.
"""

import asyncio
import logging

import asyncpg

from runtime.clock import SystemClock
from runtime.metrics import ERRORS
from services.alerts import evaluation, store

log = logging.getLogger(__name__)


async def fire_due_deadlines(pool: asyncpg.Pool, clock: SystemClock, limit: int = 100) -> int:
    """One poll cycle; returns how many due deadlines it took.

    Each due deadline is taken in a transaction of its own and looked at again with the rules at
    today's date, which raises its alert (or finds the condition cleared) and moves the deadline
    on. One per transaction keeps the locks a poller holds to one row, so it cannot deadlock with
    the event handlers, which lock a subject's rows in rule order."""
    taken = 0
    now = clock.now()
    configs: dict[str, evaluation.Config] = {}  # a municipality's rule overrides, read once a cycle
    async with pool.acquire() as db:  # one connection for the cycle, a transaction per deadline
        while taken < limit:
            async with db.transaction():
                deadline = await db.fetchrow(
                    """SELECT rule, subject_type, subject_id, municipality FROM alert_deadlines
                       WHERE state = 'pending' AND due_on <= $1
                       ORDER BY due_on LIMIT 1 FOR UPDATE SKIP LOCKED""",
                    now.date(),
                )
                if deadline is None:
                    break
                key = (deadline["rule"], deadline["subject_type"], deadline["subject_id"], deadline["municipality"])
                if key[3] not in configs:
                    configs[key[3]] = await evaluation.overrides(db, key[3])
                looked_at = await evaluation.subject(
                    db, key[0], key[1], key[3], key[2], now, "deadline", configs[key[3]]
                )
                if not looked_at:
                    # A subject the rules no longer know (nothing moved the deadline on) is not taken again.
                    await db.execute(
                        """UPDATE alert_deadlines SET state = 'done'
                           WHERE rule = $1 AND subject_type = $2 AND subject_id = $3 AND municipality = $4
                             AND state = 'pending' AND due_on <= $5""",
                        *key,
                        now.date(),
                    )
            taken += 1
        async with db.transaction():
            taken += await store.wake_snoozed(db, now.date(), now)
    return taken


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
        except TimeoutError:
            pass
