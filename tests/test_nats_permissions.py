"""Each NATS user can do what its service needs and nothing else (casetrack/natsauth.py), on a real
nats-server with the shipped permissions. The services' own use is proven by the rest of the suite,
which runs with these permissions on; here are the denials, and the case-system clients."""

import asyncio
import json
from pathlib import Path

import nats
import pytest
from nats.aio.client import Client

from casetrack import cli, natsauth
from casetrack.embedded import EmbeddedNats, free_port
from contracts.alerts import ALERTS_STREAM, alert_subject
from contracts.events import EVENTS_STREAM
from contracts.submission import FACTS_SUBMIT_SUBJECT
from runtime.bus import OrderedConsumer, inbox_prefix, wait_for_streams
from tests.support import SecuredNats, nats_passwords

pytestmark = pytest.mark.integration

EVENT_SUBJECT = "casetrack.events.101.CitizenRegistered"
DEPLOY = Path(__file__).parent.parent / "deploy"


class Connection:
    """A connection as `user` that remembers the server's permission errors."""

    def __init__(self, nc: Client, errors: list[str]):
        self.nc = nc
        self.errors = errors
        self.js = nc.jetstream(timeout=2)

    @classmethod
    async def open(cls, server: SecuredNats, user: str) -> "Connection":
        errors: list[str] = []

        async def collect(error: Exception) -> None:
            errors.append(str(error))

        nc = await nats.connect(
            server.url_for(user),
            name=user,
            inbox_prefix=inbox_prefix(user),
            error_cb=collect,
            allow_reconnect=False,
        )
        return cls(nc, errors)

    async def refused(self, operation: str, subject: str) -> bool:
        """True once the server has refused `operation` ("publish" or "subscription") on `subject`.

        The -ERR may come after the PONG of a flush, so this waits up to a second for it."""
        expected = f'permissions violation for {operation} to "{subject}"'.lower()  # nats-py lowercases it
        for _ in range(20):
            if any(expected in error.lower() for error in self.errors):
                return True
            await asyncio.sleep(0.05)
        return False

    async def try_publish(self, subject: str, data: bytes = b"{}") -> bool:
        """Publishes; True if the server took it, False if it refused it."""
        await self.nc.publish(subject, data)
        await self.nc.flush()
        return not await self.refused("publish", subject)

    async def try_subscribe(self, subject: str) -> bool:
        await self.nc.subscribe(subject)
        await self.nc.flush()
        return not await self.refused("subscription", subject)

    async def close(self) -> None:
        await self.nc.close()


@pytest.fixture
async def connect(nats_server: SecuredNats):
    opened: list[Connection] = []

    async def _connect(user: str) -> Connection:
        connection = await Connection.open(nats_server, user)
        opened.append(connection)
        return connection

    yield _connect
    for connection in opened:
        await connection.close()


@pytest.fixture
async def streams(nats_server: SecuredNats) -> None:
    """The streams, provisioned by the operator when the test server started (tests.support)."""


async def _consume_as(connection: Connection, durable: str) -> list[bytes]:
    """What runtime.bus.OrderedConsumer does with the bus: recreate, fetch, ack, look at the lag."""

    async def from_the_start() -> int:
        return 0

    consumer = OrderedConsumer(
        connection.js,
        stream=EVENTS_STREAM,
        durable=durable,
        subject="casetrack.events.>",
        handle=None,
        resume_after=from_the_start,
        database_url="unused",  # type: ignore[arg-type]
    )
    subscription = await consumer._subscribe_from_checkpoint()
    messages = await subscription.fetch(10, timeout=2)
    await messages[-1].ack_sync(timeout=2)
    info = await subscription.consumer_info()
    assert info.num_ack_pending == 0
    await consumer._subscribe_from_checkpoint()  # a new leader deletes and recreates it
    return [message.data for message in messages]


async def test_anonymous_and_wrong_passwords_are_refused(nats_server: SecuredNats) -> None:
    for url in (
        nats_server.anonymous_url,
        nats_server.url_for("registration", "wrong"),
        nats_server.url_for("client-101", nats_passwords()["client-147"]),
        nats_server.url_for("client-999", nats_passwords()["client-101"]),
    ):
        with pytest.raises(nats.errors.Error, match="Authorization Violation"):
            await nats.connect(url, allow_reconnect=False, max_reconnect_attempts=0, connect_timeout=2)


