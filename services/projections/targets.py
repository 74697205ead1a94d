"""Targets (måltal) per KPI and municipality, set through the API. They are settings, not
projections: kept outside the generations, so a rebuild leaves them alone, and never
overwritten, so a figure "as of" a day is compared with the target that applied then."""

from datetime import date

import asyncpg

from services.projections.store import known_by

SCHEMA = """
CREATE TABLE IF NOT EXISTS kpi_targets (
    id bigserial PRIMARY KEY,
    kpi text NOT NULL,
    municipality text NOT NULL,
    value double precision NOT NULL,
    set_by text NOT NULL,
    set_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS kpi_targets_lookup ON kpi_targets (kpi, municipality, set_at);
"""


async def set_target(db: asyncpg.Pool, kpi: str, municipality: str, value: float, set_by: str) -> dict:
    row = await db.fetchrow(
        """INSERT INTO kpi_targets (kpi, municipality, value, set_by) VALUES ($1, $2, $3, $4)
           RETURNING kpi, municipality, value, set_by, set_at""",
        kpi,
        municipality,
        value,
        set_by,
    )
    return {**dict(row), "set_at": row["set_at"].isoformat()}


async def target(db: asyncpg.Pool, kpi: str, municipality: str, as_of: date | None) -> float | None:
    return await db.fetchval(
        """SELECT value FROM kpi_targets
           WHERE kpi = $1 AND municipality = $2 AND ($3::timestamptz IS NULL OR set_at < $3)
           ORDER BY set_at DESC, id DESC LIMIT 1""",
        kpi,
        municipality,
        known_by(as_of),
    )


async def targets(db: asyncpg.Pool, municipality: str) -> dict[str, float]:
    rows = await db.fetch(
        """SELECT DISTINCT ON (kpi) kpi, value FROM kpi_targets WHERE municipality = $1
           ORDER BY kpi, set_at DESC, id DESC""",
        municipality,
    )
    return {row["kpi"]: row["value"] for row in rows}
