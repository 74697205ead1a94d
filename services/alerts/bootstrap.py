"""Wires the alerts service: its tables, the stream consumer, the deadline poller, the publisher,
the e-mail digest (where SMTP is configured), HTTP."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import timedelta

import asyncpg
from fastapi import FastAPI

from contracts.alerts import ALERTS_STREAM
from contracts.audit import AUDIT_STREAM
from contracts.events import EVENTS_STREAM
from contracts.rule_config import RULE_CONFIG_STREAM
from runtime.audit import AuditLog
from runtime.bus import connect, wait_for_streams
from runtime.checkpoint import CheckpointedApplier, position_router
from runtime.clock import AdjustableClock, SystemClock
from runtime.database import create_pool, ping
from runtime.http import create_service_app
from runtime.metrics import CONSUMER_LAG, ERRORS
from runtime.partitions import consume_events
from runtime.settings import Settings
from services.alerts import deadlines, digest, evaluation, handlers, imported, publisher, store
from services.alerts.api import router

DEFAULT_PORT = 8003
CONSUMER = "alerts"
log = logging.getLogger(__name__)


async def _catch_up(pool: asyncpg.Pool, clock: SystemClock) -> None:
    """Rules new or changed since the last start look at every subject again, beside the consumer."""
    try:
        caught_up = await evaluation.catch_up_changed_rules(pool, clock.now())
        if caught_up:
            log.info("rules caught up with every subject: %s", ", ".join(caught_up))
    except Exception:
        ERRORS.labels("alerts", "rule_catch_up").inc()
        log.exception("catching up changed rules failed; done again at the next start")


def create_app(settings: Settings) -> FastAPI:
    clock = AdjustableClock() if settings.adjustable_clock else SystemClock()
    poll_interval = float(settings.extra.get("CASETRACK_ALERTS_POLL_SECONDS", "5"))
    import_quiet = float(settings.extra.get("CASETRACK_ALERTS_IMPORT_QUIET_SECONDS", imported.DEFAULT_QUIET_SECONDS))

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool = await create_pool(settings.database_url)
        await pool.execute(store.SCHEMA)
        await pool.execute(imported.SCHEMA)
        async with pool.acquire() as db:
            await store.republish_rule_config(db)
        applier = CheckpointedApplier(
            pool, service="alerts", prefix="alert", consumer=CONSUMER, apply=handlers.applier(clock.now)
        )
        await applier.prepare()
        nc = await connect(settings.nats_url, "alerts")
        js = nc.jetstream()
        await wait_for_streams(
            js, [EVENTS_STREAM, ALERTS_STREAM, RULE_CONFIG_STREAM, AUDIT_STREAM]
        )  # the operator provisions them
        app.state.audit = AuditLog(js, "alerts")
        stop, wake = asyncio.Event(), asyncio.Event()
        # One consumer, or this replica's share of the events stream's partitions (runtime/partitions.py).
        consumption = await consume_events(
            js, applier, settings.database_url, on_lag=CONSUMER_LAG.labels("alerts").set, stop=stop
        )
        tasks = [
            consumption.task,
            asyncio.create_task(deadlines.poll_forever(pool, clock, stop, wake, poll_interval), name="poller"),
            asyncio.create_task(publisher.publish_forever(pool, js, stop, 0.2), name="publisher"),
            asyncio.create_task(
                imported.settle_forever(pool, clock, stop, poll_interval, timedelta(seconds=import_quiet)),
                name="imported-history",
            ),
        ]
        catch_up = asyncio.create_task(_catch_up(pool, clock), name="rule-catch-up")
        smtp = digest.SmtpSettings.from_env(settings.extra)
        if smtp is not None:
            digest_interval = float(settings.extra.get("CASETRACK_ALERTS_DIGEST_POLL_SECONDS", "60"))
            tasks.append(
                asyncio.create_task(digest.digest_forever(pool, clock, smtp, stop, digest_interval), name="digest")
            )
        app.state.pool, app.state.nats, app.state.applier = pool, nc, consumption
        app.state.clock, app.state.wake_poller, app.state.stop = clock, wake, stop
        try:
            yield
        finally:
            stop.set()
            wake.set()
            catch_up.cancel()  # rolled back; what it had not finished is done again at the next start
            tasks.append(catch_up)
            await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), timeout=10)
            await nc.close()
            await pool.close()

    async def health() -> dict[str, object]:
        return {
            "database": await ping(app.state.pool),
            "nats": app.state.nats.is_connected,
            "events": app.state.applier.health(),  # the partitions this replica leads, their lag
        }

    app = create_service_app(settings, title="casetrack alerts", lifespan=lifespan, health=health)
    app.include_router(router)
    app.include_router(position_router)
    return app
