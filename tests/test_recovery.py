"""Crashes in the middle of a stream of facts lose nothing and count nothing twice."""

import asyncio
import json
import threading

import httpx
import psycopg
import pytest

from contracts.events import EVENTS_STREAM
from tests.support import System, course_facts
from tests.test_pipeline import stored_event_count, stream_messages

pytestmark = pytest.mark.integration


def citizens(count: int, prefix: str = "cit") -> list[list[dict]]:
    return [
        course_facts("101", f"{prefix}-{i}", f"{prefix}-course-{i}", "ICM", "2026-03-01")
        + [
            {
                "type": "HandleplanCreated",
                "municipality": "101",
                "citizen_id": f"{prefix}-{i}",
                "effective_date": "2026-03-10",
            }
        ]
        for i in range(count)
    ]


def applied_counts(database_url: str) -> dict[str, int]:
    with psycopg.connect(database_url) as connection:
        rows = connection.execute("SELECT event_type, applied FROM projection_event_counts").fetchall()
    return dict(rows)


def test_projections_killed_mid_stream_apply_every_event_once(system: System) -> None:
    system.start()
    groups = citizens(60)

    def submit_all() -> None:
        for facts in groups:
            with system.client("registration") as client:
                response = client.post("/v1/facts/batch", json={"facts": facts})
                assert response.json()["accepted"] == len(facts), response.text

    submitter = threading.Thread(target=submit_all)
    submitter.start()
    system.wait_applied("projections", 40)  # part-way through the stream
    system.services["projections"].kill()
    submitter.join()
    system.services["projections"].start()

    total = stored_event_count(system.database_url)
    assert total == 60 * 4
    system.wait_applied("projections", total)
    assert applied_counts(system.database_url) == {
        "CitizenRegistered": 60,
        "VisitationDecided": 60,
        "CourseStarted": 60,
        "HandleplanCreated": 60,
    }
    with system.client("projections", "token-manager-101") as kpi:
        assert kpi.get("/v1/kpis/P1", params={"municipality": "101", "on": "2026-06-01"}).json()["values"]["ICM"] == 60
        p2 = kpi.get("/v1/kpis/P2", params={"municipality": "101", "from": "2026-01-01", "to": "2026-12-31"}).json()
    assert (p2["numerator"], p2["denominator"]) == (60, 60)


def test_relay_killed_between_publish_and_moving_on_loses_and_duplicates_nothing(system: System) -> None:
    # The relay exits hard right after the stream acknowledged position 8, before it moves on.
    system.start("projections", "alerts")
    registration = system.services["registration"]
    registration.start(extra_env={"CASETRACK_FAULT_RELAY_EXIT_AFTER_PUBLISH": "8"})
    first = [fact for group in citizens(3, "early") for fact in group]  # 12 facts, positions 1-12
    with system.client("registration") as client:
        try:
            client.post("/v1/facts/batch", json={"facts": first})
        except httpx.HTTPError:
            pass  # the process may die before its answer is out; the store is what counts
    assert registration.wait_exit(timeout=30) == 70
    assert stored_event_count(system.database_url) == 12

    registration.start()
    with system.client("registration") as client:
        later = [fact for group in citizens(2, "late") for fact in group]
        assert client.post("/v1/facts/batch", json={"facts": later}).json()["accepted"] == 8

    system.wait_applied("projections", 20)
    messages = asyncio.run(stream_messages(system.nats_url, EVENTS_STREAM))
    positions = [json.loads(m.data)["position"] for m in messages]
    assert positions == list(range(1, 21))  # every stored event once, in log order
    assert len({m.headers["Nats-Msg-Id"] for m in messages}) == 20
    assert stored_event_count(system.database_url) == 20
    assert sum(applied_counts(system.database_url).values()) == 20
