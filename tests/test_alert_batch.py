"""A batch of events applied in memory (services/alerts/batch.py) leaves what the same events leave
applied one batch per event: the same alerts with the same transitions in order, the same deadline
rows, the same rows of courses, citizens, workers and teams."""

import json
import uuid
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from bench.apply import messages
from casetrack.demo import generate, pseudonymous
from contracts.events import EventMessage, Imported
from contracts.facts import fact_adapter
from runtime.checkpoint import CheckpointedApplier
from services.alerts import handlers, imported
from tests.alerts_support import Alerts, alerts_database, at_morning, course_opened, fact

pytestmark = pytest.mark.integration

TODAY = date(2026, 6, 1)


def events(facts: Sequence[Any], recorded_at: datetime) -> list[EventMessage]:
    return [
        EventMessage(
            event_id=uuid.uuid4(),
            position=position,
            schema_version=1,
            recorded_at=recorded_at,
            recorded_by="test",
            fact=one,
        )
        for position, one in enumerate(facts, start=1)
    ]


def demo_history(municipalities: Sequence[str], citizens: int) -> list[Any]:
    """Ten years of the demo's Housing First work in each municipality, interleaved as their case
    systems would send it."""
    streams = []
    for municipality in municipalities:
        facts = generate(municipality, citizens, 120, seed=2026, today=TODAY)
        streams.append([fact_adapter.validate_python(pseudonymous(f)) for f in facts])
    longest = max(len(s) for s in streams)
    return [s[i] for i in range(longest) for s in streams if i < len(s)]


async def applied_in_batches(alerts: Alerts, all_events: Sequence[EventMessage], size: int) -> None:
    apply_batch = handlers.batch_applier(alerts.clock.now)
    for start in range(0, len(all_events), size):
        async with alerts.pool.acquire() as db, db.transaction():
            await apply_batch(db, all_events[start : start + size])


async def what_is_kept(pool: asyncpg.Pool) -> dict[str, list[Any]]:
    """Every row the alerts service keeps, without the alerts' random ids."""
    alerts = await pool.fetch(
        """SELECT alert.rule, alert.municipality, alert.subject_type, alert.subject_id, alert.team, alert.state,
             alert.severity, alert.raised_at, alert.snoozed_until, alert.details::text, alert.details_as_of,
             (SELECT json_agg(json_build_array(t.transition, t.state, t.at, t.by, t.note) ORDER BY t.transition)
              FROM alert_transitions AS t WHERE t.alert_id = alert.id)::text AS history
           FROM alerts AS alert"""
    )
    kept = {"alerts": sorted((tuple(row) for row in alerts), key=repr)}  # raised at the same time
    for table, key in (
        ("alert_deadlines", "rule, municipality, subject_type, subject_id"),
        ("alert_courses", "municipality, course_id"),
        ("alert_citizens", "municipality, citizen_id"),
        ("alert_workers", "municipality, worker_id"),
        ("alert_teams", "municipality, team_id"),
        ("alert_fidelity_rounds", "municipality, team_id, round"),
    ):
        rows = await pool.fetch(f"SELECT * FROM {table} ORDER BY {key}")
        kept[table] = [tuple(row) for row in rows]
    return kept


async def override(pool: asyncpg.Pool, rule: str, municipality: str, params: dict[str, float]) -> None:
    await pool.execute(
        """INSERT INTO alert_rule_config (rule, municipality, scope, params, updated_at, updated_by)
           VALUES ($1, $2, '', $3, now(), 'test')""",
        rule,
        municipality,
        json.dumps(params),
    )


@pytest.mark.parametrize("size", [200, 37])
async def test_a_history_in_batches_keeps_what_one_event_at_a_time_keeps(postgres_admin_url: str, size: int) -> None:
    """Two municipalities' history (the same courses in many events of a batch, subjects of both
    municipalities in each), one with its own threshold for a rule."""
    history = events(demo_history(["101", "147"], citizens=6), at_morning(TODAY))
    kept = []
    for batch_size in (1, size):
        async with alerts_database(postgres_admin_url, TODAY) as alerts:
            await override(alerts.pool, "no_contact", "147", {"days": 5})
            await applied_in_batches(alerts, history, batch_size)
            kept.append(await what_is_kept(alerts.pool))
    one_at_a_time, batched = kept
    assert len(one_at_a_time["alerts"]) > 20 and {a[1] for a in one_at_a_time["alerts"]} == {"101", "147"}
    assert any('"resolved"' in a[-1] for a in one_at_a_time["alerts"])  # some raised and resolved
    assert batched == one_at_a_time


