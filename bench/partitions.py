"""Apply rate of the projections service with one replica and with two on a partitioned events stream
(issue 20, runtime/partitions.py), beside one unpartitioned consumer: the same events, the same machine.

    .venv/bin/python -m bench.partitions                  # on its own: 20,000 events, 4 partitions
    .venv/bin/python -m bench.partitions --events 100000 --partitions 8

Part of `make bench` too (bench/__main__.py). For each run: a fresh database and nats-server, the
replicas started and (with two) balanced on the empty stream, then the demo history of 10
municipalities published at once; the rate is the events divided by the time from the first publish
until `GET /v1/position` reaches the last event. Both replicas run on this machine, with PostgreSQL
and nats-server: on a machine with few cores they compete for the same CPUs, so the second replica
shows what sharing costs here more than what a second machine would bring.
"""

import argparse
import asyncio
import sys
import time
from pathlib import Path

import httpx
import nats

from bench import workload
from bench.__main__ import Figure, print_table
from bench.scratch import scratch_postgres
from casetrack.embedded import free_port
from casetrack.processes import ServiceProcess
from contracts.events import EventMessage
from runtime.bus import ensure_streams
from tests.support import SecuredNats, System, create_database


async def publish(nats_url: str, events: list[EventMessage]) -> None:
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    pending = []
    for message in events:
        data = message.model_dump_json().encode()
        pending.append(await js.publish_async(message.subject, data, headers={"Nats-Msg-Id": str(message.event_id)}))
        if len(pending) >= 2000:
            await asyncio.gather(*pending)
            pending = []
    await asyncio.gather(*pending)
    await nc.close()


async def provision(nats_url: str, partitions: int) -> None:
    nc = await nats.connect(nats_url)
    try:
        await ensure_streams(nc.jetstream(), partitions=partitions)
    finally:
        await nc.close()


def balanced(replicas: list[ServiceProcess], partitions: int, timeout: float = 60.0) -> None:
    """Waits until every partition is led by one of `replicas` and none leads more than its share."""
    share = -(-partitions // len(replicas))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        leads = [httpx.get(f"{r.url}/healthz", timeout=5).json()["events"].get("leads", []) for r in replicas]
        if sorted(sum(leads, [])) == list(range(partitions)) and max(map(len, leads)) <= share:
            return
        time.sleep(0.2)
    raise TimeoutError(f"the replicas did not share the {partitions} partitions within {timeout:.0f}s")


def apply_rate(admin_url: str, work: Path, events: list[EventMessage], partitions: int, replicas: int) -> float:
    """Events a second applied by `replicas` projections processes on a stream of `partitions`."""
    name = f"p{partitions}-r{replicas}"
    server = SecuredNats(work / f"nats-{name}")
    server.start()
    asyncio.run(provision(server.url, partitions))
    system = System(
        database_url=create_database(admin_url),
        nats_url=server.url,
        work_dir=work / f"logs-{name}",
        nats_env=server.service_env(),
        extra_env={"LOG_LEVEL": "WARNING"},
    )
    first = system.services["projections"]
    others = [
        ServiceProcess("projections", free_port(), first.env, work / f"logs-{name}" / f"projections-{i + 2}.log")
        for i in range(replicas - 1)
    ]
    try:
        system.start("projections")
        for other in others:
            other.start()
        if partitions:
            balanced([first, *others], partitions)
        started = time.perf_counter()
        asyncio.run(publish(server.url, events))
        system.wait_applied("projections", events[-1].position, timeout=3600)
        return len(events) / (time.perf_counter() - started)
    finally:
        for other in others:
            other.stop()
        system.stop()
        server.stop()


def partition_figures(admin_url: str, work: Path, count: int, partitions: int = 4) -> list[Figure]:
    events = workload.history_events(count)
    baseline = apply_rate(admin_url, work, events, 0, 1)
    one = apply_rate(admin_url, work, events, partitions, 1)
    two = apply_rate(admin_url, work, events, partitions, 2)
    unpartitioned = "one unpartitioned consumer"
    return [
        Figure(
            f"live apply of {count:,} events, {partitions} partitions, one projections replica",
            one,
            "events/s",
            "-",
            None,
            baseline,
            unpartitioned,
        ),
        Figure(
            f"live apply of {count:,} events, {partitions} partitions, two projections replicas (same machine)",
            two,
            "events/s",
            "-",
            None,
            baseline,
            unpartitioned,
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.partitions", description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000, help="events of the history applied")
    parser.add_argument("--partitions", type=int, default=4, help="partitions of the events stream")
    args = parser.parse_args()
    with scratch_postgres("partitions") as (postgres_url, work):
        print(f"apply of {args.events:,} events with one replica and with two ...", file=sys.stderr)
        figures = partition_figures(postgres_url, work, args.events, args.partitions)
    print_table(figures)


if __name__ == "__main__":
    main()
