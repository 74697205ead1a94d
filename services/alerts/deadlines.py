"""Time-triggered part of the alerts service: durable deadlines in PostgreSQL, picked by a poller.

Deadlines are rows, never in-memory timers, so a restart loses none. `FOR UPDATE SKIP LOCKED`
lets several replicas poll together: each due deadline is taken by exactly one of them, and the
alert it raises commits in the same transaction as the deadline row that records it was raised
(`raised_for`), so a crash before the commit leaves the deadline due and raises it once later.
"""

import asyncio
import logging
from datetime import datetime

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
    the event handlers, which lock a subject's rows in rule order.

    The transactions are begun and ended by hand so that one ends and the next begins in a single
    round trip (`COMMIT; BEGIN`): one round trip fewer a deadline. The last one does the
    snoozed alerts whose day has come.

    For the cycle the connection uses the generic plan of each prepared statement: left to choose
    (`plan_cache_mode = auto`), PostgreSQL planned the subject's query (`evaluation._WATCHED` with
    the course and its citizen) anew at every execution, which cost more than running it. Every
    statement of a cycle looks rows up by key, so one plan fits all its executions."""
    taken = 0
    now = clock.now()
    configs: dict[str, evaluation.Config] = {}  # a municipality's rule overrides, read once a cycle
    async with pool.acquire() as db:  # one connection for the cycle, a transaction per deadline
        await db.execute("SET plan_cache_mode = force_generic_plan; BEGIN")
        try:
            while taken < limit:
                deadline = await db.fetchrow(_TAKE, now.date())
                if deadline is None:
                    break
                await _look_again(db, deadline, now, configs)
                await db.execute("COMMIT; BEGIN")
                taken += 1
            taken += await store.wake_snoozed(db, now.date(), now)
            await db.execute("COMMIT; RESET plan_cache_mode")
        except BaseException:
            if not db.is_closed():  # (the pool would roll back and reset on release too)
                await db.execute("ROLLBACK; RESET plan_cache_mode")
            raise
    return taken


# The due deadline longest due that no other poller holds, locked until its transaction ends.
_TAKE = """SELECT rule, subject_type, subject_id, municipality FROM alert_deadlines
           WHERE state = 'pending' AND due_on <= $1
           ORDER BY due_on LIMIT 1 FOR UPDATE SKIP LOCKED"""


async def _look_again(
    db: asyncpg.Connection, deadline: asyncpg.Record, now: datetime, configs: dict[str, evaluation.Config]
) -> None:
    """The rules look at the deadline's subject at `now`, in the caller's transaction."""
    key = (deadline["rule"], deadline["subject_type"], deadline["subject_id"], deadline["municipality"])
    if key[3] not in configs:
        configs[key[3]] = await evaluation.overrides(db, key[3])
    looked_at = await evaluation.subject(db, key[0], key[1], key[3], key[2], now, "deadline", configs[key[3]])
    if not looked_at:
        # A subject the rules no longer know (nothing moved the deadline on) is not taken again.
        await db.execute(
            """UPDATE alert_deadlines SET state = 'done'
               WHERE rule = $1 AND subject_type = $2 AND subject_id = $3 AND municipality = $4
                 AND state = 'pending' AND due_on <= $5""",
            *key,
            now.date(),
        )


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
