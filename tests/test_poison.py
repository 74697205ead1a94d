"""A poison event is retried a bounded number of times, parked with its error, and the consumer
goes on with the rest; a re-drive applies it after the fix. Real NATS and PostgreSQL."""

import asyncio
import os
import subprocess
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from uuid import uuid4

import asyncpg
import nats
import psycopg
import pytest
from prometheus_client import REGISTRY

from contracts.events import EVENTS_STREAM, EVENTS_SUBJECT_ROOT, EventMessage
from contracts.facts import CitizenRegistered
from runtime.bus import OrderedConsumer, ensure_streams
from runtime.checkpoint import CheckpointedApplier

pytestmark = pytest.mark.integration


def event(position: int, citizen: str) -> EventMessage:
    return EventMessage(
        event_id=uuid4(),
        position=position,
        schema_version=1,
        recorded_at=datetime.now(UTC),
        recorded_by="test",
        fact=CitizenRegistered(municipality="101", citizen_id=citizen, effective_date="2026-01-01"),
    )


@pytest.mark.parametrize("batched", [False, True], ids=["apply", "apply_batch"])
async def test_poison_event_is_parked_and_the_rest_applied(database_url: str, nats_server, batched: bool) -> None:
    pool = await asyncpg.create_pool(database_url)
    await pool.execute("CREATE TABLE seen (citizen text PRIMARY KEY)")
    broken = True

    async def apply(db: asyncpg.Connection, message: EventMessage) -> None:
        if message.fact.citizen_id == "poison" and broken:
            raise ValueError("cannot apply this event")
        await db.execute("INSERT INTO seen VALUES ($1)", message.fact.citizen_id)

    batches: list[list[str]] = []  # the citizens of each apply_batch call

    async def apply_batch(db: asyncpg.Connection, messages: Sequence[EventMessage]) -> None:
        batches.append([m.fact.citizen_id for m in messages])  # type: ignore[attr-defined]
        for message in messages:
            await apply(db, message)

    applier = CheckpointedApplier(
        pool,
        service="test",
        prefix="test",
        consumer="test",
        apply=apply,
        attempts=3,
        backoff_seconds=0.01,
        apply_batch=apply_batch if batched else None,
    )
    await applier.prepare()
    nc = await nats.connect(nats_server.url)
    js = nc.jetstream()
    await ensure_streams(js)
    citizens = ["a", "b", "poison", "c", "d"]
    for position, citizen in enumerate(citizens, start=1):
        message = event(position, citizen)
        await js.publish(
            f"{EVENTS_SUBJECT_ROOT}.101.CitizenRegistered",
            message.model_dump_json().encode(),
            headers={"Nats-Msg-Id": str(message.event_id)},
        )
    await js.publish(f"{EVENTS_SUBJECT_ROOT}.101.Garbage", b"{not json")

    stop = asyncio.Event()
    consumer = OrderedConsumer(
        js,
        stream=EVENTS_STREAM,
        durable="test",
        subject=f"{EVENTS_SUBJECT_ROOT}.>",
        handle=applier,
        resume_after=applier.stream_sequence,
        database_url=database_url,
    )
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
    assert await applier.applied() == 4
    if batched:  # the batch holding the poison event was tried whole, then one event at a time
        holding = [b for b in batches if "poison" in b]
        alone = 3 if len(holding[0]) > 1 else 4  # (the consumer may have fetched it in a batch of its own)
        assert holding.count(["poison"]) == alone, batches  # the three attempts alone; the event is parked
    assert REGISTRY.get_sample_value("casetrack_events_parked", {"service": "test"}) == 2  # operators are alerted on it

    broken = False  # the fix is deployed
    assert await applier.redrive_parked() == (1, 1)  # the garbage message still cannot be applied
    assert "poison" in [r["citizen"] for r in await pool.fetch("SELECT citizen FROM seen")]
    assert await applier.applied() == 5
    assert REGISTRY.get_sample_value("casetrack_events_parked", {"service": "test"}) == 1
    await nc.close()
    await pool.close()


@pytest.mark.parametrize("service,prefix", [("projections", "projection"), ("alerts", "alert")])
def test_redrive_command_applies_parked_events(database_url: str, service: str, prefix: str) -> None:
    run = lambda: subprocess.run(  # noqa: E731
        [sys.executable, "-m", f"services.{service}.redrive"],
        env=os.environ | {"DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run().returncode == 0  # creates what it needs; nothing parked yet

    parked = event(1, "parked-citizen").model_dump_json().encode()
    with psycopg.connect(database_url, autocommit=True) as connection:
        for data in (parked, b"{still garbage"):
            connection.execute(
                f"INSERT INTO {prefix}_parked (consumer, subject, data, error) VALUES (%s, %s, %s, 'failed')",
                (service, "casetrack.events.101.CitizenRegistered", data),
            )
    result = run()
    assert (result.returncode, result.stdout.strip()) == (1, "re-driven: 1 applied, 1 still failing"), result.stderr
    with psycopg.connect(database_url) as connection:
        assert connection.execute(f"SELECT applied FROM {prefix}_checkpoint").fetchone()[0] == 1
        assert connection.execute(f"SELECT count(*) FROM {prefix}_parked").fetchone()[0] == 1
        if service == "projections":
            counts = dict(connection.execute("SELECT event_type, applied FROM projection_event_counts").fetchall())
            assert counts == {"CitizenRegistered": 1}


def test_operator_alert_rules_watch_metrics_the_services_export() -> None:
    import re
    from pathlib import Path

    import yaml

    rules = yaml.safe_load((Path(__file__).parent.parent / "deploy" / "prometheus-alerts.yml").read_text())
    exported = {sample.name for metric in REGISTRY.collect() for sample in metric.samples}
    exported |= {metric.name + suffix for metric in REGISTRY.collect() for suffix in ("", "_total")}
    by_name = {rule["alert"]: rule for group in rules["groups"] for rule in group["rules"]}
    assert "events_parked" in by_name
    for rule in by_name.values():
        for metric in re.findall(r"casetrack_[a-z_]+", rule["expr"]):
            assert metric in exported, (rule["alert"], metric)
