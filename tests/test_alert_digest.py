"""The daily digest goes over SMTP to each team leader with an e-mail, once a day, with their
team's open alerts; tested against a real SMTP server (aiosmtpd) started by the test."""

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, time
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller

from casetrack.embedded import free_port
from services.alerts import digest
from tests.alerts_support import Alerts, alerts_database, course_opened, days, fact
from tests.test_alert_rules import D0

pytestmark = pytest.mark.integration


class Inbox:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content, policy=policy.default)))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, digest.SmtpSettings]]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield inbox, digest.SmtpSettings(host="127.0.0.1", port=controller.port, sender="alerts@casetrack.test", hour=6)
    finally:
        controller.stop()


@pytest.fixture
async def alerts(postgres_admin_url: str) -> AsyncIterator[Alerts]:
    async with alerts_database(postgres_admin_url, D0) as alerts:
        yield alerts


def worker(worker_id: str, team: str, role: str, email: str | None = None):
    return fact(
        "WorkerRegistered", D0, worker_id=worker_id, team_id=team, role=role, **({"email": email} if email else {})
    )


async def test_each_team_leader_gets_their_teams_open_alerts_once_a_day(alerts: Alerts, smtp) -> None:
    inbox, settings = smtp
    await alerts.apply(
        worker("anne", "team-a", "team_leader", "anne@kk.dk"),
        worker("bo", "team-b", "team_leader", "bo@kk.dk"),
        worker("carl", "team-b", "team_leader", "carl@kk.dk"),
        worker("dina", "team-a", "support_worker", "dina@kk.dk"),
        worker("erik", "team-a", "team_leader"),  # no e-mail: no digest
        fact("WorkerMovedTeam", D0, worker_id="carl", team_id="team-a"),
        fact("WorkerLeft", D0, worker_id="bo"),
        *course_opened("c1", "k1", "ICM", D0, team="team-a"),
        *course_opened("c2", "k2", "ICM", D0, team="team-b"),
        fact("EvictionRiskRegistered", D0, "c1", kind="bailiff_case"),
        fact("EvictionRiskRegistered", D0, "c2", kind="bailiff_case"),
    )
    alerts.clock.set(datetime.combine(D0, time(5, 59), tzinfo=UTC))
    assert await digest.send_due_digests(alerts.pool, alerts.clock, settings) == 0  # not before 06:00

    alerts.clock.set(datetime.combine(D0, time(6, 0), tzinfo=UTC))
    assert await digest.send_due_digests(alerts.pool, alerts.clock, settings) == 2
    assert await digest.send_due_digests(alerts.pool, alerts.clock, settings) == 0  # once a day
    assert sorted(to[0] for to, _ in inbox.messages) == ["anne@kk.dk", "carl@kk.dk"]
    body = inbox.messages[0][1].get_payload(decode=True).decode()
    assert "Risiko for udsættelse / Eviction risk: citizen c1" in body and "c2" not in body
    assert inbox.messages[0][1]["From"] == "alerts@casetrack.test"

    await alerts.tick(D0 + days(31))  # the next day's digest has the time-based alerts too
    assert await digest.send_due_digests(alerts.pool, alerts.clock, settings) == 2
    body = inbox.messages[-1][1].get_payload(decode=True).decode()
    assert "Handleplan mangler / Handleplan missing: course k1" in body
