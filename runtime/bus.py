"""NATS JetStream plumbing shared by the services: connection, streams, an ordered batch consumer."""

import asyncio
import dataclasses
import logging
import os
import time
from collections.abc import Awaitable, Callable, Collection, Sequence
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

import asyncpg
import nats
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    DiscardPolicy,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)
from nats.js.errors import NotFoundError

from contracts.alerts import ALERTS_STREAM, ALERTS_SUBJECT_ROOT
from contracts.audit import AUDIT_STREAM, AUDIT_SUBJECT_ROOT
from contracts.events import EVENTS_STREAM, EVENTS_SUBJECT_ROOT
from contracts.rule_config import RULE_CONFIG_STREAM, RULE_CONFIG_SUBJECT_ROOT
from runtime.leadership import acquire_leadership

log = logging.getLogger(__name__)

# Republishing inside this window is dropped by the server (Nats-Msg-Id). Set explicitly: the
# FastStream/NATS docs disagree on what 0 means. 10 minutes covers any relay restart we expect.
DUPLICATE_WINDOW_SECONDS = 600.0

STREAMS = (
    StreamConfig(
        name=EVENTS_STREAM,
        subjects=[f"{EVENTS_SUBJECT_ROOT}.>"],
        retention=RetentionPolicy.LIMITS,  # projections must be able to replay from the start
        storage=StorageType.FILE,
        discard=DiscardPolicy.OLD,
        duplicate_window=DUPLICATE_WINDOW_SECONDS,
    ),
    StreamConfig(
        name=ALERTS_STREAM,
        subjects=[f"{ALERTS_SUBJECT_ROOT}.>"],
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        discard=DiscardPolicy.OLD,
        duplicate_window=DUPLICATE_WINDOW_SECONDS,
    ),
    StreamConfig(
        name=RULE_CONFIG_STREAM,
        subjects=[f"{RULE_CONFIG_SUBJECT_ROOT}.>"],
        retention=RetentionPolicy.LIMITS,  # each rule's changes kept: who changed a norm, and when
        storage=StorageType.FILE,
        discard=DiscardPolicy.OLD,
        allow_direct=True,  # projections read the last configuration by subject (DIRECT.GET)
    ),
    StreamConfig(
        name=AUDIT_STREAM,
        subjects=[f"{AUDIT_SUBJECT_ROOT}.>"],
        retention=RetentionPolicy.LIMITS,  # kept: the data protection officer asks years later
        storage=StorageType.FILE,
        discard=DiscardPolicy.OLD,
        duplicate_window=DUPLICATE_WINDOW_SECONDS,  # Nats-Msg-Id = the entry's id
        # No entry is ever removed, by anyone: nats-server refuses to turn these off again.
        deny_delete=True,
        deny_purge=True,
    ),
)


def inbox_prefix(user: str) -> str:
    """Each NATS user has inboxes of its own, the only ones it may subscribe to (casetrack.natsauth)."""
    return f"_INBOX.{user}"


def servers_and_credentials(url: str, more_servers: str | None = None) -> dict[str, Any]:
    """The nats.connect arguments for `url`: one server, or a cluster's servers separated by commas
    (`nats://projections:<password>@n1:4222,nats://n2:4222,nats://n3:4222`), and the servers of
    `more_servers` (default: NATS_SERVERS, the cluster's nodes without users, so each service's own
    `<SERVICE>_NATS_URL` secret can keep naming one node). The user and password of the first URL
    that carries them are given to every server, and to the nodes the cluster tells the client about
    later (nats-py signs in to those with the `user`/`password` options)."""
    if more_servers is None:
        more_servers = os.environ.get("NATS_SERVERS", "")
    servers: list[str] = []
    user = password = None
    for part in (p.strip() for p in f"{url},{more_servers}".split(",")):
        if not part:
            continue
        parts = urlsplit(part if "://" in part else f"nats://{part}")
        if parts.username is not None and user is None:
            user, password = unquote(parts.username), unquote(parts.password or "")
        server = urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[-1]))
        if server not in servers:
            servers.append(server)
    if not servers:
        raise ValueError("no NATS server given")
    return {"servers": servers, "user": user, "password": password}


