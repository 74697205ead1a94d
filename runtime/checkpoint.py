"""Apply bus messages to a PostgreSQL read model exactly once.

The read-model changes and the consumer's position commit in one transaction; a message at or
below the position was applied before (a redelivery) and is skipped. A message that is not a valid
event, or an event that keeps failing, is parked with its error instead of being dropped.
"""

import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable, Sequence

import asyncpg
from fastapi import APIRouter, Depends, Request
from nats.aio.msg import Msg
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from contracts.events import EventMessage
from runtime.auth import current_principal
from runtime.database import create_pool
from runtime.errors import error_responses
from runtime.metrics import ERRORS, EVENTS_PARKED, EVENTS_PROCESSED, EVENTS_SKIPPED
from runtime.settings import required

log = logging.getLogger(__name__)

# The store itself is away: nothing to park, just resume from the checkpoint later.
STORE_UNAVAILABLE = (
    OSError,
    asyncio.TimeoutError,
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.InterfaceError,
    asyncpg.exceptions.CannotConnectNowError,
)

# Another transaction's fault, not the batch's: applied again as it is.
CONTENDED = (asyncpg.exceptions.DeadlockDetectedError, asyncpg.exceptions.SerializationError)

Apply = Callable[[asyncpg.Connection, EventMessage], Awaitable[None]]

CHECKPOINT_DDL = """
CREATE TABLE IF NOT EXISTS {prefix}_checkpoint (
    consumer text PRIMARY KEY,
    position bigint NOT NULL DEFAULT 0,        -- last registration-log position applied
    stream_sequence bigint NOT NULL DEFAULT 0  -- last stream message handled
);
CREATE TABLE IF NOT EXISTS {prefix}_parked (
    id bigserial PRIMARY KEY,
    consumer text NOT NULL,
    subject text NOT NULL,
    data bytea NOT NULL,
    error text NOT NULL,
    parked_at timestamptz NOT NULL DEFAULT now()
);
-- Events applied, counted in the same transaction: proof that none was applied twice or lost.
ALTER TABLE {prefix}_checkpoint ADD COLUMN IF NOT EXISTS applied bigint NOT NULL DEFAULT 0;
"""


