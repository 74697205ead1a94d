"""Wires the projections service: read-model pool, the stream consumer, HTTP."""

import asyncio
import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI

from contracts.audit import AUDIT_STREAM
from contracts.events import EVENTS_STREAM
from runtime.audit import AuditLog
from runtime.bus import connect, wait_for_streams
from runtime.checkpoint import CheckpointedApplier, position_router
from runtime.clock import SystemClock
from runtime.database import create_pool, ping
from runtime.http import create_service_app
from runtime.metrics import CONSUMER_LAG
from runtime.partitions import consume_events
from runtime.settings import Settings
from services.projections import price_books, projector, snapshots, store, targets
from services.projections.api import router
from services.projections.data_quality_api import router as data_quality_router
from services.projections.investment_api import router as investment_router
from services.projections.national_api import router as national_router
from services.projections.organisation_api import router as organisation_router
from services.projections.roster_api import router as roster_router
from services.projections.rule_config import RuleConfigReader

DEFAULT_PORT = 8002
CONSUMER = "projections"


def create_app(settings: Settings) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store.budget_bytes()  # a CASETRACK_HISTORY_BUDGET_MB that is no number stops the start here
        pool = await create_pool(settings.database_url)
        await projector.prepare(pool)
        await pool.execute(targets.SCHEMA)
        await pool.execute(price_books.SCHEMA)
        await pool.execute(snapshots.SCHEMA)
        applier = CheckpointedApplier(
            pool,
            service="projections",
            prefix="projection",
            consumer=CONSUMER,
            apply=projector.apply,
            apply_batch=projector.apply_batch,
        )
        await applier.prepare()
        nc = await connect(settings.nats_url, "projections")
        js = nc.jetstream()  # reads the events stream, writes the audit trail (the operator provisions both)
        await wait_for_streams(js, [EVENTS_STREAM, AUDIT_STREAM])
        app.state.audit = AuditLog(js, "projections")
        app.state.rule_config = RuleConfigReader(js)
        stop = asyncio.Event()
        # One consumer, or this replica's share of the events stream's partitions (runtime/partitions.py).
        consumption = await consume_events(
            js, applier, settings.database_url, on_lag=CONSUMER_LAG.labels("projections").set, stop=stop
        )
        task = consumption.task
        warming = asyncio.create_task(store.warm(pool, stop), name="warm-histories")
        app.state.pool, app.state.nats, app.state.applier = pool, nc, consumption
        app.state.clock = SystemClock()
        try:
            yield
        finally:
            stop.set()
            await asyncio.wait_for(task, timeout=10)
            warming.cancel()
            await asyncio.gather(warming, return_exceptions=True)
            await nc.close()
            await pool.close()

    async def health() -> dict[str, object]:
        return {
            "database": await ping(app.state.pool),
            "nats": app.state.nats.is_connected,
            "events": app.state.applier.health(),  # the partitions this replica leads, their lag
        }

    app = create_service_app(settings, title="casetrack projections", lifespan=lifespan, health=health)
    app.include_router(router)
    app.include_router(roster_router)
    app.include_router(organisation_router)
    app.include_router(data_quality_router)
    app.include_router(national_router)
    app.include_router(investment_router)
    app.include_router(position_router)

    return app
