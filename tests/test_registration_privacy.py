"""CPR numbers arrive at the edge (HTTP and NATS) and go no further: the event store, the stream,
the read models and the service logs hold none, only the keyed pseudonyms."""

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import nats
import psycopg
import pytest

from casetrack.natsauth import user_url
from contracts.alerts import ALERTS_STREAM
from contracts.events import EVENTS_STREAM
from runtime.bus import inbox_prefix
from tests.support import System, nats_passwords, requester_user
from tests.test_pipeline import stream_messages

pytestmark = pytest.mark.integration

# DDMMYY-SSSS or DDMMYYSSSS with a plausible day and month, not inside a longer token.
CPR_PATTERN = re.compile(rb"(?<![0-9A-Za-z])(?:0[1-9]|[12]\d|3[01])(?:0[1-9]|1[0-2])\d{2}-?\d{4}(?![0-9A-Za-z])")


def cpr_findings(blobs: dict[str, bytes], cprs: list[str]) -> list[str]:
    """Where a CPR number (any, or one of these, with or without the dash) occurs."""
    needles = {c.encode() for c in cprs} | {c.replace("-", "").encode() for c in cprs}
    needles |= {c[:6].encode() + b"-" + c.replace("-", "")[6:].encode() for c in cprs}
    findings = []
    for place, blob in blobs.items():
        findings += [f"{place}: pattern {m.group().decode()}" for m in CPR_PATTERN.finditer(blob)]
        findings += [f"{place}: {n.decode()}" for n in needles if n in blob]
    return findings


def everything_stored(system: System) -> dict[str, bytes]:
    """The raw event store, every table, both streams and every service log."""
    blobs: dict[str, bytes] = {}
    with psycopg.connect(system.database_url) as connection:
        blobs["registration_events"] = b"\n".join(
            bytes(row[0]) + row[1].encode()
            for row in connection.execute("SELECT state, topic FROM registration_events")
        )
        tables = [
            r[0]
            for r in connection.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
            )
        ]
        for table in tables:
            rows = connection.execute(f'SELECT t::text FROM "{table}" t').fetchall()
            blobs[f"table {table}"] = "\n".join(r[0] for r in rows).encode()
    for stream in (EVENTS_STREAM, ALERTS_STREAM):
        messages = asyncio.run(stream_messages(system.nats_url, stream))
        blobs[f"stream {stream}"] = b"\n".join(
            m.data + json.dumps(m.headers or {}).encode() + m.subject.encode() for m in messages
        )
    for log in Path(system.work_dir).glob("*.log"):
        blobs[f"log {log.name}"] = log.read_bytes()
    return blobs


async def nats_request(url: str, payload: bytes, headers: dict[str, str]) -> dict[str, Any]:
    """A request as the case system of the token's municipality, from its own NATS user and inbox."""
    user = requester_user(headers)
    nc = await nats.connect(user_url(url, user, nats_passwords()[user]), inbox_prefix=inbox_prefix(user))
    try:
        reply = await nc.request("casetrack.facts.submit", payload, timeout=10, headers=headers)
        return json.loads(reply.data)
    finally:
        await nc.close()


def cpr_facts(cpr: str, course: str) -> list[dict[str, Any]]:
    base = {"municipality": "101", "cpr": cpr}
    return [
        base | {"type": "CitizenRegistered", "effective_date": "2026-03-01", "birth_year": 1990},
        base
        | {
            "type": "VisitationDecided",
            "course_id": course,
            "effective_date": "2026-03-02",
            "method": "CTI",
            "team": "t",
        },
        base | {"type": "CourseStarted", "course_id": course, "effective_date": "2026-03-03"},
        base | {"type": "CtiPhaseStarted", "course_id": course, "effective_date": "2026-03-03", "phase": "1"},
        base | {"type": "HousingGained", "effective_date": "2026-03-10", "housing": "almen"},
    ]


def scan_system_for_cprs(system: System, cprs: list[str], last_position: int) -> None:
    # The demo's 2,600 facts take the alerts service some 30 s on a loaded 2-core machine.
    system.wait_applied("projections", last_position, timeout=180)
    system.wait_applied("alerts", last_position, timeout=180)
    blobs = everything_stored(system)
    assert blobs["registration_events"] and blobs["stream CASETRACK_EVENTS"]  # there is something to scan
    assert any(
        name.startswith("table ") and name != "table registration_events" and blob for name, blob in blobs.items()
    )
    assert cpr_findings(blobs, cprs) == []


def test_cpr_numbers_are_pseudonymised_at_the_edge_and_stored_nowhere(system: System) -> None:
    system.start()
    cprs = ["010190-1234", "1502854321", "311299-9999"]
    with system.client("registration") as client:
        receipts = [client.post("/v1/facts", json=f).json() for f in cpr_facts(cprs[0], "k-1")]
        assert all("event_id" in r for r in receipts), receipts
        batch = client.post("/v1/facts/batch", json={"facts": cpr_facts(cprs[1], "k-2")}).json()
        assert batch["accepted"] == 5, batch
        # Refused facts with CPR numbers: invalid, CPR-shaped id, broken rule.
        bad_date = cpr_facts(cprs[0], "k-1")[0] | {"effective_date": "1850-01-01"}
        assert client.post("/v1/facts", json=bad_date).status_code == 422
        cpr_as_id = {
            "type": "CitizenRegistered",
            "municipality": "101",
            "citizen_id": "0101901234",
            "effective_date": "2026-03-01",
        }
        assert client.post("/v1/facts", json=cpr_as_id).status_code == 422
        lost = {
            "type": "HousingLost",
            "municipality": "101",
            "cpr": cprs[2],
            "effective_date": "2026-03-11",
            "reason": "left",
        }
        assert client.post("/v1/facts", json=lost).json()["error"]["reason"] == "citizen_not_found"
    over_nats = [
        asyncio.run(nats_request(system.nats_url, json.dumps(f).encode(), {"Authorization": "Bearer token-101"}))
        for f in cpr_facts(cprs[2], "k-3")
    ]
    assert [r["status"] for r in over_nats] == [201] * 5, over_nats

    # One CPR number, one pseudonymous citizen, whichever way it came.
    pseudonyms = {r["citizen_id"] for r in receipts}
    assert len(pseudonyms) == 1 and pseudonyms.pop().startswith("p-")
    assert len({r["body"]["citizen_id"] for r in over_nats}) == 1
    with system.client("registration") as client:
        history = client.get(f"/v1/citizens/{receipts[0]['citizen_id']}/history", params={"municipality": "101"}).json()
    assert [e["fact"]["type"] for e in history["events"]][:2] == ["CitizenRegistered", "VisitationDecided"]

    last = max(r["body"]["position"] for r in over_nats)
    scan_system_for_cprs(system, cprs, last)


def test_the_scan_finds_a_cpr_number_where_there_is_one() -> None:
    assert cpr_findings({"log": b'{"msg": "citizen 010190-1234"}'}, []) == ["log: pattern 010190-1234"]
    assert cpr_findings({"x": b"id p-0101901234abc and uuid 12345678-9012"}, []) == []
    assert cpr_findings({"x": b"ab1502854321"}, ["1502854321"]) == ["x: 1502854321"]
