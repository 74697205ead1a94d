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


def _january(system: System, kpi: str) -> dict[str, Any]:
    with system.client("projections", "token-leader-101") as lise:
        params = {"municipality": "101", "from": "2026-01-01", "to": "2026-01-31", "period": "month"}
        response = lise.get(f"/v1/kpis/{kpi}", params=params)
    assert response.status_code == 200, response.text
    [january] = response.json()["series"]
    return january


def _january_hours(system: System) -> tuple[float, float]:
    with system.client("projections", "token-worker-101") as anna:
        line = anna.get("/v1/courses/k1/double-bottom-line", params={"municipality": "101", "on": "2026-01-31"}).json()
    [january] = line["hours"]
    return january["expected_hours"], january["actual_hours"]


def test_a_wrong_contact_is_corrected_and_the_hours_and_kpis_follow_with_the_history_kept(system: System) -> None:
    system.start()
    _scenario(system)
    plan = _contact("cit-1", "k1", D) | {"type": "TimePlanned", "month": "2026-01-01", "expected_hours": 6}
    del plan["minutes"], plan["kind"]
    with system.client("registration", "token-worker-101") as anna:
        assert anna.post("/v1/facts", json=plan).status_code == 201
        assert anna.post("/v1/facts", json=_contact("cit-1", "k1", "2026-01-05", 60)).status_code == 201
        # Typed 120 face to face; it was a 30-minute phone call.
        wrong = anna.post("/v1/facts", json=_contact("cit-1", "k1", "2026-01-06", 120)).json()
        system.wait_applied("projections", wrong["position"])
        # Before: (60 + 120) / 60 = 3.0 h of the 6 planned: E2 = 3.0 / 6 = 0.5; two face-to-face contacts.
        assert _january_hours(system) == (6.0, 3.0)
        assert _january(system, "E2")["value"] == 0.5
        assert _january(system, "P4")["values"]["face_to_face_contacts"] == 2

        withdrawal = {
            "type": "FactWithdrawn",
            "municipality": "101",
            "citizen_id": "cit-1",
            "course_id": "k1",
            "effective_date": "2026-01-07",
            "withdrawn_event_id": wrong["event_id"],
            "reason": "forkert varighed og type: telefonsamtale på 30 minutter",
        }
        withdrawn = anna.post("/v1/facts", json=withdrawal)
        assert withdrawn.status_code == 201, withdrawn.text
        right = anna.post("/v1/facts", json=_contact("cit-1", "k1", "2026-01-06", 30) | {"kind": "phone_digital"})
        assert right.status_code == 201
        # Withdrawn once only; an id that is no contact of this course cannot be withdrawn.
        assert _error(anna.post("/v1/facts", json=withdrawal)) == (409, "fact_already_withdrawn")
        other = withdrawal | {"withdrawn_event_id": withdrawn.json()["event_id"]}  # a withdrawal itself
        assert _error(anna.post("/v1/facts", json=other)) == (409, "fact_not_withdrawable")
        # Bo's course: out of Anna's reach, whatever it names.
        assert _error(anna.post("/v1/facts", json=withdrawal | {"citizen_id": "cit-2", "course_id": "k2"})) == (
            403,
            "forbidden",
        )
    system.wait_applied("projections", right.json()["position"])
    # After: (60 + 30) / 60 = 1.5 h of 6: E2 = 1.5 / 6 = 0.25; one face-to-face contact (the 30 is by phone).
    assert _january_hours(system) == (6.0, 1.5)
    assert _january(system, "E2")["value"] == 0.25
    assert _january(system, "P4")["values"]["face_to_face_contacts"] == 1

    # The history keeps both, each with who recorded it and when.
    with system.client("registration", "token-leader-101") as lise:
        events = lise.get("/v1/citizens/cit-1/courses/k1/history", params={"municipality": "101"}).json()["events"]
    by_id = {e["event_id"]: e for e in events}
    original, taken_back = by_id[wrong["event_id"]], by_id[withdrawn.json()["event_id"]]
    assert (original["fact"]["minutes"], original["recorded_by"]) == (120, "anna")
    assert taken_back["fact"]["withdrawn_event_id"] == wrong["event_id"] and taken_back["recorded_by"] == "anna"
    assert taken_back["fact"]["reason"].startswith("forkert varighed")
    assert original["recorded_at"] < taken_back["recorded_at"]
