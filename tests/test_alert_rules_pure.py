"""The alert rules' pure logic (services/alerts/rules.py): thresholds, due days, conditions."""

from datetime import date, timedelta

import pytest

from contracts.codes import CourseEndReason
from services.alerts import rules
from services.alerts.rules import CitizenView, CourseView, Measurement, WorkerView

D0 = date(2025, 1, 6)


def params(rule: str, **overrides: float) -> dict[str, float]:
    return rules.CATALOGUE[rule].defaults | overrides


def cti(**fields) -> CourseView:
    return CourseView("k1", "c1", "team-a", "CTI", started_on=D0, **fields)


def test_add_months_keeps_the_day_or_the_month_end() -> None:
    assert rules.add_months(date(2025, 1, 31), 1) == date(2025, 2, 28)
    assert rules.add_months(date(2025, 11, 15), 3) == date(2026, 2, 15)


def test_a_phase_started_four_months_ago_is_overdue_today() -> None:
    start = D0 - timedelta(days=122)
    verdict = rules.cti_phase_overdue(cti(phases={"1": (start, None)}), params("cti_phase_overdue"), D0)
    assert verdict.raise_on == rules.add_months(start, 3) + timedelta(days=15)
    assert verdict.holds(D0)


def test_no_contact_cadence_follows_method_and_phase() -> None:
    p = params("no_contact")
    seen = D0 + timedelta(days=5)
    for phase, allowed in (("1", 14), ("2", 21), ("3", 45)):
        course = cti(phases={"1": (D0, None), phase: (D0, None)}, last_face_to_face=seen)
        assert rules.no_contact(course, p, D0).raise_on == seen + timedelta(days=allowed + 1)
    act = CourseView("k2", "c2", "team-b", "ACT", started_on=D0)
    assert rules.no_contact(act, p, D0).raise_on == D0 + timedelta(days=8)
    assert rules.no_contact(cti(phases={"contact": (D0, None)}), p, D0) == rules.NOT_NOW
    assert rules.no_contact(CourseView("k3", "c3", "t", "SEL85", started_on=D0), p, D0) == rules.NOT_NOW


def test_time_gap_over_and_under_and_within() -> None:
    phases = {"1": (D0, D0 + timedelta(days=100))}
    p = params("time_gap")
    day = D0 + timedelta(days=50)  # 50 of 100 expected hours
    over = rules.time_gap(cti(phases=phases, planned_hours={"phase:1": 100}, actual_minutes=66 * 60), p, day)
    under = rules.time_gap(cti(phases=phases, planned_hours={"phase:1": 100}, actual_minutes=34 * 60), p, day)
    within = rules.time_gap(cti(phases=phases, planned_hours={"phase:1": 100}, actual_minutes=64 * 60), p, day)
    assert over.holds(day) and over.details["direction"] == "over"
    assert under.holds(day) and under.details["direction"] == "under"
    assert not within.holds(day) and within.recheck_on == day + timedelta(days=7)
    early = rules.time_gap(cti(phases=phases, planned_hours={"phase:1": 100}), p, D0 + timedelta(days=27))
    assert not early.holds(D0 + timedelta(days=27)) and early.recheck_on == D0 + timedelta(days=28)


def test_shelter_stay_long_at_120_days_or_90_after_ready() -> None:
    p = params("shelter_stay_long")
    stay = CitizenView("c1", stay_started_on=D0)
    assert rules.shelter_stay_long(stay, p, D0).raise_on == D0 + timedelta(days=120)
    ready = CitizenView("c1", stay_started_on=D0, ready_to_move_on=D0 + timedelta(days=130))
    assert rules.shelter_stay_long(ready, p, D0).raise_on == D0 + timedelta(days=120)  # 120 days come first


