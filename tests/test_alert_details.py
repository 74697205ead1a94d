"""An alert's details as words (services/alerts/details.py): labels, Danish numbers and dates."""

from collections.abc import AsyncIterator

import pytest

from services.alerts import details
from tests.alerts_support import Alerts, alerts_database, course_opened, days, fact
from tests.test_alert_rules import D0


def test_time_gap_details_read_in_danish_with_decimal_commas_and_danish_words() -> None:
    text = details.describe(
        {
            "direction": "under",
            "expected_hours": 58.9,
            "actual_hours": 1234.5,
            "deviation_percent": -65.9,
            "suggests": "contact_problems",
        },
        "da",
    )
    assert text == (
        "Retning: Under planen · Forventede timer til dato: 58,9 timer · Faktiske timer til dato: 1.234,5 timer"
        " · Afvigelse: -65,9 % · Kan tyde på: Problemer med kontakten"
    )


def test_the_same_details_in_english_and_dates_in_each_language() -> None:
    assert details.describe({"since": "course_start", "started": "2026-03-05"}, "en") == (
        "Counted from: The course's start · Started: 5 Mar 2026"
    )
    assert details.describe({"since": "course_start", "started": "2026-03-05"}, "da") == (
        "Regnet fra: Forløbets start · Begyndt: 05.03.2026"
    )


def test_empty_values_are_left_out_and_an_unlabelled_code_is_an_error_not_a_raw_word() -> None:
    assert details.describe({"last_face_to_face": None, "allowed_days": 14}, "da") == "Højst dage mellem møder: 14 dage"
    with pytest.raises(KeyError):
        details.describe({"reason": "a_new_reason"}, "da")


@pytest.fixture
async def alerts(postgres_admin_url: str) -> AsyncIterator[Alerts]:
    async with alerts_database(postgres_admin_url, D0) as alerts:
        yield alerts


@pytest.mark.integration
async def test_an_open_alert_shows_its_subjects_figures_as_they_are_now(alerts: Alerts) -> None:
    """The attack as seen: a time-use alert raised during an import kept "actual hours: 0" while the
    course had many hours by then. The details follow the subject while the alert is open."""
    await alerts.play(
        [
            (D0, one)
            for one in (
                *course_opened("c1", "k1", "CTI", D0),
                fact("CtiPhaseStarted", D0, "c1", "k1", phase="1", planned_end=(D0 + days(90)).isoformat()),
                fact("TimePlanned", D0, "c1", "k1", cti_phase="1", expected_hours=30),
            )
        ]
    )
    await alerts.tick(D0 + days(28))
    [raised] = await alerts.alerts("time_gap", state="open")
    assert raised["details"]["actual_hours"] == 0
    # Two hours on day 30: still far under the 10 hours expected, the same occurrence ("under").
    await alerts.play(
        [(D0 + days(30), fact("ContactRecorded", D0 + days(30), "c1", "k1", minutes=120, kind="face_to_face"))]
    )
    [now] = await alerts.alerts("time_gap", state="open")
    assert now["id"] == raised["id"] and now["details"]["actual_hours"] == 2.0
    assert now["details_as_of"] > raised["details_as_of"]
    assert "Faktiske timer til dato: 2 timer" in now["details_text"]["da"]
    assert "Actual hours to date: 2 hours" in now["details_text"]["en"]
