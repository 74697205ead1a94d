"""Outcome KPIs O1-O11 (O12-O15: tests/test_kpis_flow.py) on small fixed scenarios; each has a backdated fact and an `as_of` query."""

import pytest

from tests.kpi_scenario import Scenario, figure, kpi_pool  # noqa: F401 - fixture

pytestmark = pytest.mark.integration


def housing(s: Scenario, citizen: str, day: str, code: str, **kw) -> None:
    s.citizen(citizen, day)
    s.fact("HousingSituationRecorded", day, citizen=citizen, housing=code, **kw)


def gained(s: Scenario, citizen: str, day: str, code: str = "almen", **kw) -> None:
    s.fact("HousingGained", day, citizen=citizen, housing=code, **kw)


async def test_o1_housing_situation_at_start_now_and_end(kpi_pool) -> None:
    s = Scenario()
    housing(s, "h1", "2026-01-05", "street")
    s.course("h1", "k1", "ICM", "2026-03-05")
    gained(s, "h1", "2026-03-20")
    s.course("h2", "k2", "ACT", "2026-01-10")
    s.fact("HousingSituationRecorded", "2026-01-10", citizen="h2", housing="sel107")
    s.citizen("h3", "2026-01-20")
    s.fact("ShelterStayStarted", "2026-01-20", citizen="h3", shelter="herberg-1")
    s.course("h3", "k3", "CTI", "2026-02-01")
    s.fact("CourseEnded", "2026-03-15", citizen="h3", course="k3", reason="contact_lost")
    s.course("h4", "k4", "ICM", "2026-03-10")
    gained(s, "h4", "2026-03-25", "private_rental", recorded="2026-04-05")  # told late
    await s.apply(kpi_pool)

    # Started in March: h1 homeless (street), h4 unknown. Active 31 March: h1 own home, h2 §107
    # (supported), h4 own home -> 2 / 3 = 0.6667 in own home. Ended: h3 in the shelter (homeless).
    o1 = await figure(kpi_pool, "O1", "2026-03-01", "2026-03-31")
    v = o1["values"]
    assert (v["start.homeless"], v["start.unknown"], v["now.own_home"], v["now.supported"], v["end.homeless"]) == (
        1,
        1,
        2,
        1,
        1,
    )
    assert o1["value"] == 0.6667
    # Known on 1 April, h4's home was not: 1 / 3 in own home, 1 unknown.
    o1 = await figure(kpi_pool, "O1", "2026-03-01", "2026-03-31", as_of="2026-04-01")
    assert (o1["value"], o1["values"]["now.unknown"]) == (0.3333, 1)


async def test_o2_housing_retention_per_ended_course(kpi_pool) -> None:
    s = Scenario()
    for citizen, code in (("i1", "almen"), ("i2", "street"), ("i3", "almen"), ("i4", "almen"), ("i5", "street")):
        housing(s, citizen, "2025-12-01", code)
        s.course(citizen, f"k-{citizen}", "ICM", "2026-01-01")
    gained(s, "i2", "2026-03-01")
    s.fact("HousingLost", "2026-03-01", citizen="i3", reason="eviction")
    gained(s, "i3", "2026-05-01", "skaev")
    s.fact("HousingLost", "2026-04-01", citizen="i4", reason="left")
    for citizen, day in (
        ("i1", "2026-06-10"),
        ("i2", "2026-06-10"),
        ("i3", "2026-06-12"),
        ("i4", "2026-06-15"),
        ("i5", "2026-06-20"),
    ):
        s.fact("CourseEnded", day, citizen=citizen, course=f"k-{citizen}", reason="completed")
    gained(s, "i5", "2026-05-15", "owner", recorded="2026-07-10")  # told late
    await s.apply(kpi_pool)

    # i1 stably housed, i2 and i5 gained, i3 lost and regained, i4 lost: housed at end 4 / 5 = 0.8.
    o2 = await figure(kpi_pool, "O2", "2026-06-01", "2026-06-30")
    assert o2["values"] == {
        "stably_housed": 1,
        "gained_housing": 2,
        "lost_and_regained": 1,
        "lost_not_regained": 1,
        "never_housed": 0,
    }
    assert (o2["numerator"], o2["denominator"], o2["value"]) == (4, 5, 0.8)
    # Known on 1 July, i5 was never housed: 3 / 5 = 0.6.
    o2 = await figure(kpi_pool, "O2", "2026-06-01", "2026-06-30", as_of="2026-07-01")
    assert (o2["values"]["never_housed"], o2["value"]) == (1, 0.6)


