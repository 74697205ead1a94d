"""The attacks of issue 12 on the bus, made as they were made: real nats-server with casetrack's own
users and permissions (casetrack.natsauth), real PostgreSQL, the services as real processes.

1. A case system names a stream subject as the reply subject of a request: the answer must not land
   in the events stream, and nothing in the stream may stop the relay.
2. A service changes the audit stream's limits (or purges or deletes a stream).
3. A service writes audit entries in another service's name.
And the README's permission table is what the server enforces.
"""

import asyncio
import dataclasses
import json
import re
from pathlib import Path
from uuid import uuid4

import nats
import psycopg
import pytest
from nats.js.api import StreamConfig

from casetrack import natsauth
from casetrack.embedded import EmbeddedNats, free_port
from contracts.alerts import ALERTS_STREAM
from contracts.audit import AUDIT_STREAM, AUDIT_SUBJECT_ROOT, AuditEntry
from contracts.events import EVENTS_STREAM, EventMessage
from contracts.submission import FACTS_SUBMIT_SUBJECT
from runtime.audit import AuditLog
from runtime.auth import Principal
from runtime.bus import STREAMS
from runtime.partitions import MAX_PARTITIONS
from tests.support import SecuredNats, System
from tests.test_nats_permissions import Connection
from tests.test_pipeline import stream_messages

pytestmark = pytest.mark.integration

README = Path(__file__).parent.parent / "README.md"
MUNICIPALITIES = ["101", "147"]
STREAM_SUBJECTS = {config.name: config.subjects[0] for config in STREAMS}
ATTACK_REPLY = "casetrack.events.101.CitizenErased"


def fact(citizen: str) -> dict[str, str]:
    return {"type": "CitizenRegistered", "municipality": "101", "citizen_id": citizen, "effective_date": "2026-03-01"}


def relay_positions(messages: list[nats.aio.msg.Msg]) -> list[int]:
    """The log positions of the relay's messages in the events stream (foreign ones left out)."""
    positions = []
    for message in messages:
        try:
            event = EventMessage.model_validate_json(message.data)
        except ValueError:
            continue
        if (message.headers or {}).get("Nats-Msg-Id") == str(event.event_id):
            positions.append(event.position)
    return positions


def parked(database_url: str) -> dict[str, int]:
    with psycopg.connect(database_url) as connection:
        return {
            table: connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("projection_parked", "alert_parked")
        }


def applied(database_url: str) -> dict[str, tuple[int, int]]:
    """Each read model's checkpoint position and how many events it applied."""
    with psycopg.connect(database_url) as connection:
        return {
            table: tuple(connection.execute(f"SELECT position, applied FROM {table}").fetchone())
            for table in ("projection_checkpoint", "alert_checkpoint")
        }


def wait_read_models(system: System, position: int) -> None:
    for service in ("projections", "alerts"):
        system.wait_applied(service, position, timeout=30)


async def _as(server: SecuredNats, user: str) -> Connection:
    return await Connection.open(server, user)


# 1. A reply subject halts the pipeline ------------------------------------------------------------


def test_a_reply_subject_on_the_events_stream_is_refused_and_the_pipeline_goes_on(
    system: System, nats_server: SecuredNats
) -> None:
    system.start("registration", "projections", "alerts")
    first = system.submit(fact("c-before"))
    wait_read_models(system, first["position"])

    async def attack() -> None:
        client = await _as(nats_server, "client-101")  # the case system of municipality 101
        await client.nc.publish(
            FACTS_SUBMIT_SUBJECT,
            b"not json",
            reply=ATTACK_REPLY,
            headers={"Authorization": "Bearer token-101"},
        )
        await client.nc.flush()
        await asyncio.sleep(1.0)  # registration has had the request
        await client.close()

    asyncio.run(attack())
    after = [system.submit(fact(f"c-after-{i}")) for i in range(3)]

    wait_read_models(system, after[-1]["position"])
    messages = asyncio.run(stream_messages(nats_server.url, EVENTS_STREAM))
    assert [message.subject for message in messages if message.subject == ATTACK_REPLY] == []
    assert len(messages) == 4 and relay_positions(messages) == [1, 2, 3, 4]
    assert parked(system.database_url) == {"projection_parked": 0, "alert_parked": 0}
    assert "its reply subject is not the requester's inbox" in system.services["registration"].log_tail(200)


