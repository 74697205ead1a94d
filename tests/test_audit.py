"""The audit trail of reads on a real nats-server with casetrack's users and permissions: recording,
and the administrator's query (`GET /v1/audit/reads`): writers proven by their subject, bad entries
skipped and counted, duplicates shown once, paging newest first, filters and the total."""

import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import nats
import pytest
from fastapi import FastAPI

from contracts.audit import AUDIT_STREAM, audit_subject
from runtime.audit import AuditLog, AuditQuery, audit_router
from runtime.auth import Principal, TokenTable
from runtime.bus import connect, ensure_streams
from runtime.errors import install_error_handlers
from tests.support import TOKENS, SecuredNats

pytestmark = pytest.mark.integration

WORKER = Principal("anna", "101", "support_worker", team="t", worker="w1")


@pytest.fixture
async def registration_audit(nats_server: SecuredNats) -> AsyncIterator[AuditLog]:
    """The audit log as registration has it: its own NATS user, which reads the trail back."""
    admin = await nats.connect(nats_server.url)
    await ensure_streams(admin.jetstream(), [AUDIT_STREAM])
    await admin.close()
    nc = await connect(nats_server.url_for("registration"), "registration")
    yield AuditLog(nc.jetstream(), "registration")
    with contextlib.suppress(ConnectionError):  # a test may have killed the server
        await nc.close()


def admin_api(audit: AuditLog) -> httpx.AsyncClient:
    app = FastAPI()
    install_error_handlers(app, "registration")
    app.include_router(audit_router)
    app.state.tokens, app.state.signer, app.state.audit = TokenTable(TOKENS), None, audit
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://registration",
        headers={"Authorization": "Bearer token-admin"},
    )


async def publish_as(
    nats_server: SecuredNats, user: str, subject: str, body: bytes, headers: dict[str, str] | None = None
) -> None:
    """What a service's NATS user can put on the trail, outside the service's own code."""
    nc = await nats.connect(nats_server.url_for(user), inbox_prefix=f"_INBOX.{user}")
    try:
        await nc.jetstream().publish(subject, body, stream=AUDIT_STREAM, headers=headers, timeout=5)
    finally:
        await nc.close()


def entry_body(**fields: object) -> bytes:
    entry = {
        "id": str(uuid.uuid4()),
        "at": datetime.now(UTC).isoformat(),
        "service": "registration",
        "actor": "demo-admin",
        "role": "admin",
        "municipality": "101",
        "action": "read_personal_details",
        "subject_type": "citizen",
        "subject_id": "c-1",
    } | fields
    return json.dumps(entry).encode()


async def test_reads_are_recorded_and_found_by_subject(registration_audit: AuditLog) -> None:
    audit = registration_audit
    assert (await audit.query(AuditQuery("101"))).reads == []
    await audit.record_read(WORKER, action="read_history", municipality="101", subject_type="citizen", subject_id="c-1")
    await audit.record_read(WORKER, action="read_history", municipality="101", subject_type="citizen", subject_id="c-2")
    await audit.record_read(
        Principal("bo", "147", "client"),
        action="read_history",
        municipality="147",
        subject_type="citizen",
        subject_id="c-9",
    )

    newest_first = await audit.query(AuditQuery("101"))
    assert [(r.entry.actor, r.entry.subject_id) for r in newest_first.reads] == [("anna", "c-2"), ("anna", "c-1")]
    assert (newest_first.total, newest_first.next_cursor, sum(newest_first.skipped.values())) == (2, None, 0)
    oldest_first = await audit.query(AuditQuery("101", order="asc"))
    assert [r.entry.subject_id for r in oldest_first.reads] == ["c-1", "c-2"]
    [one] = (await audit.query(AuditQuery("101", "citizen", "c-2"))).reads
    assert (one.entry.actor, one.entry.role, one.entry.action, one.service, one.legacy) == (
        "anna",
        "support_worker",
        "read_history",
        "registration",
        False,
    )
    assert [r.entry.actor for r in (await audit.query(AuditQuery("147"))).reads] == ["bo"]


async def test_an_entry_in_another_services_name_is_skipped_and_counted(
    nats_server: SecuredNats, registration_audit: AuditLog
) -> None:
    """The attack as made: a service's NATS user (here alerts) puts a well-formed entry "demo-admin
    read personal details" on the trail in registration's name. Today's code showed it as a read."""
    await registration_audit.record_read(
        WORKER, action="read_personal_details", municipality="101", subject_type="citizen", subject_id="c-1"
    )
    await publish_as(nats_server, "alerts", audit_subject("alerts", "101", "citizen", "c-1"), entry_body())
    # The body addressed to another subject than the one it is filed under is no read of that subject either.
    await publish_as(
        nats_server,
        "alerts",
        audit_subject("alerts", "101", "citizen", "c-1"),
        entry_body(service="alerts", subject_id="c-77"),
    )

    async with admin_api(registration_audit) as api:
        answer = await api.get("/v1/audit/reads", params={"municipality": "101"})
    assert answer.status_code == 200
    body = answer.json()
    assert [(r["actor"], r["service"]) for r in body["reads"]] == [("anna", "registration")]
    assert body["total"] == 1
    assert body["skipped"] == {"total": 2, "reasons": {"service_mismatch": 1, "subject_mismatch": 1}}


