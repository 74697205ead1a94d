"""Every rule of docs/domain.md §8 through the alerts handlers and poller on a real PostgreSQL:
the condition raises exactly one alert, on the day it should; clearing it resolves the alert."""

import inspect
import json
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest

from contracts.alerts import AlertMessage
from contracts.facts import FACT_TYPES
from contracts.instruments import RECOVERY_STAR_AREAS
from services.alerts import deadlines, details, evaluation, handlers, rules, store
from services.alerts.rules import add_months
from tests.alerts_support import MUNICIPALITY, Alerts, alerts_database, course_opened, days, fact

pytestmark = pytest.mark.integration

D0 = date(2025, 1, 6)
BY_HAND = "by hand"


@pytest.fixture
async def alerts(postgres_admin_url: str) -> AsyncIterator[Alerts]:
    async with alerts_database(postgres_admin_url, D0) as alerts:
        yield alerts


def on(day: date, *facts: Any) -> list[tuple[date, Any]]:
    return [(day, one) for one in facts]


@dataclass
class Scenario:
    timeline: list[tuple[date, Any]]  # facts up to and including the day the alert is due
    raise_on: date
    subject: str
    clear: list[tuple[date, Any]] | str  # facts that clear the condition, or BY_HAND
    note: str = ""  # why the alert resolves
    config: dict[str, float] = field(default_factory=dict)  # the municipality's configuration of the rule


def who5(*answers: int) -> dict[str, Any]:
    return {"instrument": "WHO5", "answers": list(answers)}


def caseload(workers_courses: int) -> list[tuple[date, Any]]:
    timeline = []
    for n in range(workers_courses):
        timeline += on(D0 + days(n), *course_opened(f"cit-{n}", f"course-{n}", "ICM", D0 + days(n), worker="w1"))
    return timeline