async def connect(url: str, name: str, **options: Any) -> NatsClient:
    """Connects as the service `name`; the URL carries that service's NATS user and password. With a
    cluster's servers (comma-separated) a lost connection is taken up by another node."""

    async def _disconnected() -> None:
        log.warning("nats disconnected")

    async def _reconnected() -> None:
        log.info("nats reconnected")

    async def _error(exc: Exception) -> None:
        log.warning("nats error", extra={"error": repr(exc)})

    return await nats.connect(
        **servers_and_credentials(url),
        name=name,
        max_reconnect_attempts=-1,
        reconnect_time_wait=0.5,
        disconnected_cb=_disconnected,
        reconnected_cb=_reconnected,
        error_cb=_error,
        inbox_prefix=inbox_prefix(name),
        **options,
    )


def stream_replicas() -> int | None:
    """CASETRACK_STREAM_REPLICAS: how many nodes keep each stream (1: one server; 3: the three-node
    cluster of deploy/RUNBOOK-cluster.md). At most the cluster's size, which nats-server checks.
    Unset: None, a new stream on one node and an existing one left as it is."""
    raw = os.environ.get("CASETRACK_STREAM_REPLICAS")
    if not raw:
        return None
    try:
        replicas = int(raw)
    except ValueError:
        raise ValueError(f"CASETRACK_STREAM_REPLICAS must be a whole number, got {raw!r}") from None
    if not 1 <= replicas <= 5:
        raise ValueError(f"CASETRACK_STREAM_REPLICAS must be between 1 and 5, got {replicas}")
    return replicas


async def ensure_streams(
    js: JetStreamContext,
    names: Collection[str] | None = None,
    replicas: int | None = None,
    partitions: int | None = None,
) -> None:
    """Creates or updates the streams `names` (default: all), each on `replicas` nodes (default
    CASETRACK_STREAM_REPLICAS), the events stream in `partitions` partitions by municipality
    (default CASETRACK_EVENT_PARTITIONS; 0: none; runtime/partitions.py). Where neither is given, a
    new stream gets one node and no partitions and an existing one keeps what it has: running
    `casetrack streams` again without them never shrinks a cluster's streams or undoes the
    partitions the consumers follow. The operator's work (`casetrack streams`, `casetrack run`): no
    service may create, change or remove a stream (casetrack.natsauth)."""
    from runtime.partitions import event_partitions, events_transform, partitions_of  # it builds on this module

    replicas = stream_replicas() if replicas is None else replicas
    partitions = event_partitions() if partitions is None else partitions
    for template in STREAMS:
        if names is not None and template.name not in names:
            continue
        assert template.name is not None  # every stream in STREAMS is named
        try:
            current: StreamConfig | None = (await js.stream_info(template.name)).config
        except NotFoundError:
            current = None
        config = dataclasses.replace(
            template, num_replicas=replicas or (current.num_replicas if current is not None else None) or 1
        )
        if config.name == EVENTS_STREAM:
            wanted = partitions if partitions is not None else partitions_of(current) if current is not None else 0
            config = dataclasses.replace(config, subject_transform=events_transform(wanted))
        if current is None:
            await js.add_stream(config)
        else:
            await js.update_stream(config)


async def wait_for_streams(js: JetStreamContext, names: Collection[str], retry_seconds: float = 1.0) -> None:
    """Returns once every stream in `names` exists; a service only looks its streams up."""
    for name in names:
        while True:
            try:
                await js.stream_info(name)
                break
            except NotFoundError:
                log.warning(
                    "stream missing: waiting for the operator to provision it (casetrack streams)",
                    extra={"stream": name},
                )
                await asyncio.sleep(retry_seconds)