async def test_a_malformed_entry_is_skipped_and_the_query_still_answers(
    nats_server: SecuredNats, registration_audit: AuditLog, caplog: pytest.LogCaptureFixture
) -> None:
    """The attack as made: one malformed entry on the trail made the query answer 500 for ever. One
    put there before the fix (when every service could publish anywhere under casetrack.audit) stays
    on the stream; the operator's user puts it there now, as no service may any more."""
    await registration_audit.record_read(
        WORKER, action="read_history", municipality="101", subject_type="citizen", subject_id="c-1"
    )
    await publish_as(nats_server, "admin", "casetrack.audit.101.citizen.c-1", b"{not json")
    subject = audit_subject("projections", "101", "citizen", "c-1")
    await publish_as(nats_server, "projections", subject, entry_body(service="projections", at="yesterday"))

    async with admin_api(registration_audit) as api:
        for _ in range(2):  # and again: it stays skipped, and is logged once
            answer = await api.get("/v1/audit/reads", params={"municipality": "101"})
            assert answer.status_code == 200
            assert [r["actor"] for r in answer.json()["reads"]] == ["anna"]
            assert answer.json()["skipped"] == {"total": 2, "reasons": {"invalid": 2}}
    warnings = [r for r in caplog.records if r.getMessage() == "audit entry skipped"]
    assert [r.reason for r in warnings] == ["invalid", "invalid"]


async def test_an_entry_written_twice_is_shown_once(nats_server: SecuredNats, registration_audit: AuditLog) -> None:
    """The stream drops a repeat inside its duplicate window (Nats-Msg-Id); one published again
    later, or with another message id, is skipped on reading by the entry's own id."""
    body = entry_body(service="projections", actor="anna")
    subject = audit_subject("projections", "101", "citizen", "c-1")
    entry_id = json.loads(body)["id"]
    await publish_as(nats_server, "projections", subject, body, {"Nats-Msg-Id": entry_id})
    await publish_as(nats_server, "projections", subject, body, {"Nats-Msg-Id": entry_id})  # dropped by the stream
    await publish_as(nats_server, "projections", subject, body, {"Nats-Msg-Id": f"{entry_id}-again"})
    # Another writer's entry with the same id hides nothing: the id is the writer's own.
    await publish_as(
        nats_server,
        "alerts",
        audit_subject("alerts", "101", "citizen", "c-1"),
        entry_body(id=entry_id, service="alerts", actor="bo"),
    )
    page = await registration_audit.query(AuditQuery("101", order="asc"))
    assert [(str(r.entry.id), r.service) for r in page.reads] == [(entry_id, "projections"), (entry_id, "alerts")]
    assert (page.total, dict(page.skipped)) == (2, {"duplicate": 1})


async def test_entries_from_before_the_writers_were_named_are_still_shown(
    nats_server: SecuredNats, registration_audit: AuditLog
) -> None:
    """Entries already on a trail under casetrack.audit.<municipality>.<type>.<id> are part of it:
    shown, marked legacy (their service is only what the body says)."""
    old = json.loads(entry_body(actor="anna", action="read_history"))
    del old["id"]
    await publish_as(nats_server, "admin", "casetrack.audit.101.citizen.c-1", json.dumps(old).encode())
    # Twice, as nothing could tell the stream it was the same entry: without an id, both are shown.
    await publish_as(nats_server, "admin", "casetrack.audit.101.citizen.c-1", json.dumps(old).encode())
    async with admin_api(registration_audit) as api:
        reads = (await api.get("/v1/audit/reads", params={"municipality": "101"})).json()["reads"]
    assert [(r["actor"], r["service"], r["legacy"], r["id"]) for r in reads] == [
        ("anna", "registration", True, None)
    ] * 2


async def fill(audit: AuditLog, count: int, actors: tuple[str, ...] = ("anna", "bo", "carl"), first: int = 0) -> None:
    for n in range(first, first + count):
        actor = actors[n % len(actors)]
        await audit.record_read(
            Principal(actor, "101", "support_worker", team="t", worker=actor),
            action="read_history",
            municipality="101",
            subject_type="citizen" if n % 2 else "course",
            subject_id=f"s-{n}",
        )


