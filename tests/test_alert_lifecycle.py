"""The alert lifecycle and durable deadlines on a real PostgreSQL: backdated facts, acknowledge,
snooze, resolve by hand, configuration that moves deadlines, and pollers running side by side."""

import asyncio
import json
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from services.alerts import deadlines, evaluation, rules, store
from tests.alerts_support import Alerts, alerts_database, at_morning, course_opened, days, fact
from tests.test_alert_rules import D0

pytestmark = pytest.mark.integration


@pytest.fixture
async def alerts(postgres_admin_url: str) -> AsyncIterator[Alerts]:
    async with alerts_database(postgres_admin_url, D0, max_size=8) as alerts:
        yield alerts


async def test_a_backdated_phase_is_overdue_as_soon_as_it_is_told(alerts: Alerts) -> None:
    four_months_ago = D0 - days(122)
    await alerts.apply(
        *course_opened("c1", "k1", "CTI", four_months_ago),
        fact("CtiPhaseStarted", four_months_ago, "c1", "k1", phase="1"),
    )
    # No poll has run: the handler raised it.
    raised = await alerts.alerts("cti_phase_overdue")
    assert [(a["subject_id"], a["details"]["phase"]) for a in raised] == [("k1", "1")]


async def test_acknowledge_snooze_and_resolve_by_hand_are_recorded_with_who_and_when(alerts: Alerts) -> None:
    await alerts.apply(*course_opened("c1", "k1", "ICM", D0))
    await alerts.tick(D0 + days(31))
    [alert] = await alerts.alerts("handleplan_missing")
    alert_id = uuid.UUID(alert["id"])
    async with alerts.pool.acquire() as db:
        await store.change_state(db, alert_id, state="acknowledged", at=alerts.clock.now(), by="leader-1", note=None)
        with pytest.raises(store.TransitionRefused):
            await store.change_state(
                db, alert_id, state="acknowledged", at=alerts.clock.now(), by="leader-1", note=None
            )
        await store.change_state(
            db,
            alert_id,
            state="snoozed",
            at=alerts.clock.now(),
            by="leader-1",
            note="waiting for the citizen",
            snoozed_until=D0 + days(40),
        )
    await alerts.tick(D0 + days(39))
    assert (await alerts.alerts("handleplan_missing"))[0]["state"] == "snoozed"
    await alerts.tick(D0 + days(40))
    assert (await alerts.alerts("handleplan_missing"))[0]["state"] == "open"
    async with alerts.pool.acquire() as db:
        await store.change_state(
            db, alert_id, state="resolved", at=alerts.clock.now(), by="leader-2", note="plan made on paper"
        )
    history = await alerts.history(alert["id"])
    assert [(h["state"], h["by"], h["note"]) for h in history] == [
        ("open", "casetrack", None),
        ("acknowledged", "leader-1", None),
        ("snoozed", "leader-1", "waiting for the citizen"),
        ("open", "casetrack", "snooze ended"),
        ("resolved", "leader-2", "plan made on paper"),
    ]
    assert history[3]["at"] == at_morning(D0 + days(40)).isoformat()
    # Resolved by hand while the condition still holds: not raised again for the same occurrence.
    await alerts.apply(fact("ContactRecorded", D0 + days(41), "c1", "k1", minutes=30, kind="face_to_face"))
    await alerts.tick(D0 + days(60))
    assert [a["state"] for a in await alerts.alerts("handleplan_missing")] == ["resolved"]


async def test_a_condition_that_comes_back_raises_a_new_alert(alerts: Alerts) -> None:
    await alerts.apply(*course_opened("c1", "k1", "ICM", D0))
    await alerts.tick(D0 + days(1))
    await alerts.apply(fact("HousingGained", D0 + days(1), "c1", housing="almen"))
    await alerts.tick(D0 + days(10))
    await alerts.apply(fact("HousingLost", D0 + days(10), "c1", reason="left"))
    await alerts.tick(D0 + days(20))
    await alerts.apply(fact("HousingGained", D0 + days(20), "c1", housing="almen"))
    await alerts.tick(D0 + days(30))
    await alerts.apply(fact("HousingLost", D0 + days(30), "c1", reason="eviction"))
    states = sorted((a["details"]["lost_on"], a["state"]) for a in await alerts.alerts("housing_lost"))
    assert states == [((D0 + days(10)).isoformat(), "resolved"), ((D0 + days(30)).isoformat(), "open")]