async def test_o3_own_housing_after_the_course(kpi_pool) -> None:
    s = Scenario()
    answers = [
        ("j1", 6, "yes", "2026-02-01", None),
        ("j2", 6, "no", "2026-02-10", None),
        ("j3", 9, "yes", "2026-03-01", None),
        ("j4", 12, "unknown", "2026-03-05", None),
        ("j5", 12, "yes", "2026-04-01", None),
        ("j6", 6, "yes", "2026-06-20", "2026-07-02"),
    ]
    for citizen, months, answer, day, recorded in answers:
        s.course(citizen, f"k-{citizen}", "CTI", "2024-06-01")
        s.fact("CourseEnded", "2025-03-01", citizen=citizen, course=f"k-{citizen}", reason="completed")
        s.fact(
            "FollowUpRecorded",
            day,
            recorded=recorded,
            citizen=citizen,
            course=f"k-{citizen}",
            months_after_end=months,
            keeps_own_housing=answer,
        )
    await s.apply(kpi_pool)

    # Followed up (unknown left out): j1, j2, j3, j5, j6 = 5; yes 4 -> 0.8. 6 months: 2 of 3.
    o3 = await figure(kpi_pool, "O3", "2026-01-01", "2026-06-30")
    assert (o3["numerator"], o3["denominator"], o3["value"]) == (4, 5, 0.8)
    assert o3["values"] == {"6_months": 0.6667, "9_months": 1.0, "12_months": 1.0}
    # Known on 1 July (no j6): 3 / 4 = 0.75; 6 months 1 of 2.
    o3 = await figure(kpi_pool, "O3", "2026-01-01", "2026-06-30", as_of="2026-07-01")
    assert (o3["value"], o3["values"]["6_months"]) == (0.75, 0.5)


async def test_o4_shelter_bed_days(kpi_pool) -> None:
    s = Scenario()
    s.citizen("l1", "2026-02-20")
    s.fact("ShelterStayStarted", "2026-02-20", citizen="l1", shelter="herberg-1")
    s.course("l1", "k1", "ICM", "2026-03-05")
    s.fact("ShelterStayEnded", "2026-03-10", citizen="l1", discharge="planned", destination="almen")
    s.citizen("l2", "2026-03-25")
    s.fact("ShelterStayStarted", "2026-03-25", citizen="l2", shelter="herberg-1")  # still there
    s.citizen("l3", "2026-03-01", recorded="2026-04-10")
    s.fact("ShelterStayStarted", "2026-03-01", recorded="2026-04-10", citizen="l3", shelter="herberg-2")
    s.fact("ShelterStayEnded", "2026-03-04", recorded="2026-04-10", citizen="l3", discharge="unplanned")
    await s.apply(kpi_pool)

    # March: l1 nights 1-9 = 9 (5-9 in the course = 5); l2 nights 25-31 = 7; l3 nights 1-3 = 3.
    o4 = await figure(kpi_pool, "O4", "2026-03-01", "2026-03-31")
    assert (o4["value"], o4["values"]["in_active_course"]) == (9 + 7 + 3, 5)
    # Known on 1 April: 9 + 7 = 16.
    assert (await figure(kpi_pool, "O4", "2026-03-01", "2026-03-31", as_of="2026-04-01"))["value"] == 16


async def test_o5_employment_or_education_and_income(kpi_pool) -> None:
    s = Scenario()
    for citizen in ("m1", "m2", "m3", "m4", "m5"):
        s.citizen(citizen, "2026-01-01")
    status = lambda c, day, st, **kw: s.fact("EmploymentStatusRecorded", day, citizen=c, status=st, **kw)  # noqa: E731
    status("m1", "2026-02-01", "employed")
    status("m1", "2026-05-01", "unemployed")
    status("m2", "2026-03-01", "education")
    status("m3", "2026-03-01", "unknown")
    status("m4", "2026-01-01", "outside_labour_market")
    s.fact("IncomeTypeRecorded", "2026-02-01", citizen="m1", income_type="kontanthjaelp")
    s.fact("IncomeTypeRecorded", "2026-03-01", citizen="m2", income_type="su")
    s.fact("IncomeTypeRecorded", "2026-03-01", citizen="m4", income_type="wage")
    status("m4", "2026-06-01", "employed", recorded="2026-07-03")  # told late
    await s.apply(kpi_pool)

    # Known status on 30 June: m1 unemployed, m2 education, m4 employed -> 2 / 3 = 0.6667.
    o5 = await figure(kpi_pool, "O5", "2026-06-30")
    assert (o5["numerator"], o5["denominator"], o5["value"]) == (2, 3, 0.6667)
    assert (o5["values"]["income.kontanthjaelp"], o5["values"]["income.su"], o5["values"]["income.wage"]) == (1, 1, 1)
    # Known on 1 July, m4 was outside the labour market: 1 / 3.
    assert (await figure(kpi_pool, "O5", "2026-06-30", as_of="2026-07-01"))["value"] == 0.3333


