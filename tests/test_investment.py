"""The SØM-grade investment calculation (services/projections/investment.py) on the
Erfaringsopsamling's worked example (docs/domain.md §10): Vejle set the success rate to 63% and ran
a sensitivity analysis at 10%; the net result falls, and the net gain falls mostly to others than
the municipality — primarily the state — while the municipality gets a positive but smaller gain in
the longer run.

The report gives the direction and the split, not Vejle's figures. The target group, the hours and
the consequence counts below are this test's assumptions (written here); the prices are the example
price book's (the Isolerede sindslidende evaluation's prices, 2014 level; §110 bed-days split 50/50
between municipality and state by the state refund, psychiatry paid by the region)."""

import pytest

from services.projections.investment import (
    EXAMPLE_HOURLY_RATE_DKK,
    EXAMPLE_PRICE_BOOK,
    Consequence,
    Effort,
    Scenario,
    calculate,
    investment,
)

# 20 citizens; 150 hours each in year 1 at 287.2 kr. + 25% overhead:
# 150 × 287.2 = 43,080; × 1.25 = 53,850 per citizen; × 20 = 1,077,000 kr., paid by the municipality.
EFFORT = Effort(citizens=20, hours_per_citizen_by_year=(150,), hourly_rate_dkk=EXAMPLE_HOURLY_RATE_DKK, overhead=0.25)
# A successful citizen avoids 70 §110 bed-days a year (the evaluation's 70 days) for 5 years:
# 70 × 1,057 = 73,990 kr. a year, 36,995 to the municipality and 36,995 to the state;
# and 0.1 psychiatric admissions a year for 3 years: 0.1 × (19 × 3,459 + 9 × 1,731) = 0.1 × 81,300
# = 8,130 kr. a year, to the region.
CONSEQUENCES = (
    Consequence("shelter_bed_day", 70, "assumed", "Isolerede sindslidende: 70 days a year"),
    Consequence("psychiatric_admission", 0.1, "assumed"),
)


def test_at_63_percent_the_net_gain_falls_mostly_to_the_state_and_the_municipality_gains_less_later() -> None:
    result = calculate(EFFORT, EXAMPLE_PRICE_BOOK, CONSEQUENCES, Scenario("mid", 0.63), horizon_years=5)
    # 20 × 0.63 = 12.6 successful citizens.
    # Year 1: municipality 12.6 × 36,995 = 466,137 - 1,077,000 = -610,863; state 466,137;
    # region 12.6 × 8,130 = 102,438.
    year_1 = result["years"][0]["net"]
    assert year_1["municipality"] == pytest.approx(-610_863)
    assert year_1["state"] == pytest.approx(466_137)
    assert year_1["region"] == pytest.approx(102_438)
    # Five years: municipality 5 × 466,137 - 1,077,000 = 1,253,685; state 5 × 466,137 = 2,330,685;
    # region 3 × 102,438 = 307,314 (the admissions' effect lasts 3 years); total 3,891,684.
    net = result["totals"]["net"]
    assert net == pytest.approx({"municipality": 1_253_685, "region": 307_314, "state": 2_330_685, "other": 0})
    assert result["net_total"] == pytest.approx(3_891_684)
    assert result["net_per_citizen"] == pytest.approx(3_891_684 / 20)  # 194,584.2
    # The split the report states: most of the net gain to others than the municipality, primarily the
    # state (2,330,685 / 3,891,684 = 59.9%); the municipality's is positive but smaller (32.2%),
    # and negative in year 1.
    assert net["state"] > net["municipality"] > 0 > year_1["municipality"]
    assert net["state"] / result["net_total"] == pytest.approx(0.5989, abs=1e-4)
    assert (net["state"] + net["region"]) / result["net_total"] == pytest.approx(0.6779, abs=1e-4)


def test_at_10_percent_the_net_result_falls_and_the_municipality_loses() -> None:
    low = calculate(EFFORT, EXAMPLE_PRICE_BOOK, CONSEQUENCES, Scenario("sensitivity", 0.10), horizon_years=5)
    # 20 × 0.10 = 2 successful citizens: municipality 5 × 2 × 36,995 - 1,077,000 = 369,950 - 1,077,000
    # = -707,050; state 369,950; region 3 × 2 × 8,130 = 48,780; total -288,320.
    assert low["totals"]["net"] == pytest.approx(
        {"municipality": -707_050, "region": 48_780, "state": 369_950, "other": 0}
    )
    assert low["net_total"] == pytest.approx(-288_320)
    # The direction the report states: the net result falls (3,891,684 -> -288,320).
    answer = investment(EFFORT, EXAMPLE_PRICE_BOOK, CONSEQUENCES, 0.63, 5, alternative_success_rate=0.10)
    [success_rate] = [row for row in answer["sensitivity"] if row["assumption"] == "success_rate"]
    assert success_rate["net_total"] == pytest.approx(-288_320)
    assert success_rate["change_from_base"] == pytest.approx(-288_320 - 3_891_684)


