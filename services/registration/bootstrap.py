"""Wires the registration service: settings, event store, bus, relay, HTTP."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import asyncpg
from eventsourcing.persistence import InterfaceError, OperationalError
from fastapi import FastAPI

from contracts.events import EVENTS_STREAM
from runtime.bus import connect, ensure_streams
from runtime.http import create_service_app
from runtime.settings import Settings
from services.registration.api import router
from services.registration.application import Registration, postgres_env
from services.registration.relay import Relay

log = logging.getLogger(__name__)

DEFAULT_PORT = 8001


def create_app(settings: Settings) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        registration = await asyncio.to_thread(Registration, env=postgres_env(settings.database_url))
        nc = await connect(settings.nats_url, "registration")
        js = nc.jetstream()
        await ensure_streams(js, [EVENTS_STREAM])
        stop = asyncio.Event()
        relay = Relay(registration, js, settings.database_url)
        relay_task = asyncio.create_task(relay.run(stop), name="relay")
        app.state.registration = registration
        app.state.relay = relay
        app.state.nats = nc
        try:
            yield
        finally:
            stop.set()
            await asyncio.wait_for(relay_task, timeout=10)
            await nc.close()
            registration.close()

    async def health() -> dict[str, bool]:
        app_ = the_app
        connection = await asyncpg.connect(settings.database_url, timeout=2)
        try:
            await connection.fetchval("SELECT 1")
        finally:
            await connection.close()
        return {"database": True, "nats": app_.state.nats.is_connected}

    the_app = create_service_app(
        settings,
        title="casetrack registration",
        lifespan=lifespan,
        health=health,
        unavailable_errors=(OperationalError, InterfaceError),
    )
    the_app.include_router(router)
    return the_app
