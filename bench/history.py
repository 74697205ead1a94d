"""How the cost of the folded histories grows with the history (issue 21 points 3-4, issue 20 point 3).

    .venv/bin/python -m bench.history --sizes 100000,300000,1000000

For each size: the benchmark's ten years of demo history (bench/workload.py) written straight
into a fresh read model (`kpi_facts`, as the projector and a rebuild write it), then the store's
own code (services/projections/store.py) timed in this process, each figure beside its raw
baseline where there is one:

- folds after a start: every municipality's live history, from the first fact (no snapshot: what a
  start cost before snapshots) and read back from the snapshots saved by the first;
- first `as_of` query 400 days ago, the slowest of the ten municipalities: folded from the facts
  (the demo history is imported with its recorded times, so no live snapshot is a valid start) and,
  after a start, read back from that day's snapshot;
- a replica's memory: a child process that answers, round after round, the live history and the
  one as of 400 days ago of each municipality, with CASETRACK_HISTORY_BUDGET_MB=100 and with the
  default budget (everything kept): its peak RSS and the time a round takes.

Each figure is printed at every size with the growth factor from the previous size (the size grew
by the factor in the header: a figure growing by that factor is linear in the history).
"""

import argparse
import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import asyncpg
import psutil

from bench import workload
from bench.scratch import scratch_postgres
from contracts.events import EventMessage
from contracts.facts import fact_adapter
from services.projections import projector, snapshots, store
from tests.support import create_database

REPLICA_BUDGET_MB = 100
GOALS_AT = 1_000_000  # the issues' goals are for a history of this many events
ROUNDS = 3


def _as_of() -> datetime:
    return datetime.now(UTC) - timedelta(days=400)


async def fill(database_url: str, count: int) -> None:
    """The read model of `count` events of demo history, as the projector writes it."""
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    try:
        await projector.prepare(pool)
        await pool.execute(snapshots.SCHEMA)
        events = workload.history_events(count)
        # Then one fact of each municipality registered now, as in a running system: every past day
        # has settled (store.py keeps and saves a past day's history once a fact of that
        # municipality recorded after it is in).
        for municipality in workload.MUNICIPALITIES:
            now = fact_adapter.validate_python(
                {
                    "type": "HandleplanCreated",
                    "municipality": municipality,
                    "citizen_id": "bench-now",
                    "effective_date": datetime.now(UTC).date().isoformat(),
                }
            )
            events.append(
                EventMessage(
                    event_id=uuid4(),
                    position=len(events) + 1,
                    schema_version=1,
                    recorded_at=datetime.now(UTC),
                    recorded_by="bench",
                    fact=now,
                )
            )
        async with pool.acquire() as connection:
            for i in range(0, len(events), 20_000):
                async with connection.transaction():
                    await projector.record_facts(connection, projector.FIRST_GENERATION, events[i : i + 20_000])
            # The planner's statistics, as autovacuum keeps them in a running system (without them
            # it reads every fact of a day to find the few after a snapshot).
            await connection.execute(f"ANALYZE {projector.FIRST_GENERATION}.kpi_facts")
    finally:
        await pool.close()


def _forget() -> None:
    """What a start begins with: nothing in memory."""
    store._live.clear()
    store._past.clear()
    store._held.clear()


async def timings(database_url: str) -> dict[str, float]:
    """The folds, in this process, in seconds."""
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=4)
    as_of = _as_of().date()
    out: dict[str, float] = {}
    store.SNAPSHOT_AFTER_FACTS = 1  # every settled past day is saved, also at the smallest sizes
    try:
        municipalities = await store._municipalities(pool, projector.FIRST_GENERATION)
        await pool.execute("DELETE FROM history_snapshots")
        _forget()
        started = time.perf_counter()
        await store.histories(pool, None)
        out["live folded from the first fact"] = time.perf_counter() - started
        generation = await store._generation(pool)
        started = time.perf_counter()
        for municipality in municipalities:
            await store._keep_snapshot(pool, store._live[(generation.generation_id, municipality)])
        out["live snapshots saved"] = time.perf_counter() - started
        _forget()
        started = time.perf_counter()
        await store.histories(pool, None)
        out["live read back from snapshots"] = time.perf_counter() - started

        slowest = 0.0
        for municipality in municipalities:
            sent = time.perf_counter()
            await store.history(pool, municipality, as_of)  # folded, then saved (settled)
            slowest = max(slowest, time.perf_counter() - sent)
        out["first as_of, folded"] = slowest
        _forget()
        slowest = 0.0
        for municipality in municipalities:
            sent = time.perf_counter()
            await store.history(pool, municipality, as_of)
            slowest = max(slowest, time.perf_counter() - sent)
        out["first as_of, from its snapshot"] = slowest
        out["snapshot bytes"] = float(await pool.fetchval("SELECT sum(length(data)) FROM history_snapshots"))
    finally:
        await pool.close()
    return out


async def _replica(database_url: str) -> dict[str, float]:
    """Round after round, each municipality's live history and the one as of 400 days ago."""
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=4)
    peak = [0]
    stop = threading.Event()

    def sample() -> None:
        me = psutil.Process()
        while not stop.is_set():
            peak[0] = max(peak[0], me.memory_info().rss)
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    rounds = []
    try:
        municipalities = await store._municipalities(pool, projector.FIRST_GENERATION)
        for _ in range(ROUNDS):
            started = time.perf_counter()
            for municipality in municipalities:
                await store.history(pool, municipality, None)
                await store.history(pool, municipality, _as_of().date())
            rounds.append(time.perf_counter() - started)
    finally:
        stop.set()
        sampler.join()
        await pool.close()
    return {"peak_rss": float(peak[0]), "first_round": rounds[0], "later_round": max(rounds[1:])}


