"""Data quality (services/projections/data_quality.py) on a hand-made scenario: every figure
hand-worked, with the arithmetic beside it. The day is 30 June 2026."""

from datetime import UTC, date, datetime, time
from typing import Any

from contracts.facts import fact_adapter
from services.projections.data_quality import data_quality
from services.projections.history import History, Record, fold

DAY = date(2026, 6, 30)


def _fact(fact_type: str, on: date, citizen: str, course: str | None = None, **fields: Any) -> Any:
    body = {"type": fact_type, "municipality": "101", "effective_date": on.isoformat(), "citizen_id": citizen}
    return fact_adapter.validate_python(body | ({"course_id": course} if course else {}) | fields)


def _history() -> History:
    told: list[tuple[Any, date | None]] = [  # (fact, recorded on; None: the day it happened)
        # c1, k1: ICM in team-a with w1 from 5 January; planned, with a progression; baseline 20 January
        # (within 30 days); status 1 due 5 April, window 1 March - 10 May: housing 1 May, income,
        # employment (unknown) and a measurement 20 March: complete. The housing situation was told
        # on 15 June, 45 days late: backdated. 10 facts, 1 backdated.
        (_fact("CitizenRegistered", date(2026, 1, 5), "c1", gender="female"), None),
        (_fact("VisitationDecided", date(2026, 1, 5), "c1", "k1", method="ICM", team="team-a"), None),
        (_fact("CourseStarted", date(2026, 1, 5), "c1", "k1", support_worker="w1"), None),
        (_fact("TimePlanned", date(2026, 1, 5), "c1", "k1", month="2026-06-01", expected_hours=10), None),
        (
            _fact(
                "ExpectedProgressionSet",
                date(2026, 1, 5),
                "c1",
                "k1",
                instrument="WHO5",
                checkpoints=[{"on": "2026-01-05", "value": 40}, {"on": "2026-07-05", "value": 60}],
            ),
            None,
        ),
        (_fact("MeasurementRecorded", date(2026, 1, 20), "c1", "k1", instrument="WHO5", answers=[2] * 5), None),
        (_fact("MeasurementRecorded", date(2026, 3, 20), "c1", "k1", instrument="WHO5", answers=[3] * 5), None),
        (_fact("IncomeTypeRecorded", date(2026, 3, 20), "c1", income_type="kontanthjaelp"), None),
        (_fact("EmploymentStatusRecorded", date(2026, 3, 20), "c1", status="unknown"), None),
        (_fact("HousingSituationRecorded", date(2026, 5, 1), "c1", housing="sofa"), date(2026, 6, 15)),
        # c2, k2: CTI in team-a from 20 May, no worker, nothing planned, no measurement (baseline due
        # 19 June, passed), no housing; status 1 due 20 August: none closed yet. Gender unknown.
        # The decision was told 36 days late (backdated), the start 30 days late (not: more than 30).
        (_fact("CitizenRegistered", date(2026, 5, 20), "c2"), None),
        (_fact("VisitationDecided", date(2026, 5, 20), "c2", "k2", method="CTI", team="team-a"), date(2026, 6, 25)),
        (_fact("CourseStarted", date(2026, 5, 20), "c2", "k2"), date(2026, 6, 19)),
        # c3, k3: ICM in team-b with w2 from 1 February; housing `unknown` on 1 February (more than 90
        # days before 30 June); no measurement (baseline due 3 March); status 1 due 1 May, window
        # 27 March - 5 June, closed without anything: late. Never registered: gender unknown.
        (_fact("VisitationDecided", date(2026, 2, 1), "c3", "k3", method="ICM", team="team-b"), None),
        (_fact("CourseStarted", date(2026, 2, 1), "c3", "k3", support_worker="w2"), None),
        (_fact("HousingSituationRecorded", date(2026, 2, 1), "c3", housing="unknown"), None),
        # c4, k4: team-b, w2, ended 30 April with no follow-on offer (slet_ikke).
        (_fact("VisitationDecided", date(2026, 1, 10), "c4", "k4", method="ICM", team="team-b"), None),
        (_fact("CourseStarted", date(2026, 1, 10), "c4", "k4", support_worker="w2"), None),
        (_fact("CourseEnded", date(2026, 4, 30), "c4", "k4", reason="completed", follow_on_offer="slet_ikke"), None),
        # c5, k5: team-a, w1, ended 1 June, the follow-on offer not known (ved_ikke).
        (_fact("VisitationDecided", date(2026, 1, 12), "c5", "k5", method="ACT", team="team-a"), None),
        (_fact("CourseStarted", date(2026, 1, 12), "c5", "k5", support_worker="w1"), None),
        (_fact("CourseEnded", date(2026, 6, 1), "c5", "k5", reason="completed", follow_on_offer="ved_ikke"), None),
    ]
    records = [
        Record(n, datetime.combine(recorded or one.effective_date, time(12), UTC), one)
        for n, (one, recorded) in enumerate(told, start=1)
    ]
    return fold("101", records)


