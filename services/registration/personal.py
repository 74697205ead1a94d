"""Personal details (CPR, name, birth date), encrypted with a key of the citizen's own.

A citizen's details are sealed with AES-256-GCM under a random key kept for that citizen alone
(associated data: municipality and pseudonym, so a sealed blob cannot be moved to another citizen).
Erasure deletes the key and the blob (crypto-shredding): the pseudonymous history stays for the
statistics, the details are gone. Both are written by the event recorder in the transaction that
stores the citizen's event, so details exist exactly when their CitizenRegistered does, and are gone
exactly when CitizenErased is stored.

Retention: each stored event of a citizen moves the key's `last_activity`; `shred_inactive` deletes
the keys (and blobs) of citizens with no event since a cut-off.
"""

import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime
from uuid import UUID

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresDatastore
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

from contracts.facts import CitizenRegistered, FactBase


@dataclass(frozen=True)
class PersonalDetails:
    cpr: str | None = None
    name: str | None = None
    birth_date: date | None = None

    def __bool__(self) -> bool:
        return any(v is not None for v in (self.cpr, self.name, self.birth_date))


@dataclass(frozen=True)
class ToKeep:
    """Details to seal for a citizen, in the transaction that stores their registration."""

    citizen: UUID
    municipality: str
    citizen_id: str
    details: PersonalDetails


@dataclass(frozen=True)
class ToErase:
    citizen: UUID


def take_details(fact: FactBase) -> tuple[FactBase, PersonalDetails | None]:
    """The fact without its personal details, and the details (from CitizenRegistered only)."""
    if not isinstance(fact, CitizenRegistered):
        return fact, None
    details = PersonalDetails(cpr=fact.cpr, name=fact.name, birth_date=fact.birth_date)
    return fact.model_copy(update={"name": None, "birth_date": None}), details or None


def _aad(municipality: str, citizen_id: str) -> bytes:
    return f"{municipality}:{citizen_id}".encode()


def seal(key: bytes, municipality: str, citizen_id: str, details: PersonalDetails) -> tuple[bytes, bytes]:
    nonce = os.urandom(12)
    plain = json.dumps(asdict(details), default=str).encode()
    return nonce, AESGCM(key).encrypt(nonce, plain, _aad(municipality, citizen_id))


def unseal(key: bytes, nonce: bytes, sealed: bytes, municipality: str, citizen_id: str) -> PersonalDetails:
    raw = json.loads(AESGCM(key).decrypt(nonce, sealed, _aad(municipality, citizen_id)))
    born = raw.get("birth_date")
    return PersonalDetails(raw.get("cpr"), raw.get("name"), date.fromisoformat(born) if born else None)


class PersonalDetailsTables:
    """The citizens' keys and sealed details, written by the event recorder (adapters/recorder.py)."""

    def __init__(self, datastore: PostgresDatastore, prefix: str):
        self.datastore = datastore
        schema = Identifier(self.datastore.schema)
        keys = SQL("{0}.{1}").format(schema, Identifier(prefix + "_citizen_keys"))
        details = SQL("{0}.{1}").format(schema, Identifier(prefix + "_personal_details"))
        self.create_statements = [
            SQL("CREATE TABLE IF NOT EXISTS {0} (citizen uuid PRIMARY KEY, municipality text NOT NULL, "
                "citizen_id text NOT NULL, key bytea NOT NULL, last_activity timestamptz NOT NULL DEFAULT now())"
                ).format(keys),
            SQL("CREATE TABLE IF NOT EXISTS {0} (citizen uuid PRIMARY KEY REFERENCES {1} ON DELETE CASCADE, "
                "nonce bytea NOT NULL, sealed bytea NOT NULL)").format(details, keys),
        ]
        self._insert_key = SQL(
            "INSERT INTO {0} (citizen, municipality, citizen_id, key) VALUES (%s, %s, %s, %s)").format(keys)
        self._insert_details = SQL("INSERT INTO {0} (citizen, nonce, sealed) VALUES (%s, %s, %s)").format(details)
        self._touch = SQL("UPDATE {0} SET last_activity = now() WHERE citizen = ANY(%s)").format(keys)
        self._erase = SQL("DELETE FROM {0} WHERE citizen = %s").format(keys)
        self._select = SQL("SELECT k.key, k.municipality, k.citizen_id, d.nonce, d.sealed FROM {0} k "
                           "JOIN {1} d USING (citizen) WHERE k.citizen = %s").format(keys, details)
        self._shred_inactive = SQL("DELETE FROM {0} WHERE last_activity < %s").format(keys)

    def write(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], keep: Sequence[ToKeep], erase: Sequence[ToErase]
    ) -> None:
        """Within the transaction that stores the events."""
        curs.execute(self._touch, ([e.originator_id for e in stored_events],))
        for one in keep:
            key = AESGCM.generate_key(bit_length=256)
            curs.execute(self._insert_key, (one.citizen, one.municipality, one.citizen_id, key))
            curs.execute(self._insert_details, (one.citizen, *seal(key, one.municipality, one.citizen_id, one.details)))
        for one in erase:
            curs.execute(self._erase, (one.citizen,))

    def personal_details(self, citizen: UUID) -> PersonalDetails | None:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(self._select, (citizen,))
            row = curs.fetchone()
        if row is None:
            return None
        return unseal(bytes(row["key"]), bytes(row["nonce"]), bytes(row["sealed"]), row["municipality"], row["citizen_id"])

    def shred_inactive(self, before: datetime) -> int:
        """Deletes the keys and details of citizens without an event since `before`; returns how many."""
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(self._shred_inactive, (before,))
            return curs.rowcount
