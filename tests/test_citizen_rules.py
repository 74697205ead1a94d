"""The rules of the methods on the citizen aggregate (pure domain, no I/O)."""

from datetime import date

import pytest

from contracts.facts import fact_adapter
from services.registration.domain.citizen import Citizen, add_months
from services.registration.domain.rules import RuleViolation, UnknownSubject

BASE = {"municipality": "101", "citizen_id": "c1"}


def fact(kind: str, day: str, **fields):
    return fact_adapter.validate_python(BASE | {"type": kind, "effective_date": day, **fields})


def citizen_with_course(method: str = "CTI", started: str | None = "2026-01-10") -> Citizen:
    citizen = Citizen(fact("CitizenRegistered", "2026-01-01"), "test")
    citizen.decide_visitation(fact("VisitationDecided", "2026-01-05", course_id="k1", method=method, team="t"), "test")
    if started:
        citizen.start_course(fact("CourseStarted", started, course_id="k1"), "test")
    return citizen


def reason(call) -> str:
    with pytest.raises(RuleViolation) as caught:
        call()
    return caught.value.rule.reason


def test_one_active_course_per_method() -> None:
    citizen = citizen_with_course("ICM")
    visitation = fact("VisitationDecided", "2026-02-01", course_id="k2", method="ICM", team="t")
    assert reason(lambda: citizen.decide_visitation(visitation, "test")) == "active_course_for_method"
    citizen.end_course(fact("CourseEnded", "2026-03-01", course_id="k1", reason="completed"), "test")
    citizen.decide_visitation(visitation, "test")  # allowed once the first course has ended


def test_course_cannot_start_twice_or_before_visitation() -> None:
    citizen = citizen_with_course(started=None)
    assert reason(lambda: citizen.start_course(fact("CourseStarted", "2026-01-04", course_id="k1"), "t")) == "course_starts_before_visitation"
    citizen.start_course(fact("CourseStarted", "2026-01-06", course_id="k1"), "t")
    assert reason(lambda: citizen.start_course(fact("CourseStarted", "2026-01-07", course_id="k1"), "t")) == "course_already_started"


def test_cti_phases_only_move_forward_and_default_to_three_months() -> None:
    citizen = citizen_with_course()
    citizen.start_cti_phase(fact("CtiPhaseStarted", "2026-01-10", course_id="k1", phase="1"), "t")
    assert citizen.pending_events[-1].fact.planned_end == date(2026, 4, 10)
    backwards = fact("CtiPhaseStarted", "2026-02-01", course_id="k1", phase="contact")
    assert reason(lambda: citizen.start_cti_phase(backwards, "t")) == "cti_phase_not_forward"
    same = fact("CtiPhaseStarted", "2026-02-01", course_id="k1", phase="1")
    assert reason(lambda: citizen.start_cti_phase(same, "t")) == "cti_phase_not_forward"
    earlier = fact("CtiPhaseStarted", "2026-01-09", course_id="k1", phase="2")
    assert reason(lambda: citizen.start_cti_phase(earlier, "t")) == "phase_starts_before_previous"


def test_phases_only_in_cti_courses() -> None:
    citizen = citizen_with_course("ICM")
    phase = fact("CtiPhaseStarted", "2026-01-10", course_id="k1", phase="1")
    assert reason(lambda: citizen.start_cti_phase(phase, "t")) == "not_a_cti_course"


def test_nothing_recorded_on_an_ended_course() -> None:
    citizen = citizen_with_course()
    citizen.end_course(fact("CourseEnded", "2026-05-01", course_id="k1", reason="completed"), "t")
    phase = fact("CtiPhaseStarted", "2026-05-02", course_id="k1", phase="1")
    assert reason(lambda: citizen.start_cti_phase(phase, "t")) == "course_ended"
    again = fact("CourseEnded", "2026-05-03", course_id="k1", reason="completed")
    assert reason(lambda: citizen.end_course(again, "t")) == "course_ended"


def test_course_cannot_end_before_it_started() -> None:
    citizen = citizen_with_course()
    early = fact("CourseEnded", "2026-01-09", course_id="k1", reason="completed")
    assert reason(lambda: citizen.end_course(early, "t")) == "course_ends_before_start"


def test_housing_lost_only_while_housed() -> None:
    citizen = citizen_with_course()
    lost = fact("HousingLost", "2026-02-01", reason="eviction")
    assert reason(lambda: citizen.lose_housing(lost, "t")) == "not_housed"
    citizen.gain_housing(fact("HousingGained", "2026-01-20", housing="almen"), "t")
    citizen.lose_housing(lost, "t")
    assert citizen.housed is False


def test_unknown_course_is_not_found() -> None:
    citizen = citizen_with_course()
    with pytest.raises(UnknownSubject):
        citizen.start_course(fact("CourseStarted", "2026-01-10", course_id="nope"), "t")


def test_add_months_clamps_to_month_end() -> None:
    assert add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
