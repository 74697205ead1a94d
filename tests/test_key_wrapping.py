"""The citizens' keys are stored only wrapped under a master key that is not in the database: a dump
of the tables alone opens no personal details. Keys stored bare by earlier versions are wrapped (on
start, or by the rewrap command); a master key is rotated with a keyring and the rewrap command."""

import subprocess
import sys
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from contracts.facts import CitizenRegistered
from runtime.errors import ApiError
from runtime.settings import ConfigError
from services.registration.application import Registration, postgres_env
from services.registration.domain.citizen import citizen_uuid
from services.registration.masterkeys import Keyring, Wrapped, new_key_line
from services.registration.personal import PersonalDetails, seal, take_details, unseal
from tests.support import TEST_MASTER_KEYS, System
from tests.test_registration_privacy import everything_stored

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parent.parent
PEOPLE = {"230587-4411": "Kirstine Østergaard Mølholm", "011275-1234": "Jens Peter Kjærsgaard"}
DUMP = (
    "SELECT k.citizen, k.municipality, k.citizen_id, k.key, d.nonce, d.sealed "
    "FROM registration_citizen_keys k JOIN registration_personal_details d USING (citizen)"
)


def dump(database_url: str) -> list[tuple[Any, ...]]:
    """The two tables, read directly from PostgreSQL: what a database dump holds."""
    with psycopg.connect(database_url) as connection:
        return connection.execute(DUMP).fetchall()


def open_from_dump(rows: list[tuple[Any, ...]]) -> list[PersonalDetails]:
    """The attack as it was made: open each citizen's details with nothing but the dump, the way
    registration seals them (AES-256-GCM, associated data municipality:citizen_id), taking the
    stored key column as the key, and, should it hold more, every 32-byte stretch of it."""
    opened = []
    for _, municipality, citizen_id, key, nonce, sealed in rows:
        key = bytes(key)
        for start in range(len(key) - 31):
            try:
                opened.append(unseal(key[start : start + 32], bytes(nonce), bytes(sealed), municipality, citizen_id))
            except InvalidTag:
                continue
    return opened


def registered(cpr: str, name: str) -> dict[str, Any]:
    return {
        "type": "CitizenRegistered",
        "municipality": "101",
        "cpr": cpr,
        "name": name,
        "birth_date": "1987-05-23",
        "birth_year": 1987,
        "gender": "female",
        "effective_date": "2026-02-02",
    }


def details_of(system: System, citizen: str) -> Any:
    with system.client("registration", "token-admin") as admin:
        return admin.get(f"/v1/citizens/{citizen}/personal-details", params={"municipality": "101"})


def test_a_database_dump_alone_opens_no_personal_details(system: System) -> None:
    system.start()
    citizens = {system.submit(registered(cpr, name))["citizen_id"]: cpr for cpr, name in PEOPLE.items()}

    rows = dump(system.database_url)
    assert len(rows) == 2  # there is something to attack
    assert open_from_dump(rows) == []

    # Nor does anything stored hold a citizen's key itself: every table, stream and log is scanned
    # for the keys as the master key unwraps them.
    keyring = Keyring.parse(TEST_MASTER_KEYS)
    with psycopg.connect(system.database_url) as connection:
        wrapped = connection.execute("SELECT citizen, master_key_id, key FROM registration_citizen_keys").fetchall()
    assert {master_key_id for _, master_key_id, _ in wrapped} == {"test-1"}
    bare_keys = [keyring.unwrap(Wrapped(master_key_id, bytes(key)), citizen) for citizen, master_key_id, key in wrapped]
    blobs = everything_stored(system)
    assert [
        place for place, blob in blobs.items() for key in bare_keys if key in blob or key.hex().encode() in blob
    ] == []

    # Registration, holding the master key, still serves the details.
    for citizen, cpr in citizens.items():
        answer = details_of(system, citizen)
        assert answer.status_code == 200, answer.text
        assert answer.json() | {"citizen_id": None} == {
            "citizen_id": None,
            "cpr": cpr,
            "name": PEOPLE[cpr],
            "birth_date": "1987-05-23",
        }

    # Erasure still deletes the key: 410, the row gone, the other citizen untouched.
    erased, kept = list(citizens)
    system.submit(
        {"type": "CitizenErased", "municipality": "101", "citizen_id": erased, "effective_date": "2026-03-01"}
    )
    gone = details_of(system, erased)
    assert (gone.status_code, gone.json()["error"]["reason"]) == (410, "personal_details_erased")
    with psycopg.connect(system.database_url) as connection:
        left = connection.execute("SELECT citizen_id FROM registration_citizen_keys").fetchall()
    assert left == [(kept,)]
    assert details_of(system, kept).status_code == 200


