"""casetrack's benchmark: every figure beside a raw baseline measured in the same run.

    python -m bench            quick: smaller counts, a few minutes
    python -m bench --full     the issue's sizes: 1,000,000 events, 100,000 open courses; each figure of
                               import, apply and deadline poll at three sizes with its growth factor

Starts an embedded PostgreSQL and nats-server and the three services as processes on this machine
(the test harness's System), measures, and prints a table. Not a test: nothing here passes or fails.
"""

import argparse
import asyncio
import functools
import os
import platform
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import asyncpg
import httpx
import nats
import psutil

from bench import workload
from bench.apply import Growth, apply_figures, print_growth
from casetrack.embedded import EmbeddedPostgres
from tests.support import SecuredNats, System, create_database


@dataclass
class Figure:
    name: str
    value: float
    unit: str
    goal: str
    met: bool | None
    baseline: float | None = None
    baseline_name: str = ""

    def row(self) -> str:
        ratio = f"{self.value / self.baseline:.2f}" if self.baseline else "-"
        base = f"{self.baseline:,.1f} {self.unit} ({self.baseline_name})" if self.baseline else "-"
        met = {True: "yes", False: "NO", None: "-"}[self.met]
        return f"| {self.name} | {self.value:,.1f} {self.unit} | {base} | {ratio} | {self.goal} | {met} |"


def print_table(figures: list[Figure]) -> None:
    """The figures as a Markdown table, each beside its raw baseline."""
    print("| figure | measured | raw baseline (same run) | ratio | goal | met |")
    print("| --- | --- | --- | --- | --- | --- |")
    for figure in figures:
        print(figure.row())


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


class MemoryWatch:
    """Peak RSS of each service process, sampled every 0.2 s."""

    def __init__(self, system: System):
        self.system, self.peak, self._stop = system, {name: 0 for name in system.services}, threading.Event()
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        while not self._stop.is_set():
            for name, service in self.system.services.items():
                try:
                    pid = service.process.pid if service.process is not None else None
                    self.peak[name] = max(self.peak[name], psutil.Process(pid).memory_info().rss)
                except Exception:
                    pass
            time.sleep(0.2)

    def stop(self) -> dict[str, int]:
        self._stop.set()
        return self.peak


async def stream_count(nats_url: str) -> int:
    nc = await nats.connect(nats_url)
    try:
        return (await nc.jetstream().stream_info("CASETRACK_EVENTS")).state.messages
    finally:
        await nc.close()


def wait_position(system: System, service: str, position: int, timeout: float = 3600) -> None:
    system.wait_applied(service, position, timeout=timeout)


# --- batch import -------------------------------------------------------------------------------


def batch_import(system: System, count: int, offset: int, batch: int = 1000) -> tuple[float, int]:
    """When the import started, and the log position of its last fact."""
    facts = workload.facts(count, municipality="101", offset=offset)
    started = time.perf_counter()
    last = 0
    with system.client("registration") as client:
        for i in range(0, count, batch):
            response = client.post("/v1/facts/batch", json={"facts": facts[i : i + batch]})
            assert response.status_code == 200 and response.json()["accepted"] == len(facts[i : i + batch]), (
                response.text[:500]
            )
            last = max(last, *(r["receipt"]["position"] for r in response.json()["results"]))
    return started, last


def import_figures(system: System, count: int, baseline_url: str, offset: int = 10_000_000) -> list[Figure]:
    already = asyncio.run(stream_count(system.nats_url))
    started, last = batch_import(system, count, offset)
    while asyncio.run(stream_count(system.nats_url)) < already + count:  # in the store AND the stream
        time.sleep(0.02)
    rate = count / (time.perf_counter() - started)
    # The consumers apply the facts while they are imported: how soon each has them all.
    applied = {}
    for service in ("projections", "alerts"):
        system.wait_applied(service, last, timeout=3600)
        applied[service] = count / (time.perf_counter() - started)
    baseline = eventsourcing_baseline(baseline_url, count)
    return [
        Figure(
            f"batch import of {count:,} facts (POST /v1/facts/batch, into store and stream)",
            rate,
            "facts/s",
            ">= 0.6 of the eventsourcing save",
            rate >= 0.6 * baseline,
            baseline,
            "eventsourcing save, batches of 1000",
        ),
        *(
            Figure(
                f"{service}: the {count:,} imported facts applied (live consumer, from the import's start)",
                applied[service],
                "events/s",
                "keeps up: >= 0.9 of the import",
                applied[service] >= 0.9 * rate,
                rate,
                "the import's rate",
            )
            for service in ("projections", "alerts")
        ),
    ]


