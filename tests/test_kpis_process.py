"""Process KPIs P1-P7 on small fixed scenarios; each has a backdated fact and an `as_of` query."""

import pytest

from tests.kpi_scenario import Scenario, figure, kpi_pool  # noqa: F401 - fixture

pytestmark = pytest.mark.integration


async def test_p1_active_courses_by_method(kpi_pool) -> None:
    s = Scenario()
    s.course("c1", "k1", "CTI", "2026-01-10")
    s.course("c2", "k2", "ICM", "2026-02-01")
    s.course("c3", "k3", "ACT", "2026-02-15")
    s.fact("CourseEnded", "2026-03-01", citizen="c3", course="k3", reason="completed")
    # Backdated: started 20 March, told on 10 April.
    s.course("c4", "k4", "ICM", "2026-03-20", recorded="2026-04-10")
    await s.apply(kpi_pool)

    # 31 March: k1 (CTI), k2 and k4 (ICM); k3 ended on 1 March.
    p1 = await figure(kpi_pool, "P1", "2026-03-31")
    assert p1["values"] == {"CTI": 1, "ICM": 2, "ACT": 0, "SEL85": 0, "OUTREACH": 0} and p1["total"] == 3 == p1["value"]
    # As known on 1 April, k4 had not been told: 1 CTI + 1 ICM.
    before = await figure(kpi_pool, "P1", "2026-03-31", as_of="2026-04-01")
    assert before["values"]["ICM"] == 1 and before["total"] == 2
    # 20 February: k1, k2 and k3 (ACT) are active.
    assert (await figure(kpi_pool, "P1", "2026-02-20"))["values"]["ACT"] == 1
    assert (await figure(kpi_pool, "P1", "2026-03-31", method="ICM"))["total"] == 2


async def test_p2_handleplan_within_30_days(kpi_pool) -> None:
    s = Scenario()
    s.course("a1", "k1", "ICM", "2026-03-01")
    s.fact("HandleplanCreated", "2026-03-20", citizen="a1")  # 19 days after start: yes
    s.course("a2", "k2", "ICM", "2026-03-05")
    s.fact("HandleplanCreated", "2026-04-10", citizen="a2")  # 36 days: no
    s.course("a3", "k3", "CTI", "2026-03-10")
    s.fact("HandleplanCreated", "2026-02-01", citizen="a3")  # before the start: a plan exists, yes
    s.course("a4", "k4", "ACT", "2026-03-15")
    s.course("a5", "k5", "ICM", "2026-04-02")  # starts after the period
    s.fact("HandleplanCreated", "2026-04-10", recorded="2026-05-01", citizen="a4")  # 26 days, told late
    await s.apply(kpi_pool)

    # a1, a3, a4 of the four March starts: 3 / 4 = 0.75.
    p2 = await figure(kpi_pool, "P2", "2026-03-01", "2026-03-31")
    assert (p2["numerator"], p2["denominator"], p2["value"]) == (3, 4, 0.75)
    # Known on 30 April, a4's plan was not: 2 / 4 = 0.5.
    p2 = await figure(kpi_pool, "P2", "2026-03-01", "2026-03-31", as_of="2026-04-30")
    assert (p2["numerator"], p2["denominator"], p2["value"]) == (2, 4, 0.5)


