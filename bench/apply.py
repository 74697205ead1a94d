"""How fast projections and alerts apply events, at three sizes, beside a COPY of the same rows.

Each service's CheckpointedApplier (what its consumer calls with each batch it fetches) is driven
in-process with batches of 200 messages as JetStream hands them over (the JSON of each event, its
Nats-Msg-Id and stream sequence), into a fresh database for each size: the validation of each
event, the read-model SQL and the checkpoint, without the network of NATS. The events are the
benchmark's ten years of demo history (bench/workload.py); for alerts also the facts of a batch
import (`workload.events`: four facts a citizen, most courses raising an alert). The baseline is an asyncpg COPY of the
same rows into a table of the kpi_facts shape, in the same run.

    .venv/bin/python -m bench.apply --sizes 10000,30000,100000
    BENCH_NO_BATCH=1 .venv/bin/python -m bench.apply     # one `apply` an event, as before apply_batch
"""

import argparse
import asyncio
import os
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from itertools import pairwise

import asyncpg
from nats.aio.msg import Msg

from bench import workload
from bench.scratch import scratch_postgres
from contracts.events import EVENTS_STREAM, EventMessage
from runtime.checkpoint import Apply, ApplyBatch, CheckpointedApplier

BATCH = 200  # what OrderedConsumer fetches at a time


def messages(events: Sequence[EventMessage]) -> list[Msg]:
    """The events as the consumer receives them: data, the relay's Nats-Msg-Id, a stream sequence."""
    return [
        Msg(
            _client=None,  # type: ignore[arg-type]  # never acknowledged here
            subject=event.subject,
            reply=f"$JS.ACK.{EVENTS_STREAM}.bench.1.{event.position}.{event.position}.0.0",
            data=event.model_dump_json().encode(),
            headers={"Nats-Msg-Id": str(event.event_id)},
        )
        for event in events
    ]


async def drive(applier: CheckpointedApplier, batch: Sequence[Msg]) -> float:
    """Events/s of the applier over `batch`, BATCH messages a call."""
    started = time.perf_counter()
    for i in range(0, len(batch), BATCH):
        await applier(batch[i : i + BATCH])
    return len(batch) / (time.perf_counter() - started)


async def projections_rate(database_url: str, batch: Sequence[Msg]) -> float:
    from services.projections import projector

    return await _rate(
        database_url, batch, projector.prepare, "projections", "projection", projector.apply, projector.apply_batch
    )


async def alerts_rate(database_url: str, batch: Sequence[Msg]) -> float:
    from services.alerts import handlers, store

    async def prepare(pool: asyncpg.Pool) -> None:
        await pool.execute(store.SCHEMA)

    now = datetime.now(UTC)
    return await _rate(
        database_url,
        batch,
        prepare,
        "alerts",
        "alert",
        handlers.applier(lambda: now),
        handlers.batch_applier(lambda: now),
    )


async def _rate(
    database_url: str,
    batch: Sequence[Msg],
    prepare: Callable[[asyncpg.Pool], Awaitable[None]],
    service: str,
    prefix: str,
    apply: Apply,
    apply_batch: ApplyBatch,
) -> float:
    """The service's applier in this process over `batch`, in batches of BATCH (BENCH_NO_BATCH:
    without its batch apply)."""
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    try:
        await prepare(pool)
        applier = CheckpointedApplier(
            pool,
            service=service,
            prefix=prefix,
            consumer=service,
            apply=apply,
            apply_batch=None if os.environ.get("BENCH_NO_BATCH") else apply_batch,
        )
        await applier.prepare()
        rate = await drive(applier, batch)
        assert await applier.applied() == len(batch)
        return rate
    finally:
        await pool.close()


async def copy_rate(database_url: str, events: Sequence[EventMessage]) -> float:
    from bench.__main__ import copy_baseline  # the rebuild's baseline: COPY of the kpi_facts rows

    return await copy_baseline(database_url, list(events))


def apply_figures(admin_url: str, sizes: Sequence[int], alerts_sizes: Sequence[int]) -> tuple[list, list]:
    """Figures (one per service and size) and growth rows (one per service)."""
    from bench.__main__ import Figure
    from tests.support import create_database

    figures, growth = [], []
    for name, rate_of, goal, these, events_of in (
        ("projections", projections_rate, 10_000, sizes, workload.history_events),
        ("alerts", alerts_rate, 5_000, alerts_sizes, workload.history_events),
        # What a batch import brings: 4 facts a citizen, and most courses raise an alert.
        ("alerts (the batch import's facts)", alerts_rate, 5_000, alerts_sizes, workload.events),
    ):
        rates = []
        for size in these:
            print(f"{name}: applying {size:,} events ...", file=sys.stderr)
            events = events_of(size)
            rate = asyncio.run(rate_of(create_database(admin_url), messages(events)))
            baseline = asyncio.run(copy_rate(create_database(admin_url), events))
            rates.append(rate)
            figures.append(
                Figure(
                    f"{name} apply of {size:,} events (CheckpointedApplier in-process, batches of {BATCH})",
                    rate,
                    "events/s",
                    f">= {goal:,} events/s",
                    rate >= goal,
                    baseline,
                    "asyncpg COPY of the same rows",
                )
            )
        seconds = [size / rate for size, rate in zip(these, rates, strict=True)]
        growth.append(Growth(f"{name} apply: time", list(these), seconds))
    return figures, growth


class Growth:
    """A cost at three (or more) sizes, and the factor it grows by from one size to the next."""

    def __init__(self, name: str, sizes: list[int], costs: list[float], unit: str = "events"):
        self.name, self.sizes, self.costs, self.unit = name, sizes, costs, unit

    def row(self) -> str:
        points = list(zip(self.sizes, self.costs, strict=True))
        at = " / ".join(f"{cost:,.2f} s at {size:,}" for size, cost in points)
        factors = ", ".join(
            f"x{cost / before:.2f} for x{size / smaller:.1f} {self.unit}"
            for (smaller, before), (size, cost) in pairwise(points)
            if before > 0
        )
        return f"| {self.name} | {at} | {factors} |"


def print_growth(rows: Sequence[Growth]) -> None:
    if not rows:
        return
    print("\n| cost | at each size | grows (linear: by the same factor as the size) |")
    print("| --- | --- | --- |")
    for row in rows:
        print(row.row())


def main() -> None:
    from bench.__main__ import print_table

    parser = argparse.ArgumentParser(prog="python -m bench.apply", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,30000,100000", help="events for projections, comma-separated")
    parser.add_argument("--alerts-sizes", default="2000,6000,20000", help="events for alerts, comma-separated")
    args = parser.parse_args()

    with scratch_postgres("apply") as (postgres_url, _):
        figures, growth = apply_figures(
            postgres_url,
            [int(s) for s in args.sizes.split(",")],
            [int(s) for s in args.alerts_sizes.split(",")],
        )
    print_table(figures)
    print_growth(growth)


if __name__ == "__main__":
    main()