async def test_o6_poor_wellbeing_and_improvement(kpi_pool) -> None:
    s = Scenario()
    who5 = lambda c, day, answers, **kw: s.fact(
        "MeasurementRecorded",
        day,
        citizen=c,
        course=f"k-{c}",  # noqa: E731
        instrument="WHO5",
        answers=answers,
        **kw,
    )
    for citizen in ("n1", "n2", "n3"):
        s.course(citizen, f"k-{citizen}", "ICM", "2026-01-01")
        s.fact("ConsentGiven", "2026-01-01", citizen=citizen, scope="outcome_measurements")
    who5("n1", "2026-01-10", [2, 2, 2, 2, 2])  # index 40
    who5("n1", "2026-05-10", [3, 3, 3, 3, 3])  # index 60: +20
    who5("n2", "2026-02-01", [1, 1, 1, 1, 1])  # index 20
    who5("n3", "2026-01-15", [3, 3, 2, 2, 2])  # index 48
    who5("n3", "2026-04-01", [3, 3, 3, 2, 2])  # index 52: +4
    who5("n3", "2026-06-15", [2, 2, 2, 2, 2], recorded="2026-07-05")  # index 40, told late
    await s.apply(kpi_pool)

    # Latest on 30 June: n1 60, n2 20, n3 40 -> poor (<= 50) 2 / 3; improved >= 10: n1 of n1, n3 = 0.5.
    o6 = await figure(kpi_pool, "O6", "2026-06-30")
    assert (o6["numerator"], o6["denominator"], o6["value"], o6["values"]["improved_share"]) == (2, 3, 0.6667, 0.5)
    # Known on 1 July, n3's latest was 52: poor 1 / 3.
    assert (await figure(kpi_pool, "O6", "2026-06-30", as_of="2026-07-01"))["value"] == 0.3333


async def test_o7_lonely_and_feeling_heard(kpi_pool) -> None:
    s = Scenario()
    measure = lambda c, day, instrument, answers, **kw: s.fact(  # noqa: E731
        "MeasurementRecorded", day, citizen=c, course=f"k-{c}", instrument=instrument, answers=answers, **kw
    )
    for citizen in ("o1", "o2", "o3"):
        s.course(citizen, f"k-{citizen}", "ACT", "2026-01-01")
        s.fact("ConsentGiven", "2026-01-01", citizen=citizen, scope="outcome_measurements")
    measure("o1", "2026-03-01", "UCLA3", [3, 3, 2])  # 8: lonely
    measure("o1", "2026-03-01", "SRS", [9, 9, 9, 9])  # 36: heard
    measure("o2", "2026-03-01", "UCLA3", [1, 2, 1])  # 4
    measure("o2", "2026-03-01", "SRS", [8, 8, 8, 8])  # 32: alliance concern
    measure("o3", "2026-03-01", "UCLA3", [2, 2, 2])  # 6
    measure("o3", "2026-06-10", "UCLA3", [3, 2, 2], recorded="2026-07-02")  # 7: lonely, told late
    await s.apply(kpi_pool)

    # Lonely (>= 7): o1, o3 of 3 = 0.6667; heard (SRS >= 36): o1 of o1, o2 = 0.5.
    o7 = await figure(kpi_pool, "O7", "2026-06-30")
    assert (o7["value"], o7["values"]["heard_share"]) == (0.6667, 0.5)
    assert (await figure(kpi_pool, "O7", "2026-06-30", as_of="2026-07-01"))["value"] == 0.3333
    # A municipality's own threshold of 8: only o1.
    from services.projections.kpis import Params

    assert (await figure(kpi_pool, "O7", "2026-06-30", params=Params(ucla3_lonely_at=8)))["value"] == 0.3333


