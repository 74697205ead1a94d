"""The relay: every stored event, in log order, exactly once onto JetStream.

The notification log is the outbox, and the relay's own last message in the stream says how far it
got: at start (and after any error) the relay walks back from the stream's tail to the last message
it published (a valid event whose `Nats-Msg-Id` is its event id and which is the event stored at
that log position), so a crash between publishing and moving on never republishes. Anything else in
the stream is foreign (only the relay's NATS user may publish there, but the operator can): it is
reported (a warning and `casetrack_errors_total{kind="foreign_event"}`) and stepped over, so no single
message can stop publication. Each publish carries `Nats-Expected-Last-Sequence`,
so the server refuses anything out of order, and `Nats-Msg-Id` = the event's stable id, so a
retried publish inside the duplicate window is dropped. One relay at a time holds an advisory lock.
The log still says what comes next; an event this process stored itself is published from memory
instead of decoded again (recent.py), the same message. Each batch has its publishes in flight
together (the first awaited alone, see `_publish`).
"""

import asyncio
import logging
import os
from collections.abc import Sequence

from nats.js import JetStreamContext
from nats.js.errors import NotFoundError
from pydantic import ValidationError

from contracts.events import EVENTS_STREAM, EventMessage
from runtime.leadership import acquire_leadership
from runtime.metrics import ERRORS, EVENTS_PROCESSED
from services.registration.application import Registration

log = logging.getLogger(__name__)


class StreamOutOfStep(Exception):
    """The stream's tail is not where this relay expected it: re-read it and go on from there."""


class Relay:
    def __init__(
        self,
        app: Registration,
        js: JetStreamContext,
        database_url: str,
        batch_size: int = 500,
        idle_wait_seconds: float = 0.05,
    ):
        self.app = app
        self.js = js
        self.database_url = database_url
        self.batch_size = batch_size
        self.idle_wait_seconds = idle_wait_seconds
        self.position = 0  # last log position known to be in the stream
        self._stream_sequence = 0
        # Fault injection for tests: exit hard once this position is published, before moving on.
        crash_after = os.environ.get("CASETRACK_FAULT_RELAY_EXIT_AFTER_PUBLISH")
        self._crash_after = int(crash_after) if crash_after else None

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self._run_as_leader(stop)
            except Exception as exc:  # store or bus away, or the stream moved: start over
                ERRORS.labels("registration", "relay").inc()
                log.warning("relay interrupted; resuming from the stream tail", extra={"error": repr(exc)})
                await sleep_or_stop(stop, 1.0)

    async def _run_as_leader(self, stop: asyncio.Event) -> None:
        connection = await acquire_leadership(self.database_url, "registration-relay", stop)
        if connection is None:
            return
        try:
            await self._read_stream_tail()
            self.app.recent.want(True)
            log.info("relay leading", extra={"position": self.position})
            while not stop.is_set():
                notifications = await asyncio.to_thread(
                    self.app.recorder.select_notifications, self.position + 1, self.batch_size
                )
                if notifications:
                    await connection.fetchval("SELECT 1")  # still holding the lock?
                    await self._publish(notifications)
                else:
                    await sleep_or_stop(stop, self.idle_wait_seconds)
        finally:
            self.app.recent.want(False)
            await connection.close(timeout=5)

    async def _read_stream_tail(self) -> None:
        info = await self.js.stream_info(EVENTS_STREAM)
        self._stream_sequence = info.state.last_seq  # what the next publish expects, foreign or not
        self.position = 0
        sequence = info.state.last_seq
        while info.state.messages and sequence >= info.state.first_seq:
            try:
                message = await self.js.get_msg(EVENTS_STREAM, seq=sequence)
            except NotFoundError:  # deleted by the operator
                sequence -= 1
                continue
            position = await self._own_position(sequence, message.data, message.headers)
            if position is not None:
                self.position = position
                return
            sequence -= 1

    async def _own_position(self, sequence: int, data: bytes | None, headers: dict[str, str] | None) -> int | None:
        """The log position of a message the relay published, None (and a report) for a foreign one."""
        problem = None
        try:
            event = EventMessage.model_validate_json(data or b"")
        except ValidationError:
            problem = "not an event"
        else:
            if (headers or {}).get("Nats-Msg-Id") != str(event.event_id):
                problem = "Nats-Msg-Id is not the event id"
            elif not await self._is_stored(event):
                problem = "not the event stored at its log position"
        if problem is None:
            return event.position
        ERRORS.labels("registration", "foreign_event").inc()
        log.warning(
            "foreign message in the events stream: stepped over",
            extra={"stream": EVENTS_STREAM, "sequence": sequence, "problem": problem},
        )
        return None

    async def _is_stored(self, event: EventMessage) -> bool:
        notifications = await asyncio.to_thread(self.app.recorder.select_notifications, event.position, 1)
        if not notifications or notifications[0].id != event.position:
            return False
        stored = self.app.to_message(self.app.mapper.to_domain_event(notifications[0]), position=event.position)
        return stored.event_id == event.event_id

    async def _publish(self, notifications: Sequence[object]) -> None:
        pending: list[asyncio.Future] = []
        expected_sequence = self._stream_sequence
        for notification in notifications:
            # The event as this process stored it, if it did (recent.py), else decoded from the log.
            domain_event = self.app.recent.take(
                notification.id,  # type: ignore[attr-defined]
                notification.originator_id,  # type: ignore[attr-defined]
                notification.originator_version,  # type: ignore[attr-defined]
            ) or self.app.mapper.to_domain_event(notification)  # type: ignore[arg-type]
            message = self.app.to_message(domain_event, position=notification.id)  # type: ignore[attr-defined]
            subject, data = message.subject, message.model_dump_json().encode()
            headers = {"Nats-Msg-Id": str(message.event_id), "Nats-Expected-Last-Sequence": str(expected_sequence)}
            if not pending:
                # The batch's first publish is awaited alone: nats-py hands a refused asynchronous
                # publish (the stream's last sequence moved, e.g. by a foreign message) only to the
                # error callback and never resolves its future, so a moved stream shows here at once.
                first = asyncio.get_running_loop().create_future()
                first.set_result(await self.js.publish(subject, data, headers=headers, stream=EVENTS_STREAM))
                pending.append(first)
            else:
                pending.append(await self.js.publish_async(subject, data, headers=headers, stream=EVENTS_STREAM))
            expected_sequence += 1
        acks = await asyncio.wait_for(asyncio.gather(*pending), timeout=30)
        if any(ack.duplicate for ack in acks):
            raise StreamOutOfStep("the stream already held some of these events")
        EVENTS_PROCESSED.labels("registration").inc(len(acks))
        if self._crash_after is not None and notifications[-1].id >= self._crash_after:  # type: ignore[attr-defined]
            log.error("fault injection: relay exits after publishing, before moving on")
            os._exit(70)
        self._stream_sequence = acks[-1].seq
        self.position = notifications[-1].id  # type: ignore[attr-defined]
        self.app.recent.forget_up_to(self.position)


async def sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except TimeoutError:
        pass
