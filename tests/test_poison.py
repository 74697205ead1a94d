"""A poison event is retried a bounded number of times, parked with its error, and the consumer
goes on with the rest; a re-drive applies it after the fix. Real NATS and PostgreSQL."""

import asyncio
from datetime import datetime, timezone
from uuid import uuid4

import asyncpg
import nats
import pytest

from contracts.events import EVENTS_STREAM, EVENTS_SUBJECT_ROOT, EventMessage
from contracts.facts import CitizenRegistered
from runtime.bus import OrderedConsumer, ensure_streams
from runtime.checkpoint import CheckpointedApplier

pytestmark = pytest.mark.integration


def event(position: int, citizen: str) -> EventMessage:
    return EventMessage(
        event_id=uuid4(), position=position, schema_version=1,
        recorded_at=datetime.now(timezone.utc), recorded_by="test",
        fact=CitizenRegistered(municipality="101", citizen_id=citizen, effective_date="2026-01-01"),
    )


async def test_poison_event_is_parked_and_the_rest_applied(database_url: str, nats_server) -> None:
    pool = await asyncpg.create_pool(database_url)
    await pool.execute("CREATE TABLE seen (citizen text PRIMARY KEY)")
    broken = True

    async def apply(db: asyncpg.Connection, message: EventMessage) -> None:
        if message.fact.citizen_id == "poison" and broken:
            raise ValueError("cannot apply this event")
        await db.execute("INSERT INTO seen VALUES ($1)", message.fact.citizen_id)

    applier = CheckpointedApplier(pool, service="test", prefix="test", consumer="test", apply=apply,
                                  attempts=3, backoff_seconds=0.01)
    await applier.prepare()
    nc = await nats.connect(nats_server.url)
    js = nc.jetstream()
    await ensure_streams(js)
    citizens = ["a", "b", "poison", "c", "d"]
    for position, citizen in enumerate(citizens, start=1):
        await js.publish(f"{EVENTS_SUBJECT_ROOT}.101.CitizenRegistered", event(position, citizen).model_dump_json().encode())
    await js.publish(f"{EVENTS_SUBJECT_ROOT}.101.Garbage", b"{not json")

    stop = asyncio.Event()
    consumer = OrderedConsumer(js, stream=EVENTS_STREAM, durable="test", subject=f"{EVENTS_SUBJECT_ROOT}.>",
                               handle=applier, resume_after=applier.stream_sequence, database_url=database_url)
    task = asyncio.create_task(consumer.run(stop))
    for _ in range(100):
        if await applier.stream_sequence() == 6:
            break
        await asyncio.sleep(0.1)
    stop.set()
    await task

    assert sorted(r["citizen"] for r in await pool.fetch("SELECT citizen FROM seen")) == ["a", "b", "c", "d"]
    parked = await pool.fetch("SELECT subject, error FROM test_parked ORDER BY id")
    assert [p["subject"] for p in parked] == ["casetrack.events.101.CitizenRegistered", "casetrack.events.101.Garbage"]
    assert "cannot apply this event" in parked[0]["error"] and "not a valid event" in parked[1]["error"]
    assert await applier.position() == 5

    broken = False  # the fix is deployed
    assert await applier.redrive_parked() == (1, 1)  # the garbage message still cannot be applied
    assert "poison" in [r["citizen"] for r in await pool.fetch("SELECT citizen FROM seen")]
    await nc.close()
    await pool.close()
