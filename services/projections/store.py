"""Reads the facts that were known on a day out of the current generation, folded into histories.

Facts are only ever added, and within a generation with increasing log positions (the projector
commits in log order), so two kinds of history can be kept in memory and reused:

- The live history of a municipality: every fact applied so far. Each query first folds in the
  facts applied since the last one, so it is as fresh as the read model and costs no full fold.
  Queries without `as_of`, or `as_of` today or later, are answered from it. `warm` folds every
  municipality's history when the service starts and after a rebuild switched the generation, so
  dashboards don't pay for the first fold.
- The history as of a past day: the facts recorded before the end of that day. Once a fact of the
  municipality recorded more than SETTLED after that moment has been applied, no fact of it recorded
  before can still come (a registration transaction takes milliseconds, not minutes), so the history
  is final and kept by (generation, municipality, day); before that it is also keyed by the
  municipality's last position. Each is the municipality's own: with the events stream partitioned
  by municipality (runtime/partitions.py) a municipality's facts are applied in log order, but
  another partition's may be applied ahead of them, so the log's last position says nothing about
  whether a municipality's facts have all come.
  An import brings facts known on past days (their source's recorded time) after that: a kept
  history is used only while no fact known before the day's end has been applied since it was folded.

Both kinds are kept under a byte budget (CASETRACK_HISTORY_BUDGET_MB; least recently used dropped)
and saved in PostgreSQL (snapshots.py): a fold — after a start, after the budget dropped a history,
of a past day — starts from the nearest snapshot it may start from rather than the first fact.
"""

import asyncio
import gc
import logging
import os
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TypeVar

import asyncpg

from contracts.facts import fact_adapter
from runtime.settings import ConfigError
from services.projections import snapshots
from services.projections.history import History, Record, advance
from services.projections.projector import generation_number

log = logging.getLogger(__name__)
T = TypeVar("T")

PAGE = 5000  # facts fetched and folded at a time; the event loop runs between pages
SETTLED = timedelta(minutes=5)
# (municipality, day) pairs: every municipality asked about a day or two fits (a benchmark across
# municipalities asks for each); the byte budget bounds what they hold.
CACHED_PAST_HISTORIES = 256
WARM_EVERY_SECONDS = 5.0
FOLDING_AT_ONCE = 3  # municipalities folded or read back at the same time after a start
# The histories kept in memory, live and past, are held under a byte budget (least recently used
# dropped, folded again when next asked for). A history's size is estimated from the facts folded
# into it: ~85 bytes a fact, measured with tracemalloc on ten years of demo history (100,000 facts
# of one municipality read back from its snapshot: 7.2 MB, folded 6.0 MB; two thirds of the facts
# are contacts, 23 bytes each as columns, columns.py). It was 120 while measurements were objects,
# planned hours a dict beside the plans and a course's or citizen's few records lists (10.2 MB
# read back), 144 a fact when each contact was an object. Estimating costs nothing per query, where
# measuring the objects would walk millions of them.
BYTES_PER_FACT = 85
# A history is saved (snapshots.py) once this many facts were folded beyond its last snapshot (a
# live one: and half as many as it had; also on the first warm round of a new day with facts
# since), so a start, or a history dropped by the budget, is read back and advanced rather than
# folded from the first fact. The warm loop saves the live histories in memory; a past day's is
# saved when folded, once settled.
SNAPSHOT_AFTER_FACTS = 5000
BUDGET_SETTING = "CASETRACK_HISTORY_BUDGET_MB"
DEFAULT_BUDGET_MB = 512


def budget_bytes() -> int:
    """The byte budget of the histories kept in memory (CASETRACK_HISTORY_BUDGET_MB, default 512)."""
    raw = os.environ.get(BUDGET_SETTING, "").strip()
    try:
        megabytes = float(raw) if raw else DEFAULT_BUDGET_MB
    except ValueError:
        raise ConfigError(f"{BUDGET_SETTING} must be a number of megabytes, got {raw!r}") from None
    if megabytes <= 0:
        raise ConfigError(f"{BUDGET_SETTING} must be above 0, got {raw!r}")
    return int(megabytes * 10**6)


def known_by(as_of: date | None) -> datetime | None:
    """Facts recorded before the end of the `as_of` day (UTC) were known on it."""
    return datetime.combine(as_of + timedelta(days=1), time(), tzinfo=UTC) if as_of else None


@dataclass(frozen=True)
class Generation:
    schema: str
    generation_id: str


