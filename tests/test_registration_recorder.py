"""What registration's event recorder (services/registration/adapters/recorder.py) relies on in
eventsourcing's PostgreSQL recorder, pinned against a real PostgreSQL: if an upgrade of
eventsourcing changes any of it, these fail before outcomes or personal details go astray."""

from collections.abc import Sequence
from typing import Any
from uuid import uuid4

import psycopg
import pytest
from eventsourcing.persistence import IntegrityError, ProgrammingError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder

from services.registration.adapters.recorder import RegistrationRecorder
from services.registration.application import IdempotencyKey, Receipt, Registration, postgres_env
from services.registration.domain.citizen import Citizen
from tests.support import create_database
from tests.test_citizen_rules import f
from tests.test_pipeline import stored_event_count

pytestmark = pytest.mark.integration

SEEN: list[dict[str, Any]] = []


class Probe(RegistrationRecorder):
    """Notes what the hook gets and sees, from inside the insert transaction."""

    database_url = ""

    def _fetch_ids_after_insert_events(self, curs: Any, stored_events: Sequence[Any], **kwargs: Any) -> Any:
        ids = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        curs.execute(
            "SELECT originator_id, originator_version FROM registration_events "
            "WHERE notification_id = ANY(%s) ORDER BY notification_id",
            (list(ids),),
        )
        on_this_cursor = [(r["originator_id"], r["originator_version"]) for r in curs.fetchall()]
        with psycopg.connect(self.database_url) as other:
            elsewhere = other.execute(
                "SELECT count(*) FROM registration_events WHERE notification_id = ANY(%s)", (list(ids),)
            ).fetchone()[0]
        SEEN.append(
            {
                "kwargs": set(kwargs),
                "ids": list(ids),
                "on_this_cursor": on_this_cursor,
                "saved": [(e.originator_id, e.originator_version) for e in stored_events],
                "seen_elsewhere": elsewhere,
            }
        )
        return ids


def test_save_keywords_reach_the_hook_inside_the_transaction_after_the_insert(database_url: str) -> None:
    Probe.database_url = database_url
    SEEN.clear()
    env = postgres_env(database_url) | {"APPLICATION_RECORDER_TOPIC": f"{__name__}:Probe"}
    app = Registration(env=env)
    try:
        key = IdempotencyKey("fagsystem-101", "k-1", "hash")
        facts = [
            f("CitizenRegistered", "2026-01-01", citizen="a"),
            f("CitizenRegistered", "2026-01-01", citizen="b"),
            f("VisitationDecided", "2026-01-05", citizen="a", course_id="k1", method="ICM", team="t"),
        ]
        outcomes = app.record_batch([(fact, "t") for fact in facts], key)
        [seen] = SEEN
        # The keywords of Application.save reach the hook (the others' names are eventsourcing's own).
        assert {"idempotency", "outcome", "keep", "erase"} <= seen["kwargs"]
        # It runs after the insert, on its cursor, with the positions in the order the events were saved ...
        assert seen["on_this_cursor"] == seen["saved"] and len(seen["ids"]) == 3
        # ... before the commit: nobody else sees the events yet.
        assert seen["seen_elsewhere"] == 0
        assert all(isinstance(o, Receipt) for o in outcomes)
        stored = app.stored_outcome(key)
        assert stored is not None and stored.outcomes == outcomes
        assert sorted(o.position for o in outcomes) == seen["ids"]
    finally:
        app.close()


class Plain(PostgresApplicationRecorder):
    """eventsourcing's own recorder, with a hook that fails the way a bug would."""

    def _fetch_ids_after_insert_events(self, curs: Any, stored_events: Sequence[Any], **kwargs: Any) -> Any:
        super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        raise RuntimeError("a bug after the insert")


