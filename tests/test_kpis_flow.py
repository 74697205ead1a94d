"""Flow measures O12-O15 and the breakdowns by age band, gender and target group on small fixed
scenarios; each has a backdated fact and an `as_of` query, and a breakdown cell of 4 citizens is
hidden (docs/domain.md §7)."""

import pytest

from contracts.methods import age_band
from tests.kpi_scenario import Scenario, client, figure, kpi_pool  # noqa: F401 - fixture

pytestmark = pytest.mark.integration


def housing(s: Scenario, citizen: str, day: str, code: str, **kw) -> None:
    s.citizen(citizen, day)
    s.fact("HousingSituationRecorded", day, citizen=citizen, housing=code, **kw)


def gained(s: Scenario, citizen: str, day: str, code: str = "almen", **kw) -> None:
    s.fact("HousingGained", day, citizen=citizen, housing=code, **kw)


def test_age_band_is_the_age_reached_in_the_year() -> None:
    # 2026 - 2008 = 18 and 2026 - 2002 = 24: both young; 2026 - 2001 = 25; 2026 - 1961 = 65.
    assert [age_band(y, 2026) for y in (2009, 2008, 2002, 2001, 1997, 1996, 1987, 1977, 1962, 1961, None)] == [
        None,
        "18-24",
        "18-24",
        "25-29",
        "25-29",
        "30-39",
        "30-39",
        "40-49",
        "50-64",
        "65+",
        None,
    ]


async def test_o12_length_of_time_homeless(kpi_pool) -> None:
    s = Scenario()
    housing(s, "a1", "2026-01-01", "street")
    gained(s, "a1", "2026-03-02")
    housing(s, "a2", "2025-12-01", "almen")  # housed before: no spell until the shelter
    s.fact("ShelterStayStarted", "2026-02-01", citizen="a2", shelter="herberg-1")
    gained(s, "a2", "2026-03-03")
    housing(s, "a3", "2025-12-01", "street")
    s.fact("HousingSituationRecorded", "2026-01-15", citizen="a3", housing="sofa")  # the same spell
    gained(s, "a3", "2026-03-31", "private_rental", recorded="2026-04-10")  # told late
    housing(s, "a4", "2025-06-01", "street")
    gained(s, "a4", "2025-09-01")  # housed before the period
    await s.apply(kpi_pool)

    # a1: 1 Jan -> 2 Mar = 31 + 28 + 1 = 60 days; a2: 1 Feb -> 3 Mar = 28 + 2 = 30 days;
    # a3: 1 Dec -> 31 Mar = 31 + 31 + 28 + 30 = 120 days. Median of [30, 60, 120] = 60, mean 70.
    o12 = await figure(kpi_pool, "O12", "2026-01-01", "2026-03-31")
    assert (o12["value"], o12["citizens"], o12["values"]) == (60.0, 3, {"mean_days": 70.0, "housed": 2 + 1})
    # Known on 1 April, a3's home was not: [30, 60] -> median and mean 45.
    o12 = await figure(kpi_pool, "O12", "2026-01-01", "2026-03-31", as_of="2026-04-01")
    assert (o12["value"], o12["values"]) == (45.0, {"mean_days": 45.0, "housed": 2})


async def test_o13_returns_to_homelessness_within_6_12_24_months(kpi_pool) -> None:
    s = Scenario()
    # Period 1 Jan - 30 Jun 2026: the 6-month cohort was housed 1 Jul - 30 Dec 2025, the 12-month
    # cohort 1 Jan - 30 Jun 2025, the 24-month cohort 1 Jan - 30 Jun 2024.
    housing(s, "b1", "2025-08-01", "street")
    gained(s, "b1", "2025-09-01")  # 6 months end 1 Mar 2026
    s.fact("HousingLost", "2025-12-01", citizen="b1", reason="eviction")  # returned within 6
    housing(s, "b2", "2025-09-01", "street")
    gained(s, "b2", "2025-10-01")  # 6 months end 1 Apr 2026, no return
    housing(s, "b3", "2025-01-01", "street")
    gained(s, "b3", "2025-03-01")  # 12 months end 1 Mar 2026
    s.fact("ShelterStayStarted", "2025-11-01", recorded="2026-02-15", citizen="b3", shelter="herberg-1")  # told late
    housing(s, "b4", "2024-01-01", "street")
    gained(s, "b4", "2024-02-01")  # 24 months end 1 Feb 2026
    s.fact("HousingSituationRecorded", "2025-06-01", citizen="b4", housing="street")  # returned within 24
    housing(s, "b5", "2025-02-01", "street")
    gained(s, "b5", "2025-04-01")  # 12 months end 1 Apr 2026, no return
    await s.apply(kpi_pool)

    # 6 months: b1 returned, b2 not -> 1/2; 12 months: b3 returned, b5 not -> 1/2; 24: b4 -> 1/1.
    o13 = await figure(kpi_pool, "O13", "2026-01-01", "2026-06-30")
    v = o13["values"]
    assert (v["housed_6m"], v["returned_6m"], v["share_6m"]) == (2, 1, 0.5)
    assert (v["housed_12m"], v["returned_12m"], v["share_12m"]) == (2, 1, 0.5)
    assert (v["housed_24m"], v["returned_24m"], v["share_24m"]) == (1, 1, 1.0)
    assert (o13["value"], o13["citizens"]) == (0.5, 2)
    # Known on 1 February, b3's shelter stay was not: 0 of 2 returned within 12 months.
    o13 = await figure(kpi_pool, "O13", "2026-01-01", "2026-06-30", as_of="2026-02-01")
    assert (o13["value"], o13["values"]["returned_12m"]) == (0.0, 0)


