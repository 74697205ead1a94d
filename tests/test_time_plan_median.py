"""The team's median time plan (services/projections/time_plans.py), over folded facts: no servers."""

import uuid
from datetime import UTC, datetime
from typing import Any

from contracts.codes import CtiPhase, Method
from contracts.facts import fact_adapter
from services.projections.history import History, Record, fold
from services.projections.time_plans import time_plan_median

RECORDED = datetime(2026, 3, 1, tzinfo=UTC)


def _course(citizen: str, course: str, method: str, team: str) -> list[dict[str, Any]]:
    base = {"municipality": "101", "citizen_id": citizen, "effective_date": "2026-01-05"}
    return [
        base | {"type": "CitizenRegistered"},
        base | {"type": "VisitationDecided", "course_id": course, "method": method, "team": team},
        base | {"type": "CourseStarted", "course_id": course},
    ]


def _plan(citizen: str, course: str, hours: float, **unit: str) -> dict[str, Any]:
    return {
        "type": "TimePlanned",
        "municipality": "101",
        "citizen_id": citizen,
        "course_id": course,
        "effective_date": "2026-01-05",
        "expected_hours": hours,
        **unit,
    }


def _history() -> tuple[History, list[uuid.UUID]]:
    facts = _course("c1", "k1", "ICM", "team-a") + _course("c2", "k2", "ICM", "team-a")
    facts += _course("c3", "k3", "ICM", "team-a") + _course("c4", "k4", "ICM", "team-b")
    facts += _course("c5", "k5", "CTI", "team-a") + _course("c6", "k6", "CTI", "team-a")
    facts += [
        _plan("c1", "k1", 20, month="2026-01-01"),
        _plan("c1", "k1", 4, month="2026-02-01"),  # k1's latest month: 4 (January's 20 does not count)
        _plan("c2", "k2", 6, month="2026-01-01"),
        _plan("c3", "k3", 10, month="2026-02-01"),
        _plan("c3", "k3", 99, month="2026-02-01"),  # entered by mistake, withdrawn below: 10 stands
        _plan("c4", "k4", 50, month="2026-01-01"),  # team-b
        _plan("c5", "k5", 20, cti_phase="1"),
        _plan("c6", "k6", 30, cti_phase="1"),
        _plan("c6", "k6", 12, cti_phase="2"),
    ]
    ids = [uuid.uuid4() for _ in facts]
    mistake = ids[len(facts) - 5]
    facts.append(
        {
            "type": "FactWithdrawn",
            "municipality": "101",
            "citizen_id": "c3",
            "course_id": "k3",
            "effective_date": "2026-01-06",
            "withdrawn_event_id": str(mistake),
            "reason": "tastefejl",
        }
    )
    ids.append(uuid.uuid4())
    records = [
        Record(n, RECORDED, fact_adapter.validate_python(fact), event_id)
        for n, (fact, event_id) in enumerate(zip(facts, ids, strict=True), 1)
    ]
    return fold("101", records), ids


def test_the_median_is_over_the_teams_courses_latest_plans_for_the_unit() -> None:
    history, _ = _history()
    # team-a ICM, each course's latest month: k1 4, k2 6, k3 10 (its 99 withdrawn): median of 4, 6, 10 = 6.
    found = time_plan_median(history, "team-a", Method.ICM, None)
    assert (found.median_hours, found.courses) == (6, 3)
    # The whole municipality adds team-b's k4 (50): median of 4, 6, 10, 50 = (6 + 10) / 2 = 8.
    assert time_plan_median(history, None, Method.ICM, None).median_hours == 8
    # CTI phase 1: k5 20, k6 30: (20 + 30) / 2 = 25; phase 2 only k6: 12; phase 3: no plan.
    assert time_plan_median(history, "team-a", Method.CTI, CtiPhase.PHASE_1).median_hours == 25
    assert time_plan_median(history, "team-a", Method.CTI, CtiPhase.PHASE_2).median_hours == 12
    none = time_plan_median(history, "team-a", Method.CTI, CtiPhase.PHASE_3)
    assert (none.median_hours, none.courses) == (None, 0)


def test_a_withdrawn_plan_gives_way_to_the_one_before() -> None:
    history, _ = _history()
    assert history.courses["k3"].planned_hours == {datetime(2026, 2, 1).date(): 10}
    assert [hours for _, _, hours in history.courses["k3"].plans] == [10]
