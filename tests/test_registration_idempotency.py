"""A retried request with the same Idempotency-Key gets the first answer and stores nothing new,
also after the service restarted and when the retries race each other."""

import threading

import pytest

from tests.support import System, course_facts
from tests.test_pipeline import stored_event_count

pytestmark = pytest.mark.integration


def post(system: System, path: str, body: dict, key: str | None, token: str = "token-101"):
    headers = {"Idempotency-Key": key} if key else {}
    with system.client("registration", token) as client:
        return client.post(path, json=body, headers=headers)


def test_retries_with_the_same_key_store_nothing_new_also_after_a_restart(system: System) -> None:
    system.start("registration")
    facts = course_facts("101", "cit-1", "k-1", "ICM", "2026-03-01")
    first_batch = post(system, "/v1/facts/batch", {"facts": facts}, "batch-1")
    assert first_batch.status_code == 200 and first_batch.json()["accepted"] == 3
    housing = {"type": "HousingGained", "municipality": "101", "citizen_id": "cit-1",
               "effective_date": "2026-03-10", "housing": "almen"}
    first = post(system, "/v1/facts", housing, "fact-1")
    assert first.status_code == 201
    assert stored_event_count(system.database_url) == 4

    again = post(system, "/v1/facts", housing, "fact-1")
    assert (again.status_code, again.json()) == (201, first.json())
    assert again.headers["Idempotent-Replayed"] == "true"
    assert post(system, "/v1/facts/batch", {"facts": facts}, "batch-1").json() == first_batch.json()
    assert stored_event_count(system.database_url) == 4

    system.services["registration"].stop()
    system.services["registration"].start()
    after_restart = post(system, "/v1/facts", housing, "fact-1")
    assert (after_restart.status_code, after_restart.json()) == (201, first.json())
    assert post(system, "/v1/facts/batch", {"facts": facts}, "batch-1").json() == first_batch.json()
    assert stored_event_count(system.database_url) == 4

    # The same key for another request is a client error; another client's key is its own.
    other = post(system, "/v1/facts", housing | {"housing": "skaev"}, "fact-1")
    assert (other.status_code, other.json()["error"]["reason"]) == (409, "idempotency_key_reused")
    theirs = post(system, "/v1/facts", {"type": "CitizenRegistered", "municipality": "147", "citizen_id": "cit-1",
                                        "effective_date": "2026-03-01"}, "fact-1", token="token-147")
    assert theirs.status_code == 201
    too_long = post(system, "/v1/facts", housing, "k" * 201)
    assert (too_long.status_code, too_long.json()["error"]["reason"]) == (422, "idempotency_key_invalid")
    # Without a key, a retry is a new request: here it breaks a rule.
    assert post(system, "/v1/facts", facts[0], None).json()["error"]["reason"] == "citizen_already_registered"
    assert stored_event_count(system.database_url) == 5


def test_racing_retries_with_one_key_store_one_event(system: System) -> None:
    system.start("registration")
    post(system, "/v1/facts", {"type": "CitizenRegistered", "municipality": "101", "citizen_id": "cit-9",
                               "effective_date": "2026-03-01"}, None)
    contact = {"type": "IncomeTypeRecorded", "municipality": "101", "citizen_id": "cit-9",
               "effective_date": "2026-03-02", "income_type": "kontanthjaelp"}
    answers: list = []

    def submit() -> None:
        answers.append(post(system, "/v1/facts", contact, "race-1"))

    threads = [threading.Thread(target=submit) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {a.status_code for a in answers} == {201}
    assert len({a.json()["event_id"] for a in answers}) == 1
    assert stored_event_count(system.database_url) == 2


def test_the_answer_and_the_events_commit_together(database_url: str) -> None:
    """Two writers with one key, the second not having seen the first's answer: its events are
    rolled back with its answer, and it gets the first answer instead."""
    from contracts.facts import fact_adapter
    from services.registration.application import AlreadyAnswered, Registration, postgres_env
    from services.registration.idempotency import IdempotencyKey

    def registered(citizen: str):
        return fact_adapter.validate_python({"type": "CitizenRegistered", "municipality": "101",
                                             "citizen_id": citizen, "effective_date": "2026-03-01"})

    first, second = Registration(env=postgres_env(database_url)), Registration(env=postgres_env(database_url))
    try:
        key = IdempotencyKey("fagsystem-101", "k-1", "hash")
        answer = {"status": 201, "body": {"first": True}}
        first.record(registered("a"), "t", key, lambda outcomes: answer)
        with pytest.raises(AlreadyAnswered) as answered:
            second.record(registered("b"), "t", key, lambda outcomes: {"status": 201, "body": {"first": False}})
        assert answered.value.answer == answer
        assert stored_event_count(database_url) == 1  # b's registration went with its answer
        assert second.stored_answer(key) == ("hash", answer)
        assert first.forget_answers(days=30) == 0  # kept for a month
        assert first.forget_answers(days=0) == 1 and first.stored_answer(key) is None
    finally:
        first.close()
        second.close()
