"""An import brings facts known on past days after those days settled: a past day's history kept in
memory takes them in (services/projections/store.py), and `as_of` answers with the source's times."""

from datetime import UTC, date, datetime

import pytest

from contracts.events import Imported
from services.projections import store
from tests.kpi_scenario import Scenario, kpi_pool  # noqa: F401 - fixture

pytestmark = pytest.mark.integration

DAY = date(2026, 2, 1)


async def test_a_settled_day_takes_in_facts_imported_later_with_their_source_times(kpi_pool) -> None:
    s = Scenario()
    s.course("c1", "k1", "ICM", "2026-01-10")
    s.fact("ContactRecorded", "2026-03-02", citizen="c1", course="k1", minutes=30, kind="face_to_face")
    await s.apply(kpi_pool)
    settled = await store.history(kpi_pool, "101", DAY)  # a fact recorded a month later is in
    assert set(settled.courses) == {"k1"}
    assert await store.history(kpi_pool, "101", DAY) is settled  # kept as it is

    now = datetime.now(UTC)
    imported = Scenario(events=[])
    imported.course("c2", "k2", "ICM", "2026-01-20")  # recorded in its source then, told casetrack now
    imported.course("c3", "k3", "ICM", "2026-02-20")  # recorded after the day: not known on it
    imported.events[:] = [
        e.model_copy(
            update={
                "position": 100 + n,
                "recorded_at": now,
                "imported": Imported(source="sag-101", recorded_at=e.recorded_at),
            }
        )
        for n, e in enumerate(imported.events)
    ]
    await imported.apply(kpi_pool)
    rows = await kpi_pool.fetch("SELECT DISTINCT recorded_at FROM kpi_g1.kpi_facts WHERE course_id = 'k2'")
    assert [r["recorded_at"] for r in rows] == [datetime(2026, 1, 20, 12, tzinfo=UTC)]  # known_at, not now
    known_then = await store.history(kpi_pool, "101", DAY)
    assert set(known_then.courses) == {"k1", "k2"}
    assert await store.history(kpi_pool, "101", DAY) is known_then  # and kept again
