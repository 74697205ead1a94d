"""The relay publishes the events its own process just stored without decoding them from the log
(services/registration/recent.py): the stream then holds, byte for byte, what decoding the log
gives, each event once and in log order."""

import asyncio
from datetime import UTC, date, datetime
from typing import Any
from uuid import uuid4

import nats
import pytest

from casetrack.demo import generate
from contracts.events import EVENTS_STREAM, Imported
from contracts.facts import fact_adapter
from services.registration.application import Registration, postgres_env
from services.registration.recent import RecentEvents
from services.registration.relay import Relay
from tests.support import SecuredNats


def _facts(municipality: str) -> list[Any]:
    """Two years of a municipality's Housing First work, every kind of fact the demo makes."""
    out = []
    for fact in generate(municipality, 6, 24, seed=21, today=date(2026, 6, 1)):
        if "cpr" in fact:
            fact = dict(fact)
            fact["citizen_id"] = "cpr-" + fact.pop("cpr").replace("-", "")
        out.append(fact_adapter.validate_python(fact))
    return out


@pytest.mark.integration
async def test_events_stored_here_are_published_as_the_log_holds_them(
    database_url: str, nats_server: SecuredNats
) -> None:
    app = Registration(env=postgres_env(database_url))
    decoded = []
    to_domain_event = app.mapper.to_domain_event

    def counting(stored: Any) -> Any:
        if hasattr(stored, "id"):  # a notification read from the log (the rules' reads are StoredEvents)
            decoded.append(stored.id)
        return to_domain_event(stored)

    app.mapper.to_domain_event = counting  # type: ignore[method-assign]
    nc = await nats.connect(nats_server.url)
    try:
        app.recent.want(True)  # as the relay does while it leads
        facts = _facts("101")
        for i in range(0, len(facts), 200):
            app.record_batch([(fact, "fagsystem-101") for fact in facts[i : i + 200]])
        imported = _facts("147")[:50]
        origin = Imported(source="legacy", recorded_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
        app.record_batch([(fact, "admin") for fact in imported], imported=[origin] * len(imported))
        last = app.recorder.max_notification_id()
        assert last is not None and len(app.recent) == last > 300

        stop = asyncio.Event()
        relay = Relay(app, nc.jetstream(), database_url, batch_size=100)
        running = asyncio.create_task(relay.run(stop))
        while relay.position < last:
            await asyncio.sleep(0.05)
        stop.set()
        await running

        assert decoded == []  # every event came from memory
        js = nc.jetstream()
        info = await js.stream_info(EVENTS_STREAM)
        assert info.state.messages == last
        for position, notification in enumerate(app.recorder.select_notifications(1, last), start=1):
            message = await js.get_msg(EVENTS_STREAM, seq=position)
            from_log = app.to_message(to_domain_event(notification), position=notification.id)
            assert message.data == from_log.model_dump_json().encode()
            assert message.headers is not None and message.headers["Nats-Msg-Id"] == str(from_log.event_id)
        assert len(app.recent) == 0 and not app.recent._wanted  # a relay that stops leading keeps nothing
    finally:
        await nc.close()
        app.close()


class _Event:
    def __init__(self, originator_id: Any, originator_version: int):
        self.originator_id, self.originator_version = originator_id, originator_version


def test_recent_events_are_kept_only_while_wanted_and_only_up_to_the_limit() -> None:
    recent = RecentEvents(limit=3)
    a = uuid4()
    recent.remember([(1, _Event(a, 1))])
    assert len(recent) == 0  # no relay leads here
    recent.want(True)
    recent.remember([(n, _Event(a, n)) for n in range(1, 6)])
    assert len(recent) == 3  # the rest the relay decodes from the log
    assert recent.take(1, a, 1) is not None and recent.take(1, a, 1) is None
    assert recent.take(2, uuid4(), 2) is None  # not the event the log holds at 2: decoded instead
    recent.forget_up_to(3)
    assert len(recent) == 0
    recent.remember([(7, _Event(a, 7))])
    recent.want(False)
    assert len(recent) == 0