async def test_o14_first_time_homeless(kpi_pool) -> None:
    s = Scenario()
    housing(s, "c1", "2025-01-01", "almen")
    s.fact("HousingSituationRecorded", "2026-02-01", citizen="c1", housing="street")  # first time
    housing(s, "c2", "2024-06-01", "street")  # homeless within 24 months before 10 Jan 2026
    s.fact("HousingSituationRecorded", "2024-09-01", citizen="c2", housing="almen")
    s.fact("HousingSituationRecorded", "2026-01-10", citizen="c2", housing="street")
    housing(s, "c3", "2023-01-01", "street")  # homeless, but housed on 1 Mar 2024 (24 months before)
    s.fact("HousingSituationRecorded", "2023-06-01", citizen="c3", housing="almen")
    s.fact("HousingSituationRecorded", "2026-03-01", citizen="c3", housing="street")
    housing(s, "c4", "2025-12-01", "sofa")  # already homeless: the street on 15 Jan is no start
    s.fact("HousingSituationRecorded", "2026-01-15", citizen="c4", housing="street")
    housing(s, "c5", "2025-01-01", "almen")
    s.fact("ShelterStayStarted", "2026-03-10", recorded="2026-04-20", citizen="c5", shelter="herberg-1")  # late
    await s.apply(kpi_pool)

    # Became homeless in Q1: c1, c2, c3, c5 = 4; first time: c1, c3, c5 = 3 -> 3/4 = 0.75.
    o14 = await figure(kpi_pool, "O14", "2026-01-01", "2026-03-31")
    assert (o14["value"], o14["citizens"], o14["values"]) == (3, 4, {"became_homeless": 4, "first_time_share": 0.75})
    # Known on 1 April, c5's stay was not: 2 of 3 -> 0.6667.
    o14 = await figure(kpi_pool, "O14", "2026-01-01", "2026-03-31", as_of="2026-04-01")
    assert (o14["value"], o14["values"]) == (2, {"became_homeless": 3, "first_time_share": 0.6667})


async def test_o15_young_people_at_shelters(kpi_pool) -> None:
    s = Scenario()
    # January 2026: 18-24 are those born 2002-2008.
    s.citizen("y1", "2025-12-20", birth_year=2005)
    s.fact("ShelterStayStarted", "2025-12-20", citizen="y1", shelter="herberg-1")
    s.fact("ShelterStayEnded", "2026-01-10", citizen="y1", discharge="planned")  # nights 1-9 Jan: 9
    s.citizen("y2", "2026-01-20", birth_year=2002)
    s.fact("ShelterStayStarted", "2026-01-20", citizen="y2", shelter="herberg-1")  # nights 20-31 Jan: 12
    s.citizen("y3", "2026-01-05", birth_year=2001)  # 25: not young
    s.fact("ShelterStayStarted", "2026-01-05", citizen="y3", shelter="herberg-1")
    s.citizen("y4", "2026-01-02", birth_year=2008)
    s.fact("ShelterStayStarted", "2026-01-02", citizen="y4", shelter="herberg-1")
    s.fact("ShelterStayEnded", "2026-01-05", citizen="y4", discharge="unplanned")  # nights 2-4 Jan: 3
    s.fact("ShelterStayStarted", "2026-01-25", recorded="2026-02-10", citizen="y4", shelter="herberg-2")  # 25-31: 7
    await s.apply(kpi_pool)

    # y1, y2, y4: 1 + 1 + 2 = 4 stays, 9 + 12 + 3 + 7 = 31 bed-days.
    o15 = await figure(kpi_pool, "O15", "2026-01-01", "2026-01-31")
    assert (o15["value"], o15["values"]) == (3, {"stays": 4, "bed_days": 31})
    # Known on 1 February, y4's second stay was not: 3 stays, 31 - 7 = 24 bed-days.
    o15 = await figure(kpi_pool, "O15", "2026-01-01", "2026-01-31", as_of="2026-02-01")
    assert (o15["value"], o15["values"]) == (3, {"stays": 3, "bed_days": 24})