async def _generation(db: asyncpg.Pool) -> Generation:
    pointer = await db.fetchrow("SELECT schema_name, generation_id FROM projection_generation")
    schema = pointer["schema_name"]
    generation_number(schema)  # interpolated into SQL below
    return Generation(schema, str(pointer["generation_id"]))


async def _last_of(db: asyncpg.Pool, schema: str, municipality: str) -> tuple[int, datetime | None]:
    """The municipality's last fact applied: its position (0 before the first) and recorded time."""
    last = await db.fetchrow(
        f"""SELECT position, recorded_at FROM {schema}.kpi_facts WHERE municipality = $1
            ORDER BY position DESC LIMIT 1""",
        municipality,
    )
    return (last["position"], last["recorded_at"]) if last else (0, None)


def _records(rows: list[asyncpg.Record]) -> list[Record]:
    return [
        Record(row["position"], row["recorded_at"], fact_adapter.validate_json(row["fact"]), row["event_id"])
        for row in rows
    ]


@dataclass
class Live:
    history: History
    position: int = 0  # the last fact folded in
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # The log position of the last fact about each course and citizen folded in: what a read model
    # kept beside the history (the roster's rows, roster_cache.py) must take in again.
    course_changed_at: dict[str, int] = field(default_factory=dict)
    citizen_changed_at: dict[str, int] = field(default_factory=dict)
    facts: int = 0  # folded in: the history's size as the budget counts it
    unidentified: int = 0  # of which without an event id
    started: bool = False  # from the nearest snapshot (snapshots.py), once
    snapshot_facts: int = 0  # facts of the last snapshot saved or started from
    snapshot_day: date | None = None  # the day it was saved

    def advance(self, records: list[Record]) -> None:
        advance(self.history, records)
        self.facts += len(records)
        self.unidentified += sum(1 for record in records if record.event_id is None)
        for record in records:
            if course := getattr(record.fact, "course_id", None):
                self.course_changed_at[course] = record.position
            if citizen := getattr(record.fact, "citizen_id", None):
                self.citizen_changed_at[citizen] = record.position
        if records:
            self.position = records[-1].position


_live: dict[tuple[str, str], Live] = {}  # (generation id, municipality)
_past: OrderedDict[tuple, tuple[History, int]] = OrderedDict()  # key -> (history, facts folded into it)
_folded_up_to: dict[tuple, int] = {}  # a kept past history's key -> the last log position when it was folded
# Every history kept, live ("live", generation id, municipality) and past ("past", *its _past key),
# with the facts folded into it; least recently used first.
_held: OrderedDict[tuple, int] = OrderedDict()


def held_bytes() -> int:
    """The estimated size of the histories kept in memory now."""
    return sum(_held.values()) * BYTES_PER_FACT


def _used(key: tuple, facts: int) -> None:
    """The history under `key` (holding `facts` facts) was just used: it is the last to be dropped.
    Then the least recently used others are dropped until the rest fit the budget; the one in use
    is kept even if it alone is larger."""
    _held[key] = facts
    _held.move_to_end(key)
    budget = budget_bytes()
    for old in list(_held):
        if held_bytes() <= budget:
            break
        if old != key:
            _forget(old)


def _forget(key: tuple) -> None:
    _held.pop(key, None)
    if key[0] == "live":
        _live.pop(key[1:], None)
    else:
        _past.pop(key[1:], None)


async def _advance(db: asyncpg.Pool, schema: str, live: Live) -> History:
    """Folds in the municipality's facts applied after the last one folded, a page at a time."""
    async with live.lock:
        if not live.started:
            live.started = True
            snapshot = await snapshots.nearest(db, schema, live.history.municipality, None)
            if snapshot is not None:
                live.history, live.position = snapshot.history, snapshot.position
                live.facts, live.unidentified = snapshot.facts, snapshot.unidentified
                live.course_changed_at, live.citizen_changed_at = (
                    snapshot.course_changed_at,
                    snapshot.citizen_changed_at,
                )
                live.snapshot_facts, live.snapshot_day = snapshot.facts, datetime.now(UTC).date()
                _kept_for_long()
        while True:
            rows = await db.fetch(
                f"""SELECT position, recorded_at, event_id, fact::text AS fact FROM {schema}.kpi_facts
                    WHERE municipality = $1 AND position > $2 ORDER BY position LIMIT {PAGE}""",
                live.history.municipality,
                live.position,
            )
            if rows:
                live.advance(_records(rows))
            if len(rows) < PAGE:
                return live.history
            await asyncio.sleep(0)