async def test_the_answering_identity_cannot_answer_into_a_stream_even_when_asked_to(nats_server: SecuredNats) -> None:
    """What NATS itself allows the identity that answers requests, whatever the handler does."""
    registration = await _as(nats_server, natsauth.SUBMISSIONS)

    async def answer(message) -> None:
        await message.respond(b'{"status": 422}')

    await registration.nc.subscribe(FACTS_SUBMIT_SUBJECT, cb=answer)
    await registration.nc.flush()
    client = await _as(nats_server, "client-101")
    for reply in (ATTACK_REPLY, f"{AUDIT_SUBJECT_ROOT}.registration.101.citizen.x", "casetrack.alerts.101.team-a"):
        await client.nc.publish(FACTS_SUBMIT_SUBJECT, b"not json", reply=reply)
        await client.nc.flush()
        assert await registration.refused("publish", reply), reply
    admin = await _as(nats_server, natsauth.ADMIN)
    for stream in (EVENTS_STREAM, AUDIT_STREAM, ALERTS_STREAM):
        assert (await admin.js.stream_info(stream)).state.messages == 0, stream
    # A client's own inbox is answered.
    reply = await client.nc.request(FACTS_SUBMIT_SUBJECT, b"{}", timeout=2)
    assert reply.data == b'{"status": 422}'
    for connection in (registration, client, admin):
        await connection.close()


def test_allow_responses_lets_a_responder_publish_to_any_reply_subject(tmp_path: Path) -> None:
    """Why registration has no `allow_responses`: nats-server (2.15) lets the responder publish to
    whatever reply subject the requester names, even one its deny list names."""
    import bcrypt

    password = "pw"
    hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(4)).decode()
    users = [
        {
            "user": "responder",
            "password": hashed,
            "permissions": {
                "publish": {"allow": ["_INBOX.responder.>"], "deny": ["casetrack.events.>"]},
                "subscribe": {"allow": ["casetrack.facts.submit"]},
                "allow_responses": True,
            },
        },
        {
            "user": "requester",
            "password": hashed,
            "permissions": {
                "publish": {"allow": ["casetrack.facts.submit"]},
                "subscribe": {"allow": ["_INBOX.requester.>"]},
            },
        },
        {"user": "admin", "password": hashed},
    ]
    config = tmp_path / "nats.conf"
    config.write_text("authorization " + json.dumps({"users": users}))
    server = EmbeddedNats(tmp_path / "data", port=free_port(), config_file=config)
    url = server.start()

    def as_user(user: str) -> str:
        return natsauth.user_url(url, user, password)

    async def attack() -> int:
        admin = await nats.connect(as_user("admin"))
        await admin.jetstream().add_stream(name="EVENTS", subjects=["casetrack.events.>"])
        responder = await nats.connect(as_user("responder"))

        async def answer(message) -> None:
            await message.respond(b"not json")

        await responder.subscribe("casetrack.facts.submit", cb=answer)
        await responder.flush()
        requester = await nats.connect(as_user("requester"))
        await requester.publish("casetrack.facts.submit", b"x", reply=ATTACK_REPLY)
        await requester.flush()
        await asyncio.sleep(0.5)
        stored = (await admin.jetstream().stream_info("EVENTS")).state.messages
        for nc in (admin, responder, requester):
            await nc.close()
        return stored

    try:
        assert asyncio.run(attack()) == 1
    finally:
        server.stop()