def test_shelter_stay_long_counts_90_days_from_the_stay_start_for_a_citizen_ready_to_move() -> None:
    """docs/domain.md §8: the 90 days run from the stay's start, not from the readiness assessment."""
    p = params("shelter_stay_long")
    for assessed_on in (5, 40, 89, 90):
        ready = CitizenView("c1", stay_started_on=D0, ready_to_move_on=D0 + timedelta(days=assessed_on))
        verdict = rules.shelter_stay_long(ready, p, D0)
        assert (verdict.raise_on, verdict.details["reason"]) == (D0 + timedelta(days=90), "ready_to_move"), assessed_on
    # Assessed ready when the stay has already lasted 100 days: long from that day on.
    late = CitizenView("c1", stay_started_on=D0, ready_to_move_on=D0 + timedelta(days=100))
    assert rules.shelter_stay_long(late, p, D0).raise_on == D0 + timedelta(days=100)
    # The threshold is a parameter.
    early = CitizenView("c1", stay_started_on=D0, ready_to_move_on=D0 + timedelta(days=5))
    assert rules.shelter_stay_long(early, params("shelter_stay_long", ready_days=60), D0).raise_on == D0 + timedelta(
        days=60
    )


def test_wellbeing_low_by_level_or_by_drop() -> None:
    p = params("wellbeing_low")
    m = lambda day, score: Measurement(D0 + timedelta(days=day), "WHO5", score)  # noqa: E731
    assert rules.wellbeing_low(cti(measurements=(m(1, 28),)), p, D0).raise_on == D0 + timedelta(days=1)
    assert rules.wellbeing_low(cti(measurements=(m(1, 32),)), p, D0) == rules.NOT_NOW
    assert rules.wellbeing_low(cti(measurements=(m(1, 70), m(30, 60))), p, D0).details["reason"] == "drop"
    assert rules.wellbeing_low(cti(measurements=(m(1, 70), m(30, 62))), p, D0) == rules.NOT_NOW


def test_follow_up_windows_move_on() -> None:
    ended = D0
    p = params("follow_up_due")
    course = cti(ended_on=ended, end_reason="completed")
    first = rules.follow_up_due(course, p, D0)
    assert first.raise_on == rules.add_months(ended, 6) + timedelta(days=31) and not first.holds(D0)
    late = rules.add_months(ended, 9) + timedelta(days=31)
    verdict = rules.follow_up_due(course, p, late)
    assert verdict.holds(late) and verdict.occurrence == "9" and verdict.details["missed"] == "6,9"
    assert verdict.recheck_on == rules.add_months(ended, 12) + timedelta(days=31)
    done = rules.follow_up_due(cti(ended_on=ended, follow_ups=frozenset({6, 9, 12})), p, late)
    assert done == rules.NOT_NOW


@pytest.mark.parametrize("reason", [r.value for r in CourseEndReason])
def test_follow_up_is_due_only_after_the_citizen_left_support(reason: str) -> None:
    """docs/domain.md §8: completed or no longer needs support; not after revisitation, death, moving, lost contact."""
    late = rules.add_months(D0, 6) + timedelta(days=31)
    verdict = rules.follow_up_due(cti(ended_on=D0, end_reason=reason), params("follow_up_due"), late)
    if reason in ("completed", "no_longer_needs_support"):
        assert verdict.holds(late) and verdict.occurrence == "6"
    else:
        assert verdict == rules.NOT_NOW


def test_caseload_norm_per_method() -> None:
    p = params("caseload_over_norm")
    assert rules.caseload_over_norm(WorkerView("w", {"CTI": 12, "ICM": 8, "ACT": 10}), p, D0) == rules.NOT_NOW
    over = rules.caseload_over_norm(WorkerView("w", {"CTI": 13, "ICM": 9}), p, D0)
    assert over.details["over"] == "CTI:13/12,ICM:9/8"


def test_progression_is_interpolated_between_checkpoints() -> None:
    points = ((D0, 40.0), (D0 + timedelta(days=100), 60.0))
    assert rules.expected_value_on(points, D0 + timedelta(days=50)) == 50
    assert rules.expected_value_on(points, D0 - timedelta(days=1)) is None
    assert rules.expected_value_on(points, D0 + timedelta(days=500)) == 60