def test_eventsourcing_commits_the_events_when_the_hook_raises(database_url: str) -> None:
    """Why the recorder fails the transaction itself: left alone, eventsourcing stores the events
    and raises the hook's exception after the commit. (If this ever fails, eventsourcing rolls
    back on its own and the recorder's ABORT can go.)"""
    app = Registration(env=postgres_env(database_url) | {"APPLICATION_RECORDER_TOPIC": f"{__name__}:Plain"})
    try:
        with pytest.raises(RuntimeError):
            app.save(Citizen(f("CitizenRegistered", "2026-01-01", citizen="a"), "t"))
        assert stored_event_count(database_url) == 1
    finally:
        app.close()


def test_an_error_in_the_hook_rolls_the_events_back(database_url: str) -> None:
    app = Registration(env=postgres_env(database_url))
    try:

        def broken(notification_ids: Sequence[int]) -> list[Any]:
            raise RuntimeError("the outcome could not be written")

        with pytest.raises(ProgrammingError, match="rolled back"):
            app.save(
                Citizen(f("CitizenRegistered", "2026-01-01", citizen="a"), "t"),
                idempotency=IdempotencyKey("c", "k", "h"),
                outcome=broken,
            )
        assert stored_event_count(database_url) == 0 and app.stored_outcome(IdempotencyKey("c", "k", "h")) is None
        # The same for the personal details: a citizen's registration is not stored without them.
        with pytest.raises(ProgrammingError, match="rolled back"):
            app.save(Citizen(f("CitizenRegistered", "2026-01-01", citizen="b"), "t"), keep=["not a ToKeep"])
        assert stored_event_count(database_url) == 0
        # And the connection is fit for the next transaction.
        app.record(f("CitizenRegistered", "2026-01-01", citizen="c"), "t")
        assert stored_event_count(database_url) == 1
    finally:
        app.close()


def test_a_key_stored_twice_is_eventsourcings_integrity_error_and_rolls_back(database_url: str) -> None:
    app = Registration(env=postgres_env(database_url))
    try:
        key = IdempotencyKey("c", "k", "h")
        app.save(
            Citizen(f("CitizenRegistered", "2026-01-01", citizen="a"), "t"), idempotency=key, outcome=lambda ids: []
        )
        with pytest.raises(IntegrityError):
            app.save(
                Citizen(f("CitizenRegistered", "2026-01-01", citizen="b"), "t"), idempotency=key, outcome=lambda ids: []
            )
        assert stored_event_count(database_url) == 1
    finally:
        app.close()


def test_inserting_through_database_functions_is_refused(database_url: str) -> None:
    """With POSTGRES_ENABLE_DB_FUNCTIONS eventsourcing inserts without calling the hook at all."""
    with pytest.raises(ProgrammingError, match="POSTGRES_ENABLE_DB_FUNCTIONS"):
        Registration(env=postgres_env(database_url) | {"POSTGRES_ENABLE_DB_FUNCTIONS": "y"})


def test_the_rows_inserted_are_eventsourcings_own(database_url: str, postgres_admin_url: str) -> None:
    """The recorder sends a save's rows as typed arrays; eventsourcing's own insert (one array of
    its composite type) stores the same rows in the same order, with the same positions."""
    rows = [
        StoredEvent(originator_id=uuid4(), originator_version=v, topic=f"t:{n}", state=bytes([n, v, 0, 255]) * n)
        for n in range(1, 6)
        for v in (1, 2)
    ]
    stored = {}
    for topic, url in (
        ("services.registration.adapters.recorder:RegistrationRecorder", database_url),
        ("eventsourcing.postgres:PostgresApplicationRecorder", create_database(postgres_admin_url)),
    ):
        app = Registration(env=postgres_env(url) | {"APPLICATION_RECORDER_TOPIC": topic})
        try:
            positions = app.recorder.insert_events(rows[:7])
            positions = [*positions, *app.recorder.insert_events(rows[7:])]
            stored[topic] = (positions, list(app.recorder.select_notifications(1, 100)))
        finally:
            app.close()
    ours, theirs = stored.values()
    assert ours == theirs
    assert [(n.originator_id, n.originator_version, n.topic, n.state) for n in ours[1]] == [
        (r.originator_id, r.originator_version, r.topic, r.state) for r in rows
    ]