async def _live_history(db: asyncpg.Pool, generation: Generation, municipality: str) -> History:
    return (await _live_of(db, generation, municipality)).history


async def _live_of(db: asyncpg.Pool, generation: Generation, municipality: str) -> Live:
    for key in [k for k in _live if k[0] != generation.generation_id]:
        _forget(("live", *key))  # an earlier generation: a rebuild switched away from it
    live = _live.setdefault((generation.generation_id, municipality), Live(History(municipality)))
    await _advance(db, generation.schema, live)
    if _live.get((generation.generation_id, municipality)) is live:  # not dropped meanwhile
        _used(("live", generation.generation_id, municipality), live.facts)
    return live


async def live(db: asyncpg.Pool, municipality: str) -> tuple[str, Live]:
    """The municipality's live history with what changed in it, and the generation it is of."""
    generation = await _generation(db)
    return generation.generation_id, await _live_of(db, generation, municipality)


async def _past_history(
    db: asyncpg.Pool, generation: Generation, municipality: str, as_of: date
) -> tuple[History, int]:
    """The municipality's history as of the end of `as_of`, with the number of facts folded into it."""
    cutoff = known_by(as_of)
    assert cutoff is not None  # a past day has an end
    last_position, last_recorded_at = await _last_of(db, generation.schema, municipality)
    settled = last_recorded_at is not None and last_recorded_at > cutoff + SETTLED
    key = (generation.generation_id, municipality, as_of, None if settled else last_position)
    if key in _past and settled and await _known_since(db, generation.schema, municipality, cutoff, key):
        _past.pop(key)  # an import brought facts known on that day: folded again
    if key in _past:
        _past.move_to_end(key)
        _used(("past", *key), _held.get(("past", *key), 0))
        return _past[key]
    result = History(municipality)
    after, facts, unidentified, started_from = 0, 0, 0, 0
    if settled:
        snapshot = await snapshots.nearest(db, generation.schema, municipality, cutoff)
        if snapshot is not None:
            result = snapshot.history
            after, facts, unidentified = snapshot.position, snapshot.facts, snapshot.unidentified
            started_from = snapshot.facts
    while True:  # a page at a time, so only one page of parsed facts is in memory besides the fold
        rows = await db.fetch(
            f"""SELECT position, recorded_at, event_id, fact::text AS fact
                FROM {generation.schema}.kpi_facts
                WHERE municipality = $1 AND recorded_at < $2 AND position > $3
                ORDER BY position LIMIT {PAGE}""",
            municipality,
            cutoff,
            after,
        )
        advance(result, _records(rows))
        facts += len(rows)
        unidentified += sum(1 for row in rows if row["event_id"] is None)
        if len(rows) < PAGE:
            if rows:
                after = rows[-1]["position"]
            break
        after = rows[-1]["position"]
    if settled and facts - started_from >= SNAPSHOT_AFTER_FACTS:
        kept = snapshots.Snapshot(after, facts, unidentified, result, {}, {})
        await snapshots.save(db, kept, cutoff)  # settled: the next replica or start begins here
    for old in [k for k in _folded_up_to if k not in _past]:
        del _folded_up_to[old]  # dropped from the cache meanwhile
    _folded_up_to[key] = last_position
    _past[key] = result, facts
    _used(("past", *key), facts)
    while len(_past) > CACHED_PAST_HISTORIES:
        _forget(("past", *next(iter(_past))))
    _kept_for_long()
    return result, facts


async def _known_since(db: asyncpg.Pool, schema: str, municipality: str, cutoff: datetime, key: tuple) -> bool:
    """Whether a fact known before `cutoff` was applied after the kept history `key` was folded.
    Facts told to casetrack come in the order they were recorded, so a settled day gets none; an
    imported fact (EventMessage.imported) is known from its source's recorded time, any past day."""
    return bool(
        await db.fetchval(
            f"""SELECT EXISTS (SELECT 1 FROM {schema}.kpi_facts
                WHERE municipality = $1 AND recorded_at < $2 AND position > $3)""",
            municipality,
            cutoff,
            _folded_up_to.get(key, 0),
        )
    )


def _kept_for_long() -> None:
    """Histories live until a rebuild or the cache lets them go, hold no reference cycles (plain
    refcounting frees them) and are millions of objects: the cyclic garbage collector would walk
    them all on every full collection, a pause of a good part of a second. Freezing moves what is
    alive now out of its reach."""
    gc.freeze()


def is_past(as_of: date | None) -> bool:
    return as_of is not None and as_of < datetime.now(UTC).date()


