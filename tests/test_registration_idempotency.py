"""A retried request with the same Idempotency-Key gets the first answer and stores nothing new,
also after the service restarted and when the retries race each other."""

import json
import threading
import uuid
from dataclasses import replace
from datetime import UTC, datetime

import psycopg
import pytest
from psycopg.types.json import Jsonb

from services.registration.application import Receipt, StoredOutcome
from tests.support import System, course_facts
from tests.test_pipeline import stored_event_count
from tests.test_registration_bus import HOUSING, request


def post(system: System, path: str, body: dict, key: str | None, token: str = "token-101"):
    headers = {"Idempotency-Key": key} if key else {}
    with system.client("registration", token) as client:
        return client.post(path, json=body, headers=headers)


@pytest.mark.integration
def test_retries_with_the_same_key_store_nothing_new_also_after_a_restart(system: System) -> None:
    system.start("registration")
    facts = course_facts("101", "cit-1", "k-1", "ICM", "2026-03-01")
    first_batch = post(system, "/v1/facts/batch", {"facts": facts}, "batch-1")
    assert first_batch.status_code == 200 and first_batch.json()["accepted"] == 3
    first = post(system, "/v1/facts", HOUSING, "fact-1")
    assert first.status_code == 201
    assert stored_event_count(system.database_url) == 4

    again = post(system, "/v1/facts", HOUSING, "fact-1")
    assert (again.status_code, again.json()) == (201, first.json())
    assert again.headers["Idempotent-Replayed"] == "true"
    assert post(system, "/v1/facts/batch", {"facts": facts}, "batch-1").json() == first_batch.json()
    assert stored_event_count(system.database_url) == 4

    system.services["registration"].stop()
    system.services["registration"].start()
    after_restart = post(system, "/v1/facts", HOUSING, "fact-1")
    assert (after_restart.status_code, after_restart.json()) == (201, first.json())
    assert post(system, "/v1/facts/batch", {"facts": facts}, "batch-1").json() == first_batch.json()
    assert stored_event_count(system.database_url) == 4

    # The same key for another request is a client error; another client's key is its own.
    other = post(system, "/v1/facts", HOUSING | {"housing": "skaev"}, "fact-1")
    assert (other.status_code, other.json()["error"]["reason"]) == (409, "idempotency_key_reused")
    theirs = post(
        system,
        "/v1/facts",
        {"type": "CitizenRegistered", "municipality": "147", "citizen_id": "cit-1", "effective_date": "2026-03-01"},
        "fact-1",
        token="token-147",
    )
    assert theirs.status_code == 201
    too_long = post(system, "/v1/facts", HOUSING, "k" * 201)
    assert (too_long.status_code, too_long.json()["error"]["reason"]) == (422, "idempotency_key_invalid")
    # Without a key, a retry is a new request: here it breaks a rule.
    assert post(system, "/v1/facts", facts[0], None).json()["error"]["reason"] == "citizen_already_registered"
    assert stored_event_count(system.database_url) == 5


@pytest.mark.integration
def test_racing_retries_with_one_key_store_one_event(system: System) -> None:
    system.start("registration")
    post(
        system,
        "/v1/facts",
        {"type": "CitizenRegistered", "municipality": "101", "citizen_id": "cit-9", "effective_date": "2026-03-01"},
        None,
    )
    contact = {
        "type": "IncomeTypeRecorded",
        "municipality": "101",
        "citizen_id": "cit-9",
        "effective_date": "2026-03-02",
        "income_type": "kontanthjaelp",
    }
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


@pytest.mark.integration
def test_the_outcome_and_the_events_commit_together(database_url: str) -> None:
    """Two writers with one key, the second not having seen the first's outcome: its events are
    rolled back with its outcome, and it gets the first outcome instead."""
    from contracts.facts import fact_adapter
    from services.registration.application import AlreadyAnswered, IdempotencyKey, Registration, postgres_env

    def registered(citizen: str):
        return fact_adapter.validate_python(
            {"type": "CitizenRegistered", "municipality": "101", "citizen_id": citizen, "effective_date": "2026-03-01"}
        )

    first, second = Registration(env=postgres_env(database_url)), Registration(env=postgres_env(database_url))
    try:
        key = IdempotencyKey("fagsystem-101", "k-1", "hash")
        receipt = first.record(registered("a"), "t", key)
        with pytest.raises(AlreadyAnswered) as answered:
            second.record(registered("b"), "t", key)
        assert answered.value.stored.outcomes == [receipt]
        assert stored_event_count(database_url) == 1  # b's registration went with its outcome
        assert second.stored_outcome(key) == StoredOutcome("hash", [receipt])
        assert first.forget_answers(days=30) == 0  # kept for a month
        assert first.forget_answers(days=0) == 1 and first.stored_outcome(key) is None
    finally:
        first.close()
        second.close()


