"""NATS JetStream plumbing shared by the services: connection, streams, an ordered batch consumer."""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence

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
from contracts.events import EVENTS_STREAM, EVENTS_SUBJECT_ROOT

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
)


async def connect(url: str, name: str) -> NatsClient:
    async def _disconnected() -> None:
        log.warning("nats disconnected")

    async def _reconnected() -> None:
        log.info("nats reconnected")

    async def _error(exc: Exception) -> None:
        log.warning("nats error", extra={"error": repr(exc)})

    return await nats.connect(
        url,
        name=name,
        max_reconnect_attempts=-1,
        reconnect_time_wait=0.5,
        disconnected_cb=_disconnected,
        reconnected_cb=_reconnected,
        error_cb=_error,
    )


async def ensure_streams(js: JetStreamContext) -> None:
    for config in STREAMS:
        try:
            await js.stream_info(config.name)
            await js.update_stream(config)
        except NotFoundError:
            await js.add_stream(config)


BatchHandler = Callable[[Sequence[Msg]], Awaitable[None]]


class OrderedConsumer:
    """A durable pull consumer that hands messages to `handle` in stream order, a batch at a time.

    The handler must commit its effects and its processed position in one transaction and skip
    what it has already applied: redelivery after a crash then changes nothing. Only after the
    handler returns are the messages acknowledged. FastStream's pull subscriber runs batch items
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
        batch_size: int = 200,
        ack_wait_seconds: float = 60.0,
        on_lag: Callable[[int], None] | None = None,
    ):
        self.js = js
        self.stream = stream
        self.durable = durable
        self.subject = subject
        self.handle = handle
        self.batch_size = batch_size
        self.ack_wait_seconds = ack_wait_seconds
        self.on_lag = on_lag
        self._lag_reported_at = 0.0

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self._consume(stop)
            except Exception as exc:  # bus away at start, or the consumer was deleted: start over
                log.warning("consumer interrupted", extra={"consumer": self.durable, "error": repr(exc)})
                await asyncio.sleep(1.0)

    async def _consume(self, stop: asyncio.Event) -> None:
        subscription = await self.js.pull_subscribe(
            self.subject,
            durable=self.durable,
            stream=self.stream,
            config=ConsumerConfig(
                durable_name=self.durable,
                ack_policy=AckPolicy.ALL,  # acknowledging the last of a batch acknowledges it all
                deliver_policy=DeliverPolicy.ALL,
                ack_wait=self.ack_wait_seconds,
                max_ack_pending=self.batch_size * 4,
                max_deliver=-1,  # the handler is idempotent and retried until the store is back
            ),
        )
        while not stop.is_set():
            try:
                messages = await subscription.fetch(self.batch_size, timeout=1.0)
            except (nats.errors.TimeoutError, asyncio.TimeoutError):
                await self._report_lag(subscription)
                continue
            except Exception as exc:  # connection loss: the client reconnects by itself
                log.warning("fetch failed", extra={"consumer": self.durable, "error": repr(exc)})
                await asyncio.sleep(1.0)
                continue
            await self._handle_until_done(messages, stop)
            if stop.is_set():
                return  # unacknowledged: redelivered to whoever consumes next, and skipped if applied
            await _quietly(messages[-1].ack_sync(timeout=5.0))
            await self._report_lag(subscription)

    async def _handle_until_done(self, messages: Sequence[Msg], stop: asyncio.Event) -> None:
        """Retries the same batch in place, so the order holds while the store is away."""
        backoff = 0.5
        while not stop.is_set():
            try:
                await self.handle(messages)
                return
            except Exception:
                log.exception("batch failed; retrying", extra={"consumer": self.durable})
                await _quietly(messages[-1].in_progress())
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)

    async def _report_lag(self, subscription: JetStreamContext.PullSubscription) -> None:
        if self.on_lag is None or time.monotonic() - self._lag_reported_at < 1.0:
            return
        self._lag_reported_at = time.monotonic()
        try:
            info = await subscription.consumer_info()
        except Exception:
            return
        self.on_lag(info.num_pending + info.num_ack_pending)


async def _quietly(awaitable: Awaitable[object]) -> None:
    try:
        await awaitable
    except Exception as exc:  # an unacked message is redelivered and skipped by position
        log.warning("ack failed", extra={"error": repr(exc)})