async def test_p3_ended_before_planned_end(kpi_pool) -> None:
    s = Scenario()
    # CTI, phase 1 from 1 Oct 2025: planned end 1 Jul 2026; ended 10 June: early (by the municipality).
    s.course("b1", "k1", "CTI", "2025-10-01")
    s.fact("CtiPhaseStarted", "2025-10-01", citizen="b1", course="k1", phase="1")
    s.fact("CourseEnded", "2026-06-10", citizen="b1", course="k1", reason="completed")
    # CTI, phase 1 from 1 Sep 2025: planned end 1 Jun 2026; ended 20 June: not early.
    s.course("b2", "k2", "CTI", "2025-09-01")
    s.fact("CtiPhaseStarted", "2025-09-01", citizen="b2", course="k2", phase="1")
    s.fact("CourseEnded", "2026-06-20", citizen="b2", course="k2", reason="completed")
    s.course("b3", "k3", "ICM", "2026-01-01")
    s.fact("CourseEnded", "2026-06-15", citizen="b3", course="k3", reason="contact_lost")  # by the citizen
    s.course("b4", "k4", "ACT", "2026-01-01")
    s.fact("CourseEnded", "2026-06-20", citizen="b4", course="k4", reason="moved")  # by the municipality
    s.course("b5", "k5", "ICM", "2026-01-01")
    s.fact(
        "CourseEnded", "2026-06-25", recorded="2026-07-15", citizen="b5", course="k5", reason="does_not_want_support"
    )  # by the citizen, told late
    await s.apply(kpi_pool)

    # Ended in June: 5; early: b1, b3, b4, b5 = 4 -> 0.8; by citizen b3, b5 = 2; by municipality b1, b4 = 2.
    p3 = await figure(kpi_pool, "P3", "2026-06-01", "2026-06-30")
    assert (p3["numerator"], p3["denominator"], p3["value"]) == (4, 5, 0.8)
    assert (p3["values"]["by_citizen"], p3["values"]["by_municipality"]) == (2, 2)
    # Known on 1 July: 4 ended, 3 early (0.75), 1 by the citizen.
    p3 = await figure(kpi_pool, "P3", "2026-06-01", "2026-06-30", as_of="2026-07-01")
    assert (p3["numerator"], p3["denominator"], p3["value"], p3["values"]["by_citizen"]) == (3, 4, 0.75, 1)


async def test_p4_face_to_face_contacts_per_citizen_week(kpi_pool) -> None:
    s = Scenario()
    s.course("d1", "k1", "ICM", "2026-04-01")
    s.course("d2", "k2", "ACT", "2026-05-15")
    contact = lambda c, k, day, minutes, kind, **kw: s.fact(  # noqa: E731
        "ContactRecorded", day, citizen=c, course=k, minutes=minutes, kind=kind, **kw
    )
    contact("d1", "k1", "2026-04-20", 60, "face_to_face")  # before the period
    contact("d1", "k1", "2026-05-03", 60, "face_to_face")
    contact("d1", "k1", "2026-05-10", 30, "face_to_face")
    contact("d1", "k1", "2026-05-11", 30, "phone_digital")
    contact("d2", "k2", "2026-05-20", 60, "face_to_face")
    contact("d2", "k2", "2026-05-21", 60, "partners")
    contact("d1", "k1", "2026-05-25", 60, "face_to_face", recorded="2026-06-05")  # told late
    await s.apply(kpi_pool)

    # 1-28 May: d1 active 28 days, d2 15-28 May = 14 days: (28 + 14) / 7 = 6 citizen-weeks.
    # Face to face: 3 on k1 + 1 on k2 = 4 -> 4 / 6 = 0.6667; minutes 60+30+60+60 = 210 of 300 = 0.7.
    p4 = await figure(kpi_pool, "P4", "2026-05-01", "2026-05-28")
    assert p4["value"] == 0.6667 and p4["values"]["citizen_weeks"] == 6
    assert p4["values"]["face_to_face_time_share"] == 0.7
    # Known on 31 May: 3 / 6 = 0.5; 150 of 240 minutes = 0.625.
    p4 = await figure(kpi_pool, "P4", "2026-05-01", "2026-05-28", as_of="2026-05-31")
    assert (p4["value"], p4["values"]["face_to_face_time_share"]) == (0.5, 0.625)