@functools.cache
def _subject_class() -> type:
    """The aggregate of the eventsourcing baseline, defined once (the library registers its topic)."""
    from eventsourcing.domain import Aggregate, event

    class Subject(Aggregate):
        def __init__(self, fact: dict) -> None:
            self.facts = [fact]

        @event("FactRecorded")
        def record(self, fact: dict) -> None:
            self.facts.append(fact)

    return Subject


def eventsourcing_baseline(database_url: str, count: int, batch: int = 1000) -> float:
    """The eventsourcing library alone: the same number of events saved directly, in batches."""
    from eventsourcing.application import Application

    from services.registration.application import postgres_env

    subject = _subject_class()
    env = postgres_env(database_url) | {
        "APPLICATION_RECORDER_TOPIC": "eventsourcing.postgres:PostgresApplicationRecorder"
    }
    app: Application[UUID] = Application(env=env)
    facts = workload.facts(count, municipality="101")
    started = time.perf_counter()
    for i in range(0, count, batch):
        subjects = [subject(fact) for fact in facts[i : i + batch]]
        app.save(*subjects)
    rate = count / (time.perf_counter() - started)
    app.close()
    return rate


# --- single facts, latency and freshness -------------------------------------------------------


def single_fact_figures(system: System, seconds: float, rate: float = 100.0) -> list[Figure]:
    # Throughput: 8 clients as fast as they go.
    facts = workload.facts(int(seconds * 200), municipality="147", offset=20_000_000)
    done, lock = [0], threading.Lock()
    cursor = iter(range(0, len(facts), 4))  # a client takes a whole citizen: its facts in order

    errors: list[BaseException] = []

    def flood(deadline: float) -> None:
        try:
            _flood(deadline)
        except BaseException as exc:
            errors.append(exc)

    def _flood(deadline: float) -> None:
        with system.client("registration", "token-147") as client:
            while time.perf_counter() < deadline:
                with lock:
                    i = next(cursor, None)
                if i is None:
                    return
                for fact in facts[i : i + 4]:
                    response = client.post("/v1/facts", json=fact)
                    assert response.status_code == 201, response.text
                with lock:
                    done[0] += len(facts[i : i + 4])

    deadline = time.perf_counter() + seconds / 2
    started = time.perf_counter()
    threads = [threading.Thread(target=flood, args=(deadline,)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    throughput = done[0] / (time.perf_counter() - started)
    backlog = asyncio.run(stream_count(system.nats_url))
    for service in ("projections", "alerts"):  # freshness is measured in a steady state, not a backlog
        wait_position(system, service, backlog)
    # The facts after the flood's last are whole citizens again: start on a fresh citizen.
    paced = workload.facts(int(seconds * rate), municipality="147", offset=30_000_000)

    # Latency and freshness at a steady 100 facts/s.
    latencies: list[float] = []
    answered: list[tuple[int, float]] = []  # (position, when the 2xx came)
    seen: dict[str, list[tuple[float, int]]] = {"projections": [], "alerts": []}
    stop = threading.Event()

    def watch(service: str) -> None:
        with system.client(service, "token-admin") as client:
            while not stop.is_set():
                seen[service].append((time.perf_counter(), client.get("/v1/position").json()["position"]))
                time.sleep(0.005)

    watchers = [threading.Thread(target=watch, args=(s,)) for s in seen]
    for t in watchers:
        t.start()
    with system.client("registration", "token-147") as client:
        next_at = time.perf_counter()
        for fact in paced:
            sent = time.perf_counter()
            response = client.post("/v1/facts", json=fact)
            now = time.perf_counter()
            assert response.status_code == 201, response.text
            latencies.append(now - sent)
            answered.append((response.json()["position"], now))
            next_at += 1 / rate
            time.sleep(max(0.0, next_at - time.perf_counter()))
    last = answered[-1][0]
    for service in seen:
        wait_position(system, service, last, timeout=120)
    time.sleep(0.1)
    stop.set()
    for t in watchers:
        t.join()

    def freshness(service: str) -> list[float]:
        out, observations = [], seen[service]
        j = 0
        for position, at in answered:
            while j < len(observations) and (observations[j][1] < position or observations[j][0] < at):
                if observations[j][1] >= position and observations[j][0] < at:
                    break
                j += 1
            k = j
            while k < len(observations) and observations[k][1] < position:
                k += 1
            if k < len(observations):
                out.append(max(0.0, observations[k][0] - at))
        return out

    kpi, alert = freshness("projections"), freshness("alerts")
    # Raw baseline: the same service's cheapest endpoint, at the same rate (what HTTP alone costs).
    probe = []
    with system.client("registration", "token-147") as client:
        for _ in range(200):
            sent = time.perf_counter()
            client.get("/healthz")
            probe.append(time.perf_counter() - sent)
    ms = 1000
    return [
        Figure("single facts: throughput, 8 concurrent clients", throughput, "facts/s", "-", None),
        Figure(
            "single facts at 100/s: p50 latency",
            pct(latencies, 50) * ms,
            "ms",
            "-",
            None,
            pct(probe, 50) * ms,
            "GET /healthz p50",
        ),
        Figure(
            "single facts at 100/s: p99 latency",
            pct(latencies, 99) * ms,
            "ms",
            "p99 <= 50 ms",
            pct(latencies, 99) <= 0.05,
            pct(probe, 99) * ms,
            "GET /healthz p99",
        ),
        Figure("freshness 2xx -> KPI read model: p50", pct(kpi, 50) * ms, "ms", "-", None),
        Figure("freshness 2xx -> KPI read model: p99", pct(kpi, 99) * ms, "ms", "p99 <= 1,000 ms", pct(kpi, 99) <= 1.0),
        Figure("freshness 2xx -> alerts applied: p50", pct(alert, 50) * ms, "ms", "-", None),
        Figure(
            "freshness 2xx -> alerts applied: p99", pct(alert, 99) * ms, "ms", "p99 <= 1,000 ms", pct(alert, 99) <= 1.0
        ),
    ]


# --- rebuild and KPI queries over a long history ------------------------------------------------


async def publish_history(nats_url: str, events: list) -> None:
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    from runtime.bus import ensure_streams

    await ensure_streams(js)
    pending = []
    for message in events:
        pending.append(
            await js.publish_async(
                message.subject, message.model_dump_json().encode(), headers={"Nats-Msg-Id": str(message.event_id)}
            )
        )
        if len(pending) >= 2000:
            await asyncio.gather(*pending)
            pending = []
    await asyncio.gather(*pending)
    await nc.close()


async def copy_baseline(database_url: str, events: list) -> float:
    """A plain asyncpg bulk insert (COPY) of the same rows the rebuild writes."""
    count = len(events)
    rows = [
        (
            m.position,
            m.fact.type,
            m.fact.municipality,
            getattr(m.fact, "citizen_id", None),
            getattr(m.fact, "course_id", None),
            m.fact.effective_date,
            m.recorded_at,
            m.fact.model_dump_json(),
        )
        for m in events
    ]
    connection = await asyncpg.connect(database_url)
    await connection.execute(
        "CREATE TABLE bench_copy (position bigint PRIMARY KEY, event_type text, municipality text, citizen_id text,"
        " course_id text, effective_date date, recorded_at timestamptz, fact jsonb)"
    )
    started = time.perf_counter()
    await connection.copy_records_to_table("bench_copy", records=rows)
    rate = count / (time.perf_counter() - started)
    await connection.close()
    return rate


def history_figures(admin_url: str, work: Path, count: int) -> tuple[list[Figure], dict[str, int]]:
    from services.projections.rebuild import rebuild

    database_url = create_database(admin_url)
    server = SecuredNats(work / "nats-history")
    server.start()
    system = System(
        database_url=database_url, nats_url=server.url, work_dir=work / "logs-history", nats_env=server.service_env()
    )
    try:
        events = workload.history_events(count)
        asyncio.run(publish_history(server.url, events))
        system.start("projections")
        memory = MemoryWatch(system)
        started = time.perf_counter()
        wait_position(system, "projections", count)
        live = count / (time.perf_counter() - started)
        started = time.perf_counter()
        asyncio.run(rebuild(database_url, server.url, out=None))
        rebuilt = count / (time.perf_counter() - started)
        baseline = asyncio.run(copy_baseline(database_url, events))
        del events

        ids = [
            k["id"]
            for k in httpx.get(
                system.services["projections"].url + "/v1/kpis", headers={"Authorization": "Bearer token-admin"}
            ).json()["kpis"]
        ]
        as_of = (datetime.now(UTC) - timedelta(days=400)).date().isoformat()
        worst = (0.0, "")
        with system.client("projections", "token-admin") as client:
            client.timeout = 600
            # The rebuild switched the generation: the live histories are folded again (the service
            # does it in the background; a query waits for its municipality's).
            started = time.perf_counter()
            for municipality in workload.MUNICIPALITIES:
                assert client.get("/v1/kpis/P1", params={"municipality": municipality}).status_code == 200
            folded = time.perf_counter() - started
            first_as_of = []  # each municipality's history as of that day, folded on first ask
            for municipality in workload.MUNICIPALITIES:
                sent = time.perf_counter()
                assert (
                    client.get("/v1/kpis/P1", params={"municipality": municipality, "as_of": as_of}).status_code == 200
                )
                first_as_of.append(time.perf_counter() - sent)
            for kpi in ids:
                for query in ({}, {"as_of": as_of}):
                    timings = []
                    for i in range(10):
                        municipality = workload.MUNICIPALITIES[i % len(workload.MUNICIPALITIES)]
                        sent = time.perf_counter()
                        response = client.get(f"/v1/kpis/{kpi}", params={"municipality": municipality} | query)
                        timings.append(time.perf_counter() - sent)
                        assert response.status_code == 200, (kpi, response.text[:300])
                    p95 = pct(timings, 95)
                    worst = max(worst, (p95, f"{kpi}{' as_of' if query else ''}"))
        peak = memory.stop()
        figures = [
            Figure(f"live apply of {count:,} events (projections consumer)", live, "events/s", "-", None),
            Figure(
                f"rebuild of all read models from {count:,} events",
                rebuilt,
                "events/s",
                ">= 10,000 events/s",
                rebuilt >= 10_000,
                baseline,
                "asyncpg COPY of the same rows",
            ),
            Figure("live KPI histories of the 10 municipalities folded after the switch", folded, "s", "-", None),
            Figure(
                "first as_of query of a municipality (its history to that day folded), max of 10",
                max(first_as_of) * 1000,
                "ms",
                "-",
                None,
            ),
            Figure(
                f"KPI query p95, worst of {len(ids)} KPIs x (now, as_of), 10 municipalities [{worst[1]}]",
                worst[0] * 1000,
                "ms",
                "p95 <= 100 ms",
                worst[0] <= 0.1,
            ),
        ]
        return figures, {"projections (history)": peak["projections"]}
    finally:
        system.stop()
        server.stop()


# --- the deadline poll -------------------------------------------------------------------------


async def fill_courses(database_url: str, courses: int, now: datetime) -> float:
    """The alerts handlers apply the facts of `courses` courses started in the month before `now`
    (four facts a course, a batch of 200 a transaction as the alerts consumer does); events/s."""
    from services.alerts import handlers, store

    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=4)
    await pool.execute(store.SCHEMA)
    apply = handlers.batch_applier(lambda: now)
    events = workload.events(courses * 4, days=30)
    started = time.perf_counter()
    for i in range(0, len(events), 200):
        async with pool.acquire() as db, db.transaction():
            await apply(db, events[i : i + 200])
    applied = len(events) / (time.perf_counter() - started)
    await pool.close()
    return applied


async def poll_cycles(database_url: str, filled_at: datetime, cycles: int = 5) -> tuple[list[float], int, int]:
    """The clock 45 days after the fill (some of the deadlines have come due), `cycles` poll cycles
    of at most 100 deadlines each, as in production: each cycle's seconds, and the pending and due
    deadlines before the first."""
    from runtime.clock import AdjustableClock
    from services.alerts import deadlines

    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=4)
    clock = AdjustableClock()
    clock.set(filled_at + timedelta(days=45))
    pending = await pool.fetchval("SELECT count(*) FROM alert_deadlines WHERE state = 'pending'")
    due = await pool.fetchval(
        "SELECT count(*) FROM alert_deadlines WHERE state = 'pending' AND due_on <= $1", clock.today()
    )
    seconds = []
    for _ in range(cycles):
        started = time.perf_counter()
        await deadlines.fire_due_deadlines(pool, clock)
        seconds.append(time.perf_counter() - started)
    await pool.close()
    return seconds, pending, due


