"""Economy KPIs E1-E4 and structure KPIs S1-S3 on small fixed scenarios; each has a backdated fact
and an `as_of` query."""

import pytest

from services.projections.kpis import Params
from tests.kpi_scenario import Scenario, figure, kpi_pool  # noqa: F401 - fixture

pytestmark = pytest.mark.integration


def contact(s: Scenario, citizen: str, course: str, day: str, minutes: int, **kw) -> None:
    s.fact("ContactRecorded", day, citizen=citizen, course=course, minutes=minutes, kind="face_to_face", **kw)


async def test_e1_hours_per_cti_phase_and_month(kpi_pool) -> None:
    s = Scenario()
    s.course("u1", "k1", "CTI", "2026-03-01")
    s.fact("CtiPhaseStarted", "2026-03-01", citizen="u1", course="k1", phase="1")
    s.fact("CtiPhaseStarted", "2026-05-15", citizen="u1", course="k1", phase="2")
    contact(s, "u1", "k1", "2026-04-20", 60)  # before May
    contact(s, "u1", "k1", "2026-05-05", 60)
    contact(s, "u1", "k1", "2026-05-10", 120)  # phase 1: 3 h
    contact(s, "u1", "k1", "2026-05-20", 90)  # phase 2: 1.5 h
    s.course("u2", "k2", "CTI", "2026-04-01")
    s.fact("CtiPhaseStarted", "2026-04-01", citizen="u2", course="k2", phase="1")
    contact(s, "u2", "k2", "2026-05-03", 60)
    s.course("u3", "k3", "ICM", "2026-04-01")
    contact(s, "u3", "k3", "2026-05-02", 30)
    contact(s, "u3", "k3", "2026-05-12", 90)  # May: 2 h
    s.course("u4", "k4", "ICM", "2026-04-01")
    contact(s, "u4", "k4", "2026-05-20", 60)  # May: 1 h
    contact(s, "u2", "k2", "2026-05-25", 60, recorded="2026-06-10")  # phase 1: 2 h, told late
    await s.apply(kpi_pool)

    # Units: u1 ph1 3, u1 ph2 1.5, u2 ph1 2, u3 May 2, u4 May 1. CTI ph1 (3 + 2) / 2 = 2.5;
    # ICM month (2 + 1) / 2 = 1.5; all 9.5 / 5 = 1.9.
    e1 = await figure(kpi_pool, "E1", "2026-05-01", "2026-05-31")
    v = e1["values"]
    assert (v["CTI.phase_1.mean"], v["CTI.phase_1.median"], v["CTI.phase_2.mean"], v["ICM.month.mean"]) == (
        2.5,
        2.5,
        1.5,
        1.5,
    )
    assert e1["value"] == 1.9
    # Known on 1 June: u2 ph1 1 h: CTI ph1 (3 + 1) / 2 = 2.0; all 8.5 / 5 = 1.7.
    e1 = await figure(kpi_pool, "E1", "2026-05-01", "2026-05-31", as_of="2026-06-01")
    assert (e1["values"]["CTI.phase_1.mean"], e1["value"]) == (2.0, 1.7)


async def test_e2_share_of_expected_hours_used(kpi_pool) -> None:
    s = Scenario()
    s.course("v1", "k1", "ICM", "2026-04-01")
    for month in ("2026-04-01", "2026-05-01", "2026-06-01"):
        s.fact("TimePlanned", "2026-04-01", citizen="v1", course="k1", month=month, expected_hours=10)
    contact(s, "v1", "k1", "2026-04-05", 240)
    contact(s, "v1", "k1", "2026-04-15", 240)  # April 8 h
    contact(s, "v1", "k1", "2026-05-05", 180)
    contact(s, "v1", "k1", "2026-05-15", 180)  # May 6 h
    s.course("v2", "k2", "CTI", "2026-04-01")
    s.fact("CtiPhaseStarted", "2026-04-01", citizen="v2", course="k2", phase="1")
    s.fact("TimePlanned", "2026-04-01", citizen="v2", course="k2", cti_phase="1", expected_hours=20)
    s.fact("TimePlanned", "2026-04-01", citizen="v2", course="k2", cti_phase="2", expected_hours=15)  # not begun
    contact(s, "v2", "k2", "2026-04-10", 600)
    contact(s, "v2", "k2", "2026-05-10", 300)
    contact(s, "v2", "k2", "2026-05-20", 300, recorded="2026-06-05")  # told late
    await s.apply(kpi_pool)

    # By 31 May: v1 April + May expected 20, actual 8 + 6 = 14 -> 0.7 (June not begun);
    # v2 phase 1 expected 20, actual 10 + 5 + 5 = 20 -> 1.0 (phase 2 not begun). All 34 / 40 = 0.85.
    e2 = await figure(kpi_pool, "E2", "2026-05-01", "2026-05-31")
    assert (e2["numerator"], e2["denominator"], e2["value"]) == (34, 40, 0.85)
    assert e2["values"] == {"k1": 0.7, "k2": 1.0}
    # Known on 1 June: v2 15 / 20 = 0.75; all 29 / 40 = 0.725.
    e2 = await figure(kpi_pool, "E2", "2026-05-01", "2026-05-31", as_of="2026-06-01")
    assert (e2["value"], e2["values"]["k2"]) == (0.725, 0.75)


