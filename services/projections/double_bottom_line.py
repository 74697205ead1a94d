"""The double bottom line of one course (docs/domain.md §1): cumulative expected vs
actual hours per CTI phase or ICM/ACT month, and expected vs actual progression. Pure domain."""

from datetime import date
from typing import Any

from contracts.codes import CtiPhase, Method
from contracts.methods import CTI_PHASE_ORDER, add_months
from services.projections.history import Course


def unit_label(unit: CtiPhase | date) -> str:
    return f"phase_{unit.value}" if isinstance(unit, CtiPhase) else unit.strftime("%Y-%m")


def hours_by_unit(course: Course, until: date) -> list[dict[str, Any]]:
    """Per unit (planned or with contacts, up to `until`), in order: expected and actual hours,
    and both cumulated; `share_used` = cumulative actual / cumulative expected."""
    actual: dict[CtiPhase | date, float] = {}
    for on, minutes in course.contacts.days_and_minutes(None, until):
        unit = course.time_unit(on)
        actual[unit] = actual.get(unit, 0.0) + minutes / 60
    planned = course.planned_hours
    units = set(planned) | set(actual)
    ordered: list[CtiPhase | date]
    if all(isinstance(u, CtiPhase) for u in units):
        ordered = [p for p in CTI_PHASE_ORDER if p in units]
    else:
        ordered = sorted(u for u in units if isinstance(u, date))
    rows, expected_sum, actual_sum = [], 0.0, 0.0
    for unit in ordered:
        expected_sum += planned.get(unit, 0.0)
        actual_sum += actual.get(unit, 0.0)
        rows.append(
            {
                "unit": unit_label(unit),
                "start": (s.isoformat() if (s := course.unit_start(unit)) else None),
                "expected_hours": round(planned.get(unit, 0.0), 4),
                "actual_hours": round(actual.get(unit, 0.0), 4),
                "cumulative_expected_hours": round(expected_sum, 4),
                "cumulative_actual_hours": round(actual_sum, 4),
                "share_used": round(actual_sum / expected_sum, 4) if expected_sum else None,
            }
        )
    return rows


def begun_planned_hours(course: Course, until: date) -> tuple[float, float]:
    """Expected and actual hours, summed over the units that had begun by `until` and have planned
    hours: the sums of `hours_by_unit`'s rows for them (E2). A course planned by the month (ICM,
    ACT) counts each month's contacts directly instead of walking its whole contact history."""
    planned = course.planned_hours
    if course.method == Method.CTI or not all(isinstance(u, date) for u in planned):
        rows = [
            r
            for r in hours_by_unit(course, until)
            if r["start"] is not None and r["start"] <= until.isoformat() and r["expected_hours"]
        ]
        return sum(r["expected_hours"] for r in rows), sum(r["actual_hours"] for r in rows)
    days, minutes = course.contacts.columns_between(None, until)  # by date: walked once
    next_contact = 0
    expected = actual = 0.0
    months = sorted(u for u in planned if isinstance(u, date))  # all of them: checked above
    for month in months:
        if month > until or not round(planned[month], 4):
            continue
        expected += round(planned[month], 4)
        while next_contact < len(days) and days[next_contact] < month.toordinal():
            next_contact += 1
        following, hours = add_months(month, 1).toordinal(), 0.0
        while next_contact < len(days) and days[next_contact] < following:
            hours += minutes[next_contact] / 60
            next_contact += 1
        actual += round(hours, 4)
    return expected, actual


def progression(course: Course, until: date) -> list[dict[str, Any]]:
    """Per instrument with an expected progression: the expected checkpoints and the actual
    measurements scored (WHO-5 index, sums, Likert/Recovery Star means)."""
    lines = []
    for instrument, checkpoints in sorted(course.progression.items()):
        measured = sorted((m.on, m.value) for m in course.measurements if m.instrument == instrument and m.on <= until)
        lines.append(
            {
                "instrument": instrument.value,
                "expected": [{"on": on.isoformat(), "value": value} for on, value in checkpoints],
                "actual": [{"on": on.isoformat(), "value": value} for on, value in measured],
            }
        )
    return lines


def double_bottom_line(course: Course, until: date) -> dict[str, Any]:
    return {
        "course": course.course_id,
        "citizen": course.citizen_id,
        "method": course.method.value,
        "on": until.isoformat(),
        "hours": hours_by_unit(course, until),
        "progression": progression(course, until),
    }
