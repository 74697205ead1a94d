"""Small fixed scenarios for the KPI tests: EventMessages built in the test, applied through the
projector onto a real PostgreSQL database, and the KPI figures read back through the store or the API."""

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from contracts.events import EventMessage
from contracts.facts import fact_adapter
from runtime.audit import AuditLog
from runtime.auth import TokenTable
from runtime.errors import install_error_handlers
from runtime.settings import Settings
from services.projections import projector, snapshots, store, targets
from services.projections.api import router
from services.projections.kpis import CATALOGUE, Context, Filters, Params, Window
from services.projections.roster_api import router as roster_router
from tests.support import TOKENS


@dataclass
class Scenario:
    municipality: str = "101"
    events: list[EventMessage] = field(default_factory=list)
    _registered: set[tuple[str, str]] = field(default_factory=set)

    def fact(
        self,
        type_: str,
        effective: str,
        *,
        recorded: str | None = None,
        citizen: str | None = None,
        course: str | None = None,
        municipality: str | None = None,
        **fields: Any,
    ) -> EventMessage:
        """A fact told on `recorded` (default: the day it happened, at noon UTC)."""
        data: dict[str, Any] = {
            "type": type_,
            "municipality": municipality or self.municipality,
            "effective_date": effective,
            **fields,
        }
        if citizen:
            data["citizen_id"] = citizen
        if course:
            data["course_id"] = course
        event = EventMessage(
            event_id=uuid.uuid4(),
            position=len(self.events) + 1,
            schema_version=1,
            recorded_at=datetime.fromisoformat(f"{recorded or effective}T12:00:00+00:00"),
            recorded_by="test",
            fact=fact_adapter.validate_python(data),
        )
        self.events.append(event)
        return event

    def citizen(
        self,
        citizen: str,
        on: str,
        municipality: str | None = None,
        recorded: str | None = None,
        *,
        birth_year: int = 1980,
        **details: Any,
    ) -> None:
        """Registers the citizen once (born 1980 unless told; `details`: gender, target_groups)."""
        key = (municipality or self.municipality, citizen)
        if key not in self._registered:
            self._registered.add(key)
            self.fact(
                "CitizenRegistered",
                on,
                recorded=recorded,
                citizen=citizen,
                municipality=municipality,
                birth_year=birth_year,
                **details,
            )

    def course(
        self,
        citizen: str,
        course: str,
        method: str,
        start: str | None,
        *,
        decided: str | None = None,
        team: str = "team-a",
        worker: str | None = None,
        municipality: str | None = None,
        recorded: str | None = None,
        **visitation: Any,
    ) -> None:
        """A citizen visitated to a method on `decided` (default: the start) and started on `start`,
        all told on `recorded` (default: as it happened)."""
        decided = decided or start
        assert decided is not None
        self.citizen(citizen, decided, municipality, recorded)
        self.fact(
            "VisitationDecided",
            decided,
            recorded=recorded,
            citizen=citizen,
            course=course,
            method=method,
            team=team,
            municipality=municipality,
            **visitation,
        )
        if start:
            extra = {"support_worker": worker} if worker else {}
            self.fact(
                "CourseStarted",
                start,
                recorded=recorded,
                citizen=citizen,
                course=course,
                municipality=municipality,
                **extra,
            )

    async def apply(self, pool: asyncpg.Pool) -> None:
        async with pool.acquire() as connection, connection.transaction():
            for event in self.events:
                await projector.apply(connection, event)


class FixedClock:
    def __init__(self, today: date):
        self._today = today

    def today(self) -> date:
        return self._today


def client(
    pool: asyncpg.Pool, token: str = "token-manager-101", today: date = date(2026, 7, 15), audit: AuditLog | None = None
) -> httpx.AsyncClient:
    """The projections API on the read model, called as `token`, on a fixed day."""
    app = FastAPI()
    install_error_handlers(app, "projections")
    app.include_router(router)
    app.include_router(roster_router)
    app.state.pool, app.state.tokens, app.state.clock = pool, TokenTable(TOKENS), FixedClock(today)
    app.state.audit = audit
    app.state.settings = Settings(service="projections", database_url="", nats_url="")  # the default date window
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://projections",
        headers={"Authorization": f"Bearer {token}"},
    )


async def read_model(database_url: str) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=4)
    await projector.prepare(pool)
    await pool.execute(targets.SCHEMA)
    await pool.execute(snapshots.SCHEMA)
    return pool


async def figure(
    pool: asyncpg.Pool,
    kpi: str,
    start: str,
    end: str | None = None,
    *,
    as_of: str | None = None,
    municipality: str = "101",
    params: Params = Params(),
    **filters: Any,
) -> dict[str, Any]:
    history = await store.history(pool, municipality, date.fromisoformat(as_of) if as_of else None)
    window = Window(date.fromisoformat(start), date.fromisoformat(end or start))
    return CATALOGUE[kpi].compute(Context(history, window, Filters(**filters), params))


def utc(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC)


@pytest.fixture
async def kpi_pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await read_model(database_url)
    try:
        yield pool
    finally:
        await pool.close()
