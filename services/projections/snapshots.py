"""Folded histories kept in PostgreSQL, so a fold starts from the nearest one instead of the first fact.

A snapshot is a municipality's history folded from the facts up to a log position — every such fact
(a live history), or those recorded before a moment (a history as of a past day) — pickled with
what the roster takes in from it (store.Live's `*_changed_at`). A fold may start from a snapshot
when the facts up to its position that the fold wants are exactly the facts the snapshot took:
counted in the current generation's `kpi_facts` (facts are only ever added, so equal counts mean
equal sets), with as many without an event id. So a snapshot survives a restart and a rebuild of
the same stream (the same facts at the same positions), one no longer valid (a parked fact
re-driven into its range) is simply passed over, and facts imported later (recorded back then,
at later positions) are read after it like any other.

A live snapshot is usable for `as_of` a later day as long as nothing recorded after that day sits
at a position before it: with facts registered live (positions in the order they were recorded),
a snapshot taken each day is a start for every later day. A history imported with its original
recorded times may fail that check and is then folded from the first fact, as without snapshots.

The pickle is read back only by this service from its own table, written only by it: whoever can
write that table could run code in projections, the same trust as its database user. Snapshots of
another version of the fold's code or layout (`CODE`, with `FORMAT`) are never read (and are
deleted as new ones are saved).
"""

import asyncio
import copyreg
import gc
import hashlib
import io
import logging
import pickle
import sys
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID, SafeUUID

import asyncpg

from contracts import codes, facts, instruments, methods
from services.projections import columns
from services.projections import history as history_module
from services.projections.history import History

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS history_snapshots (
    snapshot_id bigserial PRIMARY KEY,
    municipality text NOT NULL,
    known_before timestamptz,          -- took the facts recorded before it; NULL: every fact (live)
    position bigint NOT NULL,          -- took the facts up to this log position
    facts bigint NOT NULL,             -- how many it took
    unidentified bigint NOT NULL,      -- of which without an event id (old rows, before a rebuild)
    code text NOT NULL,                -- the fold's code it was made with (CODE)
    taken_at timestamptz NOT NULL DEFAULT now(),
    data bytea NOT NULL                -- zlib(pickle((History, course_changed_at, citizen_changed_at)))
);
CREATE INDEX IF NOT EXISTS history_snapshots_nearest ON history_snapshots (municipality, code, position DESC);
"""

KEEP = 8  # per municipality: the newest live snapshots, and as many of past days
CANDIDATES = 3  # snapshots checked (one of the same moment, then the highest position first) before a full fold


# The layout of what is pickled, beside the code's fingerprint: 2 since a course's contacts and time
# plans are columns (columns.py), 3 since a measurement's answers are packed and dates are read back
# as columns.day_of; snapshots of another format are passed over and deleted.
FORMAT = 3


def _code() -> str:
    """A fingerprint of the code a history is folded and pickled with, and of the FORMAT."""
    digest = hashlib.sha256(f"{sys.version_info[:2]} format {FORMAT}".encode())
    for module in (history_module, columns, facts, codes, instruments, methods):
        digest.update(Path(str(module.__file__)).read_bytes())
    return digest.hexdigest()[:16]


CODE = _code()


@dataclass
class Snapshot:
    position: int
    facts: int
    unidentified: int
    history: History
    course_changed_at: dict[str, int]
    citizen_changed_at: dict[str, int]


_UNKNOWN = SafeUUID.unknown


def _uuid(value: int) -> UUID:
    """An event id read back: UUID's own state reads an enum member per id (slow on Python 3.11)."""
    uuid = object.__new__(UUID)
    object.__setattr__(uuid, "int", value)
    object.__setattr__(uuid, "is_safe", _UNKNOWN)
    return uuid


def _reduce_uuid(uuid: UUID) -> tuple[Callable[..., Any], tuple[Any, ...]]:
    return (_uuid, (uuid.int,))


def _reduce_date(day: date) -> tuple[Callable[..., Any], tuple[Any, ...]]:
    """A date read back as the process's one date object of that day (columns.day_of): the twenty
    histories a replica may hold share their ~4,000 days instead of ~17,000 dates each."""
    return (columns.day_of, (day.toordinal(),))


_DISPATCH = copyreg.dispatch_table.copy()
_DISPATCH[UUID] = _reduce_uuid
_DISPATCH[date] = _reduce_date  # exactly dates: a datetime is another type


