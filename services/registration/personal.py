"""Personal details (CPR, name, birth date), encrypted with a key of the citizen's own.

A citizen's details are sealed with AES-256-GCM under a random key kept for that citizen alone
(associated data: municipality and pseudonym, so a sealed blob cannot be moved to another citizen).
That key is stored only wrapped under a master key that is not in the database (masterkeys.py), so
a dump of the tables alone opens nothing. Erasure deletes the key and the blob (crypto-shredding):
the pseudonymous history stays for the statistics, the details are gone. Both are written by the
event recorder in the transaction that stores the citizen's event, so details exist exactly when
their CitizenRegistered does, and are gone exactly when CitizenErased is stored.

Retention: each stored event of a citizen moves the key's `last_activity`; `shred_inactive` deletes
the keys (and blobs) of citizens with no event since a cut-off.

Keys stored before wrapping existed (`master_key_id` NULL: the bare key) are still read, and
`rewrap_keys` wraps them; registration does so on start. `python -m services.registration.rewrap`
also moves the keys wrapped under an older master key of the keyring to the first (rotation): not
on start, as replicas still running with the old keyring could not read them.
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
from services.registration.masterkeys import Keyring, Wrapped


@dataclass(frozen=True)
class PersonalDetails:
    cpr: str | None = None
    name: str | None = None
    birth_date: date | None = None

    def __bool__(self) -> bool:
        return any(v is not None for v in (self.cpr, self.name, self.birth_date))


@dataclass(frozen=True)
class ToKeep:
    """A citizen's sealed details and their key, wrapped: stored in the transaction that stores
    their registration."""

    citizen: UUID
    municipality: str
    citizen_id: str
    key: Wrapped
    nonce: bytes
    sealed: bytes

    @classmethod
    def seal(
        cls, keyring: Keyring, citizen: UUID, municipality: str, citizen_id: str, details: PersonalDetails
    ) -> "ToKeep":
        key = AESGCM.generate_key(bit_length=256)
        nonce, sealed = seal(key, municipality, citizen_id, details)
        return cls(citizen, municipality, citizen_id, keyring.wrap(key, citizen), nonce, sealed)


@dataclass(frozen=True)
class Rewrapped:
    """What `rewrap_keys` did, and how many keys each master key wraps afterwards (None: bare)."""

    wrapped_bare: int
    rewrapped: int
    per_master_key: dict[str | None, int]


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
    """The citizens' wrapped keys and sealed details, written by the event recorder (adapters/recorder.py)."""

    REWRAP_BATCH = 500

    def __init__(self, datastore: PostgresDatastore, prefix: str):
        self.datastore = datastore
        schema = Identifier(self.datastore.schema)
        keys = SQL("{0}.{1}").format(schema, Identifier(prefix + "_citizen_keys"))
        details = SQL("{0}.{1}").format(schema, Identifier(prefix + "_personal_details"))
        self.create_statements = [
            # key: the citizen's key wrapped under master key master_key_id (NULL: the bare key, as
            # stored before wrapping, until rewrap_keys wraps it).
            SQL(
                "CREATE TABLE IF NOT EXISTS {0} (citizen uuid PRIMARY KEY, municipality text NOT NULL, "
                "citizen_id text NOT NULL, key bytea NOT NULL, last_activity timestamptz NOT NULL DEFAULT now(), "
                "master_key_id text)"
            ).format(keys),
            SQL("ALTER TABLE {0} ADD COLUMN IF NOT EXISTS master_key_id text").format(keys),
            SQL(
                "CREATE TABLE IF NOT EXISTS {0} (citizen uuid PRIMARY KEY REFERENCES {1} ON DELETE CASCADE, "
                "nonce bytea NOT NULL, sealed bytea NOT NULL)"
            ).format(details, keys),
        ]
        self._insert_key = SQL(
            "INSERT INTO {0} (citizen, municipality, citizen_id, master_key_id, key) VALUES (%s, %s, %s, %s, %s)"
        ).format(keys)
        self._insert_details = SQL("INSERT INTO {0} (citizen, nonce, sealed) VALUES (%s, %s, %s)").format(details)
        self._touch = SQL("UPDATE {0} SET last_activity = now() WHERE citizen = ANY(%s)").format(keys)
        self._erase = SQL("DELETE FROM {0} WHERE citizen = %s").format(keys)
        self._select = SQL(
            "SELECT k.master_key_id, k.key, k.municipality, k.citizen_id, d.nonce, d.sealed FROM {0} k "
            "JOIN {1} d USING (citizen) WHERE k.citizen = %s"
        ).format(keys, details)
        self._shred_inactive = SQL("DELETE FROM {0} WHERE last_activity < %s").format(keys)
        self._select_to_rewrap = SQL(
            "SELECT citizen, master_key_id, key FROM {0} WHERE master_key_id IS NULL OR master_key_id = ANY(%s) "
            "LIMIT %s FOR UPDATE SKIP LOCKED"
        ).format(keys)
        self._update_key = SQL("UPDATE {0} SET master_key_id = %s, key = %s WHERE citizen = %s").format(keys)
        self._count_per_master_key = SQL("SELECT master_key_id, count(*) AS n FROM {0} GROUP BY master_key_id").format(
            keys
        )

    def write(
        self,
        curs: Cursor[DictRow],
        stored_events: Sequence[StoredEvent],
        keep: Sequence[ToKeep],
        erase: Sequence[ToErase],
    ) -> None:
        """Within the transaction that stores the events."""
        curs.execute(self._touch, ([e.originator_id for e in stored_events],))
        for one in keep:
            curs.execute(
                self._insert_key, (one.citizen, one.municipality, one.citizen_id, one.key.master_key_id, one.key.blob)
            )
            curs.execute(self._insert_details, (one.citizen, one.nonce, one.sealed))
        for gone in erase:
            curs.execute(self._erase, (gone.citizen,))

    def personal_details(self, citizen: UUID, keyring: Keyring) -> PersonalDetails | None:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(self._select, (citizen,))
            row = curs.fetchone()
        if row is None:
            return None
        stored = bytes(row["key"])
        key = stored if row["master_key_id"] is None else keyring.unwrap(Wrapped(row["master_key_id"], stored), citizen)
        return unseal(key, bytes(row["nonce"]), bytes(row["sealed"]), row["municipality"], row["citizen_id"])

    def shred_inactive(self, before: datetime) -> int:
        """Deletes the keys and details of citizens without an event since `before`; returns how many."""
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(self._shred_inactive, (before,))
            return curs.rowcount

    def rewrap_keys(self, keyring: Keyring, bare_only: bool = False) -> Rewrapped:
        """Wraps every key under the keyring's first master key: bare keys (stored before wrapping)
        and, unless `bare_only`, keys wrapped under another master key of the ring. Keys under a
        master key the ring does not hold are left as they are (see `per_master_key`). Safe beside
        other writers and another process doing the same: a batch takes its rows FOR UPDATE SKIP LOCKED."""
        if keyring.current_id is None:
            raise ValueError("rewrap_keys needs a master key")
        older = [] if bare_only else [key_id for key_id in keyring.ids if key_id != keyring.current_id]
        bare = rewrapped = 0
        while True:
            with self.datastore.transaction(commit=True) as curs:
                curs.execute(self._select_to_rewrap, (older, self.REWRAP_BATCH))
                rows = curs.fetchall()
                for row in rows:
                    citizen, stored = row["citizen"], bytes(row["key"])
                    if row["master_key_id"] is None:
                        key, bare = stored, bare + 1
                    else:
                        key, rewrapped = keyring.unwrap(Wrapped(row["master_key_id"], stored), citizen), rewrapped + 1
                    wrapped = keyring.wrap(key, citizen)
                    curs.execute(self._update_key, (wrapped.master_key_id, wrapped.blob, citizen))
            if len(rows) < self.REWRAP_BATCH:
                break
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(self._count_per_master_key)
            per_master_key = {row["master_key_id"]: row["n"] for row in curs.fetchall()}
        return Rewrapped(bare, rewrapped, per_master_key)
