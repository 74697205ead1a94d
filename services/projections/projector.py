"""Applies events to the KPI read models.

The read models live in a generation schema (`kpi_g1`, `kpi_g2`, ...) named by the pointer row in
`projection_generation`; a rebuild fills the next generation while this one keeps serving, then
moves the pointer (rebuild.py). Every fact is kept as a row with its effective date AND the time
it was recorded, never updated, so any figure can be re-computed "as of" an earlier day.
"""

import re

import asyncpg

from contracts.events import EventMessage

# Outside the generations: operations counters and the pointer.
SCHEMA = """
CREATE TABLE IF NOT EXISTS projection_event_counts (
    event_type text PRIMARY KEY,
    applied bigint NOT NULL
);
CREATE TABLE IF NOT EXISTS projection_generation (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    schema_name text NOT NULL,
    generation_id uuid NOT NULL DEFAULT gen_random_uuid(),  -- unique across databases, for caches
    switched_at timestamptz NOT NULL DEFAULT now()
);
"""

GENERATION_SCHEMA = """
CREATE SCHEMA IF NOT EXISTS {schema};
CREATE TABLE IF NOT EXISTS {schema}.kpi_facts (
    position bigint PRIMARY KEY,          -- registration-log position: the global order
    event_type text NOT NULL,
    municipality text NOT NULL,
    citizen_id text,
    course_id text,
    effective_date date NOT NULL,         -- when it happened
    recorded_at timestamptz NOT NULL,     -- when it became known: casetrack told, or an import's source
    fact jsonb NOT NULL
);
-- The stored event's id, which a FactWithdrawn names (a generation made before it was kept has
-- none in its earlier rows: a rebuild fills them in).
ALTER TABLE {schema}.kpi_facts ADD COLUMN IF NOT EXISTS event_id uuid;
"""
GENERATION_INDEXES = """
CREATE INDEX IF NOT EXISTS kpi_facts_known ON {schema}.kpi_facts (municipality, recorded_at);
CREATE INDEX IF NOT EXISTS kpi_facts_course ON {schema}.kpi_facts (municipality, course_id);
CREATE INDEX IF NOT EXISTS kpi_facts_municipality ON {schema}.kpi_facts (municipality, position);
"""

FIRST_GENERATION = "kpi_g1"
_GENERATION_NAME = re.compile(r"^kpi_g(\d+)$")


def generation_number(schema: str) -> int:
    match = _GENERATION_NAME.match(schema)
    if match is None:
        raise ValueError(f"not a generation schema: {schema!r}")
    return int(match.group(1))


async def create_generation(db: asyncpg.Connection | asyncpg.Pool, schema: str, *, indexes: bool = True) -> None:
    """`indexes=False` for a bulk fill, which is faster without them; `create_indexes` afterwards."""
    generation_number(schema)  # the name is interpolated into SQL: only kpi_g<N> passes
    await db.execute(GENERATION_SCHEMA.format(schema=schema))
    if indexes:
        await create_indexes(db, schema)


async def create_indexes(db: asyncpg.Connection | asyncpg.Pool, schema: str) -> None:
    generation_number(schema)
    await db.execute(GENERATION_INDEXES.format(schema=schema))


async def prepare(db: asyncpg.Pool) -> None:
    """Creates the shared tables and, on first start, the first generation and its pointer."""
    async with db.acquire() as connection, connection.transaction():
        await connection.execute("SELECT pg_advisory_xact_lock(hashtext('casetrack:projection_generation'))")
        await connection.execute(SCHEMA)
        current = await connection.fetchval("SELECT schema_name FROM projection_generation")
        if current is None:
            await connection.execute("INSERT INTO projection_generation (schema_name) VALUES ($1)", FIRST_GENERATION)
        # Also brings a generation made by an earlier version up to this one's tables and indexes.
        await create_generation(connection, current or FIRST_GENERATION)


async def current_generation(db: asyncpg.Connection | asyncpg.Pool) -> str:
    schema = await db.fetchval("SELECT schema_name FROM projection_generation")
    generation_number(schema)
    return schema


_RECORD_FACT = """INSERT INTO {schema}.kpi_facts
        (position, event_type, municipality, citizen_id, course_id, effective_date, recorded_at, fact, event_id)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9)
    ON CONFLICT (position) DO NOTHING"""


def _fact_row(event: EventMessage) -> tuple:
    fact = event.fact
    return (
        event.position,
        fact.type,
        fact.municipality,
        getattr(fact, "citizen_id", None),
        getattr(fact, "course_id", None),
        fact.effective_date,
        event.known_at,  # an imported fact: when its source recorded it, so `as_of` answers as the source would
        fact.model_dump_json(),
        event.event_id,
    )


async def record_fact(db: asyncpg.Connection, schema: str, event: EventMessage) -> None:
    """Idempotent by log position: a fact already in the generation is left as it is."""
    await db.execute(_RECORD_FACT.format(schema=schema), *_fact_row(event))


_FACT_COLUMNS = (
    "position",
    "event_type",
    "municipality",
    "citizen_id",
    "course_id",
    "effective_date",
    "recorded_at",
    "fact",
    "event_id",
)
_STAGING = "kpi_facts_staging"


async def record_facts(db: asyncpg.Connection, schema: str, events: list[EventMessage]) -> None:
    """`record_fact` for many events (rebuilds), idempotent by position like it. COPY cannot skip
    a row that is there already, so the rows are copied into a temporary table of this connection
    and go on with one INSERT ... SELECT ... ON CONFLICT (position) DO NOTHING."""
    if not events:
        return
    await db.execute(f"CREATE TEMPORARY TABLE IF NOT EXISTS {_STAGING} (LIKE {schema}.kpi_facts); TRUNCATE {_STAGING}")
    await db.copy_records_to_table(_STAGING, records=[_fact_row(event) for event in events], columns=_FACT_COLUMNS)
    columns = ", ".join(_FACT_COLUMNS)
    await db.execute(f"""INSERT INTO {schema}.kpi_facts ({columns}) SELECT {columns} FROM {_STAGING}
                         ON CONFLICT (position) DO NOTHING""")


async def apply(db: asyncpg.Connection, event: EventMessage) -> None:
    # The pointer is read in the applier's transaction: a switch-over (which holds the consumer's
    # checkpoint row) either happened before, and this goes to the new generation, or after.
    await record_fact(db, await current_generation(db), event)
    await db.execute(
        """INSERT INTO projection_event_counts (event_type, applied) VALUES ($1, 1)
           ON CONFLICT (event_type) DO UPDATE SET applied = projection_event_counts.applied + 1""",
        event.type,
    )


async def apply_out_of_order(db: asyncpg.Connection, event: EventMessage) -> None:
    """`apply` for an event that comes after later ones were applied (a re-drive of a parked event).
    The generation gets a new id, so the histories kept in memory (store.py), which take in only
    facts after the last one they hold, are folded again."""
    await apply(db, event)
    await db.execute("UPDATE projection_generation SET generation_id = gen_random_uuid()")