async def test_paging_returns_every_entry_once_newest_first(registration_audit: AuditLog) -> None:
    """The query answered with the oldest 1,000 entries and said nothing of the rest."""
    await fill(registration_audit, 1500)
    async with admin_api(registration_audit) as api:
        seen: list[str] = []
        params: dict[str, object] = {"municipality": "101", "limit": 400}
        pages = 0
        while True:
            page = (await api.get("/v1/audit/reads", params=params)).json()
            pages += 1
            assert page["total"] == 1500
            seen += [r["subject_id"] for r in page["reads"]]
            if page["next_cursor"] is None:
                break
            params["cursor"] = page["next_cursor"]
        assert pages == 4
        assert seen == [f"s-{n}" for n in reversed(range(1500))]

        first = (await api.get("/v1/audit/reads", params={"municipality": "101"})).json()
        assert len(first["reads"]) == 100 and first["reads"][0]["subject_id"] == "s-1499"
        ascending = (
            await api.get("/v1/audit/reads", params={"municipality": "101", "order": "asc", "limit": 1000})
        ).json()
        rest = (
            await api.get(
                "/v1/audit/reads",
                params={"municipality": "101", "order": "asc", "limit": 1000, "cursor": ascending["next_cursor"]},
            )
        ).json()
        assert [r["subject_id"] for r in ascending["reads"] + rest["reads"]] == [f"s-{n}" for n in range(1500)]
        assert rest["next_cursor"] is None


async def test_filters_by_actor_time_and_subject_with_their_total(registration_audit: AuditLog) -> None:
    await fill(registration_audit, 30)
    time.sleep(0.05)
    middle = datetime.now(UTC)
    time.sleep(0.05)
    await fill(registration_audit, 12, actors=("dora",), first=30)
    async with admin_api(registration_audit) as api:

        async def get(**params: object) -> dict:
            answer = await api.get("/v1/audit/reads", params={"municipality": "101", **params})
            assert answer.status_code == 200, answer.text
            return answer.json()

        bo = await get(actor="bo")
        assert bo["total"] == 10 and {r["actor"] for r in bo["reads"]} == {"bo"}
        later = await get(**{"from": middle.isoformat()})
        assert later["total"] == 12 and {r["actor"] for r in later["reads"]} == {"dora"}
        assert all(datetime.fromisoformat(r["recorded_at"]) >= middle for r in later["reads"])
        earlier = await get(to=middle.isoformat(), actor="anna")
        assert earlier["total"] == 10 and {r["actor"] for r in earlier["reads"]} == {"anna"}
        window = await get(**{"from": (middle - timedelta(hours=1)).isoformat(), "to": middle.isoformat()})
        assert window["total"] == 30
        courses = await get(subject_type="course", limit=5)
        assert courses["total"] == 21 and len(courses["reads"]) == 5 and courses["next_cursor"]
        [one] = (await get(subject_type="citizen", subject_id="s-3"))["reads"]
        assert (one["actor"], one["subject_id"]) == ("anna", "s-3")
        assert (await get(actor="nobody")) | {"reads": None} == {
            "municipality": "101",
            "order": "desc",
            "total": 0,
            "reads": None,
            "next_cursor": None,
            "skipped": {"total": 0, "reasons": {}},
        }


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "query.limit"),
        ({"limit": 1001}, "query.limit"),
        ({"cursor": "abc"}, "query.cursor"),
        ({"cursor": "0"}, "query.cursor"),
        ({"order": "sideways"}, "query.order"),
        ({"from": "yesterday"}, "query.from"),
        ({"from": "2026-03-01T10:00:00"}, "query.from"),  # no time zone: which 10 o'clock?
        ({"from": "2026-03-02T00:00:00Z", "to": "2026-03-01T00:00:00Z"}, "query.to"),
        ({"actor": ""}, "query.actor"),
    ],
)
async def test_bad_parameters_are_refused_naming_the_field(
    registration_audit: AuditLog, params: dict[str, object], field: str
) -> None:
    async with admin_api(registration_audit) as api:
        answer = await api.get("/v1/audit/reads", params={"municipality": "101", **params})
    assert answer.status_code == 422
    assert answer.json()["error"]["reason"] == "validation_error"
    assert [f["field"] for f in answer.json()["error"]["fields"]] == [field]


async def test_without_the_bus_the_query_answers_503_not_a_short_page(
    nats_server: SecuredNats, registration_audit: AuditLog
) -> None:
    await fill(registration_audit, 3)
    nats_server.kill()
    async with admin_api(registration_audit) as api:
        answer = await api.get("/v1/audit/reads", params={"municipality": "101"})
    assert (answer.status_code, answer.json()["error"]["reason"]) == (503, "audit_trail_unavailable")


async def test_a_read_cannot_be_recorded_without_the_bus(nats_server: SecuredNats) -> None:
    nc = await nats.connect(nats_server.url, max_reconnect_attempts=0)
    js = nc.jetstream()
    await ensure_streams(js)
    nats_server.kill()
    with pytest.raises(Exception):
        await AuditLog(js, "registration").record_read(
            Principal("anna", "101", "client"),
            action="read_history",
            municipality="101",
            subject_type="citizen",
            subject_id="c-1",
        )
    await nc.close()
