"""Knowing quickly that the event store is away, so that clients get 503 at once.

The eventsourcing recorder retries each statement ten times, waiting up to its connect timeout for
a connection each time: without this watch a submission made while PostgreSQL is down would hang
for most of a minute. A probe on its own connection says within about a second that the store is
down, and submissions are refused with 503 and Retry-After (nothing stored) until it is back.
"""

import asyncio
import logging

import asyncpg
from fastapi import Request

from runtime.errors import ApiError

log = logging.getLogger(__name__)


class StoreWatch:
    def __init__(self, database_url: str, interval_seconds: float = 0.5, timeout_seconds: float = 1.0):
        self.database_url = database_url
        self.interval_seconds = interval_seconds
        self.timeout_seconds = timeout_seconds
        self.available = True  # until a probe says otherwise: a request finds out the slow way
        self._connection: asyncpg.Connection | None = None

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self._set(await self._probe())
            try:
                await asyncio.wait_for(stop.wait(), timeout=self.interval_seconds)
            except TimeoutError:
                pass
        if self._connection is not None:
            self._connection.terminate()

    async def _probe(self) -> bool:
        try:
            if self._connection is None or self._connection.is_closed():
                self._connection = await asyncpg.connect(self.database_url, timeout=self.timeout_seconds)
            await self._connection.fetchval("SELECT 1", timeout=self.timeout_seconds)
            return True
        except Exception:
            if self._connection is not None:
                self._connection.terminate()
                self._connection = None
            return False

    def _set(self, available: bool) -> None:
        if available != self.available:
            log.warning("event store " + ("back" if available else "unavailable"))
        self.available = available


def unavailable() -> ApiError:
    return ApiError(
        503,
        "service_unavailable",
        "Tjenesten er midlertidigt utilgængelig; prøv igen.",
        "Temporarily unavailable; retry later.",
        headers={"Retry-After": "5"},
    )


def store_available(request: Request) -> None:
    """A dependency of every registration endpoint: 503 at once while the store is away."""
    watch: StoreWatch | None = getattr(request.app.state, "store_watch", None)
    if watch is not None and not watch.available:
        raise unavailable()
