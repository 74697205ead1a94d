"""The alerts service as real processes on a real nats-server and PostgreSQL, fed with events
published straight onto CASETRACK_EVENTS: restarts and replicas raise each due alert exactly once;
the HTTP API (lifecycle, filters, configuration, live stream)."""

import asyncio
import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import httpx
import psycopg
import pytest

from casetrack.embedded import free_port
from casetrack.processes import ServiceProcess
from contracts.alerts import ALERTS_STREAM
from contracts.events import EventMessage
from runtime.bus import connect, ensure_streams
from tests.alerts_support import course_opened, days, fact
from tests.support import System
from tests.test_alert_digest import Controller, Inbox
from tests.test_pipeline import stream_messages

pytestmark = pytest.mark.integration

D0 = date(2025, 1, 6)
ADMIN = {"Authorization": "Bearer token-admin"}


def events(facts: list[Any], first_position: int = 1) -> list[EventMessage]:
    return [
        EventMessage(
            event_id=uuid.uuid4(),
            position=first_position + n,
            schema_version=1,
            recorded_at=datetime.now(UTC),
            recorded_by="test",
            fact=one,
        )
        for n, one in enumerate(facts)
    ]


async def _publish(nats_url: str, messages: list[EventMessage]) -> None:
    nc = await connect(nats_url, "test")
    try:
        js = nc.jetstream()
        await ensure_streams(js)
        for message in messages:
            await js.publish(
                message.subject, message.model_dump_json().encode(), headers={"Nats-Msg-Id": str(message.event_id)}
            )
    finally:
        await nc.close()


def publish(nats_url: str, messages: list[EventMessage]) -> None:
    asyncio.run(_publish(nats_url, messages))


def set_clock(service: ServiceProcess, day: date, hour: int = 8) -> None:
    response = httpx.put(f"{service.url}/v1/clock", json={"now": f"{day.isoformat()}T{hour:02d}:00:00Z"}, headers=ADMIN)
    assert response.status_code == 200, response.text


