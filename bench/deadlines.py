"""The deadline poll alone: its cycle at three sizes, with the growth table.

For each size the alerts handlers apply the facts of that many courses started this month
(`fill_courses` of bench/__main__.py), the planner's statistics are gathered, and the filled
database is kept as a template; each round then polls a fresh copy of it (`poll_cycles`: the
clock 45 days on, cycles of at most 100 deadlines). With `--keep DIR` the embedded PostgreSQL and
its filled templates stay in DIR for the next run, so code before and after a change polls the
same rows, run back to back, without filling again.

    .venv/bin/python -m bench.deadlines --courses 10000,30000,100000
    .venv/bin/python -m bench.deadlines --courses 10000,30000,100000 --keep /tmp/deadline-poll --rounds 3
"""

import argparse
import asyncio
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from bench.__main__ import Figure, cycle_figure, fill_courses, poll_cycles, print_table
from bench.apply import Growth, print_growth
from bench.scratch import scratch_postgres
from casetrack.embedded import EmbeddedPostgres


def _url(admin_url: str, database: str) -> str:
    return admin_url.rsplit("/", 1)[0] + "/" + database


def filled(admin_url: str, courses: int) -> tuple[str, datetime]:
    """The template database of `courses` filled courses (filled now unless kept from a run
    before), and when it was filled."""
    template = f"deadline_poll_{courses}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        known = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (template,)).fetchone()
    if known is None:
        now = datetime.now(UTC)
        print(f"filling {courses:,} courses ...", file=sys.stderr)
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{template}_filling"')
        applied = asyncio.run(fill_courses(_url(admin_url, f"{template}_filling"), courses, now))
        print(f"  applied {applied:,.0f} events/s", file=sys.stderr)
        with psycopg.connect(_url(admin_url, f"{template}_filling"), autocommit=True) as db:
            db.execute("ANALYZE")
            db.execute("CREATE TABLE bench_filled AS SELECT %s::timestamptz AS at", (now,))
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'ALTER DATABASE "{template}_filling" RENAME TO "{template}"')
    with psycopg.connect(_url(admin_url, template)) as db:
        row = db.execute("SELECT at FROM bench_filled").fetchone()
        assert row is not None
        return template, row[0]


def poll_copy(admin_url: str, template: str, filled_at: datetime, cycles: int) -> tuple[list[float], int, int]:
    """`poll_cycles` on a fresh copy of the template, dropped afterwards."""
    copy = f"{template}_polled"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{copy}"')
        admin.execute(f'CREATE DATABASE "{copy}" TEMPLATE "{template}"')
    try:
        return asyncio.run(poll_cycles(_url(admin_url, copy), filled_at, cycles))
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{copy}"')


def measure(admin_url: str, sizes: list[int], rounds: int, cycles: int) -> tuple[list[Figure], Growth]:
    figures, slowest = [], []
    for courses in sizes:
        template, filled_at = filled(admin_url, courses)
        seconds: list[float] = []
        for _ in range(rounds):
            print(f"polling {courses:,} courses (load {os.getloadavg()[0]:.2f}) ...", file=sys.stderr)
            taken, pending, due = poll_copy(admin_url, template, filled_at, cycles)
            print("  cycles, ms: " + ", ".join(f"{s * 1000:.0f}" for s in taken), file=sys.stderr)
            seconds += taken
        figures.append(cycle_figure(courses, seconds, pending, due))
        slowest.append(max(seconds))
    return figures, Growth("deadline poll: slowest cycle", sizes, slowest, "courses")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.deadlines", description=__doc__.splitlines()[0])
    parser.add_argument("--courses", default="1000,3000,10000", help="open courses, three sizes, comma-separated")
    parser.add_argument("--rounds", type=int, default=1, help="fresh copies polled at each size")
    parser.add_argument("--cycles", type=int, default=5, help="poll cycles a round")
    parser.add_argument("--keep", type=Path, help="a directory to keep the PostgreSQL and its filled courses in")
    args = parser.parse_args()
    sizes = [int(n) for n in args.courses.split(",")]

    if args.keep is None:
        with scratch_postgres("deadlines") as (admin_url, _):
            figures, growth = measure(admin_url, sizes, args.rounds, args.cycles)
    else:
        postgres = EmbeddedPostgres(args.keep / "pg", fast=True)
        admin_url = postgres.start()
        try:
            figures, growth = measure(admin_url, sizes, args.rounds, args.cycles)
        finally:
            postgres.stop()
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}\n")
    print_table(figures)
    print_growth([growth])


if __name__ == "__main__":
    main()