def test_overrides_apply_municipality_then_method_then_team() -> None:
    rule = rules.CATALOGUE["handleplan_missing"]
    config = {"": {"days": 20}, "method:ICM": {"days": 25}, "team:team-a": {"days": 40}}
    assert rules.effective_params(rule, {}) == {"days": 30}
    assert rules.effective_params(rule, config) == {"days": 20}
    assert rules.effective_params(rule, config, method="ICM") == {"days": 25}
    assert rules.effective_params(rule, config, team="team-a", method="ICM") == {"days": 40}


@pytest.mark.parametrize("bad", [{"dayz": 3}, {"days": -1}, {"days": "x"}, {"days": True}])
def test_bad_overrides_are_named(bad: dict) -> None:
    problems = rules.param_problems(rules.CATALOGUE["handleplan_missing"], bad)
    assert [p["field"] for p in problems] == list(bad)


def test_progression_on_an_instrument_without_a_single_score_raises_nothing() -> None:
    course = cti(
        progression_instrument="LIKERT",
        progression=((D0, 50.0),),
        measurements=(Measurement(D0 + timedelta(days=10), "LIKERT", None),),
    )
    assert rules.progression_gap(course, params("progression_gap"), D0) == rules.NOT_NOW


def test_fidelity_round_due_half_yearly_and_quarterly() -> None:
    p = params("fidelity_round_due")
    team = rules.TeamView("team-a", frozenset({"ICM"}), registered_on=date(2024, 1, 1))
    # Round 2025-H1 began 1 January: due 60 days later, 2 March; looked at again when H2 begins.
    verdict = rules.fidelity_round_due(team, p, date(2025, 2, 1))
    assert (verdict.raise_on, verdict.recheck_on, verdict.occurrence) == (date(2025, 3, 2), date(2025, 7, 1), "2025-H1")
    # Answered in the round: nothing to raise until the next round.
    answered = rules.TeamView("team-a", frozenset({"ICM"}), date(2024, 1, 1), frozenset({"2025-H1"}))
    assert rules.fidelity_round_due(answered, p, date(2025, 5, 1)).raise_on is None
    # In H2 the H1 answer does not count: due 1 July + 60 days = 30 August.
    assert rules.fidelity_round_due(answered, p, date(2025, 7, 2)).raise_on == date(2025, 8, 30)
    # Configured quarterly (round_months 3) with 14 days' grace: Q2 began 1 April, due 15 April.
    quarterly = rules.fidelity_round_due(
        team, params("fidelity_round_due", round_months=3, grace_days=14), date(2025, 5, 1)
    )
    assert (quarterly.raise_on, quarterly.occurrence) == (date(2025, 4, 15), "2025-Q2")
    # A team with no method that has a fidelity checklist (§85 home support) is never due.
    assert (
        rules.fidelity_round_due(
            rules.TeamView("t", frozenset({"SEL85"}), date(2024, 1, 1)), p, date(2025, 5, 1)
        ).raise_on
        is None
    )


STATUS = rules.CATALOGUE["status_due"].defaults  # every 3 months, ±5 weeks, CTI final measurement 1 month


def _status_course(method: str = "ICM", **kw: object) -> CourseView:
    # Started 1 March 2026: status 1 due 1 June (window 27 April - 6 July), status 2 due 1 September
    # (window 28 July - 6 October).
    return CourseView("k1", "c1", "t1", method, started_on=date(2026, 3, 1), **kw)  # type: ignore[arg-type]


def _full_status(on: date) -> dict[str, object]:
    return {
        "citizen": CitizenView("c1", status_on={"housing": on, "income": on, "employment": on}),
        "measurements": (Measurement(on, "WHO5", 60),),
    }