def wait_position(service: ServiceProcess, position: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if httpx.get(f"{service.url}/v1/position", headers=ADMIN).json()["position"] >= position:
            return
        time.sleep(0.1)
    raise TimeoutError(service.log_tail())


def alert_counts(database_url: str) -> tuple[int, int, int]:
    """(alerts, distinct (rule, subject), transitions)."""
    with psycopg.connect(database_url) as db:
        return db.execute(
            """SELECT (SELECT count(*) FROM alerts),
                      (SELECT count(DISTINCT (rule, subject_id)) FROM alerts),
                      (SELECT count(*) FROM alert_transitions)"""
        ).fetchone()


def wait_counts(database_url: str, alerts: int, timeout: float = 30) -> tuple[int, int, int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        counts = alert_counts(database_url)
        if counts[0] >= alerts:
            time.sleep(1.5)  # three more poll cycles: nothing more may come
            return alert_counts(database_url)
        time.sleep(0.1)
    raise TimeoutError(f"only {alert_counts(database_url)}")


def wait_published(nats_url: str, count: int, timeout: float = 30) -> list[dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        messages = [json.loads(m.data) for m in asyncio.run(stream_messages(nats_url, ALERTS_STREAM))]
        if len(messages) >= count:
            time.sleep(1.0)
            return [json.loads(m.data) for m in asyncio.run(stream_messages(nats_url, ALERTS_STREAM))]
        time.sleep(0.2)
    raise TimeoutError(f"{len(messages)} published")


# 40 ICM courses opened on D0: 31 days later each has handleplan_missing, measurement_missing and
# no_contact due (ICM allows 14 days without face-to-face contact).
COURSES = 40
DUE = COURSES * 3


def cohort(courses: int = COURSES) -> list[EventMessage]:
    return events([one for n in range(courses) for one in course_opened(f"c{n}", f"k{n}", "ICM", D0)])


# Enough due deadlines that a kill 50 ms after the clock moves lands while some are still due (the
# poller takes ten a transaction).
MANY_COURSES = 400
MANY_DUE = MANY_COURSES * 3


def test_killed_while_deadlines_are_due_then_restarted_raises_each_once(system: System) -> None:
    alerts = system.services["alerts"].start()
    set_clock(alerts, D0)
    messages = cohort(MANY_COURSES)
    publish(system.nats_url, messages)
    wait_position(alerts, messages[-1].position)
    assert alert_counts(system.database_url) == (0, 0, 0)

    set_clock(alerts, D0 + days(31))  # wakes the poller: 1,200 deadlines due
    time.sleep(0.05)
    alerts.kill()
    raised_before_kill = alert_counts(system.database_url)[0]
    assert raised_before_kill < MANY_DUE, "the kill should land while deadlines are still due"

    alerts.start()  # its clock is the real one again: everything from 2025 is due
    # ... status_due too: the real clock is past each course's first status window (D0 + 126 days).
    due_later = MANY_DUE + MANY_COURSES
    assert wait_counts(system.database_url, due_later) == (due_later, due_later, due_later)
    published = wait_published(system.nats_url, due_later)
    assert len(published) == due_later and len({m["alert_id"] for m in published}) == due_later


def test_two_replicas_raise_no_duplicates(system: System, tmp_path) -> None:
    first = system.services["alerts"]
    second = ServiceProcess(name="alerts", port=free_port(), env=first.env, log_path=tmp_path / "alerts-2.log")
    first.start()
    second.start()
    try:
        for replica in (first, second):
            set_clock(replica, D0)
        messages = cohort()
        publish(system.nats_url, messages)
        wait_position(first, messages[-1].position)
        for replica in (first, second):
            set_clock(replica, D0 + days(31))
        assert wait_counts(system.database_url, DUE) == (DUE, DUE, DUE)
        published = wait_published(system.nats_url, DUE)
        assert len(published) == DUE and len({m["alert_id"] for m in published}) == DUE
    finally:
        second.stop()


def _sse_events(lines: Iterator[str], wanted: int) -> list[dict]:
    found, data = [], None
    for line in lines:
        if line.startswith("data: "):
            data = json.loads(line[6:])
        elif line == "" and data is not None:
            found.append(data)
            data = None
            if len(found) == wanted:
                return found
    return found


def test_http_api_lifecycle_filters_configuration_stream_and_digest(system: System) -> None:
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    alerts = system.services["alerts"].start(
        extra_env={
            "CASETRACK_SMTP_HOST": "127.0.0.1",
            "CASETRACK_SMTP_PORT": str(smtp.port),
            "CASETRACK_ALERTS_DIGEST_POLL_SECONDS": "0.5",
        }
    )
    try:
        _exercise_api(system, alerts)
        # The service's own digest loop, on the service's clock: the digest of D0 told of the eviction risk.
        _wait_for(lambda: inbox.messages)
        to, mail = inbox.messages[0]
        assert (to, mail["Subject"]) == (
            ["leader-a@kk.dk"],
            f"casetrack: 1 åbne advarsler for team-a ({D0.isoformat()})",
        )
        assert "Risiko for udsættelse / Eviction risk: citizen c1" in mail.get_content()
        assert {tuple(to) for to, _ in inbox.messages} == {("leader-a@kk.dk",)}
    finally:
        smtp.stop()


def _wait_for(probe, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := probe():
            return result
        time.sleep(0.2)
    raise TimeoutError("condition not met")


def _digest_days(database_url: str) -> list[tuple]:
    with psycopg.connect(database_url) as db:
        return db.execute("SELECT worker_id, day, alerts FROM alert_digests ORDER BY day").fetchall()


def _exercise_api(system: System, alerts: ServiceProcess) -> None:
    set_clock(alerts, D0, hour=5)  # before the digest hour (6) while the facts arrive
    messages = events(
        [
            fact(
                "WorkerRegistered",
                D0,
                worker_id="leader-a",
                team_id="team-a",
                role="team_leader",
                email="leader-a@kk.dk",
            )
        ]
        + course_opened("c1", "k1", "ICM", D0, team="team-a")
        + course_opened("c2", "k2", "CTI", D0, team="team-b")
        + [fact("EvictionRiskRegistered", D0, "c1", kind="bailiff_case")]
    )
    publish(system.nats_url, messages)
    wait_position(alerts, messages[-1].position)
    set_clock(alerts, D0)
    _wait_for(lambda: _digest_days(system.database_url))  # the digest of D0 is out before the alert changes
    with (
        system.client("alerts", "token-leader-101") as client,
        system.client("alerts", "token-leader-147") as other,
        system.client("alerts", "token-manager-101") as manager,
    ):
        stream = client.stream(
            "GET", "/v1/alerts/stream", params={"municipality": "101", "after": 0}, timeout=httpx.Timeout(10.0)
        )
        with stream as live:
            assert live.status_code == 200 and live.headers["content-type"].startswith("text/event-stream")
            lines = live.iter_lines()
            [raised_event] = _sse_events(lines, 1)
            assert (raised_event["rule"], raised_event["state"], raised_event["team"]) == (
                "eviction_risk",
                "open",
                "team-a",
            )

            listed = client.get("/v1/alerts", params={"municipality": "101", "severity": "critical"}).json()["alerts"]
            assert [(a["rule"], a["subject_id"]) for a in listed] == [("eviction_risk", "c1")]
            # A team leader sees their own team's alerts only.
            assert client.get("/v1/alerts", params={"municipality": "101", "team": "team-b"}).status_code == 403
            assert (
                client.get("/v1/alerts", params={"municipality": "101", "rule": "nope"}).json()["error"]["reason"]
                == "rule_not_found"
            )
            alert_id = listed[0]["id"]

            # The actor is the caller (lise); a person acted for is recorded beside, never instead.
            acknowledged = client.post(f"/v1/alerts/{alert_id}/acknowledge", json={"on_behalf_of": "leader-anne"})
            assert acknowledged.status_code == 200 and acknowledged.json()["state"] == "acknowledged"
            [ack_event] = _sse_events(lines, 1)
            assert (ack_event["id"], ack_event["state"], ack_event["by"], ack_event["on_behalf_of"]) == (
                alert_id,
                "acknowledged",
                "lise",
                "leader-anne",
            )

        again = client.post(f"/v1/alerts/{alert_id}/acknowledge", json={})
        assert (again.status_code, again.json()["error"]["reason"]) == (409, "transition_not_allowed")
        past = client.post(f"/v1/alerts/{alert_id}/snooze", json={"until": "2025-01-01"})
        assert (past.status_code, past.json()["error"]["reason"]) == (422, "snooze_not_in_future")
        no_note = client.post(f"/v1/alerts/{alert_id}/resolve", json={})
        assert (no_note.status_code, no_note.json()["error"]["reason"]) == (422, "validation_error")
        resolved = client.post(f"/v1/alerts/{alert_id}/resolve", json={"note": "rent paid by jobcentre"})
        assert resolved.status_code == 200
        history = client.get(f"/v1/alerts/{alert_id}").json()["history"]
        assert [(h["state"], h["by"], h["on_behalf_of"], h["note"]) for h in history] == [
            ("open", "casetrack", None, None),
            ("acknowledged", "lise", "leader-anne", None),
            ("resolved", "lise", None, "rent paid by jobcentre"),
        ]
        # A missing alert looks like another's to a team leader; only the administrator is told.
        assert client.get(f"/v1/alerts/{uuid.uuid4()}").json()["error"]["reason"] == "forbidden"
        assert (
            httpx.get(f"{alerts.url}/v1/alerts/{uuid.uuid4()}", headers=ADMIN).json()["error"]["reason"]
            == "alert_not_found"
        )
        assert other.get(f"/v1/alerts/{alert_id}").status_code == 403

        # Rule configuration: visible, overridable per municipality and per team or method.
        catalogue = {r["rule"]: r for r in client.get("/v1/rules").json()["rules"]}
        assert len(catalogue) == 25 and all(r["definition"] and r["reacts_to"] for r in catalogue.values())
        assert catalogue["handleplan_missing"]["subject_types"] == ["course", "citizen"]
        assert "ShelterStayEnded" in catalogue["cti_started_without_housing"]["reacts_to"]["course"]
        assert "`ready_days` days after the stay began" in catalogue["shelter_stay_long"]["definition"]
        config = "/v1/rules/handleplan_missing/config"
        assert client.get(config, params={"municipality": "101"}).json()["effective"] == {"days": 30}
        assert client.put(config, params={"municipality": "101"}, json={"params": {"days": 10}}).status_code == 403
        put = manager.put(config, params={"municipality": "101"}, json={"params": {"days": 10}})
        assert put.status_code == 200 and put.json()["effective"] == {"days": 10}
        team = manager.put(config, params={"municipality": "101", "team": "team-b"}, json={"params": {"days": 45}})
        assert team.json()["overrides"] == {"": {"days": 10}, "team:team-b": {"days": 45}}
        assert client.get(config, params={"municipality": "101", "team": "team-b"}).json()["effective"] == {"days": 45}
        assert client.get(config, params={"municipality": "101", "method": "ICM"}).json()["effective"] == {"days": 10}
        bad = manager.put(config, params={"municipality": "101"}, json={"params": {"dayz": 3}})
        assert (bad.status_code, bad.json()["error"]["reason"], bad.json()["error"]["fields"][0]["field"]) == (
            422,
            "invalid_rule_parameters",
            "dayz",
        )
        both = client.get(config, params={"municipality": "101", "team": "t", "method": "CTI"})
        assert (both.status_code, both.json()["error"]["reason"]) == (422, "scope_ambiguous")
        listed_rules = {r["rule"]: r for r in client.get("/v1/rules", params={"municipality": "101"}).json()["rules"]}
        assert listed_rules["handleplan_missing"]["effective"] == {"days": 10}
        assert (
            listed_rules["no_contact"]["overrides"] == {} and listed_rules["no_contact"]["effective"]["act_days"] == 7
        )
        assert client.get("/v1/rules/nope/config", params={"municipality": "101"}).status_code == 404
        assert other.put(config, params={"municipality": "101"}, json={"params": {"days": 1}}).status_code == 403

    set_clock(alerts, D0 + days(11))  # 10 days for team-a (k1) have passed; team-b (k2) has 45
    deadline = time.monotonic() + 10
    with system.client("alerts", "token-leader-101") as client:
        while time.monotonic() < deadline:
            due = client.get("/v1/alerts", params={"municipality": "101", "rule": "handleplan_missing"}).json()[
                "alerts"
            ]
            if due:
                break
            time.sleep(0.2)
        time.sleep(1.0)
        due = client.get("/v1/alerts", params={"municipality": "101", "rule": "handleplan_missing"}).json()["alerts"]
    assert [(a["subject_id"], a["team"]) for a in due] == [("k1", "team-a")]