async def test_p5_same_support_worker(kpi_pool) -> None:
    s = Scenario()
    s.course("e1", "k1", "ICM", "2026-01-01", worker="w1")
    s.course("e2", "k2", "ICM", "2026-01-01", worker="w1")
    s.fact("SupportWorkerChanged", "2026-03-01", citizen="e2", course="k2", support_worker="w2")
    s.course("e3", "k3", "ACT", "2026-02-01", worker="w2")
    s.course("e4", "k4", "CTI", "2026-02-01", worker="w3")
    s.fact("SupportWorkerChanged", "2026-07-10", citizen="e4", course="k4", support_worker="w1")  # after 30 June
    s.fact(
        "SupportWorkerChanged", "2026-06-15", recorded="2026-07-05", citizen="e3", course="k3", support_worker="w3"
    )  # told late
    await s.apply(kpi_pool)

    # 30 June: 4 active; kept their worker: e1, e4 -> 2 / 4 = 0.5.
    p5 = await figure(kpi_pool, "P5", "2026-06-30")
    assert (p5["numerator"], p5["denominator"], p5["value"]) == (2, 4, 0.5)
    # Known on 1 July, e3's change was not: e1, e3, e4 -> 3 / 4 = 0.75.
    assert (await figure(kpi_pool, "P5", "2026-06-30", as_of="2026-07-01"))["value"] == 0.75


async def test_p6_assessment_before_start_and_target_group(kpi_pool) -> None:
    s = Scenario()
    s.course("f1", "k1", "ICM", None, decided="2026-04-02", assessment_done=True, fits_target_group=True)
    s.course("f2", "k2", "ICM", None, decided="2026-04-05", assessment_done=False, fits_target_group=True)
    s.course("f3", "k3", "ACT", None, decided="2026-04-09", fits_target_group=False)
    s.course("f5", "k5", "ACT", None, decided="2026-05-02", assessment_done=True)  # after April
    s.citizen("f4", "2026-04-20")
    s.fact(
        "VisitationDecided",
        "2026-04-20",
        recorded="2026-05-10",
        citizen="f4",
        course="k4",
        method="CTI",
        team="team-a",
        assessment_done=True,
        fits_target_group=True,
    )  # told late
    await s.apply(kpi_pool)

    # April: f1..f4; assessed f1, f4 -> 2 / 4 = 0.5; fit f1, f2, f4 -> 3 / 4 = 0.75.
    p6 = await figure(kpi_pool, "P6", "2026-04-01", "2026-04-30")
    assert (p6["numerator"], p6["denominator"], p6["value"]) == (2, 4, 0.5)
    assert p6["values"]["fits_target_group_share"] == 0.75
    # Known on 30 April: f1..f3; assessed 1 / 3 = 0.3333; fit 2 / 3 = 0.6667.
    p6 = await figure(kpi_pool, "P6", "2026-04-01", "2026-04-30", as_of="2026-04-30")
    assert (p6["value"], p6["values"]["fits_target_group_share"]) == (0.3333, 0.6667)


async def test_p7_caseload_against_norm(kpi_pool) -> None:
    s = Scenario()
    for i in range(1, 10):
        s.course(f"g{i}", f"k{i}", "ICM", "2026-01-05", worker="w1")  # 9 ICM courses: over the norm of 8
    s.course("g10", "k10", "CTI", "2026-02-01", worker="w2")
    s.course("g11", "k11", "CTI", "2026-02-01", worker="w2")
    s.course("g12", "k12", "ICM", "2026-02-01", worker="w2")
    s.fact(
        "SupportWorkerChanged", "2026-06-01", recorded="2026-07-05", citizen="g11", course="k11", support_worker="w3"
    )  # told late
    await s.apply(kpi_pool)

    # 30 June: ICM w1 9, w2 1 -> mean 5.0, 1 worker over 8; CTI w2 1, w3 1 -> mean 1.0.
    # Per worker: w1 9, w2 2, w3 1 -> 12 / 3 = 4.0.
    p7 = await figure(kpi_pool, "P7", "2026-06-30")
    assert p7["value"] == 4.0
    assert (p7["values"]["ICM.mean"], p7["values"]["ICM.workers_over_norm"], p7["values"]["CTI.mean"]) == (5.0, 1, 1.0)
    # Known on 1 July: CTI w2 2 -> mean 2.0; per worker w1 9, w2 3 -> 6.0.
    p7 = await figure(kpi_pool, "P7", "2026-06-30", as_of="2026-07-01")
    assert (p7["value"], p7["values"]["CTI.mean"]) == (6.0, 2.0)
