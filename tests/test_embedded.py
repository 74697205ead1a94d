import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time

import nats
import psycopg
import pytest

from casetrack.embedded import EmbeddedNats, EmbeddedPostgres

pytestmark = pytest.mark.integration


async def _jetstream_roundtrip(url: str) -> bytes:
    nc = await nats.connect(url)
    try:
        js = nc.jetstream()
        await js.add_stream(name="EMBEDDED_TEST", subjects=["embedded.test"])
        ack = await js.publish("embedded.test", b"hello")
        msg = await js.get_msg("EMBEDDED_TEST", ack.seq)
        return msg.data
    finally:
        await nc.close()


def test_nats_jetstream_publish_and_read(tmp_path):
    server = EmbeddedNats(tmp_path / "nats")
    url = server.start()
    try:
        assert url == f"nats://127.0.0.1:{server.port}"
        assert server.pid is not None
        assert asyncio.run(_jetstream_roundtrip(url)) == b"hello"
        assert (tmp_path / "nats" / "jetstream").is_dir()
    finally:
        server.stop()
    assert server.pid is None
    server.stop()  # idempotent


def test_postgres_keeps_committed_data_across_kill(tmp_path):
    server = EmbeddedPostgres(tmp_path / "pg")
    url = server.start()
    try:
        assert url == f"postgresql://casetrack@127.0.0.1:{server.port}/casetrack"
        with psycopg.connect(url) as conn:
            assert conn.execute("select 1").fetchone() == (1,)
            conn.execute("create table cases (id int primary key, title text)")
            conn.execute("insert into cases values (1, 'Bolig til Søren')")

        server.kill()
        assert server.pid is None
        assert server.start() == url  # same port after a restart

        with psycopg.connect(url) as conn:
            assert conn.execute("select id, title from cases").fetchall() == [(1, "Bolig til Søren")]
    finally:
        server.stop()
    assert server.pid is None
    server.stop()  # idempotent


def test_postgres_restarts_after_kill_during_a_busy_query(tmp_path):
    # A backend busy in a CPU-bound query does not notice the postmaster dying; if
    # kill() left it running, the next start would fail on its shared memory.
    server = EmbeddedPostgres(tmp_path / "pg", fast=True)
    url = server.start()

    def busy_query():
        with contextlib.suppress(psycopg.OperationalError), psycopg.connect(url) as conn:
            conn.execute("select count(*) from generate_series(1, 1000000000)")

    client = threading.Thread(target=busy_query)
    client.start()
    try:
        time.sleep(0.5)
        server.kill()
        server.start(timeout=60)
        with psycopg.connect(url) as conn:
            assert conn.execute("select 1").fetchone() == (1,)
    finally:
        server.stop()
        client.join(timeout=15)


def test_postgres_fast_mode_turns_off_fsync(tmp_path):
    with EmbeddedPostgres(tmp_path / "pg", database="other", fast=True) as server:
        with psycopg.connect(server.url) as conn:
            assert conn.execute("show fsync").fetchone() == ("off",)
            assert conn.execute("show max_connections").fetchone() == ("200",)
            assert conn.execute("select current_database()").fetchone() == ("other",)


def test_main_prints_urls_and_stops_on_sigterm(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-m", "casetrack.embedded", str(tmp_path), "--fast"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        urls = dict(proc.stdout.readline().strip().split("=", 1) for _ in range(2))
        assert urls["NATS_URL"].startswith("nats://127.0.0.1:")
        with psycopg.connect(urls["DATABASE_URL"]) as conn:
            assert conn.execute("select 1").fetchone() == (1,)
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