def cycle_figure(courses: int, seconds: list[float], pending: int, due: int) -> Figure:
    return Figure(
        f"deadline poll cycle (<= 100 taken), {courses:,} courses, {pending:,} pending deadlines, "
        f"{due:,} due (max of {len(seconds)}; median {sorted(seconds)[len(seconds) // 2] * 1000:.0f} ms)",
        max(seconds) * 1000,
        "ms",
        "<= 100 ms",
        max(seconds) <= 0.1,
    )


async def deadline_figures(database_url: str, courses: int) -> tuple[list[Figure], float]:
    """The figures, and the slowest cycle's seconds (for the growth table)."""
    now = datetime.now(UTC)
    applied = await fill_courses(database_url, courses, now)
    seconds, pending, due = await poll_cycles(database_url, now)
    return [
        Figure(f"alerts handlers: apply events for {courses:,} courses (in-process)", applied, "events/s", "-", None),
        cycle_figure(courses, seconds, pending, due),
    ], max(seconds)


# --- the run -----------------------------------------------------------------------------------


def machine() -> str:
    memory = psutil.virtual_memory().total / 2**30
    return (
        f"{platform.node()}: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"{memory:.1f} GiB RAM, {platform.system()} {platform.release()}, Python {platform.python_version()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="the issue's sizes (takes long)")
    parser.add_argument("--events", type=int, help="events for the rebuild and KPI queries")
    parser.add_argument("--courses", help="open courses for the deadline poll: three sizes, comma-separated")
    parser.add_argument("--imports", help="facts batch-imported: three sizes, comma-separated")
    parser.add_argument("--apply-sizes", help="events projections apply (bench/apply.py): three sizes")
    parser.add_argument("--alerts-sizes", help="events alerts apply (bench/apply.py): three sizes")
    parser.add_argument("--only-history", action="store_true", help="only the rebuild and KPI query figures")
    parser.add_argument(
        "--roster-courses", type=int, default=5000, help="active courses for the roster (bench/roster.py)"
    )
    parser.add_argument(
        "--history-sizes", help="events, comma-separated, for the history's growth table (bench/history.py)"
    )
    args = parser.parse_args()
    events = args.events or (1_000_000 if args.full else 20_000)
    courses = sizes(args.courses, (10_000, 30_000, 100_000) if args.full else (1_000, 3_000, 10_000))
    imports = sizes(args.imports, (30_000, 100_000, 300_000) if args.full else (3_000, 10_000, 30_000))
    apply_sizes = sizes(args.apply_sizes, (100_000, 300_000, 1_000_000) if args.full else (10_000, 30_000, 100_000))
    alerts_sizes = sizes(args.alerts_sizes, (100_000, 300_000, 1_000_000) if args.full else (2_000, 6_000, 20_000))
    history_sizes = [
        int(n)
        for n in (args.history_sizes or ("100000,300000,1000000" if args.full else "5000,15000,50000")).split(",")
    ]
    seconds = 60.0 if args.full else 15.0
    partitioned = 200_000 if args.full else 10_000  # applied three times: unpartitioned, one replica, two

    work = Path(tempfile.mkdtemp(prefix="casetrack-bench-"))
    postgres = EmbeddedPostgres(work / "pg", fast=True)
    postgres.start()
    server = SecuredNats(work / "nats")
    server.start()
    system = System(
        database_url=create_database(postgres.url),
        nats_url=server.url,
        work_dir=work / "logs",
        nats_env=server.service_env(),
        extra_env={"LOG_LEVEL": "WARNING"},
    )
    figures: list[Figure] = []
    growth: list[Growth] = []
    history_growth: list[str] = []
    try:
        peak: dict[str, int] = {}
        if not args.only_history:
            system.start()
            memory = MemoryWatch(system)
            seconds_taken = []
            for n, imported in enumerate(imports):
                print(f"batch import of {imported:,} facts ...", file=sys.stderr)
                imported_figures = import_figures(
                    system, imported, create_database(postgres.url), 10_000_000 + n * 1_000_000
                )
                figures += imported_figures
                seconds_taken.append(imported / imported_figures[0].value)
            growth.append(Growth("batch import: time", list(imports), seconds_taken, "facts"))
            print(f"single facts for {seconds:.0f} s ...", file=sys.stderr)
            figures += single_fact_figures(system, seconds)
            peak = memory.stop()
            system.stop()
        print(f"rebuild and KPI queries over {events:,} events ...", file=sys.stderr)
        history, history_peak = history_figures(postgres.url, work, events)
        figures += history
        peak |= history_peak
        if not args.only_history:
            print(f"apply of {partitioned:,} events with one projections replica and with two ...", file=sys.stderr)
            from bench.partitions import partition_figures  # it imports this module's Figure

            figures += partition_figures(postgres.url, work, partitioned)
        print(f"course roster of {args.roster_courses:,} active courses ...", file=sys.stderr)
        from bench.roster import roster_figures  # it imports this module's Figure

        figures += roster_figures(postgres.url, work, args.roster_courses)
        if not args.only_history:
            applied, apply_growth = apply_figures(postgres.url, apply_sizes, alerts_sizes)
            figures += applied
            growth += apply_growth
            cycles = []
            for n in courses:
                print(f"deadline poll with {n:,} courses ...", file=sys.stderr)
                deadline, cycle = asyncio.run(deadline_figures(create_database(postgres.url), n))
                figures += deadline
                cycles.append(cycle)
            growth.append(Growth("deadline poll: slowest cycle", list(courses), cycles, "courses"))
        print(f"history costs at {history_sizes} events ...", file=sys.stderr)
        from bench.history import history_size_figures

        history_growth = history_size_figures(postgres.url, history_sizes)
        for name, rss in peak.items():
            figures.append(Figure(f"peak memory: {name}", rss / 2**20, "MiB", "<= 250 MB RSS", rss <= 250 * 10**6))
    finally:
        system.stop()
        server.stop()
        postgres.stop()
        shutil.rmtree(work, ignore_errors=True)

    kind = "full" if args.full else "quick" if not (args.events or args.courses) else "custom"
    print(
        f"\ncasetrack benchmark ({kind}: {events:,} events; three sizes: {list(imports)} facts imported,"
        f" {list(apply_sizes)} / {list(alerts_sizes)} events applied, {list(courses)} courses), "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    )
    print(f"machine: {machine()}\n")
    print_table(figures)
    print_growth(growth)
    print("\nHow the history's costs grow (bench/history.py, in-process, store.py's own code):\n")
    print("\n".join(history_growth))


def sizes(given: str | None, default: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(int(size) for size in given.split(",")) if given else default


if __name__ == "__main__":
    main()