def replica(database_url: str, budget_mb: float | None) -> dict[str, float]:
    """`_replica` in a child process (its RSS is the replica's alone)."""
    env = {k: v for k, v in os.environ.items() if k != store.BUDGET_SETTING}
    if budget_mb is not None:
        env[store.BUDGET_SETTING] = str(budget_mb)
    result = subprocess.run(
        [sys.executable, "-m", "bench.history", "--replica", database_url],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    loaded: dict[str, float] = json.loads(result.stdout.strip().splitlines()[-1])
    return loaded


def measure(admin_url: str, count: int) -> dict[str, float]:
    database_url = create_database(admin_url)
    print(f"history of {count:,} events: filling the read model ...", file=sys.stderr)
    asyncio.run(fill(database_url, count))
    print("  folds ...", file=sys.stderr)
    out = asyncio.run(timings(database_url))
    print("  a replica, every history kept ...", file=sys.stderr)
    unbounded = replica(database_url, None)
    print(f"  a replica, budget {REPLICA_BUDGET_MB} MB ...", file=sys.stderr)
    bounded = replica(database_url, REPLICA_BUDGET_MB)
    out |= {f"replica {k}": v for k, v in unbounded.items()}
    out |= {f"replica {REPLICA_BUDGET_MB} MB {k}": v for k, v in bounded.items()}
    return out


# (figure, key, unit, scale, goal at 1,000,000 events and its test, baseline key)
FIGURES = [
    (
        "live histories of 10 municipalities folded after a start, from the first fact",
        "live folded from the first fact",
        "s",
        1,
        None,
        None,
    ),
    (
        "the same read back from snapshots and advanced",
        "live read back from snapshots",
        "s",
        1,
        ("<= 5 s", 5.0),
        "live folded from the first fact",
    ),
    ("live snapshots saved (pickle, zlib, INSERT)", "live snapshots saved", "s", 1, None, None),
    ("first as_of query 400 days ago, folded (max of 10)", "first as_of, folded", "ms", 1000, None, None),
    (
        "first as_of query after a start, from that day's snapshot (max of 10)",
        "first as_of, from its snapshot",
        "ms",
        1000,
        ("<= 500 ms", 500.0),
        "first as_of, folded",
    ),
    ("snapshots stored", "snapshot bytes", "MB", 1e-6, None, None),
    (
        "replica peak RSS, every history kept (default budget)",
        "replica peak_rss",
        "MiB",
        1 / 2**20,
        ("<= 250 MB", 250e6 / 2**20),
        None,
    ),
    (
        f"replica peak RSS, budget {REPLICA_BUDGET_MB} MB",
        f"replica {REPLICA_BUDGET_MB} MB peak_rss",
        "MiB",
        1 / 2**20,
        ("<= 250 MB", 250e6 / 2**20),
        "replica peak_rss",
    ),
    (
        "replica: a round of 10 live + 10 as_of queries, warm, every history kept",
        "replica later_round",
        "ms",
        1000,
        None,
        None,
    ),
    (
        f"replica: the same round, budget {REPLICA_BUDGET_MB} MB (what the budget costs)",
        f"replica {REPLICA_BUDGET_MB} MB later_round",
        "ms",
        1000,
        None,
        "replica later_round",
    ),
]


def table(sizes: list[int], results: dict[int, dict[str, float]]) -> list[str]:
    """A Markdown table: each figure at each size, the growth factor from the previous size, the goal."""
    header = ["figure"]
    for i, size in enumerate(sizes):
        header.append(f"{size:,} events")
        if i:
            header.append(f"x (size x{size / sizes[i - 1]:.1f})")
    header += ["baseline at the largest (ratio)", "goal at the largest", "met"]
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    for name, key, unit, scale, goal, baseline in FIGURES:
        cells = [name]
        for i, size in enumerate(sizes):
            value = results[size][key] * scale
            cells.append(f"{value:,.1f} {unit}")
            if i:
                before = results[sizes[i - 1]][key] * scale
                cells.append(f"{value / before:.2f}" if before else "-")
        largest = results[sizes[-1]]
        if baseline:
            base = largest[baseline] * scale
            cells.append(f"{base:,.1f} {unit} ({largest[key] * scale / base:.2f})" if base else "-")
        else:
            cells.append("-")
        if goal and sizes[-1] < GOALS_AT:
            cells += [f"{goal[0]} at {GOALS_AT:,} events", "- (not measured at that size)"]
        elif goal:
            cells += [goal[0], "yes" if largest[key] * scale <= goal[1] else "NO"]
        else:
            cells += ["-", "-"]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def history_size_figures(admin_url: str, sizes: list[int]) -> list[str]:
    """The table for `sizes` (bench/__main__.py calls it with its embedded PostgreSQL)."""
    results = {size: measure(admin_url, size) for size in sizes}
    return table(sizes, results)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.history", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="20000,60000,200000", help="events, comma-separated, smallest first")
    parser.add_argument("--replica", help=argparse.SUPPRESS)  # the child process of `replica`
    args = parser.parse_args()
    if args.replica:
        print(json.dumps(asyncio.run(_replica(args.replica))))
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    with scratch_postgres("history") as (postgres_url, _):
        lines = history_size_figures(postgres_url, sizes)
    print(f"\ncasetrack history benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
