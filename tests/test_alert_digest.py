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


async def test_the_digest_warns_of_status_windows_closing_without_a_complete_status(alerts: Alerts, smtp) -> None:
    inbox, settings = smtp
    # k1's and k2's first status is due D0 + 90 (6 April 2025); the window closes D0 + 125, the
    # alert would rise D0 + 126. k2 has the whole status on D0 + 80; k1 lacks its employment status.
    status = [
        fact("HousingSituationRecorded", D0 + days(80), "c2", housing="sofa"),
        fact("IncomeTypeRecorded", D0 + days(80), "c2", income_type="kontanthjaelp"),
        fact("EmploymentStatusRecorded", D0 + days(80), "c2", status="unemployed"),
        fact("MeasurementRecorded", D0 + days(80), "c2", "k2", instrument="WHO5", answers=[3, 3, 3, 3, 3]),
        fact("HousingSituationRecorded", D0 + days(80), "c1", housing="sofa"),
        fact("IncomeTypeRecorded", D0 + days(80), "c1", income_type="kontanthjaelp"),
        fact("MeasurementRecorded", D0 + days(80), "c1", "k1", instrument="WHO5", answers=[3, 3, 3, 3, 3]),
    ]
    await alerts.apply(
        worker("anne", "team-a", "team_leader", "anne@kk.dk"),
        *course_opened("c1", "k1", "ICM", D0, team="team-a"),
        *course_opened("c2", "k2", "ICM", D0, team="team-a"),
        *status,
    )
    # D0 + 118: the window closes in 7 days (D0 + 125, 11 May 2025): k1 is in the digest, k2 is not.
    await alerts.tick(D0 + days(118))
    assert await digest.send_due_digests(alerts.pool, alerts.clock, settings) == 1
    body = inbox.messages[-1][1].get_payload(decode=True).decode()
    assert "- course k1: lukker/closes 2025-05-11, mangler/missing employment" in body
    assert "- course k2:" not in body  # its status is complete (k2 is in the alerts below for other rules)
    # D0 + 117: 8 days ahead, not yet.
    async with alerts.pool.acquire() as db:
        assert await digest.closing_statuses(db, "101", "team-a", D0 + days(117)) == []