async def test_the_relay_publishes_events_and_reads_the_stream_tail_only(connect, streams) -> None:
    registration = await connect(natsauth.RELAY)
    ack = await registration.js.publish(
        EVENT_SUBJECT,
        b'{"position": 1}',
        headers={"Nats-Msg-Id": "e-1", "Nats-Expected-Last-Sequence": "0"},
        stream=EVENTS_STREAM,
    )
    info = await registration.js.stream_info(EVENTS_STREAM)
    assert (await registration.js.get_msg(EVENTS_STREAM, seq=info.state.last_seq)).seq == ack.seq == 1

    assert not await registration.try_publish(alert_subject("101", "team-a"))
    assert not await registration.try_publish(f"$JS.API.STREAM.DELETE.{EVENTS_STREAM}")
    assert not await registration.try_publish(f"$JS.API.STREAM.PURGE.{EVENTS_STREAM}")
    assert not await registration.try_publish(f"$JS.API.STREAM.UPDATE.{ALERTS_STREAM}")
    assert not await registration.try_subscribe("casetrack.alerts.>")
    assert not await registration.try_subscribe(f"{inbox_prefix('projections')}.>")


@pytest.mark.parametrize("service", ["projections", "alerts"])
async def test_consumers_read_events_through_their_own_durable_and_cannot_write_them(
    connect, streams, service: str
) -> None:
    registration = await connect(natsauth.RELAY)
    await registration.js.publish(EVENT_SUBJECT, b'{"position": 1}', stream=EVENTS_STREAM)
    consumer = await connect(service)

    assert await _consume_as(consumer, service) == [b'{"position": 1}']

    other = "alerts" if service == "projections" else "projections"
    assert await consumer.try_publish(f"$JS.API.CONSUMER.INFO.{EVENTS_STREAM}.{service}")
    assert not await consumer.try_publish(f"$JS.API.CONSUMER.DELETE.{EVENTS_STREAM}.{other}")
    assert not await consumer.try_publish(f"$JS.API.CONSUMER.MSG.NEXT.{EVENTS_STREAM}.{other}")
    assert not await consumer.try_publish(EVENT_SUBJECT)
    assert not await consumer.try_publish(f"$JS.API.STREAM.UPDATE.{EVENTS_STREAM}")
    assert not await consumer.try_publish(f"$JS.API.STREAM.MSG.GET.{EVENTS_STREAM}")
    assert not await consumer.try_subscribe("casetrack.events.>")
    assert not await consumer.try_subscribe(f"{inbox_prefix('registration')}.>")
    assert (await registration.js.stream_info(EVENTS_STREAM)).state.messages == 1


async def test_only_alerts_publishes_alerts(connect, streams) -> None:
    alerts = await connect("alerts")
    ack = await alerts.js.publish(
        alert_subject("101", "team-a"), b"{}", headers={"Nats-Msg-Id": "a-1:raised"}, stream=ALERTS_STREAM
    )
    assert ack.stream == ALERTS_STREAM
    projections = await connect("projections")
    assert not await projections.try_publish(alert_subject("101", "team-a"))


async def test_a_client_hears_its_own_municipality_and_nothing_else(connect, streams) -> None:
    client = await connect("client-101")
    heard: list[str] = []

    async def hear(message) -> None:
        heard.append(message.subject)

    await client.nc.subscribe("casetrack.alerts.101.>", cb=hear)
    await client.nc.flush()

    assert await client.try_subscribe("casetrack.alerts.101.team-b")
    assert not await client.try_subscribe("casetrack.alerts.147.>")
    assert not await client.try_subscribe("casetrack.alerts.>")
    assert not await client.try_subscribe("casetrack.events.>")
    assert not await client.try_subscribe(">")
    assert not await client.try_subscribe(f"{inbox_prefix('client-147')}.>")
    assert not await client.try_subscribe(f"{inbox_prefix('alerts')}.>")

    alerts = await connect("alerts")
    for municipality in ("147", "101"):
        await alerts.js.publish(alert_subject(municipality, "team-a"), b"{}", stream=ALERTS_STREAM)
    for _ in range(40):
        if heard:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.2)  # would 147's alert, published first, still arrive?
    assert heard == ["casetrack.alerts.101.team-a"]


