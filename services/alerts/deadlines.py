"""Time-triggered part of the alerts service: durable deadlines in PostgreSQL, picked by a poller.

Deadlines are rows, never in-memory timers, so a restart loses none. `FOR UPDATE SKIP LOCKED`
lets several replicas poll together: each due deadline is taken by exactly one of them, and the
alert it raises commits in the same transaction as the deadline row that records it was raised
(`raised_for`), so a crash before the commit leaves the deadline due and raises it once later.
"""

import asyncio
import logging
from collections.abc import Mapping
from datetime import datetime

import asyncpg

from runtime.clock import SystemClock
from runtime.metrics import ERRORS
from services.alerts import evaluation, store

log = logging.getLogger(__name__)

# Due deadlines taken a transaction: one commit (and one take) for several deadlines, and a
# handler that finds one of them taken waits for at most this many to be looked at.
PER_TRANSACTION = 10


async def fire_due_deadlines(
    pool: asyncpg.Pool, clock: SystemClock, limit: int = 100, per_transaction: int = PER_TRANSACTION
) -> int:
    """One poll cycle; returns how many due deadlines it took.

    The due deadlines are taken `per_transaction` at a time, each taken set in a transaction of
    its own, and each deadline is looked at again with the rules at today's date, which raises its
    alert (or finds the condition cleared) and moves the deadline on. A failure rolls back the
    deadlines of its transaction only: they stay due, and are raised once, later.

    Several deadlines a transaction cannot deadlock with the event handlers, which lock a
    subject's deadline rows in rule order and wait for them: the poller takes its deadlines with
    `SKIP LOCKED`, so it never waits for a deadline row (`evaluation._WATCHED` locks only those it
    holds), and otherwise it waits only for the alerts of the (rule, subject) pairs whose deadlines
    it holds. A handler touches such an alert only holding its deadline row, which the poller
    has, and a person changing an alert's state (`store.change_state`) locks no deadline row:
    whoever the poller waits for never waits for the poller. The courses are read after their
    deadlines are taken, in a statement of its own (`evaluation.courses_due`), so they show what
    a handler that held a deadline before committed.

    Each deadline is decided alone (`evaluation.settle`), but the writes of a transaction's
    deadlines are sent together before its commit, one `executemany` a statement (`store.Writes`):
    a few round trips a transaction instead of one a deadline. Its deadlines are different
    (rule, subject)s, so no write of one changes what another's rules see.

    The transactions are begun and ended by hand so that one ends and the next begins in a single
    round trip (`COMMIT; BEGIN`). The last one does the snoozed alerts whose day has come.

    For the cycle the connection uses the generic plan of each prepared statement: left to choose
    (`plan_cache_mode = auto`), PostgreSQL planned the subject's query (`evaluation._WATCHED` with
    the course and its citizen) anew at every execution, which cost more than running it. Every
    statement of a cycle looks rows up by key, so one plan fits all its executions."""
    taken = 0
    now = clock.now()
    configs: dict[str, evaluation.Config] = {}  # a municipality's rule overrides, read once a cycle
    async with pool.acquire() as db:  # one connection for the cycle
        await db.execute("SET plan_cache_mode = force_generic_plan; BEGIN")
        try:
            while taken < limit:
                wanted = min(per_transaction, limit - taken)
                due = await db.fetch(_TAKE, now.date(), wanted)
                if not due:
                    break
                courses = await evaluation.courses_due(
                    db, [(d["rule"], d["municipality"], d["subject_id"]) for d in due if d["subject_type"] == "course"]
                )
                writes = store.Writes()
                for deadline in due:
                    await _look_again(db, deadline, now, configs, courses, writes)
                await writes.send(db)
                await db.execute("COMMIT; BEGIN")
                taken += len(due)
                if len(due) < wanted:  # none left that no other poller holds
                    break
            taken += await store.wake_snoozed(db, now.date(), now)
            await db.execute("COMMIT; RESET plan_cache_mode")
        except BaseException:
            if not db.is_closed():  # (the pool would roll back and reset on release too)
                await db.execute("ROLLBACK; RESET plan_cache_mode")
            raise
    return taken


# The due deadlines longest due that no other poller holds, locked until their transaction ends.
_TAKE = """SELECT rule, subject_type, subject_id, municipality FROM alert_deadlines
           WHERE state = 'pending' AND due_on <= $1
           ORDER BY due_on LIMIT $2 FOR UPDATE SKIP LOCKED"""


async def _look_again(
    db: asyncpg.Connection,
    deadline: asyncpg.Record,
    now: datetime,
    configs: dict[str, evaluation.Config],
    courses: Mapping[tuple[str, str, str], evaluation.Loaded],
    writes: store.Writes,
) -> None:
    """The rules look at the deadline's subject at `now`, in the caller's transaction; `courses`:
    the courses of the transaction's deadlines, read together (`evaluation.courses_due`); what
    follows is added to `writes`, sent for all of them together."""
    key = (deadline["rule"], deadline["subject_type"], deadline["subject_id"], deadline["municipality"])
    if key[3] not in configs:
        configs[key[3]] = await evaluation.overrides(db, key[3])
    loaded = courses.get((key[0], key[3], key[2])) if key[1] == "course" else None
    looked_at = await evaluation.subject(
        db, key[0], key[1], key[3], key[2], now, "deadline", configs[key[3]], loaded, writes
    )
    if not looked_at:
        # A subject the rules no longer know (nothing moved the deadline on) is not taken again.
        writes.add(
            2,
            (
                """UPDATE alert_deadlines SET state = 'done'
                   WHERE rule = $1 AND subject_type = $2 AND subject_id = $3 AND municipality = $4
                     AND state = 'pending' AND due_on <= $5""",
                (*key, now.date()),
            ),
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
