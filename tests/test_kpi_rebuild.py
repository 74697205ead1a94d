"""A full rebuild from the stream, blue/green: the same figures come out, the live consumer keeps
serving during it and continues into the new generation after the switch."""

import asyncio
import io
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import asyncpg
import nats
import pytest

from contracts.events import EVENTS_STREAM, EVENTS_SUBJECT_ROOT, EventMessage
from runtime.bus import OrderedConsumer, ensure_streams
from runtime.checkpoint import CheckpointedApplier
from services.projections import figures, projector, store
from services.projections.double_bottom_line import double_bottom_line
from services.projections.kpis import CATALOGUE, Window
from services.projections.periods import PeriodKind
from services.projections.rebuild import progress_line, rebuild
from tests.kpi_scenario import Scenario, read_model

pytestmark = pytest.mark.integration


def mixed_scenario(citizens: int) -> Scenario:
    """Every method, contacts, plans, measurements, stays, endings, some facts told late."""
    s = Scenario()
    methods = ("CTI", "ICM", "ACT", "SEL85")
    for i in range(citizens):
        c, k, day = f"c{i}", f"k{i}", f"2026-0{1 + i % 3}-{1 + i % 28:02d}"
        s.citizen(c, day)
        s.fact("HousingSituationRecorded", day, citizen=c, housing=("street", "sofa", "almen")[i % 3])
        s.course(c, k, methods[i % 4], day, worker=f"w{i % 3}", assessment_done=i % 2 == 0)
        if methods[i % 4] == "CTI":
            s.fact("CtiPhaseStarted", day, citizen=c, course=k, phase="1")
            s.fact("TimePlanned", day, citizen=c, course=k, cti_phase="1", expected_hours=12)
        s.fact(
            "ContactRecorded",
            "2026-04-02",
            citizen=c,
            course=k,
            minutes=30 + i % 60,
            kind=("face_to_face", "phone_digital")[i % 2],
        )
        s.fact("MeasurementRecorded", "2026-04-03", citizen=c, course=k, instrument="WHO5", answers=[i % 6, 3, 3, 2, 1])
        if i % 2 == 0:
            s.fact("HandleplanCreated", "2026-04-20", recorded="2026-05-10", citizen=c)
        if i % 3 == 0:
            s.fact("ShelterStayStarted", "2026-02-01", citizen=c, shelter="herberg-1")
            s.fact("ShelterStayEnded", "2026-03-15", citizen=c, discharge="planned")
        if i % 5 == 0:
            s.fact("HousingGained", "2026-05-01", citizen=c, housing="almen")
            s.fact("CourseEnded", "2026-05-20", recorded="2026-06-15", citizen=c, course=k, reason="contact_lost")
        if i % 7 == 0:
            s.fact("SubstanceTreatmentStarted", "2026-03-01", citizen=c)
    return s


async def all_figures(pool: asyncpg.Pool) -> dict:
    history = await store.history(pool, "101", None)
    known_then = await store.history(pool, "101", date(2026, 5, 31))
    result = {}
    for kpi in CATALOGUE.values():
        for name, h in (("now", history), ("as_of", known_then)):
            query = figures.Query(Window(date(2026, 1, 1), date(2026, 6, 30)), PeriodKind.MONTH)
            result[(kpi.id, name)] = figures.figures(kpi, h, query, None)
    result["dbl"] = [double_bottom_line(c, date(2026, 6, 30)) for c in history.courses.values()]
    return result


async def publish(nats_url: str, events: list[EventMessage]) -> None:
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        await ensure_streams(js)
        for event in events:
            await js.publish(
                event.subject, event.model_dump_json().encode(), headers={"Nats-Msg-Id": str(event.event_id)}
            )
    finally:
        await nc.close()


class LiveProjections:
    """The projections service's consumer, in this process, on the real stream and database."""

    def __init__(self, pool: asyncpg.Pool, database_url: str, nats_url: str):
        self.pool, self.database_url, self.nats_url = pool, database_url, nats_url
        self.applier = CheckpointedApplier(
            pool, service="projections", prefix="projection", consumer="projections", apply=projector.apply
        )

    async def __aenter__(self) -> "LiveProjections":
        await self.applier.prepare()
        self.nc = await nats.connect(self.nats_url)
        consumer = OrderedConsumer(
            self.nc.jetstream(),
            stream=EVENTS_STREAM,
            durable="projections",
            subject=f"{EVENTS_SUBJECT_ROOT}.>",
            handle=self.applier,
            resume_after=self.applier.stream_sequence,
            database_url=self.database_url,
            batch_size=50,
        )
        self.stop = asyncio.Event()
        self.task = asyncio.create_task(consumer.run(self.stop))
        return self

    async def wait_applied(self, position: int, timeout: float = 30) -> None:
        async with asyncio.timeout(timeout):
            while await self.applier.position() < position:
                await asyncio.sleep(0.05)

    async def __aexit__(self, *_: object) -> None:
        self.stop.set()
        await asyncio.wait_for(self.task, 10)
        await self.nc.close()