def test_scenarios_horizon_and_the_assumptions_printed_with_the_result() -> None:
    answer = investment(EFFORT, EXAMPLE_PRICE_BOOK, CONSEQUENCES, 0.63, 1, alternative_success_rate=0.10)
    low, mid, high = answer["scenarios"]
    # Low: 0.315 success, cost × 1.2, consequences × 0.8; high: 0.945, × 0.8, × 1.2.
    # Year 1 only, low: gains 20 × 0.315 × (73,990 + 8,130) × 0.8 = 6.3 × 82,120 × 0.8 = 413,884.8;
    # cost 1,077,000 × 1.2 = 1,292,400; net -878,515.2.
    assert (low["scenario"]["success_rate"], high["scenario"]["success_rate"]) == pytest.approx((0.315, 0.945))
    assert low["net_total"] == pytest.approx(-878_515.2)
    assert low["net_total"] < mid["net_total"] < high["net_total"]
    # Cost ±20% moves the net by ∓215,400 (1,077,000 × 0.2).
    moved = {row["assumption"]: row["change_from_base"] for row in answer["sensitivity"]}
    assert moved["cost_up"] == pytest.approx(-215_400) and moved["cost_down"] == pytest.approx(215_400)
    printed = answer["assumptions"]
    assert (
        printed["effort"]["hourly_rate_dkk"] == 287.2
        and printed["price_book"]["version"] == "isolerede-sindslidende-2014"
    )
    assert [c["price"]["unit_price_dkk"] for c in printed["consequences"]] == [1057.0, 81_300.0]
    with pytest.raises(ValueError):
        calculate(EFFORT, EXAMPLE_PRICE_BOOK, CONSEQUENCES, Scenario("mid", 0.63), horizon_years=6)


def test_the_measured_inputs_from_events() -> None:
    from datetime import UTC, date, datetime, time

    from contracts.facts import fact_adapter
    from services.projections.history import Record, fold
    from services.projections.investment_inputs import measured_inputs

    def fact(fact_type: str, on: str, citizen: str, course: str | None = None, **fields: object) -> object:
        body = {"type": fact_type, "municipality": "101", "effective_date": on, "citizen_id": citizen}
        return fact_adapter.validate_python(body | ({"course_id": course} if course else {}) | fields)

    facts = [
        # c1: a §110 stay 1 October - 1 November 2025 (31 nights) before an ICM course from 1 January
        # 2026; contacts of 120 and 60 minutes; housed 15 February; the course ended 1 March.
        fact("ShelterStayStarted", "2025-10-01", "c1", shelter="sh-1"),
        fact("ShelterStayEnded", "2025-11-01", "c1", discharge="planned", destination="sofa"),
        fact("VisitationDecided", "2026-01-01", "c1", "k1", method="ICM", team="t"),
        fact("CourseStarted", "2026-01-01", "c1", "k1"),
        fact("ContactRecorded", "2026-01-10", "c1", "k1", minutes=120, kind="face_to_face"),
        fact("ContactRecorded", "2026-02-10", "c1", "k1", minutes=60, kind="phone_digital"),
        fact("HousingGained", "2026-02-15", "c1", housing="almen"),
        fact("CourseEnded", "2026-03-01", "c1", "k1", reason="completed"),
        # c2: evicted 1 December 2025, an ICM course from 1 February 2026, still active.
        fact("EvictionCarriedOut", "2025-12-01", "c2"),
        fact("VisitationDecided", "2026-02-01", "c2", "k2", method="ICM", team="t"),
        fact("CourseStarted", "2026-02-01", "c2", "k2"),
    ]
    at = datetime.combine(date(2026, 6, 1), time(12), UTC)
    history = fold("101", [Record(n, at, f) for n, f in enumerate(facts)])  # type: ignore[arg-type]
    # The year 1 July 2025 - 30 June 2026: 2 citizens; (120 + 60) / 60 / 2 = 1.5 hours each; 1 course
    # ended, its citizen housed: 1.0; 31 nights the year before c1's start / 2 = 15.5 bed-days;
    # 1 eviction the year before c2's start / 2 = 0.5.
    assert measured_inputs(history, date(2026, 6, 30)) == {
        "period_from": "2025-07-01",
        "period_to": "2026-06-30",
        "citizens": 2,
        "hours_per_citizen": 1.5,
        "ended_courses": 1,
        "observed_success_rate": 1.0,
        "bed_days_per_citizen_year": 15.5,
        "evictions_per_citizen_year": 0.5,
    }


def test_the_xlsx_mirrors_soem_s_input_structure() -> None:
    import io

    import openpyxl

    from services.projections.investment_api import sheets

    measured = {"period_from": "2025-07-01", "period_to": "2026-06-30", "citizens": 20, "hours_per_citizen": 150,
                "ended_courses": 0, "observed_success_rate": None, "bed_days_per_citizen_year": 70,
                "evictions_per_citizen_year": 0}  # fmt: skip
    answer = {"municipality": "101", "method": None, "team": None, "measured": measured}
    answer |= investment(EFFORT, EXAMPLE_PRICE_BOOK, CONSEQUENCES, 0.63, 5, alternative_success_rate=0.10)
    book = openpyxl.load_workbook(io.BytesIO(sheets(answer)))
    assert book.sheetnames == [
        "Målgruppe og indsats", "Omkostninger", "Konsekvenser", "Resultat low", "Resultat mid", "Resultat high",
        "Følsomhed",
    ]  # fmt: skip
    # Mid, the row "I alt": net per payer (municipality, region, state, other) and in total, as above.
    total = [row for row in book["Resultat mid"].iter_rows(values_only=True) if row[0] == "I alt"][0]
    assert total[1:] == pytest.approx((1_253_685, 307_314, 2_330_685, 0, 3_891_684))
    assert book["Omkostninger"]["D2"].value == pytest.approx(53_850)  # 150 × 287.2 × 1.25
