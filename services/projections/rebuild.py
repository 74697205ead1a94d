"""Rebuilds every KPI read model from the beginning of the event stream, blue/green.

    python -m services.projections.rebuild        (DATABASE_URL and NATS_URL from the environment)

The next generation schema (`kpi_g<N+1>`) is filled from stream sequence 1 while the current one
keeps serving. To switch, the rebuild holds the live consumers' checkpoint rows (each live applier
locks it for every batch), drains what reached the stream meanwhile and moves the pointer in the
same transaction; the live applier then continues into the new generation. Facts are recorded by
log position with ON CONFLICT DO NOTHING, so an event seen by both lands once. The previous
generation is kept for a rollback; older ones are dropped. Also the way to apply a changed read
model definition to the whole history.
"""

import asyncio
import sys
import time
from collections.abc import Sequence
from typing import TextIO

import asyncpg
import nats
from nats.aio.msg import Msg
from nats.js.errors import NotFoundError
from pydantic import ValidationError

from contracts.events import EVENTS_STREAM, EVENTS_SUBJECT_ROOT, EventMessage
from runtime.bus import servers_and_credentials
from runtime.database import create_pool
from runtime.replay import StreamReplay
from runtime.settings import secret
from services.projections import projector

LIVE_CONSUMER = "projections"
BAR_WIDTH = 30


def progress_line(done: int, total: int, seconds: float) -> str:
    """`[##########····················]  1000/3000  33%  2500 events/s`"""
    filled = BAR_WIDTH * done // total if total else BAR_WIDTH
    percent = 100 * done // total if total else 100
    rate = done / seconds if seconds > 0 else 0.0
    return f"[{'#' * filled}{'·' * (BAR_WIDTH - filled)}] {done:>8}/{total}  {percent:3d}%  {rate:,.0f} events/s"


class Progress:
    def __init__(self, total: int, out: TextIO | None):
        self.total, self.out, self.done, self.started = total, out, 0, time.monotonic()

    def advance(self, n: int) -> None:
        self.done += n
        self.total = max(self.total, self.done)
        if self.out is not None:
            self.out.write("\r" + progress_line(self.done, self.total, time.monotonic() - self.started))
            self.out.flush()

    def finish(self, message: str) -> None:
        if self.out is not None:
            self.out.write("\n" + message + "\n")
            self.out.flush()


async def _apply_batch(connection: asyncpg.Connection, schema: str, messages: Sequence[Msg]) -> int:
    events = []
    for message in messages:
        try:
            event = EventMessage.model_validate_json(message.data)
        except ValidationError:
            continue  # the live applier parked it already; it is no fact
        if (message.headers or {}).get("Nats-Msg-Id") == str(event.event_id):  # the relay's (runtime/checkpoint.py)
            events.append(event)
    await projector.record_facts(connection, schema, events)
    return len(events)


async def _drain(
    replay: StreamReplay, connection: asyncpg.Connection, schema: str, progress: Progress, batch: int
) -> None:
    """Applies messages until the stream has no more for now, one transaction per batch. The next
    batch is fetched while one is written, so decoding and the database's work overlap."""
    next_messages = replay.request(batch)
    try:
        while messages := await next_messages:
            next_messages = replay.request(batch)
            if connection.is_in_transaction():
                await _apply_batch(connection, schema, messages)
            else:
                async with connection.transaction():
                    await _apply_batch(connection, schema, messages)
            progress.advance(len(messages))
    finally:
        next_messages.cancel()


async def _next_schema(connection: asyncpg.Connection) -> str:
    names = await connection.fetch(
        "SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE 'kpi_g%'"
    )
    numbers = [projector.generation_number(r["schema_name"]) for r in names if r["schema_name"][5:].isdigit()]
    return f"kpi_g{max(numbers, default=0) + 1}"


async def rebuild(database_url: str, nats_url: str, *, out: TextIO | None = sys.stderr, batch: int = 5000) -> str:
    """Rebuilds into a new generation and switches to it; returns the new schema's name."""
    pool = await create_pool(database_url, max_size=2)
    nc = await nats.connect(**servers_and_credentials(nats_url), name="projections-rebuild")
    try:
        await projector.prepare(pool)
        async with pool.acquire() as connection:
            old = await projector.current_generation(connection)
            new = await _next_schema(connection)
            await projector.create_generation(connection, new, indexes=False)
            js = nc.jetstream()
            try:
                total = (await js.stream_info(EVENTS_STREAM)).state.messages
            except NotFoundError:
                total = 0
            progress = Progress(total, out)
            replay = await StreamReplay.open(nc, EVENTS_STREAM, f"{EVENTS_SUBJECT_ROOT}.>") if total else None
            if replay:
                await _drain(replay, connection, new, progress, batch)
            # Built once after the bulk fill rather than kept up row by row; the drain below and
            # the live applier after the switch find them.
            await projector.create_indexes(connection, new)
            async with connection.transaction():
                if await connection.fetchval("SELECT to_regclass('projection_checkpoint') IS NOT NULL"):
                    # Every live consumer's row: the one consumer's and each partition's
                    # (projections-p<N>, runtime/partitions.py), so none applies during the switch.
                    await connection.execute(
                        "SELECT 1 FROM projection_checkpoint WHERE consumer = $1 OR consumer LIKE $1 || '-p%'"
                        " ORDER BY consumer FOR UPDATE",
                        LIVE_CONSUMER,
                    )
                if replay:
                    await _drain(replay, connection, new, progress, batch)
                await connection.execute(
                    "UPDATE projection_generation"
                    " SET schema_name = $1, generation_id = gen_random_uuid(), switched_at = now()",
                    new,
                )
            if replay:
                await replay.close()
            for number in range(1, projector.generation_number(old)):
                await connection.execute(f"DROP SCHEMA IF EXISTS kpi_g{number} CASCADE")
        progress.finish(f"switched the KPI read models from {old} to {new} ({progress.done} events)")
        return new
    finally:
        await nc.close()
        await pool.close()


def main() -> None:
    database_url, nats_url = secret("DATABASE_URL"), secret("NATS_URL")
    if not database_url or not nats_url:
        sys.exit("set DATABASE_URL and NATS_URL")
    asyncio.run(rebuild(database_url, nats_url))


if __name__ == "__main__":
    main()
