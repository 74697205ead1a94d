"""Personal details kept encrypted with a key per citizen; erasure deletes the key (crypto-shredding)
so nothing of the citizen's CPR number or name is left anywhere, while the statistics stay; reads are
audited; details are deleted after the retention period."""

import asyncio
import time
import uuid
from datetime import UTC, date, datetime

import psycopg
import pytest

from contracts.audit import AUDIT_STREAM
from contracts.facts import CitizenErased, CitizenRegistered, CourseStarted, VisitationDecided
from services.registration.application import Registration, postgres_env
from services.registration.bootstrap import retention_cutoff
from services.registration.masterkeys import Keyring, Wrapped
from services.registration.personal import PersonalDetails, take_details
from tests.support import TEST_MASTER_KEYS, System
from tests.test_pipeline import stream_messages
from tests.test_registration_privacy import cpr_findings, everything_stored

pytestmark = pytest.mark.integration

CPR = "230587-4411"
NAME = "Kirstine Østergaard Mølholm"
START = "2026-02-02"


def _names_and_keys(blobs: dict[str, bytes], needles: list[bytes]) -> list[str]:
    return [f"{place}: {needle!r}" for place, blob in blobs.items() for needle in needles if needle in blob]


def _kpis(system: System) -> dict[str, object]:
    with system.client("projections", "token-manager-101") as kpi:
        return {
            k: kpi.get(f"/v1/kpis/{k}", params={"municipality": "101", "from": "2026-01-01", "to": "2026-06-30"}).json()
            for k in ("P1", "P2", "O1", "S1")
        }


def test_erasure_leaves_no_byte_of_cpr_or_name_and_keeps_the_statistics(system: System) -> None:
    system.start()
    registered = {
        "type": "CitizenRegistered",
        "municipality": "101",
        "cpr": CPR,
        "name": NAME,
        "birth_date": "1987-05-23",
        "birth_year": 1987,
        "gender": "female",
        "effective_date": START,
    }
    citizen = system.submit(registered)["citizen_id"]
    base = {"municipality": "101", "citizen_id": citizen}
    for fact in (
        base
        | {"type": "VisitationDecided", "course_id": "k1", "effective_date": START, "method": "ICM", "team": "team-a"},
        base | {"type": "CourseStarted", "course_id": "k1", "effective_date": START, "support_worker": "w-anna"},
        base | {"type": "HandleplanCreated", "effective_date": "2026-02-10"},
    ):
        system.submit(fact)

    # The details are readable by the citizen's support worker and team leader, no one else, and
    # each read is on the audit trail.
    path, of_101 = f"/v1/citizens/{citizen}/personal-details", {"municipality": "101"}
    with system.client("registration", "token-worker-101") as worker:
        assert worker.get(path, params=of_101).json() == {
            "citizen_id": citizen,
            "cpr": CPR,
            "name": NAME,
            "birth_date": "1987-05-23",
        }
    for token, status in (
        ("token-leader-101", 200),
        ("token-manager-101", 403),
        ("token-101", 403),
        ("token-leader-147", 403),
    ):
        with system.client("registration", token) as other:
            assert other.get(path, params=of_101).status_code == status, token
    with system.client("registration", "token-admin") as admin:
        reads = admin.get(
            "/v1/audit/reads",
            params={"municipality": "101", "subject_type": "citizen", "subject_id": citizen, "order": "asc"},
        ).json()["reads"]
    assert [(r["actor"], r["action"], r["service"]) for r in reads] == [
        ("anna", "read_personal_details", "registration"),
        ("lise", "read_personal_details", "registration"),
    ]

    # Stored: only the sealed form, never the plaintext; the key only wrapped.
    with psycopg.connect(system.database_url) as connection:
        [(row, master_key_id, key, sealed)] = connection.execute(
            "SELECT k.citizen, k.master_key_id, k.key, d.sealed FROM registration_citizen_keys k "
            "JOIN registration_personal_details d USING (citizen) WHERE k.citizen_id = %s",
            (citizen,),
        ).fetchall()
    bare_key = Keyring.parse(TEST_MASTER_KEYS).unwrap(Wrapped(master_key_id, bytes(key)), row)
    needles = [
        NAME.encode(),
        "Mølholm".encode(),
        CPR.encode(),
        CPR.replace("-", "").encode(),
        bytes(key),
        bytes(key).hex().encode(),
        bytes(sealed),
        bytes(sealed).hex().encode(),
        bare_key,
        bare_key.hex().encode(),
    ]
    last = system.submit(
        base
        | {
            "type": "ContactRecorded",
            "course_id": "k1",
            "effective_date": "2026-02-11",
            "minutes": 30,
            "kind": "face_to_face",
        }
    )["position"]
    system.wait_applied("projections", last)
    before = _kpis(system)
    assert before["P1"]["total"] == 1  # something to keep
    blobs = everything_stored(system)
    assert _names_and_keys(blobs, needles[:4]) == [] and cpr_findings(blobs, [CPR]) == []

    erased = system.submit(base | {"type": "CitizenErased", "effective_date": "2026-03-01"})
    system.wait_applied("projections", erased["position"])
    system.wait_applied("alerts", erased["position"])
    with system.client("registration", "token-worker-101") as worker:
        gone = worker.get(path, params=of_101)
        assert (gone.status_code, gone.json()["error"]["reason"]) == (410, "personal_details_erased")
        # The pseudonymous history stays.
        history = worker.get(f"/v1/citizens/{citizen}/history", params=of_101).json()["events"]
        assert [e["fact"]["type"] for e in history][-1] == "CitizenErased"

    # Nothing left: not the name, not the CPR number, not the key nor the sealed blob, in any
    # table, the event store, any stream (the audit trail too) or any service's log.
    blobs = everything_stored(system)
    blobs["stream CASETRACK_AUDIT"] = b"\n".join(
        m.data for m in asyncio.run(stream_messages(system.nats_url, AUDIT_STREAM))
    )
    assert blobs["stream CASETRACK_AUDIT"] and blobs["table registration_events"]
    assert _names_and_keys(blobs, needles) == []
    assert cpr_findings(blobs, [CPR]) == []
    assert _kpis(system) == before