def test_status_due_raises_the_day_after_the_window_closes_and_moves_on_when_complete() -> None:
    bare = _status_course()
    # Before the first window closes: the deadline is 7 July (1 June + 35 days + 1).
    assert rules.status_due(bare, STATUS, date(2026, 7, 6)) == rules.Verdict(raise_on=date(2026, 7, 7))
    late = rules.status_due(bare, STATUS, date(2026, 7, 7))
    assert late.holds(date(2026, 7, 7)) and late.occurrence == "status 1"
    assert late.details == {
        "due_on": "2026-06-01",
        "window_closes": "2026-07-06",
        "status": "housing,income,employment,measurement",
    }
    assert late.recheck_on == date(2026, 10, 7)  # status 2: 1 September + 35 days + 1
    # A status on 27 April (the window's first day) counts; on 26 April it is too early.
    assert not rules.status_due(_status_course(**_full_status(date(2026, 4, 27))), STATUS, date(2026, 7, 7)).holds(
        date(2026, 7, 7)
    )
    early = rules.status_due(_status_course(**_full_status(date(2026, 4, 26))), STATUS, date(2026, 7, 7))
    assert early.holds(date(2026, 7, 7))
    # The first status on time, none for the second: raised 7 October as "status 2".
    second = rules.status_due(_status_course(**_full_status(date(2026, 6, 1))), STATUS, date(2026, 10, 7))
    assert second.occurrence == "status 2" and second.raise_on == date(2026, 10, 7)


def test_status_due_cadence_is_configurable_per_method_and_cti_asks_for_a_final_measurement() -> None:
    # ACT configured to every 2 months: due 1 May, window closes 5 June, raised 6 June.
    act = rules.effective_params(rules.CATALOGUE["status_due"], {"method:ACT": {"every_months": 2}}, method="ACT")
    assert rules.status_due(_status_course("ACT"), act, date(2026, 6, 5)).raise_on == date(2026, 6, 6)
    # CTI phase 3 from 1 March, planned end 1 June: a measurement from 1 May on, or raised 2 June.
    phases = {"3": (date(2026, 3, 1), date(2026, 6, 1))}
    cti = _status_course("CTI", phases=phases, **_full_status(date(2026, 4, 30)))
    final = rules.status_due(cti, STATUS, date(2026, 6, 2))
    assert (final.raise_on, final.occurrence) == (date(2026, 6, 2), "final measurement")
    measured = _status_course(
        "CTI", phases=phases, citizen=CitizenView("c1"), measurements=(Measurement(date(2026, 5, 1), "WHO5", 60),)
    )
    assert not rules.status_due(measured, STATUS, date(2026, 6, 2)).holds(date(2026, 6, 2))


def test_udredning_overdue_counts_six_weeks_from_its_start_and_is_configurable() -> None:
    begun = CitizenView("c1", stay_started_on=D0, udredning_started_on=D0 + timedelta(days=2))
    # Begun on day 2; 42 days later is day 44, still allowed: raised the day after, day 45.
    verdict = rules.udredning_overdue(begun, params("udredning_overdue"), D0)
    assert verdict.raise_on == D0 + timedelta(days=45)
    assert not verdict.holds(D0 + timedelta(days=44)) and verdict.holds(D0 + timedelta(days=45))
    # A municipality allowing 28 days: 2 + 28 + 1 = day 31.
    assert rules.udredning_overdue(begun, params("udredning_overdue", days=28), D0).raise_on == D0 + timedelta(days=31)
    # None begun (or completed: the column is cleared): nothing to raise.
    assert (
        rules.udredning_overdue(CitizenView("c1", stay_started_on=D0), params("udredning_overdue"), D0).raise_on is None
    )


def test_release_meeting_missing_falls_due_a_month_before_the_planned_release() -> None:
    planned = CitizenView("c1", release_on=date(2025, 3, 31))
    # One month before 31 March is 28 February (no 31st); two months (configured) is 31 January.
    assert rules.release_meeting_missing(planned, params("release_meeting_missing"), D0).raise_on == date(2025, 2, 28)
    two = params("release_meeting_missing", months=2)
    assert rules.release_meeting_missing(planned, two, D0).raise_on == date(2025, 1, 31)
    held = CitizenView("c1", release_on=date(2025, 3, 31), release_meeting_on=date(2025, 2, 1))
    assert rules.release_meeting_missing(held, params("release_meeting_missing"), D0).raise_on is None
    assert rules.release_meeting_missing(CitizenView("c1"), params("release_meeting_missing"), D0).raise_on is None


