"""Feeding the alerts service's handlers and poller directly, on a real PostgreSQL, with a set clock.

Facts are built here as `EventMessage`s (registration does not record every fact type yet), applied
in one transaction each like the checkpointed consumer does, and time moves only when the test
says so.
"""

import contextlib
import uuid
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import asyncpg

from contracts.events import EventMessage, Imported
from contracts.facts import fact_adapter
from runtime.clock import SystemClock
from services.alerts import deadlines, handlers, store

MUNICIPALITY = "101"


class SetClock(SystemClock):
    adjustable = True

    def __init__(self, moment: datetime):
        self.moment = moment

    def now(self) -> datetime:
        return self.moment

    def set(self, moment: datetime) -> None:
        self.moment = moment


def at_morning(day: date) -> datetime:
    return datetime.combine(day, time(8, 0), tzinfo=UTC)


def fact(fact_type: str, day: date, citizen: str | None = None, course: str | None = None, **fields: Any) -> Any:
    body: dict[str, Any] = {
        "type": fact_type,
        "municipality": fields.pop("municipality", MUNICIPALITY),
        "effective_date": day.isoformat(),
        **fields,
    }
    if citizen is not None:
        body["citizen_id"] = citizen
    if course is not None:
        body["course_id"] = course
    return fact_adapter.validate_python(body)


def course_opened(
    citizen: str, course: str, method: str, day: date, worker: str | None = None, team: str = "team-a"
) -> list[Any]:
    return [
        fact("VisitationDecided", day, citizen, course, method=method, team=team),
        fact("CourseStarted", day, citizen, course, **({"support_worker": worker} if worker else {})),
    ]


@dataclass
class Alerts:
    """The alerts service's handlers and poller on one database, with a clock the test moves."""

    pool: asyncpg.Pool
    clock: SetClock
    position: int = 0
    applied: list[EventMessage] = field(default_factory=list)

    async def apply(self, *facts: Any, imported: Imported | None = None) -> None:
        """Applies each fact as the next event, told now (or `imported` with its source's time)."""
        apply = handlers.applier(self.clock.now)
        for one in facts:
            self.position += 1
            event = EventMessage(
                event_id=uuid.uuid4(),
                position=self.position,
                schema_version=1,
                recorded_at=self.clock.now(),
                recorded_by="admin" if imported else "test",
                fact=one,
                imported=imported,
            )
            async with self.pool.acquire() as db, db.transaction():
                await apply(db, event)
            self.applied.append(event)

    async def tick(self, day: date) -> int:
        """Moves the clock to `day` (never back) and runs the poller until nothing is due."""
        if at_morning(day) > self.clock.now():
            self.clock.set(at_morning(day))
        fired = 0
        while taken := await deadlines.fire_due_deadlines(self.pool, self.clock):
            fired += taken
        return fired

    async def play(self, timeline: Iterable[tuple[date, Any]]) -> None:
        """Applies dated facts in order, moving the clock to each fact's day first."""
        for day, one in sorted(timeline, key=lambda pair: pair[0]):
            await self.tick(day)
            await self.apply(one)

    async def alerts(self, rule: str | None = None, state: str | None = None) -> list[dict[str, Any]]:
        alerts, _total = await store.list_alerts(self.pool, municipality=MUNICIPALITY, rule=rule, state=state)
        return alerts

    async def history(self, alert_id: str) -> list[dict[str, Any]]:
        alert = await store.get_alert(self.pool, uuid.UUID(alert_id))
        assert alert is not None
        return alert["history"]


def days(n: int) -> timedelta:
    return timedelta(days=n)


@contextlib.asynccontextmanager
async def alerts_database(admin_url: str, today: date, max_size: int = 4) -> AsyncIterator[Alerts]:
    """A fresh database with the alerts service's tables, and the service's handlers on it, on `today`."""
    from tests.support import create_database

    pool = await asyncpg.create_pool(create_database(admin_url), min_size=1, max_size=max_size)
    await pool.execute(store.SCHEMA)
    try:
        yield Alerts(pool, SetClock(at_morning(today)))
    finally:
        await pool.close()