def test_a_foreign_message_in_the_events_stream_stops_nothing(system: System, nats_server: SecuredNats) -> None:
    """The operator (the only one who can) puts foreign messages into the events stream, at the tail
    while the relay runs and at the tail when it starts: every stored fact is still published exactly
    once, in order, and the read models go on."""
    system.start("registration", "projections", "alerts")
    positions = [system.submit(fact(f"c-{i}"))["position"] for i in range(2)]
    wait_read_models(system, positions[-1])

    async def put_foreign(subject_tail: str) -> None:
        admin = await _as(nats_server, natsauth.ADMIN)
        last = await admin.js.get_msg(EVENTS_STREAM, seq=(await admin.js.stream_info(EVENTS_STREAM)).state.last_seq)
        await admin.js.publish(f"casetrack.events.101.{subject_tail}", b"not json", stream=EVENTS_STREAM)
        # A copy of a real event under another message id: valid, but not the relay's.
        await admin.js.publish(last.subject, last.data, headers={"Nats-Msg-Id": str(uuid4())}, stream=EVENTS_STREAM)
        # A well-formed event from a position far ahead, not under its own id as the relay publishes:
        # taken in, it would move the read models' checkpoints past every real event still to come.
        ahead = json.loads(last.data) | {"event_id": str(uuid4()), "position": 1000}
        await admin.js.publish(
            last.subject, json.dumps(ahead).encode(), headers={"Nats-Msg-Id": str(uuid4())}, stream=EVENTS_STREAM
        )
        await admin.close()

    asyncio.run(put_foreign("CitizenErased"))  # while the relay runs
    positions += [system.submit(fact(f"c-{i}"))["position"] for i in range(2, 4)]
    wait_read_models(system, positions[-1])

    system.services["registration"].stop()
    asyncio.run(put_foreign("Anything"))  # at the tail when the relay starts
    system.services["registration"].start()
    positions += [system.submit(fact(f"c-{i}"))["position"] for i in range(4, 7)]

    wait_read_models(system, positions[-1])
    messages = asyncio.run(stream_messages(nats_server.url, EVENTS_STREAM))
    assert relay_positions(messages) == positions == list(range(1, 8))
    assert len(messages) == 7 + 6
    # Each read model parked every message the relay did not publish: the two undecodable ones, the
    # two copies and the two from far ahead; and applied each real event once.
    assert parked(system.database_url) == {"projection_parked": 6, "alert_parked": 6}
    assert applied(system.database_url) == {"projection_checkpoint": (7, 7), "alert_checkpoint": (7, 7)}
    assert "foreign message in the events stream" in system.services["registration"].log_tail(400)


# 2. Any service can wipe the audit trail --------------------------------------------------------


async def test_no_service_can_shrink_the_audit_trail(nats_server: SecuredNats) -> None:
    registration = await _as(nats_server, "registration")
    audit = AuditLog(registration.js, "registration")
    reader = Principal("anna", "101", "support_worker", team="t", worker="w1")
    for i in range(5):
        await audit.record_read(
            reader, action="read_history", municipality="101", subject_type="citizen", subject_id=f"c-{i}"
        )

    for service in natsauth.SERVICES:
        attacker = await _as(nats_server, service)
        # As the attack was made: the stream's own configuration, with max_msgs 1.
        with pytest.raises(Exception):
            await attacker.js.update_stream(
                StreamConfig(name=AUDIT_STREAM, subjects=[STREAM_SUBJECTS[AUDIT_STREAM]], max_msgs=1)
            )
        for verb in ("UPDATE", "PURGE", "DELETE", "MSG.DELETE"):
            assert not await attacker.try_publish(f"$JS.API.STREAM.{verb}.{AUDIT_STREAM}"), (service, verb)
        await attacker.close()

    # Not even the operator removes entries: deny_purge and deny_delete, for good.
    admin = await _as(nats_server, natsauth.ADMIN)
    with pytest.raises(nats.js.errors.APIError, match="purge"):
        await admin.js.purge_stream(AUDIT_STREAM)
    with pytest.raises(nats.js.errors.APIError, match="delete"):
        await admin.js.delete_msg(AUDIT_STREAM, 1)
    config = (await admin.js.stream_info(AUDIT_STREAM)).config
    with pytest.raises(nats.js.errors.APIError, match="purge"):
        await admin.js.update_stream(dataclasses.replace(config, deny_purge=False))
    assert (await admin.js.stream_info(AUDIT_STREAM)).state.messages == 5
    await admin.close()
    await registration.close()


async def test_no_service_may_create_change_or_remove_any_stream(nats_server: SecuredNats) -> None:
    for user in (*natsauth.SERVICES, *natsauth.REGISTRATION_USERS, "client-101"):
        connection = await _as(nats_server, user)
        for stream in STREAM_SUBJECTS:
            for verb in ("CREATE", "UPDATE", "DELETE", "PURGE", "MSG.DELETE"):
                assert not await connection.try_publish(f"$JS.API.STREAM.{verb}.{stream}"), (user, verb, stream)
        assert not await connection.try_publish("$JS.API.STREAM.CREATE.SHADOW"), user
        await connection.close()
    admin = await _as(nats_server, natsauth.ADMIN)
    assert sorted(info.config.name for info in await admin.js.streams_info()) == sorted(STREAM_SUBJECTS)
    await admin.close()


