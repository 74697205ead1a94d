"""What one page of the audit query costs over a trail of N entries (bench/README.md).

    .venv/bin/python -m bench.audit --entries 20000

Starts an embedded nats-server, puts N reads on CASETRACK_AUDIT (3 services, 50 actors, 2,000
citizens, one municipality), then times AuditLog.query for the first page, a page deep down, an
actor filter, one citizen, and the last tenth of the time range; each the median of 5 runs.
"""

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import nats

from casetrack.embedded import EmbeddedNats
from contracts.audit import AUDIT_STREAM
from runtime.audit import AuditLog, AuditQuery
from runtime.auth import Principal
from runtime.bus import ensure_streams

SERVICES = ("registration", "projections", "alerts")


async def fill(nc: nats.NATS, count: int) -> datetime:
    """Returns the time 90 % of the way through."""
    logs = {service: AuditLog(nc.jetstream(), service) for service in SERVICES}
    marker = datetime.now(UTC)
    for start in range(0, count, 500):
        await asyncio.gather(
            *(
                logs[SERVICES[n % 3]].record_read(
                    Principal(f"worker-{n % 50}", "101", "support_worker", team="t", worker=f"w-{n % 50}"),
                    action="read_citizen_history",
                    municipality="101",
                    subject_type="citizen",
                    subject_id=f"c-{n % 2000}",
                )
                for n in range(start, min(start + 500, count))
            )
        )
        if start < 0.9 * count <= start + 500:
            marker = datetime.now(UTC)
    return marker


async def timed(audit: AuditLog, query: AuditQuery, runs: int = 5) -> tuple[float, int]:
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        page = await audit.query(query)
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds), page.total


async def main(entries: int) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="casetrack-bench-audit-"))
    server = EmbeddedNats(data_dir)
    server.start()
    try:
        nc = await nats.connect(server.url)
        await ensure_streams(nc.jetstream(), [AUDIT_STREAM])
        started = time.perf_counter()
        late = await fill(nc, entries)
        print(f"filled {entries:,} entries in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        audit = AuditLog(nc.jetstream(), "registration")
        deep = (await audit.query(AuditQuery("101", limit=1000, order="asc"))).reads[-1].sequence
        cases = {
            "first page (100, newest first)": AuditQuery("101"),
            "a page deep down (cursor)": AuditQuery("101", after=deep),
            "one actor": AuditQuery("101", actor="worker-7"),
            "one citizen": AuditQuery("101", "citizen", "c-7"),
            "last tenth of the time range": AuditQuery("101", since=late),
        }
        print(f"| audit query over {entries:,} entries | median of 5 | total |\n| --- | --- | --- |")
        for name, query in cases.items():
            seconds, total = await timed(audit, query)
            print(f"| {name} | {seconds * 1000:.0f} ms | {total:,} |")
        await nc.close()
    finally:
        server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.audit")
    parser.add_argument("--entries", type=int, default=20_000)
    asyncio.run(main(parser.parse_args().entries))