BatchHandler = Callable[[Sequence[Msg]], Awaitable[None]]


class OrderedConsumer:
    """Hands the stream to `handle` in stream order, a batch at a time, exactly once.

    The read model's own checkpoint (in PostgreSQL, committed with its changes) is the truth about
    how far it got, so the durable JetStream consumer is (re)created from that checkpoint each time
    this process becomes the leader. That keeps the order across crashes: a killed consumer's
    unacknowledged batch is not redelivered after later messages, it is simply read again.
    Only the leader among replicas consumes. FastStream's pull subscriber runs batch items
    concurrently, which would lose the order, hence nats-py here.
    """

    def __init__(
        self,
        js: JetStreamContext,
        *,
        stream: str,
        durable: str,
        subject: str,
        handle: BatchHandler,
        resume_after: Callable[[], Awaitable[int]],
        database_url: str,
        batch_size: int = 200,
        on_lag: Callable[[int], None] | None = None,
    ):
        self.js = js
        self.stream = stream
        self.durable = durable
        self.subject = subject
        self.handle = handle
        self.resume_after = resume_after  # the last stream sequence the handler committed
        self.database_url = database_url
        self.batch_size = batch_size
        self.on_lag = on_lag
        self._lag_reported_at = 0.0

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self._lead(stop)
            except Exception as exc:  # bus or store away: start over from the checkpoint
                log.warning("consumer interrupted", extra={"consumer": self.durable, "error": repr(exc)})
                try:
                    await asyncio.wait_for(stop.wait(), timeout=1.0)
                except TimeoutError:
                    pass

    async def _lead(self, stop: asyncio.Event) -> None:
        leadership = await acquire_leadership(self.database_url, f"consumer:{self.durable}", stop)
        if leadership is None:
            return
        await self.consume(leadership, stop)

    async def consume(self, leadership: asyncpg.Connection, stop: asyncio.Event) -> None:
        """Consumes while `leadership` (the connection holding this consumer's lock) is held and
        `stop` is not set; closes it on the way out, which lets another replica lead."""
        try:
            subscription = await self._subscribe_from_checkpoint()
            while not stop.is_set():
                try:
                    messages = await subscription.fetch(self.batch_size, timeout=1.0)
                except (TimeoutError, nats.errors.TimeoutError):
                    await leadership.fetchval("SELECT 1")  # still holding the lock?
                    await self._report_lag(subscription)
                    continue
                await self.handle(messages)
                await _quietly(messages[-1].ack_sync(timeout=5.0))
                await self._report_lag(subscription)
        finally:
            leadership.terminate()

    async def _subscribe_from_checkpoint(self) -> JetStreamContext.PullSubscription:
        start = await self.resume_after() + 1
        try:
            await self.js.delete_consumer(self.stream, self.durable)
        except NotFoundError:
            pass
        log.info("consuming", extra={"consumer": self.durable, "from_sequence": start})
        return await self.js.pull_subscribe(
            self.subject,
            durable=self.durable,
            stream=self.stream,
            config=ConsumerConfig(
                durable_name=self.durable,
                ack_policy=AckPolicy.ALL,  # acknowledging the last of a batch acknowledges it all
                deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
                opt_start_seq=start,
                ack_wait=60.0,
                max_ack_pending=self.batch_size * 2,
            ),
        )

    async def _report_lag(self, subscription: JetStreamContext.PullSubscription) -> None:
        if self.on_lag is None or time.monotonic() - self._lag_reported_at < 1.0:
            return
        self._lag_reported_at = time.monotonic()
        try:
            info = await subscription.consumer_info()
        except Exception:
            return
        self.on_lag((info.num_pending or 0) + (info.num_ack_pending or 0))


async def _quietly(awaitable: Awaitable[object]) -> None:
    try:
        await awaitable
    except Exception as exc:  # the checkpoint, not the ack, says what was applied
        log.warning("ack failed", extra={"error": repr(exc)})
