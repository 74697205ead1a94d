"""Calendar periods and the housing-retention categories: pure, no I/O."""

from datetime import date

from contracts.codes import HousingSituation, Method
from contracts.methods import add_months
from services.projections.history import Citizen, Course
from services.projections.kpis import Window
from services.projections.kpis.outcome import retention
from services.projections.periods import PeriodKind, periods, previous


def test_periods_are_whole_calendar_periods_touching_the_range() -> None:
    assert periods(date(2026, 1, 15), date(2026, 3, 2), PeriodKind.MONTH) == [
        ("2026-01", Window(date(2026, 1, 1), date(2026, 1, 31))),
        ("2026-02", Window(date(2026, 2, 1), date(2026, 2, 28))),
        ("2026-03", Window(date(2026, 3, 1), date(2026, 3, 31))),
    ]
    assert [name for name, _ in periods(date(2025, 11, 1), date(2026, 4, 1), PeriodKind.QUARTER)] == [
        "2025-K4",
        "2026-K1",
        "2026-K2",
    ]
    assert periods(date(2026, 6, 1), date(2026, 6, 1), PeriodKind.YEAR) == [
        ("2026", Window(date(2026, 1, 1), date(2026, 12, 31)))
    ]


def test_previous_period() -> None:
    march = Window(date(2026, 3, 1), date(2026, 3, 31))
    assert previous(march, PeriodKind.MONTH) == Window(date(2026, 2, 1), date(2026, 2, 28))
    assert previous(Window(date(2026, 4, 1), date(2026, 6, 30)), PeriodKind.QUARTER) == Window(
        date(2026, 1, 1), date(2026, 3, 31)
    )
    # Without a period kind: an equally long window (31 days) just before.
    assert previous(march, None) == Window(date(2026, 1, 29), date(2026, 2, 28))


def test_add_months_keeps_the_day_or_takes_the_month_end() -> None:
    assert add_months(date(2025, 10, 1), 9) == date(2026, 7, 1)
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2026, 3, 15), -3) == date(2025, 12, 15)


def test_retention_categories() -> None:
    course = Course(
        "k", "c", Method.ICM, "team", date(2026, 1, 1), started_on=date(2026, 1, 1), ended_on=date(2026, 6, 1)
    )

    def citizen(*entries: tuple[str, HousingSituation, str]) -> Citizen:
        c = Citizen("c", date(2025, 1, 1))
        c.housing = [(date.fromisoformat(d), i, code, how) for i, (d, code, how) in enumerate(entries)]
        return c

    almen, street, lost = HousingSituation.ALMEN, HousingSituation.STREET, HousingSituation.UNKNOWN
    assert retention(citizen(("2025-12-01", almen, "recorded")), course) == "stably_housed"
    assert (
        retention(citizen(("2025-12-01", street, "recorded"), ("2026-02-01", almen, "gained")), course)
        == "gained_housing"
    )
    assert (
        retention(
            citizen(("2025-12-01", almen, "recorded"), ("2026-02-01", lost, "lost"), ("2026-04-01", almen, "gained")),
            course,
        )
        == "lost_and_regained"
    )
    assert (
        retention(citizen(("2025-12-01", almen, "recorded"), ("2026-02-01", lost, "lost")), course)
        == "lost_not_regained"
    )
    assert retention(citizen(("2025-12-01", street, "recorded")), course) == "never_housed"
    # Housing gained after the course ended does not count for it.
    assert (
        retention(citizen(("2025-12-01", street, "recorded"), ("2026-07-01", almen, "gained")), course)
        == "never_housed"
    )


def test_double_bottom_line_hours_per_icm_month() -> None:
    from contracts.codes import ContactKind
    from services.projections.columns import Contact, Contacts
    from services.projections.double_bottom_line import hours_by_unit

    course = Course("k", "c", Method.ICM, "team", date(2026, 1, 1), started_on=date(2026, 1, 1))
    for month in (date(2026, 1, 1), date(2026, 2, 1)):
        course.plans.add(month, 10, None)
    course.contacts = Contacts.of(
        [
            Contact(date(2026, 1, 10), 360, ContactKind.FACE_TO_FACE),  # January 6 h
            Contact(date(2026, 2, 3), 720, ContactKind.PARTNERS),  # February 12 h
            Contact(date(2026, 3, 2), 120, ContactKind.PHONE_DIGITAL),  # March 2 h, not planned
            Contact(date(2026, 4, 2), 60, ContactKind.PHONE_DIGITAL),
        ]
    )  # after `until`
    rows = hours_by_unit(course, date(2026, 3, 31))
    # Cumulative: 10 / 6 -> 0.6; 20 / 18 -> 0.9; 20 / 20 -> 1.0.
    assert [
        (
            r["unit"],
            r["expected_hours"],
            r["actual_hours"],
            r["cumulative_expected_hours"],
            r["cumulative_actual_hours"],
            r["share_used"],
        )
        for r in rows
    ] == [("2026-01", 10, 6, 10, 6, 0.6), ("2026-02", 10, 12, 20, 18, 0.9), ("2026-03", 0, 2, 20, 20, 1.0)]