async def test_o8_likert_dimensions(kpi_pool) -> None:
    s = Scenario()
    likert = lambda c, day, answers, **kw: s.fact(
        "MeasurementRecorded",
        day,
        citizen=c,
        course=f"k-{c}",  # noqa: E731
        instrument="LIKERT",
        answers=answers,
        **kw,
    )
    dims = ("bokompetence", "oekonomi", "stabil_livsstil", "mentale_vanskeligheder", "rusmiddelforbrug")
    for citizen in ("q1", "q2"):
        s.course(citizen, f"k-{citizen}", "ICM", "2026-01-01")
        s.fact("ConsentGiven", "2026-01-01", citizen=citizen, scope="outcome_measurements")
    likert("q1", "2026-01-10", dict(zip(dims, (2, 2, 2, 4, 4))))  # turned: 2 2 2 2 2
    likert("q1", "2026-05-10", dict(zip(dims, (4, 3, 3, 2, 3))))  # turned: 4 3 3 4 3 (sum 17)
    likert("q2", "2026-02-01", dict(zip(dims, (3, 3, 3, 3, 3))))  # 3 3 3 3 3 (sum 15)
    likert("q2", "2026-06-20", dict(zip(dims, (5, 5, 5, 1, 1))), recorded="2026-07-03")  # 5 5 5 5 5, told late
    await s.apply(kpi_pool)

    # bokompetence latest (4 + 5) / 2 = 4.5, change ((4-2) + (5-3)) / 2 = 2.0; all latest (17 + 25) / 10 = 4.2.
    o8 = await figure(kpi_pool, "O8", "2026-06-30")
    assert (o8["values"]["bokompetence.latest"], o8["values"]["bokompetence.change"], o8["value"]) == (4.5, 2.0, 4.2)
    assert o8["values"]["mentale_vanskeligheder.latest"] == 4.5  # (4 + 5) / 2, reverse-scored
    # Known on 1 July: bokompetence (4 + 3) / 2 = 3.5, change (2 + 0) / 2 = 1.0; all (17 + 15) / 10 = 3.2.
    o8 = await figure(kpi_pool, "O8", "2026-06-30", as_of="2026-07-01")
    assert (o8["values"]["bokompetence.latest"], o8["values"]["bokompetence.change"], o8["value"]) == (3.5, 1.0, 3.2)


async def test_outcome_measurements_count_only_while_consent_stands(kpi_pool) -> None:
    s = Scenario()
    for citizen in ("r1", "r2", "r3", "r4"):
        s.course(citizen, f"k-{citizen}", "ICM", "2026-01-01")
        s.fact(
            "MeasurementRecorded",
            "2026-02-01",
            citizen=citizen,
            course=f"k-{citizen}",
            instrument="WHO5",
            answers=[1, 1, 1, 1, 1],
        )
    s.fact("ConsentGiven", "2026-01-01", citizen="r1", scope="outcome_measurements")
    s.fact("ConsentGiven", "2026-01-01", citizen="r2", scope="outcome_measurements")
    s.fact("ConsentWithdrawn", "2026-05-01", citizen="r2", scope="outcome_measurements")
    s.fact("ConsentGiven", "2026-01-01", citizen="r3", scope="register_research")  # another scope
    await s.apply(kpi_pool)
    # r4 never consented, r3 not to this; r2 withdrew on 1 May.
    assert (await figure(kpi_pool, "O6", "2026-04-30"))["denominator"] == 2
    assert (await figure(kpi_pool, "O6", "2026-06-30"))["denominator"] == 1
    assert (await figure(kpi_pool, "O7", "2026-06-30"))["denominator"] == 0