def test_without_a_master_key_personal_details_are_refused_not_kept_bare(system: System) -> None:
    system.services["registration"].start(extra_env={"CASETRACK_MASTER_KEY_FILE": ""})
    cpr, name = next(iter(PEOPLE.items()))
    with system.client("registration") as client:
        refused = client.post("/v1/facts", json=registered(cpr, name))
        assert (refused.status_code, refused.json()["error"]["reason"]) == (503, "master_key_missing"), refused.text
        batch = client.post(
            "/v1/facts/batch",
            json={
                "facts": [
                    registered(cpr, name),
                    {
                        "type": "CitizenRegistered",
                        "municipality": "101",
                        "citizen_id": "c-no-details",
                        "effective_date": "2026-02-02",
                    },
                ]
            },
        ).json()
    assert [(r["status"], r.get("error", {}).get("reason")) for r in batch["results"]] == [
        (503, "master_key_missing"),
        (201, None),
    ]
    with psycopg.connect(system.database_url) as connection:
        assert connection.execute("SELECT count(*) FROM registration_citizen_keys").fetchone() == (0,)


def test_a_named_but_unusable_master_key_file_stops_registration_from_starting(system: System, tmp_path: Path) -> None:
    bad = tmp_path / "master.keys"
    bad.write_text("k1 not-base64!\n")
    with pytest.raises(RuntimeError, match="exited"):
        system.services["registration"].start(extra_env={"CASETRACK_MASTER_KEY_FILE": str(bad)})
    assert "the key is not base64" in system.services["registration"].log_tail()


def make_bare_keys(database_url: str, names: dict[str, str]) -> dict[str, bytes]:
    """The tables as a version before wrapping left them: registered citizens, their details sealed
    under keys of their own, stored bare in the key table (which then had no master_key_id)."""
    app = Registration(env=postgres_env(database_url))
    try:
        for citizen_id in names:
            app.record(
                CitizenRegistered(municipality="101", citizen_id=citizen_id, effective_date=date(2026, 1, 5)), "test"
            )
    finally:
        app.close()
    keys = {}
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute("ALTER TABLE registration_citizen_keys DROP COLUMN master_key_id")
        for citizen_id, name in names.items():
            citizen, key = citizen_uuid("101", citizen_id), AESGCM.generate_key(bit_length=256)
            connection.execute(
                "INSERT INTO registration_citizen_keys (citizen, municipality, citizen_id, key) "
                "VALUES (%s, %s, %s, %s)",
                (citizen, "101", citizen_id, key),
            )
            nonce, sealed = seal(key, "101", citizen_id, PersonalDetails(name=name))
            connection.execute(
                "INSERT INTO registration_personal_details (citizen, nonce, sealed) VALUES (%s, %s, %s)",
                (citizen, nonce, sealed),
            )
            keys[citizen_id] = key
    assert len(open_from_dump(dump(database_url))) == len(names)  # that version's hole
    return keys


def test_bare_keys_of_an_earlier_version_are_wrapped_when_registration_starts(system: System) -> None:
    names = {"c-old-1": "Anne Bare", "c-old-2": "Bo Bare"}
    bare_keys = make_bare_keys(system.database_url, names)

    system.start()
    with psycopg.connect(system.database_url) as connection:
        assert connection.execute(
            "SELECT master_key_id, count(*) FROM registration_citizen_keys GROUP BY master_key_id"
        ).fetchall() == [("test-1", 2)]
    assert open_from_dump(dump(system.database_url)) == []
    blobs = everything_stored(system)
    assert [place for place, blob in blobs.items() for key in bare_keys.values() if key.hex().encode() in blob] == []
    for citizen_id, name in names.items():
        answer = details_of(system, citizen_id)
        assert (answer.status_code, answer.json()["name"]) == (200, name), answer.text


def rewrap(database_url: str, key_file: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "services.registration.rewrap",
            "--database-url",
            database_url,
            "--master-key-file",
            str(key_file),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )


def master_key_ids(database_url: str) -> dict[str | None, int]:
    with psycopg.connect(database_url) as connection:
        return dict(
            connection.execute(
                "SELECT master_key_id, count(*) FROM registration_citizen_keys GROUP BY master_key_id"
            ).fetchall()
        )


def record_details(app: Registration, citizen_id: str, name: str) -> None:
    stripped, details = take_details(
        CitizenRegistered(municipality="101", citizen_id=citizen_id, name=name, effective_date=date(2026, 1, 5))
    )
    app.record(stripped, "test", details=details)


