"""Imported history is history (services/alerts/imported.py): imported facts raise and resolve
nothing on arrival; once the import is quiet their subjects are looked at once, at now, which opens
what is open now. The same facts told live raise and resolve as they come (the storm avoided)."""

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from contracts.events import Imported
from services.alerts import imported
from tests.alerts_support import Alerts, alerts_database, at_morning, course_opened, fact

pytestmark = pytest.mark.integration

TODAY = date(2026, 6, 1)


def history() -> list[tuple[date, Any]]:
    """Two ICM courses: k-old ran without a contact and ended in 2023; k-now has had no
    face-to-face contact since February 2025 and is open."""
    old = course_opened("c-old", "k-old", "ICM", date(2023, 1, 2), worker="w1")
    now = course_opened("c-now", "k-now", "ICM", date(2025, 1, 6), worker="w1")
    return [
        (date(2023, 1, 2), old[0]),
        (date(2023, 1, 2), old[1]),
        (date(2023, 3, 1), fact("CourseEnded", date(2023, 3, 1), "c-old", "k-old", reason="moved")),
        (date(2025, 1, 6), now[0]),
        (date(2025, 1, 6), now[1]),
        (
            date(2025, 2, 3),
            fact("ContactRecorded", date(2025, 2, 3), "c-now", "k-now", minutes=30, kind="face_to_face"),
        ),
    ]


@pytest.fixture
async def alerts(postgres_admin_url: str) -> AsyncIterator[Alerts]:
    async with alerts_database(postgres_admin_url, TODAY) as alerts:
        await alerts.pool.execute(imported.SCHEMA)
        yield alerts


async def import_facts(alerts: Alerts, facts: list[tuple[date, Any]]) -> None:
    for day, one in facts:
        await alerts.apply(one, imported=Imported(source="sag-101", recorded_at=at_morning(day)))


def opened(found: list[dict[str, Any]]) -> set[tuple[str, str]]:
    return {(a["rule"], a["subject_id"]) for a in found}


async def test_imported_facts_open_what_is_open_now_once_the_import_is_quiet(alerts: Alerts) -> None:
    await import_facts(alerts, history())
    assert await alerts.alerts() == [], "nothing raised on arrival"
    now = alerts.clock.now()
    assert await imported.settle_if_quiet(alerts.pool, now, timedelta(hours=1)) == 0, "an import still arriving"
    assert await imported.settle_if_quiet(alerts.pool, now, timedelta(0)) == 5  # 2 courses, 2 citizens, 1 worker
    assert ("no_contact", "k-now") in opened(await alerts.alerts(state="open"))
    assert ("no_contact", "k-old") not in opened(await alerts.alerts()), "the course ended in 2023"
    assert await alerts.alerts(state="resolved") == [], "no alert raised and resolved on arrival"
    assert await alerts.pool.fetchval("SELECT count(*) FROM alert_imported_subjects") == 0
    deadlines = await alerts.pool.fetchval("SELECT count(*) FROM alert_deadlines WHERE subject_id = 'k-now'")
    assert deadlines > 0, "deadlines ahead armed, as for facts told live"
    # Settled once: again finds nothing to do.
    assert await imported.settle_if_quiet(alerts.pool, now, timedelta(0)) == 0


async def test_the_same_facts_told_live_raise_and_resolve_as_they_come(alerts: Alerts) -> None:
    await alerts.apply(*(one for _, one in history()))
    assert ("no_contact", "k-now") in opened(await alerts.alerts(state="open"))
    assert await alerts.alerts(state="resolved") != [], "the storm an import avoids"


async def test_a_live_fact_during_an_import_is_looked_at_as_always(alerts: Alerts) -> None:
    await import_facts(alerts, history()[3:5])  # k-now started, no contact yet
    contact = fact("ContactRecorded", TODAY, "c-now", "k-now", minutes=30, kind="face_to_face")
    await alerts.apply(contact)
    await imported.settle_if_quiet(alerts.pool, datetime.combine(TODAY, datetime.min.time(), UTC), timedelta(0))
    assert ("no_contact", "k-now") not in opened(await alerts.alerts()), "the live contact is the last word"
    assert await alerts.alerts(state="resolved") == []
