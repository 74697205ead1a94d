"""Reads the facts that were known on a day out of the current generation, folded into histories."""

from collections import defaultdict
from datetime import date, datetime, time, timedelta, timezone

import asyncpg

from contracts.facts import fact_adapter
from services.projections.history import History, Record, fold
from services.projections.projector import current_generation


def known_by(as_of: date | None) -> datetime | None:
    """Facts recorded before the end of the `as_of` day (UTC) were known on it."""
    return datetime.combine(as_of + timedelta(days=1), time(), tzinfo=timezone.utc) if as_of else None


async def load_records(db: asyncpg.Pool, municipality: str | None, as_of: date | None) -> dict[str, list[Record]]:
    schema = await current_generation(db)
    rows = await db.fetch(
        f"""SELECT position, recorded_at, municipality, fact::text AS fact FROM {schema}.kpi_facts
            WHERE ($1::text IS NULL OR municipality = $1)
              AND ($2::timestamptz IS NULL OR recorded_at < $2)
            ORDER BY position""",
        municipality, known_by(as_of),
    )
    records: dict[str, list[Record]] = defaultdict(list)
    for row in rows:
        fact = fact_adapter.validate_json(row["fact"])
        records[row["municipality"]].append(Record(row["position"], row["recorded_at"], fact))
    return records


async def history(db: asyncpg.Pool, municipality: str, as_of: date | None) -> History:
    records = await load_records(db, municipality, as_of)
    return fold(municipality, records.get(municipality, []))


async def histories(db: asyncpg.Pool, as_of: date | None) -> dict[str, History]:
    """Every municipality's history, for benchmarks."""
    return {m: fold(m, records) for m, records in (await load_records(db, None, as_of)).items()}
