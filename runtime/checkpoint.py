"""Apply bus messages to a PostgreSQL read model exactly once.

The read-model changes and the consumer's position commit in one transaction; a message at or
below the position was applied before (a redelivery) and is skipped. Messages that are not valid
events are parked in the same transaction, with the error, instead of being dropped.
"""

import logging
from collections.abc import Awaitable, Callable, Sequence

import asyncpg
from fastapi import APIRouter, Depends, Request
from nats.aio.msg import Msg
from pydantic import ValidationError

from contracts.events import EventMessage
from runtime.auth import current_principal
from runtime.metrics import ERRORS, EVENTS_PROCESSED, EVENTS_SKIPPED

log = logging.getLogger(__name__)

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
"""


class CheckpointedApplier:
    def __init__(self, pool: asyncpg.Pool, *, service: str, prefix: str, consumer: str, apply: Apply):
        self.pool = pool
        self.service = service
        self.prefix = prefix
        self.consumer = consumer
        self.apply = apply

    async def prepare(self) -> None:
        async with self.pool.acquire() as connection:
            await connection.execute(CHECKPOINT_DDL.format(prefix=self.prefix))
            await connection.execute(
                f"INSERT INTO {self.prefix}_checkpoint (consumer) VALUES ($1) ON CONFLICT DO NOTHING",
                self.consumer,
            )

    async def position(self) -> int:
        return await self.pool.fetchval(
            f"SELECT position FROM {self.prefix}_checkpoint WHERE consumer = $1", self.consumer
        )

    async def stream_sequence(self) -> int:
        return await self.pool.fetchval(
            f"SELECT stream_sequence FROM {self.prefix}_checkpoint WHERE consumer = $1", self.consumer
        )

    async def __call__(self, messages: Sequence[Msg]) -> None:
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
                    await self._park(connection, message, str(exc))
                    continue
                if event.position <= position:
                    skipped += 1
                    continue
                await self.apply(connection, event)
                position = event.position
                applied += 1
            await connection.execute(
                f"UPDATE {self.prefix}_checkpoint SET position = $2, stream_sequence = $3 WHERE consumer = $1",
                self.consumer,
                position,
                messages[-1].metadata.sequence.stream,
            )
        EVENTS_PROCESSED.labels(self.service).inc(applied)
        EVENTS_SKIPPED.labels(self.service).inc(skipped)

    async def _park(self, connection: asyncpg.Connection, message: Msg, error: str) -> None:
        ERRORS.labels(self.service, "parked").inc()
        log.error("parked a message that is not a valid event", extra={"subject": message.subject})
        await connection.execute(
            f"INSERT INTO {self.prefix}_parked (consumer, subject, data, error) VALUES ($1, $2, $3, $4)",
            self.consumer,
            message.subject,
            message.data,
            error,
        )


position_router = APIRouter(tags=["operations"])


@position_router.get("/v1/position", dependencies=[Depends(current_principal)])
async def position(request: Request) -> dict[str, int]:
    """The last registration-log position this service has applied (for read-your-writes)."""
    return {"position": await request.app.state.applier.position()}
