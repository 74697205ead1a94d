"""Support workers and team leaders record the course facts no case system holds (issue 16):
their own (their team's) courses only, those fact types only, over HTTP only (runtime/access.py)."""

from typing import Any

import httpx
import psycopg
import pytest

from tests.support import System, course_facts

pytestmark = pytest.mark.integration

D = "2026-01-05"
WEEK = ["2026-01-05", "2026-01-06", "2026-01-07", "2026-01-08", "2026-01-09"]


def _scenario(system: System) -> None:
    """k1 of cit-1 (team-a, Anna's = token-worker-101), k2 of cit-2 (team-b, Bo's)."""
    facts = course_facts("101", "cit-1", "k1", "ICM", D, team="team-a")
    facts[-1]["support_worker"] = "w-anna"
    facts += course_facts("101", "cit-2", "k2", "ICM", D, team="team-b")
    facts[-1]["support_worker"] = "w-bo"
    for fact in facts:
        system.submit(fact)


def _contact(citizen: str, course: str, day: str, minutes: int = 30) -> dict[str, Any]:
    return {
        "type": "ContactRecorded",
        "municipality": "101",
        "citizen_id": citizen,
        "course_id": course,
        "effective_date": day,
        "minutes": minutes,
        "kind": "face_to_face",
    }


def _stored(database_url: str, topic_like: str) -> int:
    with psycopg.connect(database_url) as connection:
        row = connection.execute(
            "SELECT count(*) FROM registration_events WHERE topic LIKE %s", (topic_like,)
        ).fetchone()
    assert row is not None
    return int(row[0])


def _error(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["reason"]


def test_a_worker_records_the_facts_of_their_own_courses_and_nothing_else(system: System) -> None:
    system.start()
    _scenario(system)
    with system.client("registration", "token-worker-101") as anna:
        # A contact on Anna's own course is stored, recorded by her.
        created = anna.post("/v1/facts", json=_contact("cit-1", "k1", D))
        assert created.status_code == 201, created.text
        # Bo's course, a course that does not exist, a citizen that does not exist: the same 403.
        other = anna.post("/v1/facts", json=_contact("cit-2", "k2", D))
        assert _error(other) == (403, "forbidden")
        assert anna.post("/v1/facts", json=_contact("cit-1", "k-none", D)).json() == other.json()
        assert anna.post("/v1/facts", json=_contact("nobody", "k1", D)).json() == other.json()
        # A fact the case system records: refused by its type, naming the field.
        housing = {"type": "HousingGained", "municipality": "101", "citizen_id": "cit-1", "effective_date": D}
        refused = anna.post("/v1/facts", json=housing | {"housing": "almen"})
        assert _error(refused) == (403, "fact_type_forbidden")
        assert refused.json()["error"]["fields"][0]["field"] == "type"
        ended = {"type": "CourseEnded", "course_id": "k1", "reason": "completed"}
        assert _error(anna.post("/v1/facts", json=housing | ended)) == (403, "fact_type_forbidden")
        # The rules still hold: a CTI phase on an ICM course is the rule's 409.
        phase = _contact("cit-1", "k1", D) | {"type": "CtiPhaseStarted", "phase": "1"}
        del phase["minutes"], phase["kind"]
        assert _error(anna.post("/v1/facts", json=phase)) == (409, "not_a_cti_course")
        # Another municipality: refused as ever.
        assert _error(anna.post("/v1/facts", json=_contact("cit-1", "k1", D) | {"municipality": "147"})) == (
            403,
            "municipality_forbidden",
        )

    with system.client("registration", "token-leader-101") as lise:  # team-a's leader
        plan = {
            "type": "TimePlanned",
            "municipality": "101",
            "citizen_id": "cit-1",
            "course_id": "k1",
            "effective_date": D,
            "month": "2026-01-01",
            "expected_hours": 6,
        }
        assert lise.post("/v1/facts", json=plan).status_code == 201
        assert _error(lise.post("/v1/facts", json=plan | {"citizen_id": "cit-2", "course_id": "k2"})) == (
            403,
            "forbidden",
        )

    with system.client("registration", "token-101") as case_system:
        history = case_system.get("/v1/citizens/cit-1/courses/k1/history", params={"municipality": "101"}).json()
    by_type = {e["fact"]["type"]: e["recorded_by"] for e in history["events"]}
    assert by_type["ContactRecorded"] == "anna" and by_type["TimePlanned"] == "lise"


def test_a_week_of_contacts_in_one_batch_is_judged_per_fact_and_stored_once(system: System) -> None:
    system.start()
    _scenario(system)
    week = [_contact("cit-1", "k1", day, minutes) for day, minutes in zip(WEEK, (30, 45, 20, 60, 15), strict=True)]
    batch = week + [_contact("cit-2", "k2", D)]  # Bo's citizen slipped in: refused alone
    headers = {"Idempotency-Key": "anna-week-2"}
    before = _stored(system.database_url, "%ContactRecorded")
    with system.client("registration", "token-worker-101") as anna:
        first = anna.post("/v1/facts/batch", json={"facts": batch}, headers=headers)
        assert first.status_code == 200, first.text
        body = first.json()
        assert (body["accepted"], body["rejected"]) == (5, 1)
        assert [r["status"] for r in body["results"]] == [201, 201, 201, 201, 201, 403]
        assert body["results"][5]["error"]["reason"] == "forbidden"
        # The retry (the connection dropped before the answer came) stores nothing new.
        again = anna.post("/v1/facts/batch", json={"facts": batch}, headers=headers)
        assert again.headers.get("Idempotent-Replayed") == "true"
        assert again.json() == body
    assert _stored(system.database_url, "%ContactRecorded") - before == 5
