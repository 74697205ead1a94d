"""The walking skeleton end to end: HTTP → event store → relay → JetStream → read models/alerts,
on real nats-server and PostgreSQL processes."""

import asyncio
import json
import time
from datetime import date, timedelta

import nats
import psycopg
import pytest

from contracts.alerts import ALERTS_STREAM
from contracts.events import EVENTS_STREAM
from tests.support import System, course_facts

pytestmark = pytest.mark.integration

TODAY = date.today()


def days_ago(n: int) -> str:
    return (TODAY - timedelta(days=n)).isoformat()


async def stream_messages(nats_url: str, stream: str) -> list[nats.aio.msg.Msg]:
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        info = await js.stream_info(stream)
        return (
            [await js.get_msg(stream, seq) for seq in range(info.state.first_seq, info.state.last_seq + 1)]
            if info.state.messages
            else []
        )
    finally:
        await nc.close()


def stored_event_count(database_url: str) -> int:
    with psycopg.connect(database_url) as connection:
        return connection.execute("SELECT count(*) FROM registration_events").fetchone()[0]


def test_facts_change_p1_p2_and_raise_cti_phase_overdue(system: System) -> None:
    system.start()
    with system.client("projections", "token-manager-101") as kpi:
        before = kpi.get("/v1/kpis/P1", params={"municipality": "101"}).json()
        assert before["total"] == 0
        assert kpi.get("/v1/kpis/P2", params={"municipality": "101"}).json()["denominator"] == 0
    start = days_ago(10)
    facts = course_facts("101", "cit-1", "course-cti", "CTI", start)
    facts += course_facts("101", "cit-2", "course-icm", "ICM", start)[:1]
    facts += [
        {
            "type": "VisitationDecided",
            "municipality": "101",
            "citizen_id": "cit-2",
            "course_id": "course-icm",
            "effective_date": start,
            "method": "ICM",
            "team": "team-a",
        },
        {
            "type": "CourseStarted",
            "municipality": "101",
            "citizen_id": "cit-2",
            "course_id": "course-icm",
            "effective_date": start,
        },
        {"type": "HandleplanCreated", "municipality": "101", "citizen_id": "cit-1", "effective_date": days_ago(5)},
        {
            "type": "CtiPhaseStarted",
            "municipality": "101",
            "citizen_id": "cit-1",
            "course_id": "course-cti",
            "effective_date": start,
            "phase": "1",
            "planned_end": days_ago(-30),
        },
    ]
    last = [system.submit(fact) for fact in facts][-1]["position"]
    system.wait_applied("projections", last)
    system.wait_applied("alerts", last)

    with system.client("projections", "token-manager-101") as kpi:
        p1 = kpi.get("/v1/kpis/P1", params={"municipality": "101"}).json()
        p2 = kpi.get("/v1/kpis/P2", params={"municipality": "101"}).json()
    assert p1["values"]["CTI"] == 1 and p1["values"]["ICM"] == 1 and p1["total"] == 2
    # Two courses started in the last year; cit-1 got a handleplan 5 days after start: 1 of 2.
    assert (p2["numerator"], p2["denominator"], p2["value"]) == (1, 2, 0.5)

    with system.client("alerts", "token-leader-101") as alerts:
        # Other rules (no_contact, measurement_missing, ...) raise on these courses too; this test follows one.
        only = {"municipality": "101", "rule": "cti_phase_overdue"}
        assert alerts.get("/v1/alerts", params=only | {"state": "open"}).json()["alerts"] == []
        # The phase is planned to end in 30 days; the alert is due after 14 days' grace on top.
        not_yet = alerts.put(
            "/v1/clock", json={"now": f"{days_ago(-44)}T08:00:00Z"}, headers={"Authorization": "Bearer token-admin"}
        )
        assert not_yet.status_code == 200, not_yet.text
        time.sleep(1.5)  # two poll cycles
        assert alerts.get("/v1/alerts", params=only).json()["alerts"] == []
        moved = alerts.put(
            "/v1/clock", json={"now": f"{days_ago(-45)}T08:00:00Z"}, headers={"Authorization": "Bearer token-admin"}
        )
        assert moved.status_code == 200, moved.text
        open_alerts = _wait_for(lambda: alerts.get("/v1/alerts", params=only | {"state": "open"}).json()["alerts"])
    assert [(a["rule"], a["subject_id"], a["team"]) for a in open_alerts] == [
        ("cti_phase_overdue", "course-cti", "team-a")
    ]

    published = _wait_for(
        lambda: [
            m
            for m in asyncio.run(stream_messages(system.nats_url, ALERTS_STREAM))
            if json.loads(m.data)["rule"] == "cti_phase_overdue"
        ]
    )
    alert = json.loads(published[0].data)
    assert published[0].subject == "casetrack.alerts.101.team-a"
    assert alert["rule"] == "cti_phase_overdue" and alert["state"] == "open"


