"""The store's histories: the live one is advanced by the facts applied since the last query and
equals a fold of everything; a past day's history is re-read until it has settled; `warm` folds
every municipality's live history."""

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest

from runtime.settings import ConfigError
from services.projections import projector, store
from services.projections.history import Record, fold
from tests.kpi_scenario import Scenario, kpi_pool  # noqa: F401 - fixture

pytestmark = pytest.mark.integration


async def _everything(pool, municipality: str):  # noqa: ANN001, ANN202
    from contracts.facts import fact_adapter

    rows = await pool.fetch(
        "SELECT position, recorded_at, event_id, fact::text AS fact FROM kpi_g1.kpi_facts WHERE municipality = $1",
        municipality,
    )
    return fold(
        municipality,
        [Record(r["position"], r["recorded_at"], fact_adapter.validate_json(r["fact"]), r["event_id"]) for r in rows],
    )


async def test_the_live_history_takes_in_new_facts_and_equals_a_fold_of_all(kpi_pool) -> None:
    s = Scenario()
    s.course("c1", "k1", "ICM", "2026-01-10")
    s.fact("ContactRecorded", "2026-01-20", citizen="c1", course="k1", minutes=60, kind="face_to_face")
    await s.apply(kpi_pool)
    first = await store.history(kpi_pool, "101", None)
    assert set(first.courses) == {"k1"} and len(first.courses["k1"].contacts) == 1

    s.fact("ContactRecorded", "2026-01-15", citizen="c1", course="k1", minutes=30, kind="face_to_face")  # backdated
    s.course("c2", "k2", "CTI", "2026-02-01")
    s.fact("CourseEnded", "2026-03-01", citizen="c1", course="k1", reason="completed")
    await s.apply(kpi_pool)  # the facts applied before are kept as they are (by position)

    live = await store.history(kpi_pool, "101", None)
    assert live is first  # advanced in place, not folded again
    assert live == await _everything(kpi_pool, "101")
    assert [c.on for c in live.courses["k1"].contacts] == [date(2026, 1, 15), date(2026, 1, 20)]  # by date
    assert live.courses["k1"].ended_on == date(2026, 3, 1) and "k2" in live.courses


async def test_a_past_day_is_read_again_until_it_has_settled(kpi_pool) -> None:
    now = datetime.now(UTC)
    yesterday = (now - timedelta(days=1)).date()
    cutoff = store.known_by(yesterday)
    s = Scenario()
    s.course("c1", "k1", "ICM", "2026-01-10", recorded=yesterday.isoformat())
    await s.apply(kpi_pool)
    # The newest fact was recorded a minute after the cutoff: a writer that began before the
    # cutoff may still commit a fact recorded before it.
    await kpi_pool.execute(
        "UPDATE kpi_g1.kpi_facts SET recorded_at = $1 WHERE position = 3", cutoff + timedelta(minutes=1)
    )
    assert set((await store.history(kpi_pool, "101", yesterday)).courses) == {"k1"}

    late = Scenario(events=[])
    late.course("c2", "k2", "ICM", "2026-01-12", recorded=yesterday.isoformat())
    late.events[:] = [e.model_copy(update={"position": 10 + i}) for i, e in enumerate(late.events)]
    await late.apply(kpi_pool)
    assert set((await store.history(kpi_pool, "101", yesterday)).courses) == {"k1", "k2"}

    # Settled once a fact recorded well after the cutoff is in: from then on kept as it is.
    await kpi_pool.execute(
        "UPDATE kpi_g1.kpi_facts SET recorded_at = $1 WHERE position = 12", cutoff + timedelta(hours=1)
    )
    settled = await store.history(kpi_pool, "101", yesterday)
    assert set(settled.courses) == {"k1", "k2"} and settled.courses["k2"].started_on is None
    assert await store.history(kpi_pool, "101", yesterday) is settled


async def test_a_past_day_waits_for_its_own_municipalitys_facts_not_the_logs_newest(kpi_pool) -> None:
    """With the events stream partitioned by municipality (runtime/partitions.py), another
    municipality's partition may be applied ahead: a fact of 102 recorded today says nothing about
    whether all of 101's facts recorded yesterday have come."""
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date()
    today = datetime.now(UTC).date()

    def at(scenario: Scenario, first: int) -> Scenario:
        scenario.events[:] = [e.model_copy(update={"position": first + i}) for i, e in enumerate(scenario.events)]
        return scenario

    s = Scenario()
    s.course("c1", "k1", "ICM", "2026-01-10", recorded=yesterday.isoformat())
    await s.apply(kpi_pool)
    ahead = Scenario(municipality="102")
    ahead.course("c9", "k9", "ICM", "2026-01-10", recorded=today.isoformat())  # another partition, ahead
    await at(ahead, 100).apply(kpi_pool)
    assert set((await store.history(kpi_pool, "101", yesterday)).courses) == {"k1"}

    behind = Scenario()  # 101's partition catches up: positions below 102's, recorded yesterday
    behind.course("c2", "k2", "ICM", "2026-01-12", recorded=yesterday.isoformat())
    await at(behind, 50).apply(kpi_pool)
    assert set((await store.history(kpi_pool, "101", yesterday)).courses) == {"k1", "k2"}
    assert set((await store.histories(kpi_pool, yesterday))["101"].courses) == {"k1", "k2"}
    assert set(await store.histories(kpi_pool, yesterday)) == {"101"}  # 102 was not there yet