SCENARIOS: dict[str, Scenario] = {
    "cti_phase_overdue": Scenario(
        on(
            D0,
            *course_opened("c1", "k1", "CTI", D0),
            fact("CtiPhaseStarted", D0, "c1", "k1", phase="1", planned_end=(D0 + days(90)).isoformat()),
        ),
        raise_on=D0 + days(105),
        subject="k1",
        clear=on(D0 + days(110), fact("CtiPhaseStarted", D0 + days(110), "c1", "k1", phase="2")),
        note="the next phase started",
    ),
    "cti_course_overdue": Scenario(
        on(D0, *course_opened("c1", "k1", "CTI", D0), fact("CtiPhaseStarted", D0, "c1", "k1", phase="1")),
        raise_on=add_months(D0, 9) + days(15),
        subject="k1",
        clear=on(
            add_months(D0, 9) + days(20),
            fact("CourseEnded", add_months(D0, 9) + days(20), "c1", "k1", reason="completed", follow_on_offer="hoej"),
        ),
        note="the course ended",
    ),
    "cti_contact_phase_long": Scenario(
        on(D0, *course_opened("c1", "k1", "CTI", D0), fact("CtiPhaseStarted", D0, "c1", "k1", phase="contact")),
        raise_on=D0 + days(57),
        subject="k1",
        clear=on(D0 + days(60), fact("CtiPhaseStarted", D0 + days(60), "c1", "k1", phase="1")),
        note="phase 1 started",
    ),
    "cti_started_without_housing": Scenario(
        on(D0, *course_opened("c1", "k1", "CTI", D0), fact("CtiPhaseStarted", D0, "c1", "k1", phase="1")),
        raise_on=D0 + days(31),
        subject="k1",
        clear=on(D0 + days(40), fact("HousingGained", D0 + days(40), "c1", housing="almen")),
        note="housing gained",
    ),
    "time_gap": Scenario(
        # 30 hours planned over a 90-day phase; none used after 4 weeks: "under".
        on(
            D0,
            *course_opened("c1", "k1", "CTI", D0),
            fact("CtiPhaseStarted", D0, "c1", "k1", phase="1", planned_end=(D0 + days(90)).isoformat()),
            fact("TimePlanned", D0, "c1", "k1", cti_phase="1", expected_hours=30),
        ),
        raise_on=D0 + days(28),
        subject="k1",
        # 10 hours by day 29, when 30 * 29/90 = 9.7 were expected: back within ±30%.
        clear=on(D0 + days(29), fact("ContactRecorded", D0 + days(29), "c1", "k1", minutes=600, kind="face_to_face")),
        note="back within the band",
    ),
    "progression_gap": Scenario(
        on(
            D0,
            *course_opened("c1", "k1", "ICM", D0),
            fact(
                "ExpectedProgressionSet",
                D0,
                "c1",
                "k1",
                instrument="WHO5",
                checkpoints=[{"on": D0.isoformat(), "value": 40}, {"on": (D0 + days(90)).isoformat(), "value": 60}],
            ),
        )
        # Day 45: 50 expected, 40 measured.
        + on(D0 + days(45), fact("MeasurementRecorded", D0 + days(45), "c1", "k1", **who5(2, 2, 2, 2, 2))),
        raise_on=D0 + days(45),
        subject="k1",
        clear=on(D0 + days(60), fact("MeasurementRecorded", D0 + days(60), "c1", "k1", **who5(3, 3, 3, 3, 2))),
        note="a later measurement is within the gap",
    ),
    "handleplan_missing": Scenario(
        on(D0, *course_opened("c1", "k1", "ICM", D0)),
        raise_on=D0 + days(31),
        subject="k1",
        clear=on(D0 + days(35), fact("HandleplanCreated", D0 + days(35), "c1")),
        note="handleplan created",
    ),
    "shelter_no_contact": Scenario(
        on(D0, fact("ShelterStayStarted", D0, "c1", shelter="herberg-1")),
        raise_on=D0 + days(8),
        subject="c1",
        clear=on(D0 + days(9), fact("ShelterContactMade", D0 + days(9), "c1")),
        note="the municipality made contact",
    ),
    "shelter_stay_long": Scenario(
        on(D0, fact("ShelterStayStarted", D0, "c1", shelter="herberg-1"))
        + on(D0 + days(10), fact("AssessedReadyToMove", D0 + days(10), "c1")),
        raise_on=D0 + days(90),
        subject="c1",  # ready to move: 90 days from the stay's start
        clear=on(
            D0 + days(105), fact("ShelterStayEnded", D0 + days(105), "c1", discharge="planned", destination="almen")
        ),
        note="the stay ended",
    ),
    "udredning_overdue": Scenario(
        on(D0, fact("ShelterStayStarted", D0, "c1", shelter="herberg-1"), fact("UdredningStarted", D0, "c1")),
        raise_on=D0 + days(43),  # 42 days (6 weeks) after it began: raised the day after
        subject="c1",
        clear=on(
            D0 + days(45),
            fact("UdredningCompleted", D0 + days(45), "c1", recommended_housing="almen", recommended_support="CTI"),
        ),
        note="completed with its recommendations",
    ),
    "release_meeting_missing": Scenario(
        # Planned on D0 (6 January 2025) for 7 March: one month before is 7 February = D0 + 32 days.
        on(D0, fact("ReleasePlanned", D0, "c1", release_from="prison", planned_release_on=D0 + days(60))),
        raise_on=D0 + days(32),
        subject="c1",
        clear=on(
            D0 + days(35), fact("ReleaseMeetingHeld", D0 + days(35), "c1", housing_agreed=True, support_agreed=True)
        ),
        note="the release meeting was held",
    ),
    "outreach_phase_long": Scenario(
        on(D0, *course_opened("c1", "k1", "OUTREACH", D0))
        + on(D0 + days(2), fact("OutreachPhaseStarted", D0 + days(2), "c1", "k1", phase="relationship")),
        raise_on=D0 + days(63),  # the municipality allows 60 days: 2 + 60 = day 62 still allowed, raised day 63
        subject="k1",
        clear=on(D0 + days(70), fact("OutreachPhaseStarted", D0 + days(70), "c1", "k1", phase="bridging")),
        note="the next phase (bridging) started, with no duration configured for it",
        config={"relationship_days": 60},
    ),
    "bridging_ended_without_handover": Scenario(
        on(D0, *course_opened("c1", "k1", "OUTREACH", D0))
        + on(D0 + days(5), fact("OutreachPhaseStarted", D0 + days(5), "c1", "k1", phase="bridging"))
        + on(
            D0 + days(40),
            fact("CourseEnded", D0 + days(40), "c1", "k1", reason="completed", follow_on_offer="ved_ikke"),
        ),
        raise_on=D0 + days(40),
        subject="k1",
        clear=BY_HAND,
        note="the leader resolved it after arranging the handover",
    ),
    "recovery_star_baseline_missing": Scenario(
        on(D0, *course_opened("c1", "k1", "OUTREACH", D0))
        + on(D0 + days(3), fact("ContactRecorded", D0 + days(3), "c1", "k1", minutes=0, kind="attempted"))
        + on(D0 + days(9), fact("ContactRecorded", D0 + days(9), "c1", "k1", minutes=30, kind="face_to_face"))
        + on(D0 + days(12), fact("MeasurementRecorded", D0 + days(12), "c1", "k1", **who5(3, 3, 3, 3, 3))),
        # contact established on day 9 (the attempt on day 3 is none); 30 days: day 39 allowed, raised
        # day 40; a WHO-5 is no Recovery Star.
        raise_on=D0 + days(40),
        subject="k1",
        clear=on(
            D0 + days(44),
            fact(
                "MeasurementRecorded",
                D0 + days(44),
                "c1",
                "k1",
                instrument="RECOVERY_STAR",
                answers=dict.fromkeys(RECOVERY_STAR_AREAS, 4),
            ),
        ),
        note="the Recovery Star baseline was recorded",
    ),
    "no_contact": Scenario(
        on(D0, *course_opened("c1", "k1", "ICM", D0))
        + on(D0 + days(1), fact("ContactRecorded", D0 + days(1), "c1", "k1", minutes=60, kind="face_to_face"))
        + on(D0 + days(10), fact("ContactRecorded", D0 + days(10), "c1", "k1", minutes=20, kind="phone_digital")),
        raise_on=D0 + days(16),
        subject="k1",
        clear=on(D0 + days(18), fact("ContactRecorded", D0 + days(18), "c1", "k1", minutes=60, kind="face_to_face")),
        note="face-to-face contact recorded",
    ),
    "housing_lost": Scenario(
        on(D0, *course_opened("c1", "k1", "ICM", D0))
        + on(D0 + days(1), fact("HousingGained", D0 + days(1), "c1", housing="almen"))
        + on(D0 + days(20), fact("HousingLost", D0 + days(20), "c1", reason="eviction")),
        raise_on=D0 + days(20),
        subject="c1",
        clear=on(D0 + days(40), fact("HousingGained", D0 + days(40), "c1", housing="private_rental")),
        note="housing gained again",
    ),
    "eviction_risk": Scenario(
        on(D0, *course_opened("c1", "k1", "ICM", D0))
        + on(D0 + days(5), fact("EvictionRiskRegistered", D0 + days(5), "c1", kind="bailiff_case")),
        raise_on=D0 + days(5),
        subject="c1",
        clear=on(D0 + days(12), fact("EvictionPrevented", D0 + days(12), "c1")),
        note="eviction prevented",
    ),
    "follow_up_due": Scenario(
        on(D0, *course_opened("c1", "k1", "ICM", D0))
        + on(D0 + days(30), fact("CourseEnded", D0 + days(30), "c1", "k1", reason="completed", follow_on_offer="hoej")),
        raise_on=add_months(D0 + days(30), 6) + days(31),
        subject="k1",
        clear=on(
            add_months(D0 + days(30), 6) + days(35),
            fact(
                "FollowUpRecorded",
                add_months(D0 + days(30), 6) + days(35),
                "c1",
                "k1",
                months_after_end=6,
                keeps_own_housing="yes",
            ),
        ),
        note="follow-up recorded",
    ),
    "worker_changes": Scenario(
        on(D0, *course_opened("c1", "k1", "ICM", D0, worker="w1"))
        + on(D0 + days(10), fact("SupportWorkerChanged", D0 + days(10), "c1", "k1", support_worker="w2"))
        + on(D0 + days(20), fact("SupportWorkerChanged", D0 + days(20), "c1", "k1", support_worker="w3"))
        + on(D0 + days(30), fact("SupportWorkerChanged", D0 + days(30), "c1", "k1", support_worker="w4")),
        raise_on=D0 + days(30),
        subject="k1",
        clear=on(
            D0 + days(40), fact("CourseEnded", D0 + days(40), "c1", "k1", reason="moved", follow_on_offer="nogen")
        ),
        note="no clearing condition: the subject (course) ends",
    ),
    "caseload_over_norm": Scenario(
        caseload(9),  # ICM norm 8: the ninth course on day 8
        raise_on=D0 + days(8),
        subject="w1",
        clear=on(
            D0 + days(12),
            fact("CourseEnded", D0 + days(12), "cit-0", "course-0", reason="completed", follow_on_offer="hoej"),
        ),
        note="back within the norm",
    ),
    # Round 2025-H1 began 1 January; the ICM team registered on D0 (6 January), so its fidelity
    # checklist is due 60 days (grace_days) after D0: 6 January + 60 days = 7 March = D0 + 60.
    "fidelity_round_due": Scenario(
        on(D0, fact("TeamRegistered", D0, team_id="team-a", name="ICM-teamet", methods=["ICM"])),
        raise_on=D0 + days(60),
        subject="team-a",
        clear=on(
            D0 + days(65),
            fact(
                "SurveyAnswered",
                D0 + days(65),
                survey="fidelity_icm",
                version=1,
                round="2025-H1",
                team="team-a",
                answers=dict.fromkeys(
                    ("target_group", "caseload", "continuity", "weekly_contact", "practical_support", "coordination"), 4
                ),
            ),
        ),
        note="the team answered its fidelity checklist for the round",
    ),
    "wellbeing_low": Scenario(
        on(D0, *course_opened("c1", "k1", "ICM", D0))
        + on(D0 + days(14), fact("MeasurementRecorded", D0 + days(14), "c1", "k1", **who5(1, 1, 1, 1, 1))),
        raise_on=D0 + days(14),
        subject="k1",
        clear=on(D0 + days(50), fact("MeasurementRecorded", D0 + days(50), "c1", "k1", **who5(4, 4, 4, 4, 4))),
        note="a later WHO-5 is fine",
    ),
    "measurement_missing": Scenario(
        on(D0, *course_opened("c1", "k1", "ICM", D0)),
        raise_on=D0 + days(31),
        subject="k1",
        clear=on(D0 + days(33), fact("MeasurementRecorded", D0 + days(33), "c1", "k1", **who5(3, 3, 3, 3, 3))),
        note="baseline measurement recorded",
    ),
    "status_due": Scenario(
        # An ICM course from D0 (6 January 2025): the first status is due 3 months on, 6 April
        # (D0 + 90 days: 25 + 28 + 31 + 6), on time from 2 March (- 5 weeks) to 11 May (+ 35 days).
        # Housing, income and a measurement come inside the window (day 80), employment does not:
        # raised the day after the window closes, D0 + 90 + 35 + 1 = D0 + 126 (12 May).
        on(D0, *course_opened("c1", "k1", "ICM", D0))
        + on(
            D0 + days(80),
            fact("HousingSituationRecorded", D0 + days(80), "c1", housing="sofa"),
            fact("IncomeTypeRecorded", D0 + days(80), "c1", income_type="kontanthjaelp"),
            fact("MeasurementRecorded", D0 + days(80), "c1", "k1", **who5(3, 3, 3, 3, 3)),
        ),
        raise_on=D0 + days(126),
        subject="k1",
        clear=on(D0 + days(130), fact("EmploymentStatusRecorded", D0 + days(130), "c1", status="unemployed")),
        note="the missing employment status was recorded",
    ),
    "no_follow_on_offer": Scenario(
        on(D0, *course_opened("c1", "k1", "ICM", D0))
        + on(
            D0 + days(60),
            fact("CourseEnded", D0 + days(60), "c1", "k1", reason="does_not_want_support", follow_on_offer="ringe"),
        ),
        raise_on=D0 + days(60),
        subject="k1",
        clear=BY_HAND,
        note="immediate, no clearing condition: resolved by hand",
    ),
}