def test_bad_schema_is_422_naming_the_field_and_other_municipality_is_403(system: System) -> None:
    system.start()
    with system.client("registration") as client:
        bad = client.post(
            "/v1/facts",
            json={
                "type": "CitizenRegistered",
                "municipality": "101",
                "citizen_id": "cit-1",
                "effective_date": "1850-01-01",
            },
        )
        assert bad.status_code == 422
        assert bad.json()["error"]["reason"] == "validation_error"
        assert [f["field"] for f in bad.json()["error"]["fields"]] == ["CitizenRegistered.effective_date"]

        forbidden = client.post(
            "/v1/facts",
            json={
                "type": "CitizenRegistered",
                "municipality": "147",
                "citizen_id": "cit-1",
                "effective_date": "2026-01-01",
            },
        )
        assert forbidden.status_code == 403
        assert forbidden.json()["error"]["reason"] == "municipality_forbidden"

        unauthenticated = client.post("/v1/facts", json={}, headers={"Authorization": "Bearer nope"})
        assert unauthenticated.status_code == 401
    with system.client("projections", "token-manager-101") as kpi:
        assert kpi.get("/v1/kpis/P1", params={"municipality": "147"}).status_code == 403
    with system.client("alerts", "token-leader-101") as alerts:
        assert alerts.get("/v1/alerts", params={"municipality": "147"}).status_code == 403

    # Neither reached the store nor the stream.
    assert stored_event_count(system.database_url) == 0
    assert asyncio.run(stream_messages(system.nats_url, EVENTS_STREAM)) == []


def _wait_for(probe, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = probe()
        if result:
            return result
        time.sleep(0.2)
    raise TimeoutError("condition not met")


def test_every_service_serves_health_and_metrics(system: System) -> None:
    system.start()
    last = system.submit(
        {"type": "CitizenRegistered", "municipality": "101", "citizen_id": "cit-1", "effective_date": "2026-01-01"}
    )["position"]
    system.wait_applied("projections", last)
    for name, service in system.services.items():
        with system.client(name, token=None) as client:
            assert client.get("/healthz").json()["status"] == "ok"
            metrics = client.get("/metrics").text
        assert 'casetrack_events_processed_total{service="%s"} 1.0' % name in metrics
        assert "casetrack_http_request_duration_seconds_bucket" in metrics
    with system.client("projections", token=None) as client:
        assert client.get("/v1/kpis").status_code == 401  # everything else needs a token
    with system.client("projections") as client:
        _wait_for(lambda: 'casetrack_consumer_lag{service="projections"} 0.0' in client.get("/metrics").text)


def test_oversized_body_is_refused_with_413(system: System) -> None:
    system.start("registration")
    huge = b'{"facts": [' + b'{"type": "x"},' * 800_000 + b"{}]}"
    with system.client("registration") as client:
        declared = client.post("/v1/facts/batch", content=huge, headers={"content-type": "application/json"})
        chunked = client.post(
            "/v1/facts/batch",
            content=iter([huge[i : i + 65536] for i in range(0, len(huge), 65536)]),
            headers={"content-type": "application/json"},
        )
    for response in (declared, chunked):
        assert response.status_code == 413
        assert response.json()["error"]["reason"] == "payload_too_large"
    assert stored_event_count(system.database_url) == 0
