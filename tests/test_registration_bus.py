"""Case systems on the bus submit facts by NATS request/reply and get the HTTP answer."""

import asyncio
import json

import pytest

from tests.support import System, course_facts
from tests.test_pipeline import stored_event_count
from tests.test_registration_privacy import nats_request

pytestmark = pytest.mark.integration

AUTH = {"Authorization": "Bearer token-101"}
# cit-1 gains housing: the single fact the idempotency tests send again.
HOUSING = {
    "type": "HousingGained",
    "municipality": "101",
    "citizen_id": "cit-1",
    "effective_date": "2026-03-10",
    "housing": "almen",
}


def request(system: System, payload: object, headers: dict[str, str] | None = None) -> dict:
    data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return asyncio.run(nats_request(system.nats_url, data, AUTH if headers is None else headers))


def test_facts_over_nats_are_answered_as_over_http(system: System) -> None:
    system.start("registration")
    registered, visitation, started = course_facts("101", "cit-1", "k-1", "ICM", "2026-03-01")
    first = request(system, registered)
    assert first["status"] == 201 and first["body"]["type"] == "CitizenRegistered"

    batch = request(system, {"facts": [visitation, started, started]})
    assert batch["status"] == 200
    assert [r["status"] for r in batch["body"]["results"]] == [201, 201, 409]
    assert batch["body"]["results"][2]["error"]["reason"] == "course_already_started"

    invalid = request(system, registered | {"effective_date": "1850-01-01"})
    assert invalid["status"] == 422
    assert [f["field"] for f in invalid["body"]["error"]["fields"]] == ["CitizenRegistered.effective_date"]
    assert request(system, registered)["body"]["error"]["reason"] == "citizen_already_registered"
    assert request(system, registered | {"municipality": "147"})["status"] == 403
    assert request(system, registered, {})["body"]["error"]["reason"] == "token_missing"
    assert request(system, registered, {"Authorization": "Bearer nope"})["status"] == 401
    for malformed in (b"not json", b"\xff\xfe", b"[1, 2", b"42", b'{"type": "NoSuchFact"}', b'{"facts": 7}'):
        answer = request(system, malformed)
        assert answer["status"] == 422 and answer["body"]["error"]["reason"], (malformed, answer)

    # Idempotent over the bus too.
    key = AUTH | {"Idempotency-Key": "bus-1"}
    assert request(system, HOUSING, key) == request(system, HOUSING, key)
    assert stored_event_count(system.database_url) == 4

    # Still serving after all that, and the HTTP history has what came over the bus.
    with system.client("registration") as client:
        history = client.get("/v1/citizens/cit-1/history", params={"municipality": "101"}).json()
    assert [e["fact"]["type"] for e in history["events"]] == [
        "CitizenRegistered",
        "VisitationDecided",
        "CourseStarted",
        "HousingGained",
    ]