class CheckpointedApplier:
    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        service: str,
        prefix: str,
        consumer: str,
        apply: Apply,
        attempts: int = 3,
        backoff_seconds: float = 0.2,
    ):
        self.attempts = attempts
        self.backoff_seconds = backoff_seconds
        self.pool = pool
        self.service = service
        self.prefix = prefix
        self.consumer = consumer
        self.apply = apply
        self.parked = 0  # what the gauge shows for this consumer

    async def prepare(self) -> None:
        async with self.pool.acquire() as connection:
            await connection.execute(CHECKPOINT_DDL.format(prefix=self.prefix))
            await connection.execute(
                f"INSERT INTO {self.prefix}_checkpoint (consumer) VALUES ($1) ON CONFLICT DO NOTHING",
                self.consumer,
            )
        await self.count_parked()

    async def count_parked(self) -> int:
        """Parked events waiting for a fix; kept in the gauge operators alert on."""
        parked = await self.pool.fetchval(
            f"SELECT count(*) FROM {self.prefix}_parked WHERE consumer = $1", self.consumer
        )
        self.parked = parked
        EVENTS_PARKED.labels(self.service).set(parked)
        return parked

    async def position(self) -> int:
        return await self.pool.fetchval(
            f"SELECT position FROM {self.prefix}_checkpoint WHERE consumer = $1", self.consumer
        )

    async def stream_sequence(self) -> int:
        return await self.pool.fetchval(
            f"SELECT stream_sequence FROM {self.prefix}_checkpoint WHERE consumer = $1", self.consumer
        )

    async def __call__(self, messages: Sequence[Msg]) -> None:
        try:
            await self._apply_contended(messages)
        except STORE_UNAVAILABLE:
            raise  # the consumer resumes from the checkpoint once the store is back
        except Exception as exc:
            log.warning(
                "batch failed; applying one event at a time", extra={"consumer": self.consumer, "error": repr(exc)}
            )
            for message in messages:
                await self._apply_alone(message)
        if self.parked:
            await self.count_parked()  # a re-drive (another process) may have emptied the table

    async def _apply_contended(self, messages: Sequence[Msg]) -> None:
        """The batch, again (up to `attempts` times) when PostgreSQL chose it as the victim of a
        deadlock with another consumer's transaction (partitions applied side by side,
        runtime/partitions.py, update shared rows): nothing wrong with the events themselves."""
        for attempt in range(self.attempts):
            try:
                await self._apply(messages)
                return
            except CONTENDED:
                if attempt == self.attempts - 1:
                    raise
                log.info("batch contended; applying it again", extra={"consumer": self.consumer})
                await asyncio.sleep(self.backoff_seconds * attempt)

    async def _apply_alone(self, message: Msg) -> None:
        """Retries one event with backoff; an event that still fails is parked with its error, so
        one poison event does not stop the read model. `redrive_parked` applies it after a fix."""
        error: Exception | None = None
        for attempt in range(self.attempts):
            try:
                await self._apply([message])
                return
            except STORE_UNAVAILABLE:
                raise
            except Exception as exc:
                error = exc
                log.warning(
                    "event failed", extra={"consumer": self.consumer, "attempt": attempt + 1, "error": repr(exc)}
                )
                await asyncio.sleep(self.backoff_seconds * 2**attempt)
        await self._apply([message], park_because=repr(error))

    async def _apply(self, messages: Sequence[Msg], park_because: str | None = None) -> None:
        applied = skipped = 0
        async with self.pool.acquire() as connection, connection.transaction():
            position = await connection.fetchval(
                f"SELECT position FROM {self.prefix}_checkpoint WHERE consumer = $1 FOR UPDATE",
                self.consumer,
            )
            for message in messages:
                try:
                    event = EventMessage.model_validate_json(message.data)
                except ValidationError as exc:
                    await self._park(connection, message, f"not a valid event: {exc}")
                    continue
                if (message.headers or {}).get("Nats-Msg-Id") != str(event.event_id):
                    # The relay publishes each event under its own id; anything else in the stream
                    # (only the operator can put it there) must not move the checkpoint.
                    await self._park(connection, message, "not published by the relay: Nats-Msg-Id is not the event id")
                    continue
                if event.position <= position:
                    skipped += 1
                    continue
                if park_because is not None:
                    await self._park(connection, message, park_because)
                else:
                    await self.apply(connection, event)
                    applied += 1
                position = event.position
            await connection.execute(
                f"UPDATE {self.prefix}_checkpoint SET position = $2, stream_sequence = $3, applied = applied + $4"
                " WHERE consumer = $1",
                self.consumer,
                position,
                messages[-1].metadata.sequence.stream,
                applied,
            )
        EVENTS_PROCESSED.labels(self.service).inc(applied)
        EVENTS_SKIPPED.labels(self.service).inc(skipped)

    async def _park(self, connection: asyncpg.Connection, message: Msg, error: str) -> None:
        ERRORS.labels(self.service, "parked").inc()
        self.parked += 1
        EVENTS_PARKED.labels(self.service).set(self.parked)
        log.error("parked an event", extra={"consumer": self.consumer, "subject": message.subject, "error": error})
        await connection.execute(
            f"INSERT INTO {self.prefix}_parked (consumer, subject, data, error) VALUES ($1, $2, $3, $4)",
            self.consumer,
            message.subject,
            message.data,
            error,
        )

    async def redrive_parked(self) -> tuple[int, int]:
        """Applies parked events again (after a fix); returns (applied, still failing)."""
        applied = failing = 0
        rows = await self.pool.fetch(
            f"SELECT id, data FROM {self.prefix}_parked WHERE consumer = $1 ORDER BY id", self.consumer
        )
        for row in rows:
            try:
                event = EventMessage.model_validate_json(row["data"])
                async with self.pool.acquire() as connection, connection.transaction():
                    await self.apply(connection, event)
                    await connection.execute(f"DELETE FROM {self.prefix}_parked WHERE id = $1", row["id"])
                    await connection.execute(
                        f"UPDATE {self.prefix}_checkpoint SET applied = applied + 1 WHERE consumer = $1", self.consumer
                    )
                applied += 1
            except STORE_UNAVAILABLE:
                raise
            except Exception as exc:
                failing += 1
                await self.pool.execute(
                    f"UPDATE {self.prefix}_parked SET error = $2 WHERE id = $1", row["id"], repr(exc)
                )
        await self.count_parked()
        return applied, failing

    async def applied(self) -> int:
        return await self.pool.fetchval(
            f"SELECT applied FROM {self.prefix}_checkpoint WHERE consumer = $1", self.consumer
        )


position_router = APIRouter(tags=["operations"])


class PositionOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    position: int = Field(description="the last registration-log position applied; 0 before the first")


@position_router.get(
    "/v1/position", dependencies=[Depends(current_principal)], response_model=PositionOut, responses=error_responses()
)
async def position(request: Request) -> dict[str, int]:
    """The last registration-log position this service has applied (for read-your-writes)."""
    return {"position": await request.app.state.applier.position()}


def redrive_main(open_appliers: Callable[[asyncpg.Pool], Awaitable[Sequence[CheckpointedApplier]]]) -> None:
    """The body of a service's `python -m services.<name>.redrive` command: applies the parked events
    of its consumers (one, or one per partition: runtime/partitions.py; DATABASE_URL from the
    environment), prints the outcome, exits 1 while any still fails."""

    async def redrive() -> tuple[int, int]:
        pool = await create_pool(required("DATABASE_URL"), max_size=2)
        try:
            outcomes = [await applier.redrive_parked() for applier in await open_appliers(pool)]
            return sum(applied for applied, _ in outcomes), sum(failing for _, failing in outcomes)
        finally:
            await pool.close()

    applied, failing = asyncio.run(redrive())
    print(f"re-driven: {applied} applied, {failing} still failing")
    sys.exit(1 if failing else 0)