async def history(db: asyncpg.Pool, municipality: str, as_of: date | None) -> History:
    generation = await _generation(db)
    if is_past(as_of):
        assert as_of is not None
        return (await _past_history(db, generation, municipality, as_of))[0]
    return await _live_history(db, generation, municipality)


async def _municipalities(db: asyncpg.Pool, schema: str) -> list[str]:
    # A loose index scan: one probe of the (municipality, position) index per municipality.
    rows = await db.fetch(
        f"""WITH RECURSIVE m AS (
                (SELECT municipality FROM {schema}.kpi_facts ORDER BY municipality LIMIT 1)
                UNION ALL
                SELECT (SELECT municipality FROM {schema}.kpi_facts WHERE municipality > m.municipality
                        ORDER BY municipality LIMIT 1) FROM m WHERE m.municipality IS NOT NULL)
            SELECT municipality FROM m WHERE municipality IS NOT NULL"""
    )
    return [row["municipality"] for row in rows]


async def histories(db: asyncpg.Pool, as_of: date | None) -> dict[str, History]:
    """Every municipality's history (benchmarks across municipalities)."""
    generation = await _generation(db)
    municipalities = await _municipalities(db, generation.schema)
    if is_past(as_of):
        assert as_of is not None
        past = await _each(municipalities, lambda municipality: _past_history(db, generation, municipality, as_of))
        # A municipality whose first fact came after that day was not there yet.
        return {m: history for m, (history, facts) in zip(municipalities, past, strict=True) if facts}

    async def fold_one(municipality: str) -> Live:
        live = await _live_of(db, generation, municipality)
        _kept_for_long()
        return live

    lives = await _each(municipalities, fold_one)
    return {m: live.history for m, live in zip(municipalities, lives, strict=True)}


async def _each(municipalities: list[str], work: Callable[[str], Awaitable[T]]) -> list[T]:
    """`work` for each municipality, FOLDING_AT_ONCE at a time: one's reading from the database (a
    snapshot, its check, the facts) overlaps another's folding or unpickling."""
    room = asyncio.Semaphore(FOLDING_AT_ONCE)

    async def one(municipality: str) -> T:
        async with room:
            return await work(municipality)

    return list(await asyncio.gather(*(one(m) for m in municipalities)))


async def _keep_snapshot(db: asyncpg.Pool, live: Live) -> None:
    """Saves the live history if it grew by half or SNAPSHOT_AFTER_FACTS, whichever is more, since
    its last snapshot (so an import saves it a few times, not every few thousand facts), or by any
    fact on a new day (a start for `as_of` the days after it, snapshots.py)."""
    today = datetime.now(UTC).date()
    new = live.facts - live.snapshot_facts
    if new < max(SNAPSHOT_AFTER_FACTS, live.snapshot_facts // 2) and not (new > 0 and live.snapshot_day != today):
        return
    async with live.lock:  # no fact folded in while it is pickled
        kept = snapshots.Snapshot(
            live.position,
            live.facts,
            live.unidentified,
            live.history,
            dict(live.course_changed_at),
            dict(live.citizen_changed_at),
        )
        await snapshots.save(db, kept, None)
        live.snapshot_facts, live.snapshot_day = live.facts, today


async def warm(db: asyncpg.Pool, stop: asyncio.Event) -> None:
    """Keeps every municipality's live history folded, across starts and generation switches."""
    warmed = None
    while not stop.is_set():
        try:
            generation = await _generation(db)
            if generation.generation_id != warmed:
                started = asyncio.get_running_loop().time()

                async def fold_and_keep(municipality: str, generation: Generation = generation) -> Live:
                    live = await _live_of(db, generation, municipality)
                    _kept_for_long()  # each one: the next fold's collections need not walk it
                    await _keep_snapshot(db, live)
                    return live

                await _each(await _municipalities(db, generation.schema), fold_and_keep)
                _kept_for_long()
                warmed = generation.generation_id
                log.info(
                    "live histories folded",
                    extra={
                        "generation": generation.schema,
                        "seconds": round(asyncio.get_running_loop().time() - started, 2),
                    },
                )
            else:
                for (generation_id, _), kept in list(_live.items()):
                    if generation_id == generation.generation_id:
                        await _keep_snapshot(db, kept)
        except Exception as error:  # the database may be restarting: try again on the next round
            log.warning("could not fold the live histories yet", extra={"error": repr(error)})
        try:
            await asyncio.wait_for(stop.wait(), WARM_EVERY_SECONDS)
        except TimeoutError:
            pass