async def test_e3_shelter_stays(kpi_pool) -> None:
    s = Scenario()
    stay = lambda c, start, end=None, contact_on=None, recorded_end=None: (  # noqa: E731
        s.citizen(c, start),
        s.fact("ShelterStayStarted", start, citizen=c, shelter="herberg-1"),
        contact_on and s.fact("ShelterContactMade", contact_on, citizen=c),
        end and s.fact("ShelterStayEnded", end, recorded=recorded_end, citizen=c, discharge="planned"),
    )
    stay("x1", "2026-01-01", "2026-03-11", "2026-01-04")  # 69 days; contact after 3; March nights 1-10 = 10
    stay("x2", "2026-03-10", None, "2026-03-17")  # open: 21 days to 31 March; contact after 7; nights 10-31 = 22
    stay("x3", "2025-10-01", "2026-02-15")  # ended before March: not counted
    stay("x4", "2025-11-01", "2026-03-20", recorded_end="2026-04-10")  # 139 days; March nights 1-19 = 19; told late
    await s.apply(kpi_pool)

    # Lengths 69, 21, 139: mean 229 / 3 = 76.3333, median 69, one >= 120; contact (3 + 7) / 2 = 5.0;
    # bed-days 10 + 22 + 19 = 51 at 1057 DKK = 53907.0.
    e3 = await figure(kpi_pool, "E3", "2026-03-01", "2026-03-31")
    v = e3["values"]
    assert (e3["value"], v["median_length_days"], v["stays_120_days_or_more"], v["mean_days_to_contact"]) == (
        76.3333,
        69,
        1,
        5.0,
    )
    assert (v["citizens_with_stay"], v["bed_days"], v["bed_days_cost_dkk"]) == (3, 51, 53907.0)
    # Known on 1 April, x4 was still there: 150 days (30+31+31+28+30); mean 240 / 3 = 80.0; 31 March nights -> 63.
    e3 = await figure(kpi_pool, "E3", "2026-03-01", "2026-03-31", as_of="2026-04-01")
    assert (e3["value"], e3["values"]["bed_days"], e3["values"]["bed_days_cost_dkk"]) == (80.0, 63, 63 * 1057.0)


async def test_e4_investment_view(kpi_pool) -> None:
    s = Scenario()
    s.citizen("y1", "2024-12-01")
    s.fact("ShelterStayStarted", "2024-12-01", citizen="y1", shelter="herberg-1")
    s.fact("ShelterStayEnded", "2026-01-01", citizen="y1", discharge="planned", destination="almen")
    s.course("y1", "k1", "ICM", "2026-01-01")
    contact(s, "y1", "k1", "2026-05-10", 600)  # 10 h
    s.course("y2", "k2", "ACT", "2026-05-16")
    s.fact("EvictionPrevented", "2026-05-20", citizen="y2")
    contact(s, "y2", "k2", "2026-05-20", 120)  # 2 h
    contact(s, "y2", "k2", "2026-05-25", 180, recorded="2026-06-05")  # 3 h, told late
    await s.apply(kpi_pool)
    prices = Params(
        shelter_day_rate_dkk=1000,
        hourly_rate_dkk=300,
        eviction_cost_dkk=100_000,
        success_rate=0.5,
        success_rate_low=0.1,
    )

    # y1: 365 nights in the year before the start, scaled to May's 31 active days: 31 avoided.
    # Cost (10 + 2 + 3) h x 300 = 4500; gain 31 x 1000 + 1 x 100000 = 131000;
    # net 131000 x 0.5 - 4500 = 61000; at 10%: 13100 - 4500 = 8600.
    e4 = await figure(kpi_pool, "E4", "2026-05-01", "2026-05-31", params=prices)
    assert (e4["values"]["avoided_bed_days"], e4["values"]["cost_dkk"], e4["values"]["gross_gain_dkk"]) == (
        31,
        4500,
        131000,
    )
    assert (e4["value"], e4["values"]["net_low_dkk"]) == (61000, 8600)
    # Known on 1 June: 12 h -> cost 3600; net 65500 - 3600 = 61900.
    assert (await figure(kpi_pool, "E4", "2026-05-01", "2026-05-31", as_of="2026-06-01", params=prices))[
        "value"
    ] == 61900


def stock(s: Scenario, start: str, end: str, **fields) -> None:
    s.fact("HousingStockReported", end, period_start=start, **fields)


