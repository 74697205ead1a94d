"""The audit trail of reads on a real nats-server."""

import nats
import pytest

from runtime.audit import AuditLog
from runtime.auth import Principal
from runtime.bus import ensure_streams

pytestmark = pytest.mark.integration


async def test_reads_are_recorded_and_found_by_subject(nats_server) -> None:
    nc = await nats.connect(nats_server.url)
    js = nc.jetstream()
    await ensure_streams(js)
    audit = AuditLog(js, "registration")
    assert await audit.entries("101") == []
    worker = Principal("anna", "101", "support_worker", team="t", worker="w1")
    await audit.record_read(worker, action="read_history", municipality="101", subject_type="citizen", subject_id="c-1")
    await audit.record_read(worker, action="read_history", municipality="101", subject_type="citizen", subject_id="c-2")
    await audit.record_read(Principal("bo", "147", "client"), action="read_history", municipality="147",
                            subject_type="citizen", subject_id="c-9")

    everything = await audit.entries("101")
    assert [(e.actor, e.subject_id) for e in everything] == [("anna", "c-1"), ("anna", "c-2")]
    one = await audit.entries("101", "citizen", "c-2")
    assert [(e.actor, e.role, e.action, e.service) for e in one] == [("anna", "support_worker", "read_history", "registration")]
    assert [e.actor for e in await audit.entries("147")] == ["bo"]
    await nc.close()


async def test_a_read_cannot_be_recorded_without_the_bus(nats_server) -> None:
    nc = await nats.connect(nats_server.url, max_reconnect_attempts=0)
    js = nc.jetstream()
    await ensure_streams(js)
    nats_server.kill()
    with pytest.raises(Exception):
        await AuditLog(js, "registration").record_read(
            Principal("anna", "101", "client"), action="read_history", municipality="101",
            subject_type="citizen", subject_id="c-1")
    await nc.close()