def _dump(history: History, course_changed_at: dict[str, int], citizen_changed_at: dict[str, int]) -> bytes:
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=5)
    pickler.dispatch_table = _DISPATCH
    pickler.dump((history, course_changed_at, citizen_changed_at))
    return zlib.compress(buffer.getvalue(), 1)


def _load(data: bytes) -> tuple[History, dict[str, int], dict[str, int]]:
    """The pickle read back with the cyclic garbage collector paused: the hundreds of thousands of
    objects it makes would otherwise set off full collections that walk every history already in
    memory (ten histories of 100,000 facts read back one after the other: 12 s, paused: 2.6 s)."""
    raw = zlib.decompress(data)
    paused = gc.isenabled()
    gc.disable()
    try:
        loaded: tuple[History, dict[str, int], dict[str, int]] = pickle.loads(raw)  # noqa: S301 - our own table
    finally:
        if paused:
            gc.enable()
    return loaded


async def nearest(db: asyncpg.Pool, schema: str, municipality: str, known_before: datetime | None) -> Snapshot | None:
    """A snapshot a fold of the facts recorded before `known_before` (every fact when None) may
    start from — one of that same moment first, else the one with the highest position — or None."""
    try:
        candidates = await db.fetch(
            """SELECT snapshot_id, known_before, position, facts, unidentified FROM history_snapshots
               WHERE municipality = $1 AND code = $2
               ORDER BY known_before IS NOT DISTINCT FROM $4 DESC, position DESC, taken_at DESC LIMIT $3""",
            municipality,
            CODE,
            CANDIDATES,
            known_before,
        )
    except asyncpg.UndefinedTableError:
        return None  # not prepared (SCHEMA): no snapshots
    for candidate in candidates:
        counts = await db.fetchrow(
            f"""SELECT count(*) FILTER (WHERE $3::timestamptz IS NULL OR recorded_at < $3) AS wanted,
                       count(*) FILTER (WHERE $4::timestamptz IS NULL OR recorded_at < $4) AS taken,
                       count(*) FILTER (WHERE ($4::timestamptz IS NULL OR recorded_at < $4)
                                        AND event_id IS NULL) AS unidentified
                FROM {schema}.kpi_facts WHERE municipality = $1 AND position <= $2""",
            municipality,
            candidate["position"],
            known_before,
            candidate["known_before"],
        )
        if not counts["wanted"] == counts["taken"] == candidate["facts"]:
            continue
        if counts["unidentified"] != candidate["unidentified"]:
            continue
        data = await db.fetchval("SELECT data FROM history_snapshots WHERE snapshot_id = $1", candidate["snapshot_id"])
        if data is None:
            continue  # deleted meanwhile
        history, course_changed_at, citizen_changed_at = await asyncio.to_thread(_load, data)
        return Snapshot(
            candidate["position"],
            candidate["facts"],
            candidate["unidentified"],
            history,
            course_changed_at,
            citizen_changed_at,
        )
    return None


async def save(
    db: asyncpg.Pool,
    snapshot: Snapshot,
    known_before: datetime | None,
) -> None:
    """Keeps `snapshot` (of the facts recorded before `known_before`, every fact when None), and
    lets the older ones of its kind beyond KEEP go. The history must not change meanwhile."""
    history = snapshot.history
    data = await asyncio.to_thread(_dump, history, snapshot.course_changed_at, snapshot.citizen_changed_at)
    try:
        async with db.acquire() as connection, connection.transaction():
            await connection.execute(
                """INSERT INTO history_snapshots
                   (municipality, known_before, position, facts, unidentified, code, data)
                   VALUES ($1, $2, $3, $4, $5, $6, $7)""",
                history.municipality,
                known_before,
                snapshot.position,
                snapshot.facts,
                snapshot.unidentified,
                CODE,
                data,
            )
            await connection.execute(
                """DELETE FROM history_snapshots WHERE municipality = $1 AND (code <> $2 OR (
                       (known_before IS NULL) = $3 AND snapshot_id NOT IN (
                           SELECT snapshot_id FROM history_snapshots
                           WHERE municipality = $1 AND code = $2 AND (known_before IS NULL) = $3
                           ORDER BY taken_at DESC, snapshot_id DESC LIMIT $4)))""",
                history.municipality,
                CODE,
                known_before is None,
                KEEP,
            )
    except asyncpg.UndefinedTableError:
        log.warning("history snapshots are not prepared: none kept", extra={"municipality": history.municipality})