async def test_warm_folds_every_municipality(kpi_pool) -> None:
    s = Scenario()
    s.course("c1", "k1", "ICM", "2026-01-10")
    s.course("c2", "k2", "ACT", "2026-01-10", municipality="147")
    await s.apply(kpi_pool)
    stop = asyncio.Event()
    task = asyncio.create_task(store.warm(kpi_pool, stop))
    generation = await store._generation(kpi_pool)
    for _ in range(100):
        if {"101", "147"} <= {m for g, m in store._live if g == generation.generation_id}:
            break
        await asyncio.sleep(0.05)
    stop.set()
    await task
    assert {m for g, m in store._live if g == generation.generation_id} == {"101", "147"}
    assert set((await store.history(kpi_pool, "147", None)).courses) == {"k2"}


async def test_a_fact_applied_out_of_order_is_folded_in(kpi_pool) -> None:
    s = Scenario()
    s.course("c1", "k1", "ICM", "2026-01-10")
    parked = s.fact("CourseEnded", "2026-03-01", citizen="c1", course="k1", reason="completed")
    s.course("c2", "k2", "ICM", "2026-02-01")
    s.events.remove(parked)  # the consumer parked it and went on
    await s.apply(kpi_pool)
    assert (await store.history(kpi_pool, "101", None)).courses["k1"].ended_on is None

    async with kpi_pool.acquire() as connection:  # the re-drive, after the fix
        await projector.apply_out_of_order(connection, parked)
    assert (await store.history(kpi_pool, "101", None)).courses["k1"].ended_on == date(2026, 3, 1)


async def test_the_budget_drops_the_least_recently_used_history_and_a_later_query_folds_it_again(
    kpi_pool, monkeypatch
) -> None:
    s = Scenario()
    for municipality in ("101", "147", "151"):
        for n in range(3):
            s.course(f"{municipality}-c{n}", f"{municipality}-k{n}", "ICM", "2026-01-10", municipality=municipality)
            s.fact(
                "ContactRecorded",
                "2026-01-20",
                citizen=f"{municipality}-c{n}",
                course=f"{municipality}-k{n}",
                minutes=45,
                kind="face_to_face",
                municipality=municipality,
            )
    await s.apply(kpi_pool)
    generation = (await store._generation(kpi_pool)).generation_id
    facts_each = await kpi_pool.fetchval("SELECT count(*) FROM kpi_g1.kpi_facts WHERE municipality = '101'")
    # Room for two of the three municipalities' live histories, not for three.
    monkeypatch.setenv(store.BUDGET_SETTING, str(2.5 * facts_each * store.BYTES_PER_FACT / 10**6))

    first = await store.history(kpi_pool, "101", None)
    await store.history(kpi_pool, "147", None)
    assert await store.history(kpi_pool, "101", None) is first  # used again: now "147" is the oldest
    await store.history(kpi_pool, "151", None)
    kept = {m for g, m in store._live if g == generation}
    assert kept == {"101", "151"}  # "147", least recently used, was dropped
    assert store.held_bytes() <= store.budget_bytes()

    again = await store.history(kpi_pool, "147", None)  # folded again on demand, the same as before
    assert again == await _everything(kpi_pool, "147")
    assert set(again.courses) == {"147-k0", "147-k1", "147-k2"}
    assert {m for g, m in store._live if g == generation} == {"147", "151"}  # now "101" had to go


async def test_a_history_larger_than_the_budget_is_still_answered(kpi_pool, monkeypatch) -> None:
    s = Scenario()
    s.course("c1", "k1", "ICM", "2026-01-10")
    await s.apply(kpi_pool)
    monkeypatch.setenv(store.BUDGET_SETTING, "0.000001")
    assert set((await store.history(kpi_pool, "101", None)).courses) == {"k1"}
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date()
    assert set((await store.history(kpi_pool, "101", yesterday)).courses) == {"k1"}
    generation = (await store._generation(kpi_pool)).generation_id
    assert [key[0] for key in store._held if generation in key] == ["past"]  # only the one in use is kept


def test_the_budget_setting_must_be_a_positive_number(monkeypatch) -> None:
    monkeypatch.delenv(store.BUDGET_SETTING, raising=False)
    assert store.budget_bytes() == store.DEFAULT_BUDGET_MB * 10**6
    monkeypatch.setenv(store.BUDGET_SETTING, "100")
    assert store.budget_bytes() == 100 * 10**6
    for bad in ("lots", "0", "-5"):
        monkeypatch.setenv(store.BUDGET_SETTING, bad)
        with pytest.raises(ConfigError, match=store.BUDGET_SETTING):
            store.budget_bytes()