async def test_o9_evictions_prevented(kpi_pool) -> None:
    s = Scenario()
    for citizen in ("r1", "r2", "r3", "r4"):
        s.citizen(citizen, "2026-01-01")
    s.fact("EvictionRiskRegistered", "2026-05-02", citizen="r1", kind="second_rent_reminder")
    s.fact("EvictionPrevented", "2026-05-20", citizen="r1")
    s.fact("EvictionRiskRegistered", "2026-05-05", citizen="r2", kind="bailiff_case")
    s.fact("EvictionCarriedOut", "2026-05-25", citizen="r2")
    s.fact("EvictionRiskRegistered", "2026-04-20", citizen="r3", kind="bailiff_case")
    s.fact("EvictionPrevented", "2026-05-03", citizen="r3")
    s.fact("EvictionRiskRegistered", "2026-05-10", citizen="r4", kind="other")
    s.fact("EvictionPrevented", "2026-05-28", recorded="2026-06-10", citizen="r4")  # told late
    await s.apply(kpi_pool)

    # Prevented in May: r1, r3, r4 = 3. Risks in May: r1, r2, r4; prevented r1, r4 -> 2 / 3.
    o9 = await figure(kpi_pool, "O9", "2026-05-01", "2026-05-31")
    assert (o9["value"], o9["values"]["prevented_share"]) == (3, 0.6667)
    o9 = await figure(kpi_pool, "O9", "2026-05-01", "2026-05-31", as_of="2026-06-01")
    assert (o9["value"], o9["values"]["prevented_share"]) == (2, 0.3333)


async def test_o10_citizens_in_substance_abuse_treatment(kpi_pool) -> None:
    s = Scenario()
    for citizen in ("s1", "s2", "s3", "s4"):
        s.citizen(citizen, "2026-01-01")
    s.fact("SubstanceTreatmentStarted", "2026-01-01", citizen="s1")
    s.fact("SubstanceTreatmentStarted", "2026-01-01", citizen="s2")
    s.fact("SubstanceTreatmentEnded", "2026-03-01", citizen="s2")
    s.fact("SubstanceTreatmentStarted", "2026-02-01", citizen="s3")
    s.fact("SubstanceTreatmentEnded", "2026-04-01", citizen="s3")
    s.fact("SubstanceTreatmentStarted", "2026-05-01", citizen="s3")
    s.fact("SubstanceTreatmentStarted", "2026-06-15", recorded="2026-07-05", citizen="s4")  # told late
    await s.apply(kpi_pool)

    # 30 June: s1, s3 (started again), s4 = 3; known on 1 July: 2.
    assert (await figure(kpi_pool, "O10", "2026-06-30"))["value"] == 3
    assert (await figure(kpi_pool, "O10", "2026-06-30", as_of="2026-07-01"))["value"] == 2
    assert (await figure(kpi_pool, "O10", "2026-03-15"))["value"] == 2  # s1 and s3


async def test_o11_homelessness_flow(kpi_pool) -> None:
    s = Scenario()
    housing(s, "t1", "2026-02-01", "street")
    s.fact("HousingSituationRecorded", "2026-04-15", citizen="t1", housing="street")  # active throughout
    housing(s, "t2", "2026-05-10", "street")  # new in May
    housing(s, "t3", "2026-01-10", "almen")
    s.fact("HousingLost", "2026-05-05", citizen="t3", reason="eviction")
    s.fact("HousingSituationRecorded", "2026-05-06", citizen="t3", housing="sofa")  # back from housing
    housing(s, "t4", "2025-12-01", "street")  # inactive by 30 April (last seen > 90 days before)
    s.fact("HousingSituationRecorded", "2026-05-20", citizen="t4", housing="street")  # back from inactive
    housing(s, "t5", "2026-02-10", "street")  # last seen 10 Feb: inactive by 31 May
    housing(s, "t6", "2026-04-01", "street")
    gained(s, "t6", "2026-05-15")  # out to housing
    s.citizen("t7", "2026-05-12", recorded="2026-06-05")
    s.fact("HousingSituationRecorded", "2026-05-12", recorded="2026-06-05", citizen="t7", housing="street")  # told late
    await s.apply(kpi_pool)

    # Active homeless 31 May: t1, t2, t3, t4, t7 = 5. In: new t2, t7; from housing t3; from inactive t4.
    # Out: t6 to housing, t5 to inactive.
    o11 = await figure(kpi_pool, "O11", "2026-05-01", "2026-05-31")
    assert o11["value"] == 5
    assert o11["values"] == {
        "active": 5,
        "inflow.new": 2,
        "inflow.from_housing": 1,
        "inflow.from_inactive": 1,
        "outflow.to_housing": 1,
        "outflow.to_inactive": 1,
    }
    o11 = await figure(kpi_pool, "O11", "2026-05-01", "2026-05-31", as_of="2026-06-01")
    assert (o11["value"], o11["values"]["inflow.new"]) == (4, 1)