def _registration(database_url: str) -> Registration:
    return Registration(env=postgres_env(database_url), keyring=Keyring.parse(TEST_MASTER_KEYS))


def test_retention_deletes_the_details_of_citizens_without_recent_events(database_url: str) -> None:
    app = _registration(database_url)
    try:
        facts = [
            CitizenRegistered(
                municipality="101",
                citizen_id=c,
                effective_date=date(2026, 1, 5),
                name=f"Navn {c}",
                birth_date=date(1980, 1, 1),
            )
            for c in ("old", "active")
        ]
        for fact in facts:
            stripped, details = take_details(fact)
            assert stripped.name is None and details == PersonalDetails(
                None, f"Navn {fact.citizen_id}", date(1980, 1, 1)
            )
            app.record(stripped, "test", details=details)
        with psycopg.connect(database_url, autocommit=True) as connection:
            connection.execute(
                "UPDATE registration_citizen_keys SET last_activity = now() - interval '6 years' "
                "WHERE citizen_id = 'old'"
            )
        time.sleep(0.01)
        # An event of the citizen is activity: "active" was last seen now, "old" six years ago.
        app.record(
            VisitationDecided(
                municipality="101",
                citizen_id="active",
                course_id="k",
                method="ICM",
                team="team-a",
                effective_date=date(2026, 1, 6),
            ),
            "test",
        )
        now = datetime.now(UTC)
        assert app.shred_inactive(retention_cutoff(now, 7)) == 0
        assert app.shred_inactive(retention_cutoff(now, 5)) == 1
        assert app.personal_details("old", "101") is None
        assert app.personal_details("active", "101") == PersonalDetails(None, "Navn active", date(1980, 1, 1))
        assert [m.fact.type for m in app.history("old", "101")] == ["CitizenRegistered"]  # history stays
        assert retention_cutoff(datetime(2030, 6, 1, tzinfo=UTC), 5) == datetime(2025, 6, 1, tzinfo=UTC)
    finally:
        app.close()


def test_details_and_erasure_commit_with_their_events(database_url: str) -> None:
    app = _registration(database_url)
    try:
        stripped, details = take_details(
            CitizenRegistered(
                municipality="101", citizen_id="c1", cpr=None, effective_date=date(2026, 1, 5), name="Anne"
            )
        )
        # A refused registration (a second one for the same citizen) seals nothing.
        app.record(stripped, "test", details=details)
        with pytest.raises(Exception):
            app.record(stripped, "test", details=PersonalDetails(name="Someone Else"))
        assert app.personal_details("c1", "101") == PersonalDetails(name="Anne")
        # A refused erasure (unknown citizen) erases nothing; an accepted one everything.
        with pytest.raises(Exception):
            app.record(
                CitizenErased(
                    municipality="101", citizen_id=f"x{uuid.uuid4().hex[:8]}", effective_date=date(2026, 2, 1)
                ),
                "test",
            )
        assert app.personal_details("c1", "101") == PersonalDetails(name="Anne")
        app.record(CitizenErased(municipality="101", citizen_id="c1", effective_date=date(2026, 2, 1)), "test")
        assert app.personal_details("c1", "101") is None and app.is_erased("c1", "101")
        with psycopg.connect(database_url) as connection:
            assert connection.execute("SELECT count(*) FROM registration_personal_details").fetchone()[0] == 0
        # Whatever else, nothing about a course start carries details.
        assert (
            take_details(
                CourseStarted(municipality="101", citizen_id="c1", course_id="k", effective_date=date(2026, 1, 6))
            )[1]
            is None
        )
    finally:
        app.close()