async def test_s1_vacant_cheap_homes(kpi_pool) -> None:
    s = Scenario()
    homes = lambda *rows: [{"max_rent_dkk": r, "rooms": n, "count": c} for r, n, c in rows]  # noqa: E731
    stock(s, "2026-01-01", "2026-01-31", vacant_cheap_homes=homes((4000, 1, 3), (5000, 2, 2)))
    stock(s, "2026-02-01", "2026-02-28", vacant_cheap_homes=homes((4000, 1, 5), (5000, 2, 1)))
    s.fact(
        "HousingStockReported",
        "2026-03-31",
        recorded="2026-04-15",
        period_start="2026-03-01",
        vacant_cheap_homes=homes((4000, 1, 2), (5000, 2, 4), (6000, 3, 1)),
    )  # told late
    await s.apply(kpi_pool)

    # Q1's latest report is March's: 2 + 4 + 1 = 7.
    s1 = await figure(kpi_pool, "S1", "2026-01-01", "2026-03-31")
    assert s1["value"] == 7 and s1["values"] == {
        "rent_le_4000.rooms_1": 2,
        "rent_le_5000.rooms_2": 4,
        "rent_le_6000.rooms_3": 1,
    }
    # Known on 1 April, February's was the latest: 5 + 1 = 6.
    s1 = await figure(kpi_pool, "S1", "2026-01-01", "2026-03-31", as_of="2026-04-01")
    assert (s1["value"], s1["values"]["rent_le_4000.rooms_1"]) == (6, 5)


async def test_s2_waiting_time_for_housing(kpi_pool) -> None:
    s = Scenario()
    s.citizen("z1", "2026-01-05")
    s.fact("HousingSituationRecorded", "2026-01-05", citizen="z1", housing="street")
    s.course("z1", "k1", "ICM", None, decided="2026-02-01")
    s.fact("HousingGained", "2026-04-12", citizen="z1", housing="almen")  # 28 + 31 + 11 = 70 days
    s.citizen("z2", "2026-01-10")
    s.fact("ShelterStayStarted", "2026-01-10", citizen="z2", shelter="herberg-1")
    s.course("z2", "k2", "CTI", None, decided="2026-03-01")
    s.fact("HousingGained", "2026-05-01", citizen="z2", housing="skaev")  # 31 + 30 = 61 days
    s.citizen("z3", "2026-01-01")
    s.fact("HousingSituationRecorded", "2026-01-01", citizen="z3", housing="almen")  # housed: not waiting
    s.course("z3", "k3", "ICM", None, decided="2026-03-01")
    s.citizen("z4", "2026-01-01")
    s.fact("HousingSituationRecorded", "2026-01-01", citizen="z4", housing="sofa")
    s.course("z4", "k4", "ACT", None, decided="2026-03-15")
    s.fact(
        "HousingGained", "2026-06-14", recorded="2026-07-10", citizen="z4", housing="almen"
    )  # 31+30+30 = 91, told late
    stock(s, "2026-04-01", "2026-06-30", mean_wait_days_cheap=120, mean_wait_days_emergency=30)
    await s.apply(kpi_pool)

    # Housed in Q2: 70, 61, 91 days -> mean 222 / 3 = 74.0, median 70.
    s2 = await figure(kpi_pool, "S2", "2026-04-01", "2026-06-30")
    assert (s2["value"], s2["values"]["median_days"], s2["values"]["reported_mean_days_cheap"]) == (74.0, 70, 120)
    # Known on 1 July: 70, 61 -> 65.5.
    assert (await figure(kpi_pool, "S2", "2026-04-01", "2026-06-30", as_of="2026-07-01"))["value"] == 65.5


async def test_s3_homes_via_allocation_right(kpi_pool) -> None:
    s = Scenario()
    for citizen, day, accepted, recorded in (
        ("aa1", "2026-02-01", True, None),
        ("aa2", "2026-03-01", False, None),
        ("aa3", "2026-04-01", True, None),
        ("aa4", "2026-06-10", True, "2026-07-05"),
    ):
        s.citizen(citizen, day, recorded=recorded)
        s.fact("HomeOfferedViaAllocationRight", day, recorded=recorded, citizen=citizen, accepted=accepted)
    stock(s, "2026-01-01", "2026-03-31", allocation_right_homes_vacant=4, allocation_right_vacancy_paid_dkk=12000.5)
    stock(s, "2026-04-01", "2026-06-30", allocation_right_homes_vacant=3, allocation_right_vacancy_paid_dkk=8000)
    await s.apply(kpi_pool)

    # First half of 2026: accepted aa1, aa3, aa4 = 3 of 4 offers; 3 vacant at the end; 12000.5 + 8000 paid.
    s3 = await figure(kpi_pool, "S3", "2026-01-01", "2026-06-30")
    v = s3["values"]
    assert (
        s3["value"],
        v["offered"],
        v["accepted_share"],
        v["vacant_allocation_right_homes"],
        v["vacancy_rent_paid_dkk"],
    ) == (3, 4, 0.75, 3, 20000.5)
    s3 = await figure(kpi_pool, "S3", "2026-01-01", "2026-06-30", as_of="2026-07-01")
    assert (s3["value"], s3["values"]["accepted_share"]) == (2, 0.6667)