async def test_a_client_cannot_write_the_streams_or_read_them_through_jetstream(connect, streams) -> None:
    client = await connect("client-101")
    assert not await client.try_publish(alert_subject("101", "team-a"))
    assert not await client.try_publish(EVENT_SUBJECT)
    for api in (
        f"$JS.API.STREAM.INFO.{ALERTS_STREAM}",
        f"$JS.API.STREAM.MSG.GET.{ALERTS_STREAM}",
        f"$JS.API.DIRECT.GET.{ALERTS_STREAM}",
        f"$JS.API.CONSUMER.CREATE.{ALERTS_STREAM}.mine.casetrack.alerts.101.>",
        f"$JS.API.CONSUMER.CREATE.{ALERTS_STREAM}",
        f"$JS.API.CONSUMER.MSG.NEXT.{EVENTS_STREAM}.projections",
    ):
        assert not await client.try_publish(api, json.dumps({"seq": 1}).encode()), api


async def test_a_client_submits_facts_by_request_and_registration_answers(connect) -> None:
    registration = await connect(natsauth.SUBMISSIONS)

    async def answer(message) -> None:
        await message.respond(b'{"accepted": true}')

    await registration.nc.subscribe(FACTS_SUBMIT_SUBJECT, cb=answer)
    await registration.nc.flush()
    client = await connect("client-101")

    reply = await client.nc.request(FACTS_SUBMIT_SUBJECT, b"{}", timeout=2)

    assert reply.data == b'{"accepted": true}'
    assert reply.subject.startswith(inbox_prefix("client-101") + ".")
    # It answers into the clients' (and the operator's) inboxes and nowhere else.
    assert not await registration.try_publish(f"{inbox_prefix('projections')}.forged")
    assert not await registration.try_publish(EVENT_SUBJECT)
    other = await connect("client-147")
    assert not await other.try_subscribe(FACTS_SUBMIT_SUBJECT)  # no eavesdropping on submissions


def test_every_user_has_only_its_own_inbox() -> None:
    for user in natsauth.users_for(["101", "147"], admin=False):
        subscribe = natsauth.permissions_for(user)["subscribe"]["allow"]  # type: ignore[index]
        inboxes = [subject for subject in subscribe if subject.startswith("_INBOX")]
        assert inboxes == [f"_INBOX.{user}.>"], user


def test_unknown_users_and_malformed_client_names_get_no_permissions() -> None:
    for user in ("client-", "client-101.>", "client-*", "guest"):
        with pytest.raises(ValueError):
            natsauth.permissions_for(user)


async def test_casetrack_run_gives_each_service_its_own_user_and_keeps_the_passwords(tmp_path) -> None:
    server, env, passwords = cli._embedded_nats(tmp_path, ["101"])
    try:
        assert set(passwords) == {
            "registration",
            "projections",
            "alerts",
            "relay",
            "submissions",
            "client-101",
            "admin",
        }
        for service in (*natsauth.SERVICES, *natsauth.REGISTRATION_USERS):
            assert env[f"{service.upper()}_NATS_URL"] == natsauth.user_url(env["NATS_URL"], service, passwords[service])
        config = (tmp_path / "nats" / "nats.conf").read_text()
        assert config.count('"$2b$') == len(passwords)
        assert not any(password in config for password in passwords.values())
        with pytest.raises(nats.errors.Error, match="Authorization Violation"):
            await nats.connect(env["NATS_URL"], allow_reconnect=False, max_reconnect_attempts=0, connect_timeout=2)
        errors: list[str] = []

        async def collect(error: Exception) -> None:
            errors.append(str(error))

        nc = await nats.connect(env["PROJECTIONS_NATS_URL"], allow_reconnect=False, error_cb=collect)
        await nc.publish(EVENT_SUBJECT, b"{}")
        await nc.flush()
        await asyncio.sleep(0.2)
        await nc.close()
        assert any("permissions violation for publish" in error for error in errors)
    finally:
        server.stop()

    server, _, again = cli._embedded_nats(tmp_path, ["101", "147"])
    server.stop()
    assert {user: again[user] for user in passwords} == passwords
    assert "client-147" in again
    assert (tmp_path / cli.NATS_PASSWORDS_FILE).stat().st_mode & 0o777 == 0o600


