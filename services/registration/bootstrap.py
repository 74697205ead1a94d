"""Wires the registration service: settings, event store, bus, relay, HTTP."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
from eventsourcing.persistence import InterfaceError, OperationalError
from fastapi import Depends, FastAPI

from contracts.audit import AUDIT_STREAM
from contracts.events import EVENTS_STREAM
from runtime.audit import AuditLog, audit_router
from runtime.bus import connect, wait_for_streams
from runtime.http import create_service_app
from runtime.settings import Settings, secret
from services.registration.application import Registration, postgres_env
from services.registration.availability import StoreWatch, store_available
from services.registration.entrypoints.http import router
from services.registration.entrypoints.nats import create_broker
from services.registration.entrypoints.reidentify import router as reidentify_router
from services.registration.entrypoints.surveys import router as surveys_router
from services.registration.identity import PSEUDONYM_KEY_ENV, Pseudonyms
from services.registration.masterkeys import MASTER_KEY_FILE_ENV, Keyring
from services.registration.participation import Participation
from services.registration.relay import Relay, sleep_or_stop
from services.registration.submission import Submissions

log = logging.getLogger(__name__)

DEFAULT_PORT = 8001


def create_app(settings: Settings) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        keyring = Keyring.from_env(settings.extra)  # a named but bad key file: refuse to start
        registration = await asyncio.to_thread(Registration, env=postgres_env(settings.database_url), keyring=keyring)
        await asyncio.to_thread(wrap_citizen_keys, registration)
        nc = await connect(settings.nats_url, "registration")  # writes and reads the audit trail
        js = nc.jetstream()
        # The relay publishes the events as a NATS user of its own: the identity that answers
        # requests must never be able to write into the events stream (casetrack.natsauth).
        relay_nc = await connect(secret("RELAY_NATS_URL") or settings.nats_url, "relay")
        relay_js = relay_nc.jetstream()
        await wait_for_streams(relay_js, [EVENTS_STREAM])
        await wait_for_streams(js, [AUDIT_STREAM])
        stop = asyncio.Event()
        store_watch = StoreWatch(settings.database_url)
        watch_task = asyncio.create_task(store_watch.run(stop), name="store-watch")
        app.state.store_watch = store_watch
        relay = Relay(registration, relay_js, settings.database_url)
        relay_task = asyncio.create_task(relay.run(stop), name="relay")
        days = int(settings.extra.get("CASETRACK_IDEMPOTENCY_DAYS", "30"))
        forget_task = asyncio.create_task(forget_old_answers(registration, days, stop), name="idempotency")
        retention = settings.extra.get("CASETRACK_RETENTION_YEARS")
        retention_task = asyncio.create_task(
            shred_after_retention(registration, float(retention), stop) if retention else stop.wait(), name="retention"
        )
        app.state.registration = registration
        app.state.submissions = Submissions(registration, Pseudonyms.from_env(), settings.admission())
        app.state.participation = await asyncio.to_thread(
            Participation, registration.recorder, secret(PSEUDONYM_KEY_ENV)
        )
        # Requests are answered by a NATS user that can publish nothing but answers (casetrack.natsauth).
        broker = create_broker(
            secret("SUBMISSIONS_NATS_URL") or settings.nats_url,
            app.state.submissions,
            app.state.tokens,
            store_watch,
        )
        await broker.start()
        app.state.audit = AuditLog(js, "registration")
        app.state.relay = relay
        app.state.nats, app.state.relay_nats = nc, relay_nc
        try:
            yield
        finally:
            stop.set()
            await broker.stop()
            await asyncio.wait_for(relay_task, timeout=10)
            await asyncio.wait_for(forget_task, timeout=10)
            await asyncio.wait_for(retention_task, timeout=10)
            await asyncio.wait_for(watch_task, timeout=10)
            await nc.close()
            await relay_nc.close()
            registration.close()

    async def health() -> dict[str, bool]:
        app_ = the_app
        connection = await asyncpg.connect(settings.database_url, timeout=2)
        try:
            await connection.fetchval("SELECT 1")
        finally:
            await connection.close()
        return {"database": True, "nats": app_.state.nats.is_connected and app_.state.relay_nats.is_connected}

    the_app = create_service_app(
        settings,
        title="casetrack registration",
        lifespan=lifespan,
        health=health,
        unavailable_errors=(OperationalError, InterfaceError),
    )
    the_app.include_router(router, dependencies=[Depends(store_available)])
    the_app.include_router(surveys_router, dependencies=[Depends(store_available)])
    the_app.include_router(reidentify_router, dependencies=[Depends(store_available)])
    the_app.include_router(audit_router)
    return the_app


def wrap_citizen_keys(registration: Registration) -> None:
    """At start: the keys stored bare by earlier versions wrapped under the first master key. Keys
    under an older master key of the ring are left to the rewrap command (rotation), as replicas
    still running with the old keyring could not read them re-wrapped."""
    if not registration.keyring:
        log.warning(f"{MASTER_KEY_FILE_ENV} is not set: facts with personal details are refused (503)")
        return
    done = registration.rewrap_keys(bare_only=True)
    if done.wrapped_bare:
        log.info(
            "bare citizen keys wrapped under the current master key",
            extra={"master_key": registration.keyring.current_id, "count": done.wrapped_bare},
        )
    ring = registration.keyring.ids
    unknown = {key_id: n for key_id, n in done.per_master_key.items() if key_id is not None and key_id not in ring}
    if unknown:
        log.error("citizen keys under master keys missing from the keyring cannot be read", extra={"keys": unknown})


async def forget_old_answers(registration: Registration, days: int, stop: asyncio.Event) -> None:
    """Drops stored idempotent answers older than `days`, at start and then hourly."""
    while not stop.is_set():
        try:
            forgotten = await asyncio.to_thread(registration.forget_answers, days)
            if forgotten:
                log.info("forgot old idempotent answers", extra={"count": forgotten, "days": days})
        except Exception as exc:  # the store is away: try again later
            log.warning("could not forget old idempotent answers", extra={"error": repr(exc)})
        await sleep_or_stop(stop, 3600)


def retention_cutoff(now: datetime, years: float) -> datetime:
    return now - timedelta(days=round(365.25 * years))


async def shred_after_retention(registration: Registration, years: float, stop: asyncio.Event) -> None:
    """Deletes the personal details (key and sealed blob) of citizens with no event in the last
    `years` (CASETRACK_RETENTION_YEARS), at start and then hourly; their pseudonymous history stays."""
    while not stop.is_set():
        try:
            cutoff = retention_cutoff(datetime.now(UTC), years)
            shredded = await asyncio.to_thread(registration.shred_inactive, cutoff)
            if shredded:
                log.info("personal details past retention deleted", extra={"count": shredded, "years": years})
        except Exception as exc:  # the store is away: try again later
            log.warning("could not apply the retention of personal details", extra={"error": repr(exc)})
        await sleep_or_stop(stop, 3600)
