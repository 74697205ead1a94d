"""Faults under a steady stream of facts: every service killed with SIGKILL in turn, nats-server
stopped, PostgreSQL restarted. Afterwards the store, the stream, the read models and the alerts
service each hold every accepted fact exactly once; while the store was away, clients got 503 with
Retry-After, never a 500 and never a 2xx for something not stored. Real processes throughout."""

import asyncio
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import pytest

from casetrack.embedded import EmbeddedPostgres
from contracts.events import EVENTS_STREAM
from tests.faults import FactStream, counts, stored_positions, wait_all_applied
from tests.support import SecuredNats, System, create_database
from tests.test_pipeline import stream_messages
from tests.test_registration_privacy import nats_request

pytestmark = pytest.mark.integration

LONG = os.environ.get("CASETRACK_LONG") == "1"


async def stream_positions(nats_url: str) -> list[int]:
    return [json.loads(message.data)["position"] for message in await stream_messages(nats_url, EVENTS_STREAM)]


def assert_every_fact_once(system: System, stream: FactStream) -> None:
    assert stream.unexpected == [], stream.unexpected
    assert 500 not in stream.statuses, stream.statuses
    total = stream.accepted
    stored = stored_positions(system.database_url)
    wait_all_applied(system, stored[-1])
    assert counts(system.database_url) == {
        "store": total,
        "projections": total,
        "projections_by_type": total,
        "alerts": total,
    }
    # Every stored event on the stream once and in order, nothing else on it.
    assert asyncio.run(stream_positions(system.nats_url)) == stored


def run_for(seconds: float) -> None:
    time.sleep(seconds)


def test_every_service_killed_and_nats_stopped_under_a_stream_of_facts(
    system: System, nats_server: SecuredNats
) -> None:
    system.start()
    stream = FactStream(system, rate=30).start()
    for name in ("registration", "projections", "alerts"):
        run_for(1.0)
        system.services[name].kill()
        run_for(0.5)
        system.services[name].start()
    run_for(1.0)
    nats_server.stop()
    run_for(30.0 if LONG else 3.0)  # facts are still accepted: the store is the outbox
    nats_server.start()
    run_for(2.0)
    stream.stop()

    assert stream.accepted > 100
    assert stream.statuses["ConnectError"] > 0  # registration really was away for a while
    assert_every_fact_once(system, stream)


@pytest.fixture
def own_postgres() -> EmbeddedPostgres:
    """A PostgreSQL of this test's own, to restart without disturbing the other tests."""
    data_dir = Path(tempfile.mkdtemp(prefix="casetrack-fault-pg-"))
    server = EmbeddedPostgres(data_dir, fast=True)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


def test_postgres_restart_answers_503_and_loses_nothing(
    own_postgres: EmbeddedPostgres, nats_server: SecuredNats, tmp_path: Path
) -> None:
    system = System(
        database_url=create_database(own_postgres.url),
        nats_url=nats_server.url,
        work_dir=tmp_path / "logs",
        nats_env=nats_server.service_env(),
    )
    try:
        system.start()
        stream = FactStream(system, rate=30).start()
        run_for(1.5)
        own_postgres.stop()
        run_for(1.5)  # registration's store watch notices within about a second
        down_answers = []
        with system.client("registration") as client:
            for i in range(3):
                fact = {
                    "type": "CitizenRegistered",
                    "municipality": "101",
                    "citizen_id": f"while-down-{i}",
                    "effective_date": "2026-03-01",
                }
                response = client.post("/v1/facts", json=fact)
                down_answers.append((response.status_code, response.headers.get("Retry-After")))
                batch = client.post("/v1/facts/batch", json={"facts": [fact]})
                down_answers.append((batch.status_code, batch.headers.get("Retry-After")))
            over_bus = asyncio.run(
                nats_request(system.nats_url, json.dumps(fact).encode(), {"Authorization": "Bearer token-101"})
            )
            for service in ("projections", "alerts"):
                with system.client(service) as reader:
                    answer = reader.get("/v1/position")
                    down_answers.append((answer.status_code, answer.headers.get("Retry-After")))
        run_for(15.0 if LONG else 2.0)
        own_postgres.start()
        run_for(3.0)
        stream.stop()

        assert down_answers == [(503, "5")] * len(down_answers)
        assert (over_bus["status"], over_bus["body"]["error"]["reason"]) == (503, "service_unavailable")
        assert_every_fact_once(system, stream)
        assert counts(system.database_url)["store"] == stream.accepted  # nothing of while-down-* stored
    finally:
        system.stop()