def s(count: int, of: int) -> dict[str, Any]:
    return {"count": count, "of": of, "share": round(count / of, 4) if of else None}


def figures(
    active: int,
    ended: int,
    time_plan: tuple[int, int],
    progression: tuple[int, int],
    worker: tuple[int, int],
    housing: tuple[int, int],
    baseline: tuple[int, int],
    status: tuple[int, int],
    backdated: tuple[int, int],
    unknown: dict[str, tuple[int, int]],
    without_offer: tuple[int, int],
) -> dict[str, Any]:
    return {
        "active_courses": active,
        "ended_courses": ended,
        "no_time_plan": s(*time_plan),
        "no_expected_progression": s(*progression),
        "no_worker": s(*worker),
        "no_recent_housing": s(*housing),
        "no_baseline_measurement": s(*baseline),
        "status_late": s(*status),
        "backdated_facts": s(*backdated),
        "unknown": {field: s(*pair) for field, pair in unknown.items()},
        "ended_without_follow_on_offer": s(*without_offer),
    }


# team-b = w2: k3 active (lacks all but a worker; status late), k4 ended without an offer.
# Backdated 0 of k3's 3 facts; housing 1 unknown of 1 (c3); employment none recorded (0 of 0);
# gender 1 of 1 (c3); follow-on offer known for k4 (0 of 1), and it is slet_ikke (1 of 1).
TEAM_B = figures(
    1, 1, (1, 1), (1, 1), (0, 1), (1, 1), (1, 1), (1, 1), (0, 3),
    {"housing": (1, 1), "employment": (0, 0), "gender": (1, 1), "follow_on_offer": (0, 1)},
    (1, 1),
)  # fmt: skip


def test_the_figures_equal_the_hand_worked_values_overall_by_team_and_by_worker() -> None:
    result = data_quality(_history(), DAY)
    # Active on 30 June: k1, k2, k3; ended: k4, k5.
    # No time plan: k2, k3 = 2/3. No progression: k2, k3 = 2/3. No worker: k2 = 1/3.
    # No housing since 1 April: k2 (none), k3 (1 February) = 2/3. No baseline: k2, k3 = 2/3.
    # Status late: k3 = 1/3. Backdated: c1 1 of 10, c2 1 of 3, c3 0 of 3 = 2/16.
    # Unknown among c1, c2, c3: housing c3's of {c1 sofa, c3 unknown} = 1/2; employment c1's = 1/1;
    # gender c2, c3 = 2/3; follow-on offer k5 of {k4, k5} = 1/2. Without an offer: k4 = 1/2.
    assert result["overall"] == figures(
        3, 2, (2, 3), (2, 3), (1, 3), (2, 3), (2, 3), (1, 3), (2, 16),
        {"housing": (1, 2), "employment": (1, 1), "gender": (2, 3), "follow_on_offer": (1, 2)},
        (1, 2),
    )  # fmt: skip
    # team-a: k1, k2 active, k5 ended. Lacks: k2 each of plan, progression, worker, housing,
    # baseline = 1/2; status 0/2; backdated (1 + 1)/(10 + 3) = 2/13; housing 0 unknown of c1's 1;
    # employment 1/1; gender c2 = 1/2; follow-on offer k5 ved_ikke = 1/1; without an offer 0/1.
    team_a = figures(
        2, 1, (1, 2), (1, 2), (1, 2), (1, 2), (1, 2), (0, 2), (2, 13),
        {"housing": (0, 1), "employment": (1, 1), "gender": (1, 2), "follow_on_offer": (1, 1)},
        (0, 1),
    )  # fmt: skip
    assert result["teams"] == [{"team": "team-a"} | team_a, {"team": "team-b"} | TEAM_B]
    # w1: k1 active (nothing lacking; backdated 1 of c1's 10), k5 ended (ved_ikke).
    w1 = figures(
        1, 1, (0, 1), (0, 1), (0, 1), (0, 1), (0, 1), (0, 1), (1, 10),
        {"housing": (0, 1), "employment": (1, 1), "gender": (0, 1), "follow_on_offer": (1, 1)},
        (0, 1),
    )  # fmt: skip
    assert result["workers"] == [{"team": "team-a", "worker": "w1"} | w1, {"team": "team-b", "worker": "w2"} | TEAM_B]


def test_a_worker_or_a_team_filter_limits_every_figure() -> None:
    history = _history()
    assert data_quality(history, DAY, worker="w2")["overall"] == TEAM_B
    assert data_quality(history, DAY, team="team-b")["overall"] == TEAM_B
    # On 19 June, the day k2's baseline falls due, it does not lack one yet (k1 has one): 0 of 2.
    assert data_quality(history, date(2026, 6, 19), team="team-a")["overall"]["no_baseline_measurement"] == s(0, 2)