# 3. Audit entries can be forged -----------------------------------------------------------------


async def test_audit_entries_are_written_only_in_the_writers_own_name_and_once(nats_server: SecuredNats) -> None:
    reader = Principal("anna", "101", "support_worker", team="t", worker="w1")
    forged = AuditEntry(
        at="2026-01-01T00:00:00Z",
        service="registration",
        actor="nobody",
        role="admin",
        municipality="101",
        action="read_history",
        subject_type="citizen",
        subject_id="c-1",
    )
    for user in (*natsauth.SERVICES, *natsauth.REGISTRATION_USERS, "client-101"):
        connection = await _as(nats_server, user)
        others = [service for service in natsauth.SERVICES if service != user]
        for subject in (
            f"{AUDIT_SUBJECT_ROOT}.101.citizen.c-1",  # the old subject, as the attack was made
            *(f"{AUDIT_SUBJECT_ROOT}.{other}.101.citizen.c-1" for other in others),
        ):
            assert not await connection.try_publish(subject, forged.model_dump_json().encode()), (user, subject)
        if user in natsauth.SERVICES:
            await AuditLog(connection.js, user).record_read(
                reader, action="read_history", municipality="101", subject_type="citizen", subject_id="c-1"
            )
        await connection.close()

    admin = await _as(nats_server, natsauth.ADMIN)
    entries = [await admin.js.get_msg(AUDIT_STREAM, seq) for seq in range(1, 4)]
    assert (await admin.js.stream_info(AUDIT_STREAM)).state.messages == 3
    for message, service in zip(entries, natsauth.SERVICES, strict=True):
        entry = AuditEntry.model_validate_json(message.data)
        assert entry.service == service
        assert message.subject == f"{AUDIT_SUBJECT_ROOT}.{service}.101.citizen.c-1"
        assert message.headers["Nats-Msg-Id"] == str(entry.id)
    # The same entry again (a retried publish) is stored once.
    projections = await _as(nats_server, "projections")
    again = AuditEntry.model_validate_json(entries[1].data)
    ack = await projections.js.publish(
        entries[1].subject, entries[1].data, headers={"Nats-Msg-Id": str(again.id)}, stream=AUDIT_STREAM
    )
    assert ack.duplicate
    assert (await admin.js.stream_info(AUDIT_STREAM)).state.messages == 3
    await projections.close()
    await admin.close()


# The permission table -------------------------------------------------------------------------


def by_partition(subjects: list[str]) -> list[str]:
    """A subject naming `<partition>` once for each partition the events stream may have."""
    return [
        subject.replace("<partition>", str(p))
        for subject in subjects
        for p in (range(MAX_PARTITIONS) if "<partition>" in subject else [0])
    ]


def readme_table() -> dict[str, tuple[set[str], set[str], set[str]]]:
    """The README's table: user -> (publish, subscribe, publish refused), placeholders expanded
    for the municipalities 101 and 147 and the partitions 0..15."""
    section = README.read_text().split("## NATS users and permissions", 1)[1].split("\n## ", 1)[0]
    table: dict[str, tuple[set[str], set[str], set[str]]] = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 4 or not cells[0].startswith("`"):
            continue
        user = re.match(r"`([^`]+)`", cells[0])[1]  # type: ignore[index]
        columns = [re.findall(r"`([^`]+)`", cell) for cell in cells[1:]]
        users = [user.replace("<municipality>", m) for m in MUNICIPALITIES] if "<municipality>" in user else [user]
        for name in users:
            municipality = name.removeprefix("client-")

            def expand(subjects: list[str]) -> set[str]:
                found: set[str] = set()
                for subject in by_partition(subjects):
                    if "<municipality>" not in subject:
                        found.add(subject)
                    elif name.startswith("client-"):
                        found.add(subject.replace("<municipality>", municipality))
                    else:  # one per municipality
                        found |= {subject.replace("<municipality>", m) for m in MUNICIPALITIES}
                return found

            table[name] = (expand(columns[0]), expand(columns[1]), expand(columns[2]))
    return table