async def test_overrides_move_deadlines_and_resolve_what_no_longer_holds(alerts: Alerts) -> None:
    rule = rules.CATALOGUE["handleplan_missing"]
    await alerts.apply(
        *course_opened("c1", "k1", "ICM", D0, team="team-a"), *course_opened("c2", "k2", "ICM", D0, team="team-b")
    )
    await alerts.tick(D0 + days(21))
    assert await alerts.alerts("handleplan_missing") == []

    async def configure(scope: str, params: dict) -> None:
        async with alerts.pool.acquire() as db, db.transaction():
            await db.execute(
                """INSERT INTO alert_rule_config VALUES ($1, '101', $2, $3, now(), 'test')
                   ON CONFLICT (rule, municipality, scope) DO UPDATE SET params = EXCLUDED.params""",
                rule.id,
                scope,
                json.dumps(params),
            )
        await evaluation.rule_everywhere(alerts.pool, rule, "101", alerts.clock.now(), "configuration changed")

    await configure("", {"days": 20})  # the whole municipality: both are overdue now
    assert sorted(a["subject_id"] for a in await alerts.alerts("handleplan_missing", "open")) == ["k1", "k2"]
    await configure("team:team-b", {"days": 45})  # team-b gets longer: its alert has cleared
    assert sorted((a["subject_id"], a["state"]) for a in await alerts.alerts("handleplan_missing")) == [
        ("k1", "open"),
        ("k2", "resolved"),
    ]
    await alerts.tick(D0 + days(45))
    assert [a["subject_id"] for a in await alerts.alerts("handleplan_missing", "open")] == ["k1"]
    await alerts.tick(D0 + days(46))
    assert sorted(a["subject_id"] for a in await alerts.alerts("handleplan_missing", "open")) == ["k1", "k2"]


async def test_pollers_side_by_side_raise_each_due_alert_once(alerts: Alerts) -> None:
    for n in range(60):
        await alerts.apply(*course_opened(f"c{n}", f"k{n}", "ICM", D0))
    alerts.clock.set(at_morning(D0 + days(31)))
    results = await asyncio.gather(*(deadlines.fire_due_deadlines(alerts.pool, alerts.clock) for _ in range(4)))
    assert sum(results) >= 60 * 2  # handleplan_missing and measurement_missing, 60 each, taken once
    rows = await alerts.pool.fetch(
        "SELECT rule, count(*) AS n, count(DISTINCT subject_id) AS subjects FROM alerts GROUP BY rule ORDER BY rule"
    )
    assert {r["rule"]: (r["n"], r["subjects"]) for r in rows} == {
        "handleplan_missing": (60, 60),
        "measurement_missing": (60, 60),
        "no_contact": (60, 60),
    }
    assert await alerts.pool.fetchval("SELECT count(*) FROM alert_transitions") == 180