async def test_an_alert_raised_and_resolved_within_a_batch_is_recorded_with_both(postgres_admin_url: str) -> None:
    day = TODAY - timedelta(days=10)
    facts = [
        *course_opened("c1", "k1", "ICM", day, worker="w1"),
        fact("HousingLost", day, "c1", reason="eviction"),
        fact("HousingGained", day + timedelta(days=1), "c1", housing="almen"),
        fact("HousingLost", day + timedelta(days=2), "c1", reason="eviction"),
    ]
    kept = []
    for batch_size in (1, len(facts)):
        async with alerts_database(postgres_admin_url, TODAY) as alerts:
            await applied_in_batches(alerts, events(facts, alerts.clock.now()), batch_size)
            kept.append(await what_is_kept(alerts.pool))
            lost = await alerts.alerts(rule="housing_lost")
            assert sorted(a["state"] for a in lost) == ["open", "resolved"]
            resolved = next(a for a in lost if a["state"] == "resolved")
            assert [h["state"] for h in await alerts.history(resolved["id"])] == ["open", "resolved"]
    assert kept[1] == kept[0]


async def test_a_failing_event_in_a_batch_is_parked_and_the_rest_kept_as_alone(
    postgres_admin_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The batch fails whole (nothing of it kept), is applied one event at a time, and the failing
    event is parked: the others keep what they keep applied alone."""
    day = TODAY - timedelta(days=40)
    facts = [
        *course_opened("c1", "k1", "ICM", day, worker="w1"),
        *course_opened("c2", "k2", "CTI", day, worker="w1"),
        fact("HousingLost", day, "c1", reason="eviction"),
        fact("HousingLost", day, "c2", reason="eviction"),
        fact("ContactRecorded", day + timedelta(days=3), "c1", "k1", minutes=30, kind="face_to_face"),
        fact("HousingGained", day + timedelta(days=5), "c1", housing="almen"),
    ]
    all_events = events(facts, at_morning(TODAY))
    failing = handlers.HANDLERS["HousingLost"]

    def fails_for_c2(batch: Any, one: Any) -> Any:
        if one.citizen_id == "c2":
            raise RuntimeError("poison")
        return failing(batch, one)

    monkeypatch.setitem(handlers.HANDLERS, "HousingLost", fails_for_c2)
    kept = []
    for batched in (False, True):
        async with alerts_database(postgres_admin_url, TODAY) as alerts:
            applier = CheckpointedApplier(
                alerts.pool,
                service="alerts",
                prefix="alert",
                consumer="alerts",
                apply=handlers.applier(alerts.clock.now),
                apply_batch=handlers.batch_applier(alerts.clock.now),
                backoff_seconds=0,
            )
            await applier.prepare()
            for chunk in [messages(all_events)] if batched else [[m] for m in messages(all_events)]:
                await applier(chunk)
            assert await applier.count_parked() == 1
            assert await applier.applied() == len(facts) - 1
            kept.append(await what_is_kept(alerts.pool))
    assert kept[0]["alerts"] and kept[1] == kept[0]


async def test_imported_history_in_batches_notes_what_one_event_at_a_time_notes(postgres_admin_url: str) -> None:
    """Imported facts (imported.py) change the rows and note their subjects, in a batch as alone."""
    history = [
        event.model_copy(update={"imported": Imported(source="sag-101", recorded_at=event.recorded_at)})
        for event in events(demo_history(["101"], citizens=3), at_morning(TODAY))
    ]
    kept = []
    for batch_size in (1, 200):
        async with alerts_database(postgres_admin_url, TODAY) as alerts:
            await alerts.pool.execute(imported.SCHEMA)
            await applied_in_batches(alerts, history, batch_size)
            noted = await alerts.pool.fetch(
                "SELECT municipality, subject_type, subject_id FROM alert_imported_subjects ORDER BY 1, 2, 3"
            )
            kept.append((await what_is_kept(alerts.pool), [tuple(row) for row in noted]))
    assert kept[0][1] and not kept[0][0]["alerts"] and kept[0][0]["alert_courses"]
    assert kept[1] == kept[0]