def test_the_readme_table_is_the_permissions_of_the_code() -> None:
    table = readme_table()
    users = natsauth.users_for(MUNICIPALITIES)
    assert sorted(table) == sorted(users)
    for user in users:
        permissions = natsauth.permissions_for(user, MUNICIPALITIES)
        assert "allow_responses" not in permissions, user
        publish, subscribe = permissions["publish"], permissions["subscribe"]  # type: ignore[index]
        assert table[user] == (set(publish["allow"]), set(subscribe["allow"]), set(publish.get("deny", []))), user
        assert len(publish["allow"]) == len(set(publish["allow"])), user


def test_the_running_server_has_the_readme_table(nats_server: SecuredNats) -> None:
    """The configuration the test server runs with holds exactly the README's rights."""
    config = json.loads(Path(nats_server.config_file).read_text().split("authorization ", 1)[1])
    table = readme_table()
    for user in config["users"]:
        permissions = user["permissions"]
        assert table[user["user"]] == (
            set(permissions["publish"]["allow"]),
            set(permissions["subscribe"]["allow"]),
            set(permissions["publish"].get("deny", [])),
        ), user["user"]
        assert "allow_responses" not in permissions


# Rights nobody but the operator has: each user is tried on each that is not in its row.
DANGEROUS_PUBLISH = [
    "casetrack.events.101.CitizenRegistered",
    "casetrack.alerts.101.team-a",
    *(f"{AUDIT_SUBJECT_ROOT}.{service}.101.citizen.c-1" for service in natsauth.SERVICES),
    f"{AUDIT_SUBJECT_ROOT}.101.citizen.c-1",
    *(
        f"$JS.API.STREAM.{verb}.{stream}"
        for stream in STREAM_SUBJECTS
        for verb in ("CREATE", "UPDATE", "DELETE", "PURGE", "MSG.DELETE", "MSG.GET", "INFO")
    ),
    "$JS.API.STREAM.LIST",
    "$JS.API.STREAM.NAMES",
    "$JS.API.INFO",
    "$JS.API.ACCOUNT.PURGE.$G",
    "$JS.API.CONSUMER.CREATE.CASETRACK_EVENTS.spy.casetrack.events.>",
    "$JS.API.CONSUMER.DELETE.CASETRACK_EVENTS.projections",
    "$JS.API.CONSUMER.DELETE.CASETRACK_EVENTS.alerts",
    "$JS.API.DIRECT.GET.CASETRACK_EVENTS",
    "$JS.API.DIRECT.GET.CASETRACK_AUDIT",
    "_INBOX.client-101.forged",
    "_INBOX.projections.forged",
    "_INBOX.relay.forged",
    "casetrack.facts.submit",
]
DANGEROUS_SUBSCRIBE = [
    "_INBOX.>",
    ">",
    "$JS.>",
    "casetrack.events.>",
    "casetrack.audit.>",
    "casetrack.alerts.>",
    "casetrack.facts.submit",
    "_INBOX.registration.>",
    "_INBOX.relay.>",
    "_INBOX.client-101.>",
]


def _granted(subject: str, allowed: set[str]) -> bool:
    """Whether one of `allowed` (NATS wildcards) matches `subject`."""
    tokens = subject.split(".")
    for pattern in allowed:
        parts = pattern.split(".")
        if parts[-1] == ">" and len(tokens) >= len(parts) and all(p in ("*", t) for p, t in zip(parts[:-1], tokens)):
            return True
        if len(parts) == len(tokens) and all(p in ("*", t) for p, t in zip(parts, tokens)):
            return True
    return False


@pytest.mark.parametrize("user", natsauth.users_for(MUNICIPALITIES, admin=False))
async def test_every_right_not_in_the_table_is_refused(nats_server: SecuredNats, user: str) -> None:
    publish, subscribe, refused = readme_table()[user]
    connection = await _as(nats_server, user)
    tried = 0
    for subject in DANGEROUS_PUBLISH:
        if _granted(subject, publish) and not _granted(subject, refused):
            continue
        assert not await connection.try_publish(subject), (user, subject)
        tried += 1
    for subject in DANGEROUS_SUBSCRIBE:
        if subject in subscribe:
            continue
        assert not await connection.try_subscribe(subject), (user, subject)
        tried += 1
    assert tried >= 30, user
    await connection.close()
