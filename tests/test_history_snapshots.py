"""Histories saved in PostgreSQL (snapshots.py): a start, a history dropped by the budget and a past
day fold from the nearest usable snapshot, and the result equals a fold from the first fact."""

import random
import uuid
from datetime import UTC, date, datetime, time, timedelta

import pytest

from casetrack.demo import generate
from contracts.events import EventMessage
from contracts.facts import fact_adapter
from services.projections import projector, snapshots, store
from services.projections.history import Record, fold
from tests.kpi_scenario import Scenario, kpi_pool  # noqa: F401 - fixture

pytestmark = pytest.mark.integration


def _forget_everything() -> None:
    """What a start of the service begins with: no history in memory."""
    store._live.clear()
    store._past.clear()
    store._held.clear()


async def _fold_of(pool, municipality: str, known_before: datetime | None = None):  # noqa: ANN001, ANN202
    rows = await pool.fetch(
        "SELECT position, recorded_at, event_id, fact::text AS fact FROM kpi_g1.kpi_facts"
        " WHERE municipality = $1 AND ($2::timestamptz IS NULL OR recorded_at < $2)",
        municipality,
        known_before,
    )
    return fold(
        municipality,
        [Record(r["position"], r["recorded_at"], fact_adapter.validate_json(r["fact"]), r["event_id"]) for r in rows],
    )


def _pseudonymous(fact: dict) -> dict:
    """A demo fact with its CPR number replaced by an id, as the read model stores it."""
    if "cpr" not in fact:
        return fact
    fact = dict(fact)
    fact["citizen_id"] = "cpr-" + fact.pop("cpr").replace("-", "")
    return fact


@pytest.fixture
def started_from(monkeypatch) -> list[int | None]:  # noqa: ANN001
    """The position of each snapshot a fold started from (None: from the first fact)."""
    found: list[int | None] = []
    nearest = snapshots.nearest

    async def spy(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        snapshot = await nearest(*args, **kwargs)
        found.append(snapshot.position if snapshot else None)
        return snapshot

    monkeypatch.setattr(snapshots, "nearest", spy)
    monkeypatch.setattr(store, "SNAPSHOT_AFTER_FACTS", 1)
    return found


async def test_a_start_reads_the_live_history_back_and_advances_it(kpi_pool, started_from) -> None:
    s = Scenario()
    s.course("c1", "k1", "ICM", "2026-01-10")
    s.fact("ContactRecorded", "2026-01-20", citizen="c1", course="k1", minutes=60, kind="face_to_face")
    await s.apply(kpi_pool)
    _, live = await store.live(kpi_pool, "101")
    await store._keep_snapshot(kpi_pool, live)
    assert await kpi_pool.fetchval("SELECT count(*) FROM history_snapshots WHERE known_before IS NULL") == 1

    _forget_everything()
    s.fact("ContactRecorded", "2026-01-15", citizen="c1", course="k1", minutes=30, kind="phone_digital")
    s.fact("CourseEnded", "2026-03-01", citizen="c1", course="k1", reason="completed")
    await s.apply(kpi_pool)
    started_from.clear()
    history = await store.history(kpi_pool, "101", None)
    assert started_from == [live.position]  # read back, then the two new facts folded in
    assert history == await _fold_of(kpi_pool, "101")
    assert [c.on for c in history.courses["k1"].contacts] == [date(2026, 1, 15), date(2026, 1, 20)]
    _, again = await store.live(kpi_pool, "101")
    assert again.facts == len(s.events) and again.course_changed_at["k1"] == len(s.events)


async def test_a_snapshot_no_longer_valid_is_passed_over(kpi_pool, started_from) -> None:
    s = Scenario()
    s.course("c1", "k1", "ICM", "2026-01-10")
    parked = s.fact("CourseEnded", "2026-03-01", citizen="c1", course="k1", reason="completed")
    s.course("c2", "k2", "ICM", "2026-02-01")
    s.events.remove(parked)  # the consumer parked it and went on
    await s.apply(kpi_pool)
    _, live = await store.live(kpi_pool, "101")
    await store._keep_snapshot(kpi_pool, live)
    async with kpi_pool.acquire() as connection:  # the re-drive: a fact before the snapshot's position
        await projector.apply_out_of_order(connection, parked)

    _forget_everything()
    started_from.clear()
    history = await store.history(kpi_pool, "101", None)
    assert started_from[0] is None  # the snapshot lacks the re-driven fact: folded from the first
    assert history.courses["k1"].ended_on == date(2026, 3, 1)
    assert history == await _fold_of(kpi_pool, "101")


async def test_folds_from_snapshots_equal_folds_from_the_first_fact_on_demo_history(kpi_pool, started_from) -> None:
    """Ten months of demo history: most facts registered live (positions in the order recorded),
    some imported later with the time they were recorded elsewhere (earlier than facts before them
    in the log). Live and past-day snapshots are taken along the way; every fold — live and as of
    each of many days — must equal the fold of the same facts from the first one."""
    rng = random.Random(21)
    today = datetime.now(UTC).date()
    first = today - timedelta(days=330)
    facts = [
        fact_adapter.validate_python(_pseudonymous(f))
        for f in generate("101", 12, 10, seed=7, today=today - timedelta(days=30))
    ]
    timed = []
    for fact in facts:
        recorded = datetime.combine(fact.effective_date + timedelta(days=rng.choice([0, 0, 1, 3])), time(9), UTC)
        timed.append((recorded + timedelta(seconds=rng.randint(0, 3600 * 8)), fact))
    live_ones = sorted(timed[: len(timed) * 4 // 5], key=lambda t: t[0])
    imported = timed[len(timed) * 4 // 5 :]  # told later, in the case system's order
    events = [
        EventMessage(
            event_id=uuid.uuid4(),
            position=i,
            schema_version=1,
            recorded_at=recorded,
            recorded_by="test",
            fact=fact,
        )
        for i, (recorded, fact) in enumerate(live_ones + imported, start=1)
    ]
    imported_from = len(live_ones) + 1
    # The newest fact recorded now: every past day below has settled.
    last = fact_adapter.validate_python(
        {"type": "HandleplanCreated", "municipality": "101", "citizen_id": "x", "effective_date": today.isoformat()}
    )
    events.append(
        EventMessage(
            event_id=uuid.uuid4(),
            position=len(events) + 1,
            schema_version=1,
            recorded_at=datetime.now(UTC),
            recorded_by="test",
            fact=last,
        )
    )

    days = sorted(rng.sample(range(0, 320), 10))
    applied = 0
    checked_from_snapshot = 0
    for part in (len(live_ones) // 3, 2 * len(live_ones) // 3, len(events)):
        async with kpi_pool.acquire() as connection, connection.transaction():
            for event in events[applied:part]:
                await projector.apply(connection, event)
        applied = part
        _, live = await store.live(kpi_pool, "101")
        await store._keep_snapshot(kpi_pool, live)
        for offset in days:
            as_of = first + timedelta(days=offset)
            _forget_everything()
            started_from.clear()
            got = await store.history(kpi_pool, "101", as_of)
            assert got == await _fold_of(kpi_pool, "101", store.known_by(as_of)), as_of
            checked_from_snapshot += started_from[-1] is not None if started_from else 0
        _forget_everything()
        started_from.clear()
        assert await store.history(kpi_pool, "101", None) == await _fold_of(kpi_pool, "101")
    assert applied == len(events) > imported_from
    assert checked_from_snapshot >= 5  # the check is not vacuous: many folds did start from one
