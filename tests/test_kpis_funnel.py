"""P8, the referral funnel, on a small fixed scenario: each step among those that reached the step
before, the conversion and median days per step, a backdated assessment and an `as_of` query."""

from datetime import date

import pytest

from casetrack import demo
from services.projections.kpis import CATALOGUE, Context, Window
from services.projections.kpis.funnel import STEPS
from tests.kpi_scenario import Scenario, figure, kpi_pool  # noqa: F401 - fixture
from tests.test_kpi_texts import TODAY, demo_history

pytestmark = pytest.mark.integration


async def test_p8_the_referral_funnel_step_by_step(kpi_pool) -> None:
    s = Scenario()

    def received(citizen: str, day: str) -> None:
        s.citizen(citizen, day)
        s.fact(
            "ReferralReceived", day, citizen=citizen, referral_id=f"h-{citizen}", source="caretaker", channel="phone"
        )

    def assessed(citizen: str, day: str, fits: bool, **kw) -> None:
        s.fact("ReferralAssessed", day, citizen=citizen, referral_id=f"h-{citizen}", in_target_group=fits, **kw)

    received("f0", "2026-02-20")  # before March: not counted
    received("f1", "2026-03-02")
    assessed("f1", "2026-03-05", True)  # 3 days
    s.course("f1", "k1", "ICM", "2026-03-12", decided="2026-03-09")  # 4 days, then 3 days
    s.fact("ContactRecorded", "2026-03-13", citizen="f1", course="k1", minutes=10, kind="attempted")  # no contact
    s.fact("ContactRecorded", "2026-03-16", citizen="f1", course="k1", minutes=45, kind="face_to_face")  # 4 days
    received("f2", "2026-03-03")
    assessed("f2", "2026-03-10", True)  # 7 days
    s.course("f2", "k2", "ACT", "2026-03-20", decided="2026-03-11")  # 1 day, then 9 days; no contact yet
    received("f3", "2026-03-04")
    assessed("f3", "2026-03-06", False, referred_to="drop_in")  # 2 days; not in the target group
    received("f4", "2026-03-10")  # not assessed
    received("f5", "2026-03-15")
    assessed("f5", "2026-03-16", True, recorded="2026-04-10")  # 1 day, told late
    s.course("f5", "k5", "CTI", None, decided="2026-03-20", recorded="2026-04-10")  # 4 days; not started
    received("f6", "2026-03-20")
    assessed("f6", "2026-03-21", True)  # 1 day
    s.fact(  # 4 days; refused, told late (backdated)
        "VisitationRefused",
        "2026-03-25",
        recorded="2026-04-15",
        citizen="f6",
        referral_id="h-f6",
        method="ICM",
        reason="needs_more",
    )
    s.fact("CourseHandedOver", "2026-03-30", citizen="f1", course="k1", offer="sel85")  # 14 days after contact
    await s.apply(kpi_pool)

    p8 = await figure(kpi_pool, "P8", "2026-03-01", "2026-03-31")
    v = p8["values"]
    # received f1-f6 = 6; assessed f1, f2, f3, f5, f6 = 5; in the target group f1, f2, f5, f6 = 4;
    # visitation decided or refused f1, f2, f5, f6 = 4; decided f1, f2, f5 = 3 (f6 refused: 1);
    # started f1, f2 = 2; contact established f1 = 1; handed over f1 = 1.
    assert [v[step] for step in STEPS] == [6, 5, 4, 4, 3, 2, 1, 1]
    assert v["visitation_refused"] == 1
    # 5/6, 4/5, 4/4, 3/4, 2/3, 1/2, 1/1.
    assert [v[f"{step}.conversion"] for step in STEPS[1:]] == [0.8333, 0.8, 1.0, 0.75, 0.6667, 0.5, 1.0]
    # assessed after [3, 7, 2, 1, 1] days -> median 2; in the target group the same day [0, 0, 0, 0];
    # visitation [4, 1, 4, 4] -> 4; decided the same day [0, 0, 0]; start [3, 9] -> 6; contact [4];
    # handover [14] (16 to 30 March).
    assert [v[f"{step}.median_days"] for step in STEPS[1:]] == [2.0, 0.0, 4.0, 0.0, 6.0, 4.0, 14.0]
    assert (p8["value"], p8["numerator"], p8["denominator"], p8["citizens"]) == (0.3333, 2, 6, 6)

    # Known on 1 April, f5's assessment and visitation and f6's refusal were not: assessed f1, f2,
    # f3, f6 = 4 after [3, 7, 2, 1] days -> (2 + 3) / 2 = 2.5; in the target group f1, f2, f6 = 3
    # (3/4); visitation f1, f2 = 2, none refused.
    p8 = await figure(kpi_pool, "P8", "2026-03-01", "2026-03-31", as_of="2026-04-01")
    v = p8["values"]
    assert [v[step] for step in STEPS] == [6, 4, 3, 2, 2, 2, 1, 1]
    assert (v["assessed.median_days"], v["in_target_group.conversion"], v["visitation_refused"]) == (2.5, 0.75, 0)
    assert p8["value"] == 0.3333


def test_the_funnel_adds_up_step_by_step_on_the_demo_data() -> None:
    history = demo_history()
    window = Window(date(2025, 7, 1), date(2026, 6, 30))
    v = CATALOGUE["P8"].compute(Context(history, window))["values"]
    steps = STEPS
    counts = [v[step] for step in steps]
    # Every demo citizen arrives with one referral: the ReferralReceived facts of the window.
    facts = demo.generate("101", 300, 24, seed=7, today=TODAY)
    sent = [f for f in facts if f["type"] == "ReferralReceived"]
    assert len(sent) == sum(1 for f in facts if f["type"] == "CitizenRegistered")
    assert counts[0] == sum(1 for f in sent if window.holds(date.fromisoformat(f["effective_date"]))) > 0
    assert all(later <= earlier for earlier, later in zip(counts, counts[1:], strict=False)), counts
    assert counts[-1] > 0, counts  # handovers at the end of courses
    assert v["visitation_refused"] > 0 and v["visitation_refused"] == v["visitation"] - v["visitation_decided"]
    for before, step in zip(steps, steps[1:], strict=False):
        assert v[f"{step}.conversion"] == round(v[step] / v[before], 4)
    # The Recovery Star of the demo's ICM and ACT courses reaches O16.
    o16 = CATALOGUE["O16"].compute(Context(history, window))
    assert o16["values"]["measured_twice"] > 0 and o16["value"] is not None