async def test_rebuild_gives_the_same_figures_and_live_continues_in_the_new_generation(
    database_url, nats_server
) -> None:
    pool = await read_model(database_url)
    scenario = mixed_scenario(24)
    try:
        await publish(nats_server.url, scenario.events)
        async with LiveProjections(pool, database_url, nats_server.url) as live:
            await live.wait_applied(len(scenario.events))
            before = await all_figures(pool)
            assert await projector.current_generation(pool) == "kpi_g1"

            out = io.StringIO()
            assert await rebuild(database_url, nats_server.url, out=out) == "kpi_g2"
            assert await projector.current_generation(pool) == "kpi_g2"
            assert (
                f"{len(scenario.events):>8}/{len(scenario.events)}" in out.getvalue() and "events/s" in out.getvalue()
            )
            assert await all_figures(pool) == before

            # The live consumer goes on, into the new generation.
            late = scenario.fact("CourseEnded", "2026-06-01", citizen="c1", course="k1", reason="completed")
            await publish(nats_server.url, [late])
            await live.wait_applied(late.position)
            assert await pool.fetchval("SELECT count(*) FROM kpi_g2.kpi_facts") == len(scenario.events)
            p1 = figures.compute(
                CATALOGUE["P1"],
                await store.history(pool, "101", None),
                Window(date(2026, 6, 30), date(2026, 6, 30)),
                figures.Query(Window(date(2026, 6, 30), date(2026, 6, 30))),
            )
            assert p1["total"] == before[("P1", "now")]["series"][-1]["total"] - 1

            # A second rebuild switches again and drops the generation before the previous one.
            assert await rebuild(database_url, nats_server.url, out=None) == "kpi_g3"
            schemas = {
                r[0]
                for r in await pool.fetch(
                    "SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE 'kpi_g%'"
                )
            }
            assert schemas == {"kpi_g2", "kpi_g3"}
        counts = dict(await pool.fetch("SELECT event_type, applied FROM projection_event_counts"))
        assert sum(counts.values()) == len(scenario.events)  # the live consumer's, each event once
    finally:
        await pool.close()


async def test_rebuild_while_the_live_consumer_catches_up_loses_and_doubles_nothing(database_url, nats_server) -> None:
    pool = await read_model(database_url)
    scenario = mixed_scenario(60)
    try:
        await publish(nats_server.url, scenario.events)
        async with LiveProjections(pool, database_url, nats_server.url) as live:
            built = await rebuild(database_url, nats_server.url, out=None, batch=20)  # races the live consumer
            await live.wait_applied(len(scenario.events))
        assert built == "kpi_g2"
        rows = await pool.fetch("SELECT position FROM kpi_g2.kpi_facts ORDER BY position")
        assert [r["position"] for r in rows] == [e.position for e in scenario.events]
    finally:
        await pool.close()


async def test_the_new_generation_has_its_indexes_after_the_bulk_fill(database_url, nats_server) -> None:
    pool = await read_model(database_url)
    try:
        await publish(nats_server.url, mixed_scenario(2).events)
        assert await rebuild(database_url, nats_server.url, out=None) == "kpi_g2"
        indexes = {r[0] for r in await pool.fetch("SELECT indexname FROM pg_indexes WHERE schemaname = 'kpi_g2'")}
        assert {"kpi_facts_known", "kpi_facts_course"} <= indexes
    finally:
        await pool.close()


async def test_recording_facts_in_bulk_keeps_the_first_fact_for_a_position(database_url) -> None:
    pool = await read_model(database_url)
    scenario = mixed_scenario(1)
    first, second = scenario.events[0], scenario.events[1]
    again = second.model_copy(update={"position": first.position})  # another fact, same position
    try:
        async with pool.acquire() as connection, connection.transaction():
            await projector.record_facts(connection, "kpi_g1", [first])
            await projector.record_facts(connection, "kpi_g1", [again, second, second])
        rows = await pool.fetch("SELECT position, event_type FROM kpi_g1.kpi_facts ORDER BY position")
        assert [tuple(r) for r in rows] == [(first.position, first.type), (second.position, second.type)]
    finally:
        await pool.close()


def test_progress_line_shows_bar_count_share_and_rate() -> None:
    assert progress_line(250, 1000, 0.5) == "[#######" + "·" * 23 + "]      250/1000   25%  500 events/s"
    assert progress_line(0, 0, 0).startswith("[" + "#" * 30 + "]")


def test_rebuild_command_runs_from_the_shell(database_url, nats_server) -> None:
    scenario = mixed_scenario(3)
    asyncio.run(publish(nats_server.url, scenario.events))
    env = {**os.environ, "DATABASE_URL": database_url, "NATS_URL": nats_server.url}
    done = subprocess.run(
        [sys.executable, "-m", "services.projections.rebuild"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).parent.parent,
    )
    assert done.returncode == 0, done.stderr
    assert f"{len(scenario.events)}/{len(scenario.events)}" in done.stderr
    assert "switched the KPI read models from kpi_g1 to kpi_g2" in done.stderr
    missing = subprocess.run(
        [sys.executable, "-m", "services.projections.rebuild"],
        env={"PATH": os.environ["PATH"]},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).parent.parent,
    )
    assert missing.returncode != 0 and "DATABASE_URL" in missing.stderr