def test_every_rule_in_the_catalogue_has_a_definition_a_scenario_and_the_facts_it_reacts_to() -> None:
    """Adding a rule touches rules.py alone (its `@rule(...)` beside its function), and its scenario
    here: the handlers and the evaluation name no rule, they ask the catalogue."""
    assert set(SCENARIOS) == set(rules.CATALOGUE)
    fact_types = {fact_type.model_fields["type"].default for fact_type in FACT_TYPES}
    for rule in rules.CATALOGUE.values():
        assert rule.name_da and rule.name_en and rule.clears_when, rule.id
        # The definition says what raises it, with each of its parameters by name.
        assert len(rule.definition) > 40 and all(f"`{p}`" in rule.definition for p in rule.defaults), rule.id
        # ... in Danish too, and what clears it.
        assert all(f"`{p}`" in rule.definition_da for p in rule.defaults), rule.id
        assert rule.clears_when_da and not re.search(r"\b(the|and|is|of|raised)\b", rule.definition_da), rule.id
        # Each subject it is about has facts that make it look again, and the service records them.
        assert set(rule.reacts_to) == set(rule.checks), rule.id
        for subject, reacts_to in rule.reacts_to.items():
            assert reacts_to and reacts_to <= fact_types & set(handlers.HANDLERS), (rule.id, subject)
        # The facts that clear it in its scenario are among them, so clearing never waits for a poll.
        clear = SCENARIOS[rule.id].clear
        if clear != BY_HAND:
            assert {f.type for _, f in clear} <= set().union(*rule.reacts_to.values()), rule.id
    for module in (handlers, evaluation, deadlines):
        source = re.sub(r'row\["\w+"\]', "", inspect.getsource(module))  # a column may share a rule's name
        assert not [r for r in rules.CATALOGUE if f'"{r}"' in source], f"{module.__name__} names a rule"


