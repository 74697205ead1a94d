"""Reads the facts that were known on a day out of the current generation, folded into histories.

Facts are only ever added, with increasing log positions, so the facts known "as of" a day in a
generation are fixed by the generation (an id unique across databases), the highest position in it and the day: a folded history
is kept for that key and reused until a new fact arrives (dashboards and exports ask many KPIs of
the same history).
"""

from collections import OrderedDict, defaultdict
from datetime import date, datetime, time, timedelta, timezone

import asyncpg

from contracts.facts import fact_adapter
from services.projections.history import History, Record, fold
from services.projections.projector import generation_number

CACHED_HISTORIES = 8
_cache: OrderedDict[tuple, dict[str, History]] = OrderedDict()


def known_by(as_of: date | None) -> datetime | None:
    """Facts recorded before the end of the `as_of` day (UTC) were known on it."""
    return datetime.combine(as_of + timedelta(days=1), time(), tzinfo=timezone.utc) if as_of else None


async def _load(db: asyncpg.Pool, schema: str, municipality: str | None, as_of: date | None) -> dict[str, History]:
    rows = await db.fetch(
        f"""SELECT position, recorded_at, municipality, fact::text AS fact FROM {schema}.kpi_facts
            WHERE ($1::text IS NULL OR municipality = $1)
              AND ($2::timestamptz IS NULL OR recorded_at < $2)
            ORDER BY position""",
        municipality, known_by(as_of),
    )
    records: dict[str, list[Record]] = defaultdict(list)
    for row in rows:
        records[row["municipality"]].append(
            Record(row["position"], row["recorded_at"], fact_adapter.validate_json(row["fact"]))
        )
    return {m: fold(m, rs) for m, rs in records.items()}


async def _histories(db: asyncpg.Pool, municipality: str | None, as_of: date | None) -> dict[str, History]:
    generation = await db.fetchrow("SELECT schema_name, generation_id FROM projection_generation")
    schema = generation["schema_name"]
    generation_number(schema)  # interpolated into SQL below
    last = await db.fetchval(f"SELECT max(position) FROM {schema}.kpi_facts")
    key = (generation["generation_id"], last, municipality, as_of)
    if key in _cache:
        _cache.move_to_end(key)
        return _cache[key]
    result = _cache[key] = await _load(db, schema, municipality, as_of)
    while len(_cache) > CACHED_HISTORIES:
        _cache.popitem(last=False)
    return result


async def history(db: asyncpg.Pool, municipality: str, as_of: date | None) -> History:
    return (await _histories(db, municipality, as_of)).get(municipality) or fold(municipality, [])


async def histories(db: asyncpg.Pool, as_of: date | None) -> dict[str, History]:
    """Every municipality's history, for benchmarks."""
    return dict(await _histories(db, None, as_of))