def test_the_rewrap_command_wraps_bare_keys_and_rotates_the_master_key(database_url: str, tmp_path: Path) -> None:
    first, second = new_key_line("2026-01"), new_key_line("2027-01")
    key_file = tmp_path / "master.keys"
    make_bare_keys(database_url, {"c-bare": "Anne Bare"})

    # An earlier deployment's bare key, wrapped by the command.
    key_file.write_text(first + "\n")
    done = rewrap(database_url, key_file)
    assert done.returncode == 0, done.stderr
    assert "wrapped 1 bare keys" in done.stdout
    assert master_key_ids(database_url) == {"2026-01": 1}
    assert open_from_dump(dump(database_url)) == []
    app = Registration(env=postgres_env(database_url), keyring=Keyring.from_file(key_file))
    try:
        assert app.personal_details("c-bare", "101") == PersonalDetails(name="Anne Bare")
        record_details(app, "c-1", "Carl Først")
    finally:
        app.close()

    # Rotation: the new key first. Keys wrapped under the old one stay readable, new ones get the new.
    key_file.write_text(f"# rotated 2027\n{second}\n{first}\n")
    app = Registration(env=postgres_env(database_url), keyring=Keyring.from_file(key_file))
    try:
        assert app.personal_details("c-1", "101") == PersonalDetails(name="Carl Først")
        record_details(app, "c-2", "Dorte Anden")
    finally:
        app.close()
    assert master_key_ids(database_url) == {"2026-01": 2, "2027-01": 1}
    done = rewrap(database_url, key_file)
    assert done.returncode == 0, done.stderr
    assert "re-wrapped 2 under master key '2027-01'" in done.stdout
    assert "2026-01: 0 keys (wraps none: may be deleted from the file)" in done.stdout
    assert master_key_ids(database_url) == {"2027-01": 3}

    # The old key retired: the new one alone opens everything, the old one alone nothing.
    key_file.write_text(second + "\n")
    app = Registration(env=postgres_env(database_url), keyring=Keyring.from_file(key_file))
    try:
        assert [app.personal_details(c, "101").name for c in ("c-bare", "c-1", "c-2")] == [  # type: ignore[union-attr]
            "Anne Bare",
            "Carl Først",
            "Dorte Anden",
        ]
    finally:
        app.close()
    old_only = tmp_path / "old.keys"
    old_only.write_text(first + "\n")
    app = Registration(env=postgres_env(database_url), keyring=Keyring.from_file(old_only))
    try:
        with pytest.raises(ApiError) as refused:
            app.personal_details("c-1", "101")
        assert (refused.value.status, refused.value.reason) == (503, "master_key_unknown")
    finally:
        app.close()
    done = rewrap(database_url, old_only)
    assert done.returncode == 1 and "3 keys under master key '2027-01', not in the file" in done.stderr


def test_a_wrapped_key_does_not_open_when_moved_to_another_citizen(database_url: str) -> None:
    app = Registration(env=postgres_env(database_url), keyring=Keyring.parse(TEST_MASTER_KEYS))
    try:
        record_details(app, "c-a", "Anne A")
        record_details(app, "c-b", "Bent B")
        with psycopg.connect(database_url, autocommit=True) as connection:
            connection.execute(
                "UPDATE registration_citizen_keys SET key = (SELECT key FROM registration_citizen_keys "
                "WHERE citizen_id = 'c-a') WHERE citizen_id = 'c-b'"
            )
        with pytest.raises(ValueError, match="moved from another citizen"):
            app.personal_details("c-b", "101")
        assert app.personal_details("c-a", "101") == PersonalDetails(name="Anne A")
    finally:
        app.close()


def test_the_keyring_file_is_checked() -> None:
    line = new_key_line("k-1")
    assert Keyring.parse(f"# comment\n\n{line}  # current\n").ids == ["k-1"]
    for text, problem in (
        ("", "holds no master key"),
        ("k1 !!!", "not base64"),
        ("k1 c2hvcnQ=", "must be 32 bytes"),
        (f"{line}\n{line}", "must differ"),
        ("k1", "expected '<id> <base64 key>'"),
        (line.replace("k-1", "k/1"), "use 1-64 letters"),
    ):
        with pytest.raises(ConfigError, match=problem):
            Keyring.parse(text)
    keyring = Keyring.parse(line)
    citizen = uuid.uuid4()
    wrapped = keyring.wrap(b"k" * 32, citizen)
    assert len(wrapped.blob) == 12 + 32 + 16 and b"k" * 32 not in wrapped.blob
    assert keyring.unwrap(wrapped, citizen) == b"k" * 32
    with pytest.raises(ApiError, match="no master key"):
        Keyring().wrap(b"k" * 32, citizen)