async def _raise(alerts: Alerts, rule: str, scenario: Scenario) -> dict[str, Any]:
    if scenario.config:
        async with alerts.pool.acquire() as db:
            await db.execute(
                """INSERT INTO alert_rule_config (rule, municipality, scope, params, updated_at, updated_by)
                   VALUES ($1, $2, '', $3::jsonb, now(), 'leader-1')""",
                rule,
                MUNICIPALITY,
                json.dumps(scenario.config),
            )
    before = [(d, f) for d, f in scenario.timeline if d < scenario.raise_on]
    await alerts.play(before)
    await alerts.tick(scenario.raise_on - days(1))
    assert await alerts.alerts(rule) == [], "raised a day early"
    await alerts.play([(d, f) for d, f in scenario.timeline if d >= scenario.raise_on])
    await alerts.tick(scenario.raise_on)
    raised = await alerts.alerts(rule)
    assert [(a["rule"], a["subject_id"], a["state"]) for a in raised] == [(rule, scenario.subject, "open")]
    return raised[0]


@pytest.mark.parametrize("rule", sorted(SCENARIOS))
async def test_condition_raises_exactly_one_alert(alerts: Alerts, rule: str) -> None:
    scenario = SCENARIOS[rule]
    raised = await _raise(alerts, rule, scenario)
    assert raised["severity"] == rules.CATALOGUE[rule].severity
    # What goes onto CASETRACK_ALERTS must fit the contract (flat details), or publishing would stall.
    AlertMessage(
        alert_id=raised["id"],
        transition=1,
        rule=rule,
        subject_type=raised["subject_type"],
        subject_id=raised["subject_id"],
        municipality=raised["municipality"],
        team=raised["team"],
        state="open",
        severity=raised["severity"],
        raised_at=raised["raised_at"],
        details=raised["details"],
    )
    # Its details read as words, in Danish and in English: every key labelled, no raw code or ISO date.
    assert set(raised["details"]) <= set(details.KEYS), set(raised["details"]) - set(details.KEYS)
    for lang in ("da", "en"):
        text = raised["details_text"][lang]
        assert text or not raised["details"]
        assert not re.search(r"\d{4}-\d{2}-\d{2}", text), text
        assert not any(f"{key}:" in text for key in raised["details"] if "_" in key), text
    # Later polls and facts about the same subject do not raise it again.
    await alerts.tick(scenario.raise_on + days(3))
    await alerts.tick(scenario.raise_on + days(6))
    assert [a["id"] for a in await alerts.alerts(rule)] == [raised["id"]]
    assert [h["state"] for h in await alerts.history(raised["id"])] == ["open"]


@pytest.mark.parametrize("rule", sorted(SCENARIOS))
async def test_clearing_the_condition_resolves_the_alert(alerts: Alerts, rule: str) -> None:
    scenario = SCENARIOS[rule]
    raised = await _raise(alerts, rule, scenario)
    if scenario.clear == BY_HAND:
        async with alerts.pool.acquire() as db:
            await store.change_state(
                db,
                uuid.UUID(raised["id"]),
                state="resolved",
                at=alerts.clock.now(),
                by="leader-1",
                note="talked to the shelter",
            )
        expected_by = "leader-1"
    else:
        await alerts.play(scenario.clear)  # type: ignore[arg-type]
        expected_by = "casetrack"
    await alerts.tick(max(d for d, _ in scenario.clear) + days(1) if scenario.clear != BY_HAND else scenario.raise_on)
    after = await alerts.alerts(rule)
    assert [(a["id"], a["state"]) for a in after] == [(raised["id"], "resolved")], scenario.note
    history = await alerts.history(raised["id"])
    assert [(h["state"], h["by"]) for h in history] == [("open", "casetrack"), ("resolved", expected_by)]