def test_the_deploy_config_includes_the_written_users_and_lets_each_service_in(tmp_path) -> None:
    port = free_port()
    credentials = tmp_path / "nats-credentials.env"
    assert (
        natsauth.main(
            [
                "--municipality",
                "101",
                "--nats-url",
                f"nats://127.0.0.1:{port}",
                "--config",
                str(tmp_path / "nats-auth.conf"),
                "--env",
                str(credentials),
            ]
        )
        == 0
    )
    assert credentials.stat().st_mode & 0o777 == 0o600
    env = dict(line.split("=", 1) for line in credentials.read_text().splitlines() if not line.startswith("#"))
    assert set(env) == {
        "REGISTRATION_NATS_URL",
        "PROJECTIONS_NATS_URL",
        "ALERTS_NATS_URL",
        "RELAY_NATS_URL",
        "SUBMISSIONS_NATS_URL",
    }
    operator = tmp_path / "nats-operator.env"
    assert operator.stat().st_mode & 0o777 == 0o600
    operator_url = operator.read_text().strip().removeprefix("OPERATOR_NATS_URL=")
    assert "admin:" in operator_url and "admin:" not in credentials.read_text()
    # deploy/nats.conf's users, with the test server's own address, port and store (flags).
    includes = [line for line in (DEPLOY / "nats.conf").read_text().splitlines() if line.startswith("include")]
    assert includes == ['include "nats-auth.conf"']
    (tmp_path / "nats.conf").write_text(includes[0] + "\n")
    server = EmbeddedNats(tmp_path / "data", port=port, config_file=tmp_path / "nats.conf")
    server.start()

    async def sign_in() -> None:
        with pytest.raises(nats.errors.Error, match="Authorization Violation"):
            await nats.connect(server.url, allow_reconnect=False, max_reconnect_attempts=0, connect_timeout=2)
        cli.provision_streams(operator_url)  # `casetrack streams`, the compose file's one-shot step
        for user in (*natsauth.SERVICES, *natsauth.REGISTRATION_USERS):
            nc = await nats.connect(env[f"{user.upper()}_NATS_URL"], inbox_prefix=inbox_prefix(user))
            await nc.close()
        nc = await nats.connect(env["RELAY_NATS_URL"], inbox_prefix=inbox_prefix(natsauth.RELAY))
        await wait_for_streams(nc.jetstream(timeout=2), [EVENTS_STREAM])
        await nc.close()

    try:
        asyncio.run(sign_in())
    finally:
        server.stop()


def test_the_example_in_deploy_has_the_permissions_of_the_code() -> None:
    text = (DEPLOY / "nats-auth.example.conf").read_text()
    body = "".join(line for line in text.splitlines(keepends=True) if not line.startswith("#"))
    users = json.loads(body.removeprefix("authorization "))["users"]
    assert [user["user"] for user in users] == natsauth.users_for(["101", "147"])
    for user in users:
        assert user["permissions"] == natsauth.permissions_for(user["user"], ["101", "147"]), user["user"]
        assert user["password"].startswith("$2b$"), user["user"]


def test_a_service_reads_its_own_nats_url_before_the_shared_one(monkeypatch) -> None:
    from runtime.settings import Settings

    monkeypatch.setenv("DATABASE_URL", "postgresql://x@127.0.0.1/x")
    monkeypatch.setenv("NATS_URL", "nats://127.0.0.1:4222")
    monkeypatch.setenv("PROJECTIONS_NATS_URL", "nats://projections:pw@127.0.0.1:4222")
    assert Settings.from_env("projections", 8002).nats_url == "nats://projections:pw@127.0.0.1:4222"
    assert Settings.from_env("alerts", 8003).nats_url == "nats://127.0.0.1:4222"
