"""Apply work partitioned by municipality (issue 20, runtime/partitions.py): the events stream in
partitions by NATS's deterministic subject partitioning, each partition applied in order by one
projections replica at a time. Two replicas share the partitions; one is killed with SIGKILL and
the other takes its partitions over; the read model equals what one process makes of the same
stream (the blue/green rebuild reads the whole stream alone). Real processes throughout."""

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import nats
import psycopg
import pytest

from casetrack.embedded import free_port
from casetrack.processes import ServiceProcess
from runtime.partitions import consumer_name
from services.projections.rebuild import rebuild
from tests.faults import counts, stored_positions
from tests.support import SecuredNats, System, course_facts

pytestmark = pytest.mark.integration

PARTITIONS = 4


@pytest.fixture
def nats_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SecuredNats]:
    """conftest's server, its events stream in partitions (conftest's `system` runs on it)."""
    monkeypatch.setenv("CASETRACK_EVENT_PARTITIONS", str(PARTITIONS))  # read by provision_streams
    server = SecuredNats(tmp_path / "nats")
    server.start()
    try:
        yield server
    finally:
        server.stop()


def events(replica: ServiceProcess) -> dict:
    return httpx.get(f"{replica.url}/healthz", timeout=5).json()["events"]


def wait_for(condition, what: str, timeout: float = 30.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(0.2)
    raise AssertionError(f"not within {timeout:.0f}s: {what}")


def submit_courses(system: System, municipality: str, first: int, count: int) -> None:
    token = f"token-{municipality}"
    for citizen in range(first, first + count):
        for fact in course_facts(
            municipality, f"c{municipality}-{citizen}", f"k{municipality}-{citizen}", "ICM", "2026-03-01"
        ):
            system.submit(fact, token)


def kpi_facts(database_url: str, schema: str) -> list[tuple]:
    with psycopg.connect(database_url) as connection:
        return connection.execute(
            f"SELECT position, event_type, municipality, citizen_id, course_id, effective_date, recorded_at,"
            f" fact, event_id FROM {schema}.kpi_facts ORDER BY position"
        ).fetchall()


def test_two_replicas_share_the_partitions_and_one_takes_over_when_the_other_dies(
    system: System, database_url: str, tmp_path: Path
) -> None:
    system.start()
    first = system.services["projections"]
    second = ServiceProcess(
        name="projections", port=free_port(), env=first.env, log_path=tmp_path / "logs" / "projections-2.log"
    ).start()
    try:
        both = [first, second]

        # Balanced: two partitions each, none led twice, all led.
        def balanced() -> list[list[int]] | None:
            leads = [events(replica)["leads"] for replica in both]
            return leads if [len(led) for led in leads] == [2, 2] else None

        leads = wait_for(balanced, "two partitions each")
        assert sorted(leads[0] + leads[1]) == list(range(PARTITIONS)), leads
        assert all(events(r)["partitions"] == PARTITIONS for r in both)

        # Municipalities 101 and 147 fall into different partitions (3 and 1 of 4).
        submit_courses(system, "101", 0, 8)
        submit_courses(system, "147", 0, 8)
        last = stored_positions(database_url)[-1]
        for replica_url in (first.url, second.url):
            with httpx.Client(base_url=replica_url, headers={"Authorization": "Bearer token-admin"}) as reader:
                wait_for(lambda: reader.get("/v1/position").json()["position"] >= last, "applied on both")

        second.kill()  # SIGKILL: its locks go with its connections
        wait_for(lambda: events(first)["leads"] == list(range(PARTITIONS)), "the survivor leads every partition")
        submit_courses(system, "101", 8, 8)
        submit_courses(system, "147", 8, 8)
        stored = stored_positions(database_url)
        system.wait_applied("projections", stored[-1])
        system.wait_applied("alerts", stored[-1])
        assert counts(database_url) == {
            "store": len(stored),
            "projections": len(stored),
            "projections_by_type": len(stored),
            "alerts": len(stored),
        }
        with psycopg.connect(database_url) as connection:
            rows = dict(connection.execute("SELECT consumer, applied FROM projection_checkpoint").fetchall())
        # Applied per partition: the unpartitioned consumer's row applied nothing.
        assert rows.pop("projections") == 0
        assert set(rows) <= {consumer_name("projections", p) for p in range(PARTITIONS)}
        assert len([n for n in rows.values() if n]) == 2  # the two municipalities' partitions

        # One process reading the whole stream alone makes the same read model.
        live = kpi_facts(database_url, "kpi_g1")
        assert len(live) == len(stored)
        assert asyncio.run(rebuild(database_url, system.nats_url, out=None)) == "kpi_g2"
        assert kpi_facts(database_url, "kpi_g2") == live
    finally:
        second.stop()


def test_provisioning_again_without_the_setting_keeps_the_partitions(
    nats_server: SecuredNats, monkeypatch: pytest.MonkeyPatch
) -> None:
    from casetrack.cli import provision_streams
    from runtime.partitions import stream_partitions

    async def partitions() -> int:
        nc = await nats.connect(nats_server.url)
        try:
            return await stream_partitions(nc.jetstream())
        finally:
            await nc.close()

    assert asyncio.run(partitions()) == PARTITIONS
    monkeypatch.delenv("CASETRACK_EVENT_PARTITIONS")
    provision_streams(nats_server.url)  # an upgrade's `casetrack streams`, the setting forgotten
    assert asyncio.run(partitions()) == PARTITIONS
    provision_streams(nats_server.url, partitions=0)  # said explicitly
    assert asyncio.run(partitions()) == 0