@pytest.mark.integration
def test_the_store_keeps_the_outcome_not_the_http_answer(system: System) -> None:
    """Event ids, positions and reason codes; the answer is rendered from them, the same way the
    first time and on a replay, over HTTP and over NATS."""
    system.start("registration")
    facts = course_facts("101", "cit-1", "k-1", "ICM", "2026-03-01")
    first = post(system, "/v1/facts/batch", {"facts": facts + [facts[2], {"type": "Nonsense"}]}, "batch-1")
    assert [r["status"] for r in first.json()["results"]] == [201, 201, 201, 409, 422]
    with psycopg.connect(system.database_url) as connection:
        outcome, answer = connection.execute(
            "SELECT outcome, answer FROM registration_idempotency WHERE key = 'batch-1'"
        ).fetchone()
    receipts = [r["receipt"] for r in first.json()["results"][:3]]
    assert (outcome, answer) == (receipts + [{"rule": "course_already_started"}], None)
    over_nats = request(
        system,
        {"facts": facts + [facts[2], {"type": "Nonsense"}]},
        {"Authorization": "Bearer token-101", "Idempotency-Key": "batch-1"},
    )
    assert over_nats == {"status": 200, "body": first.json()}
    assert stored_event_count(system.database_url) == 3


@pytest.mark.integration
def test_answers_stored_by_the_earlier_version_still_replay(system: System) -> None:
    """An upgrade from the version that kept the HTTP answer itself (column `answer`, no `outcome`):
    its keys replay the same answers, over HTTP and NATS, and store nothing new."""
    system.start("registration")
    registered, visitation, started = course_facts("101", "cit-1", "k-1", "ICM", "2026-03-01")
    post(system, "/v1/facts", registered, None)
    batch = {
        "facts": [
            visitation,
            started,
            started,
            {"type": "Nonsense"},
            registered | {"municipality": "147"},
            started | {"citizen_id": "nobody"},
        ]
    }
    first_batch = post(system, "/v1/facts/batch", batch, "old-batch")
    assert [r["status"] for r in first_batch.json()["results"]] == [201, 201, 409, 422, 403, 404]
    first = post(system, "/v1/facts", HOUSING, "old-fact")
    assert first.status_code == 201
    system.services["registration"].stop()

    # The table as the earlier version made it, holding what that version stored: the answer.
    with psycopg.connect(system.database_url) as connection:
        for key, answer in (("old-batch", first_batch), ("old-fact", first)):
            connection.execute(
                "UPDATE registration_idempotency SET answer = %s WHERE key = %s",
                (Jsonb({"status": answer.status_code, "body": answer.json()}), key),
            )
        connection.execute("ALTER TABLE registration_idempotency DROP COLUMN outcome")
        connection.execute("ALTER TABLE registration_idempotency ALTER COLUMN answer SET NOT NULL")
    events = stored_event_count(system.database_url)

    system.services["registration"].start()
    for path, body, key, answer in (
        ("/v1/facts/batch", batch, "old-batch", first_batch),
        ("/v1/facts", HOUSING, "old-fact", first),
    ):
        again = post(system, path, body, key)
        assert (again.status_code, again.json()) == (answer.status_code, answer.json())
        assert again.headers["Idempotent-Replayed"] == "true"
        over_nats = request(
            system,
            body if path == "/v1/facts" else batch,
            {"Authorization": "Bearer token-101", "Idempotency-Key": key},
        )
        assert over_nats == {"status": answer.status_code, "body": answer.json()}
    other = post(system, "/v1/facts", HOUSING | {"housing": "skaev"}, "old-fact")
    assert (other.status_code, other.json()["error"]["reason"]) == (409, "idempotency_key_reused")
    assert stored_event_count(system.database_url) == events
    with psycopg.connect(system.database_url) as connection:
        kept = connection.execute(
            "SELECT key, outcome IS NULL, answer IS NULL FROM registration_idempotency ORDER BY key"
        ).fetchall()
    assert kept == [("old-batch", True, False), ("old-fact", True, False)]  # read as they were, not rewritten


def test_every_rejection_renders_the_same_from_its_stored_outcome() -> None:
    from services.registration.adapters.idempotency import decode, encode, legacy_outcomes
    from services.registration.domain import rules
    from services.registration.entrypoints.answers import batch_answer, fact_answer

    receipt = Receipt(uuid.uuid4(), 7, "CitizenRegistered", datetime(2026, 3, 1, 12, 0, 1, 5, UTC), "c-1")
    outcomes = [receipt, replace(receipt, citizen_id=None)]
    outcomes += [rules.RuleViolation(rule) for rule in rules.RULES.values()]
    outcomes += list(rules.UNKNOWN_SUBJECTS.values())
    first = batch_answer(outcomes)
    assert batch_answer(decode(json.loads(json.dumps(encode(outcomes))))) == first
    assert batch_answer(legacy_outcomes(first)) == first  # an earlier version's answer reads as its outcome
    assert fact_answer(legacy_outcomes(fact_answer(receipt))[0]) == fact_answer(receipt)
    # A rule retired since still answers with its reason code.
    [retired] = decode([{"rule": "retired_rule"}])
    assert fact_answer(retired)["body"]["error"]["reason"] == "retired_rule"