async def test_a_handler_needing_a_deadline_the_poller_holds_waits_for_its_transaction(
    alerts: Alerts, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The poller holds several deadlines a transaction; a handler that locks one of them (the fact
    changes that course) waits until the poller commits, then sees what it raised: no deadlock."""
    for n in range(2):
        await alerts.apply(*course_opened(f"c{n}", f"k{n}", "ICM", D0))
    alerts.clock.set(at_morning(D0 + days(31)))
    looked_at = evaluation.subject
    handler: asyncio.Task[None] | None = None

    async def with_a_handler_waiting(*args: object, **kwargs: object) -> bool:
        nonlocal handler
        if handler is None:  # the first deadline: all six are held by now
            handler = asyncio.create_task(alerts.apply(fact("HandleplanCreated", D0 + days(31), "c1")))
            waiting = "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
            for _ in range(500):
                if await alerts.pool.fetchval(waiting):
                    break
                await asyncio.sleep(0.01)
            else:
                raise AssertionError("the handler never waited for the poller's deadline")
        return await looked_at(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(evaluation, "subject", with_a_handler_waiting)
    assert await deadlines.fire_due_deadlines(alerts.pool, alerts.clock, per_transaction=10) == 2 * 3
    assert handler is not None
    await asyncio.wait_for(handler, timeout=30)
    assert sorted((a["subject_id"], a["state"]) for a in await alerts.alerts("handleplan_missing")) == [
        ("k0", "open"),
        ("k1", "resolved"),  # raised by the poller, then cleared by the handler that waited for it
    ]


async def test_a_cycle_that_fails_keeps_what_it_committed_and_leaves_the_failed_deadline_due(
    postgres_admin_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The poller ends one transaction of deadlines and begins the next in one round trip; a failure
    in the middle rolls back only the deadlines of its transaction (two here: the third and the
    fourth), and the connection goes back clean (one connection in the pool: the poller's)."""
    async with alerts_database(postgres_admin_url, D0, max_size=1) as alerts:
        await _fail_a_cycle_midway(alerts, monkeypatch)


async def _fail_a_cycle_midway(alerts: Alerts, monkeypatch: pytest.MonkeyPatch) -> None:
    for n in range(3):
        await alerts.apply(*course_opened(f"c{n}", f"k{n}", "ICM", D0))
    alerts.clock.set(at_morning(D0 + days(31)))
    looked_at = evaluation.subject
    calls = 0

    async def fails_the_third(*args: object, **kwargs: object) -> bool:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise RuntimeError("the rules failed")
        return await looked_at(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(evaluation, "subject", fails_the_third)
    with pytest.raises(RuntimeError):
        await deadlines.fire_due_deadlines(alerts.pool, alerts.clock, per_transaction=2)
    assert await alerts.pool.fetchval("SELECT count(*) FROM alerts") == 2  # the first transaction's two, committed
    due = "SELECT count(*) FROM alert_deadlines WHERE state = 'pending' AND due_on <= $1"
    assert await alerts.pool.fetchval(due, alerts.clock.now().date()) == 3 * 3 - 2  # the third and fourth still due
    async with alerts.pool.acquire() as db:  # back in the pool outside any transaction, settings reset
        assert not db.is_in_transaction()
        assert await db.fetchval("SHOW plan_cache_mode") == "auto"
    monkeypatch.setattr(evaluation, "subject", looked_at)
    assert await alerts.tick(D0 + days(31)) == 3 * 3 - 2
    assert await alerts.pool.fetchval("SELECT count(*) FROM alerts") == 3 * 3


async def test_a_poller_killed_midway_leaves_its_transactions_deadlines_due_and_they_raise_once_later(
    alerts: Alerts, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(3):
        await alerts.apply(*course_opened(f"c{n}", f"k{n}", "ICM", D0))
    alerts.clock.set(at_morning(D0 + days(31)))
    looked_at = evaluation.subject
    calls = 0

    async def killed_at_the_third(db: asyncpg.Connection, *args: object, **kwargs: object) -> bool:
        nonlocal calls
        calls += 1
        if calls == 3:  # its connection dies, as with the process, before the transaction commits
            await alerts.pool.execute("SELECT pg_terminate_backend($1)", db.get_server_pid())
        return await looked_at(db, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(evaluation, "subject", killed_at_the_third)
    # which error the dead connection gives depends on when asyncpg notices (the rollback may find it busy)
    with pytest.raises((asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.InternalClientError, OSError)):
        await deadlines.fire_due_deadlines(alerts.pool, alerts.clock, per_transaction=2)
    assert await alerts.pool.fetchval("SELECT count(*) FROM alerts") == 2  # the first transaction's
    monkeypatch.setattr(evaluation, "subject", looked_at)
    assert await alerts.tick(D0 + days(31)) == 3 * 3 - 2
    assert await alerts.pool.fetchval("SELECT count(*) FROM alerts") == 3 * 3
    assert await alerts.pool.fetchval("SELECT count(*) FROM alert_transitions") == 3 * 3  # each raised once


async def test_handleplan_missing_after_a_shelter_stay_start_is_about_the_citizen(alerts: Alerts) -> None:
    await alerts.apply(
        fact("ShelterStayStarted", D0, "c1", shelter="herberg-1"), fact("ShelterContactMade", D0 + days(2), "c1")
    )
    await alerts.tick(D0 + days(30))
    assert await alerts.alerts("handleplan_missing") == []
    await alerts.tick(D0 + days(31))
    [raised] = await alerts.alerts("handleplan_missing")
    assert (raised["subject_type"], raised["subject_id"], raised["team"]) == ("citizen", "c1", "unassigned")
    await alerts.apply(fact("HandleplanDeclined", D0 + days(33), "c1"))
    assert [a["state"] for a in await alerts.alerts("handleplan_missing")] == ["resolved"]


async def test_a_course_that_ends_without_an_end_measurement(alerts: Alerts) -> None:
    await alerts.apply(
        *course_opened("c1", "k1", "ICM", D0),
        fact("MeasurementRecorded", D0 + days(3), "c1", "k1", instrument="WHO5", answers=[3, 3, 3, 3, 3]),
    )
    await alerts.tick(D0 + days(100))
    assert await alerts.alerts("measurement_missing") == []
    await alerts.apply(fact("CourseEnded", D0 + days(100), "c1", "k1", reason="completed", follow_on_offer="hoej"))
    [raised] = await alerts.alerts("measurement_missing")
    assert raised["details"] == {"missing": "end", "ended": (D0 + days(100)).isoformat()}


async def test_a_missed_follow_up_resolved_by_hand_does_not_hide_the_next_one(alerts: Alerts) -> None:
    ended = D0 + days(10)
    await alerts.apply(
        *course_opened("c1", "k1", "ICM", D0),
        fact("CourseEnded", ended, "c1", "k1", reason="completed", follow_on_offer="hoej"),
    )
    await alerts.tick(rules.add_months(ended, 6) + days(31))
    [six] = await alerts.alerts("follow_up_due")
    assert six["details"]["months_after_end"] == 6
    async with alerts.pool.acquire() as db:
        await store.change_state(
            db,
            uuid.UUID(six["id"]),
            state="resolved",
            at=alerts.clock.now(),
            by="leader-1",
            note="citizen moved abroad",
        )
    await alerts.tick(rules.add_months(ended, 9) + days(30))
    assert len(await alerts.alerts("follow_up_due")) == 1
    await alerts.tick(rules.add_months(ended, 9) + days(31))
    nine = [a for a in await alerts.alerts("follow_up_due") if a["state"] == "open"]
    assert [(a["details"]["months_after_end"], a["details"]["missed"]) for a in nine] == [(9, "6,9")]


async def test_corrections_and_the_remaining_fact_types_are_handled(alerts: Alerts) -> None:
    await alerts.apply(
        *course_opened("c1", "k1", "ICM", D0),
        fact("CourseStartCorrected", D0 + days(10), "c1", "k1"),
        fact("HousingSituationRecorded", D0, "c1", housing="almen"),
        fact("HousingSituationRecorded", D0 + days(2), "c1", housing="street"),
        fact("TimePlanned", D0, "c1", "k1", month="2025-01-01", expected_hours=20),
        fact("MeasurementRecorded", D0 + days(3), "c1", "k1", instrument="LIKERT", answers={"bokompetence": 3}),
    )
    await alerts.play(
        [
            (D0 + days(3), fact("EvictionRiskRegistered", D0 + days(3), "c1", kind="other")),
            (D0 + days(4), fact("EvictionCarriedOut", D0 + days(4), "c1")),
        ]
    )
    await alerts.tick(D0 + days(40))
    assert await alerts.alerts("handleplan_missing") == []  # due 30 days after the corrected start
    await alerts.tick(D0 + days(41))
    assert [a["subject_id"] for a in await alerts.alerts("handleplan_missing")] == ["k1"]
    assert await alerts.alerts("housing_lost") == []  # homeless again, but no loss was told
    assert await alerts.alerts("measurement_missing") == []
    assert [a["state"] for a in await alerts.alerts("eviction_risk")] == ["resolved"]
    [gap] = await alerts.alerts("time_gap")  # 20 hours planned for January, none used
    assert (gap["details"]["direction"], gap["details"]["expected_hours"]) == ("under", 20.0)

    # A CTI course whose phase start is corrected back in time: overdue at once.
    await alerts.apply(
        *course_opened("c2", "k2", "CTI", D0 + days(41)),
        fact("CtiPhaseStarted", D0 + days(41), "c2", "k2", phase="1"),
        fact("CtiPhaseStartCorrected", D0 - days(80), "c2", "k2", phase="1"),
    )
    assert [a["subject_id"] for a in await alerts.alerts("cti_phase_overdue")] == ["k2"]


async def test_a_poll_transaction_resolves_a_superseded_alert_before_it_raises_the_new_one(alerts: Alerts) -> None:
    """The poller sends a transaction's writes together (`store.Writes`); for one deadline the
    superseded alert's resolve still goes before the raise of the new occurrence, which an open
    alert of the same (rule, subject) would keep out."""
    for n in range(2):
        await alerts.apply(*course_opened(f"c{n}", f"k{n}", "ICM", D0))
    await alerts.tick(D0 + days(31))
    [first] = [a for a in await alerts.alerts("handleplan_missing") if a["subject_id"] == "k0"]
    # k0's alert was raised for an occurrence other than the one the rule sees now, and is due again.
    await alerts.pool.execute(
        """UPDATE alert_deadlines SET raised_for = 'an earlier occurrence', due_on = $1, state = 'pending'
           WHERE rule = 'handleplan_missing' AND subject_id = 'k0'""",
        D0 + days(32),
    )
    await alerts.pool.execute(  # and k1's deadline too, to be decided in the same transaction
        "UPDATE alert_deadlines SET due_on = $1, state = 'pending' WHERE rule = 'handleplan_missing' AND subject_id = 'k1'",
        D0 + days(32),
    )
    await alerts.tick(D0 + days(32))
    k0 = sorted(
        (a["state"], a["id"] == first["id"])
        for a in await alerts.alerts("handleplan_missing")
        if a["subject_id"] == "k0"
    )
    assert k0 == [("open", False), ("resolved", True)]
    [note] = [h["note"] for h in await alerts.history(first["id"]) if h["state"] == "resolved"]
    assert note.startswith("superseded by")
    assert [a["state"] for a in await alerts.alerts("handleplan_missing") if a["subject_id"] == "k1"] == ["open"]