async def test_breakdown_cells_under_5_citizens_are_hidden(kpi_pool) -> None:
    s = Scenario()
    # 4 young women (born 2004: 22 in 2026, target group "unge"), each 10 nights at the shelter in
    # January; 5 citizens aged 35 (born 1991), 3 women and 2 men, 20 nights each, one told late.
    for n in range(4):
        s.citizen(f"u{n}", "2026-01-01", birth_year=2004, gender="female", target_groups=["unge"])
        s.fact("ShelterStayStarted", "2026-01-01", citizen=f"u{n}", shelter="herberg-1")
        s.fact("ShelterStayEnded", "2026-01-11", citizen=f"u{n}", discharge="planned")
    for n, gender in enumerate(("female", "female", "female", "male", "male")):
        recorded = "2026-02-10" if n == 4 else None
        s.citizen(f"m{n}", "2026-01-01", birth_year=1991, gender=gender, recorded=recorded)
        s.fact("ShelterStayStarted", "2026-01-01", recorded=recorded, citizen=f"m{n}", shelter="herberg-1")
        s.fact("ShelterStayEnded", "2026-01-21", recorded=recorded, citizen=f"m{n}", discharge="planned")
    await s.apply(kpi_pool)

    async with client(kpi_pool) as api:

        async def o4(**breakdown: str) -> dict:
            query = {"municipality": "101", "from": "2026-01-01", "to": "2026-01-31", **breakdown}
            response = await api.get("/v1/kpis/O4", params=query)
            assert response.status_code == 200, response.text
            return response.json()

        # The young cell counts 4 citizens: hidden, no value, no count, no breakdown.
        young = await o4(age_band="18-24")
        assert (young["suppressed"], young["value"], young["citizens"], young.get("values")) == (True, None, None, None)
        assert young["age_band"] == "18-24"
        assert (await o4(target_group="unge"))["suppressed"] is True
        # 30-39: 5 citizens x 20 nights = 100 bed-days, shown.
        thirties = await o4(age_band="30-39")
        assert (thirties["suppressed"], thirties["value"], thirties["citizens"]) == (False, 100, 5)
        # Women: 4 young x 10 + 3 x 20 = 100 bed-days on 7 citizens; men: 2 citizens, hidden.
        women, men = await o4(gender="female"), await o4(gender="male")
        assert (women["value"], women["citizens"], men["suppressed"], men["value"]) == (100, 7, True, None)
        # Known on 1 February, m4 was not: the 30-39 cell held 4 citizens and was hidden.
        assert (await o4(age_band="30-39", as_of="2026-02-01"))["suppressed"] is True
        # Without a breakdown nothing is hidden: 4 x 10 + 5 x 20 = 140 bed-days on 9 citizens.
        whole = await o4()
        assert (whole["value"], whole["citizens"], whole.get("suppressed")) == (140, 9, None)
        # The export carries the hidden cell without value or count (January: 4 x 10 = 40 bed-days;
        # February: none), and the series hides both months.
        query = {"municipality": "101", "from": "2026-01-01", "to": "2026-02-28", "age_band": "18-24"}
        csv = await api.get("/v1/kpis/O4", params={**query, "period": "month", "format": "csv", "lang": "en"})
        assert csv.status_code == 200 and "40" not in csv.text, csv.text
        series = (await api.get("/v1/kpis/O4", params={**query, "period": "month"})).json()["series"]
        assert [(p["suppressed"], p["value"]) for p in series] == [(True, None), (True, None)]
        # The benchmark of a cell hides it the same way, and shows a cell of 5.
        params = {"from": "2026-01-01", "to": "2026-01-31"}
        bench = (await api.get("/v1/kpis/O4/benchmark", params={**params, "age_band": "18-24"})).json()
        assert [(r["municipality"], r["suppressed"], r["value"]) for r in bench["municipalities"]] == [
            ("101", True, None)
        ]
        bench = (await api.get("/v1/kpis/O4/benchmark", params={**params, "age_band": "30-39"})).json()
        assert [(r["suppressed"], r["value"]) for r in bench["municipalities"]] == [(False, 100)]
        # An age band that is not one of the six is refused.
        assert (await api.get("/v1/kpis/O4", params={"municipality": "101", "age_band": "18-30"})).status_code == 422