def test_outreach_phase_long_is_off_until_a_duration_is_configured() -> None:
    course = CourseView(
        "k1", "c1", "team-a", "SEL85", started_on=D0, outreach_phase="contact_making", outreach_phase_on=D0
    )
    assert rules.outreach_phase_long(course, params("outreach_phase_long"), D0).raise_on is None  # 0: off
    # 30 days configured for contact making: day 30 still allowed, raised on day 31.
    verdict = rules.outreach_phase_long(course, params("outreach_phase_long", contact_making_days=30), D0)
    assert verdict.raise_on == D0 + timedelta(days=31) and verdict.occurrence == "contact_making"
    # Another phase's duration does not apply to it.
    assert rules.outreach_phase_long(course, params("outreach_phase_long", bridging_days=30), D0).raise_on is None


def test_bridging_ended_without_handover_needs_the_bridging_phase_and_no_follow_on_offer() -> None:
    ended = D0 + timedelta(days=40)

    def course(phase: str, offer: str) -> CourseView:
        return CourseView(
            "k1", "c1", "team-a", "SEL85", started_on=D0, ended_on=ended, follow_on_offer=offer, outreach_phase=phase
        )

    p = params("bridging_ended_without_handover")
    for offer in ("ringe", "slet_ikke", "ved_ikke"):
        assert rules.bridging_ended_without_handover(course("bridging", offer), p, ended).raise_on == ended
    for offer in ("hoej", "nogen"):  # handed over
        assert rules.bridging_ended_without_handover(course("bridging", offer), p, ended).raise_on is None
    assert rules.bridging_ended_without_handover(course("relationship", "ved_ikke"), p, ended).raise_on is None
    # A handover to a named offer (CourseHandedOver) on or before the end is a handover.
    handed = CourseView(
        "k1", "c1", "team-a", "OUTREACH", started_on=D0, ended_on=ended, outreach_phase="bridging", handed_over_on=ended
    )
    assert rules.bridging_ended_without_handover(handed, p, ended).raise_on is None


def test_recovery_star_baseline_missing_counts_from_contact_established_in_outreach_courses() -> None:
    established = D0 + timedelta(days=9)

    def course(method: str = "OUTREACH", *measurements: Measurement) -> CourseView:
        return CourseView(
            "k1", "c1", "team-a", method, started_on=D0, contact_established_on=established, measurements=measurements
        )

    p = params("recovery_star_baseline_missing")
    assert p["days"] == 30  # contracts/methods.py RECOVERY_STAR_BASELINE_DAYS
    assert rules.recovery_star_baseline_missing(course(), p, D0).raise_on == established + timedelta(days=31)
    custom = params("recovery_star_baseline_missing", days=14)
    assert rules.recovery_star_baseline_missing(course(), custom, D0).raise_on == established + timedelta(days=15)
    # A Recovery Star before contact was established is no baseline; one on the day is.
    before = Measurement(established - timedelta(days=1), "RECOVERY_STAR", None)
    assert rules.recovery_star_baseline_missing(course("OUTREACH", before), p, D0).raise_on is not None
    on_the_day = Measurement(established, "RECOVERY_STAR", None)
    assert rules.recovery_star_baseline_missing(course("OUTREACH", on_the_day), p, D0).raise_on is None
    # Not an outreach course, or no contact established yet: nothing due.
    assert rules.recovery_star_baseline_missing(course("ICM"), p, D0).raise_on is None
    unreached = CourseView("k1", "c1", "team-a", "OUTREACH", started_on=D0)
    assert rules.recovery_star_baseline_missing(unreached, p, D0).raise_on is None
