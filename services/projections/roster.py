"""The course roster: one row per course as it stands on a day, from the same fold as the KPIs.
Pure domain, no I/O (docs/domain.md §1 for the methods' norms, §8 for the deadlines).

A row answers the questions of a status talk or a team meeting: which phase and how long is left
of it, how long since the last face-to-face contact against the method's cadence, hours used
against the hours expected so far (the double bottom line's gap), the latest measurement against
the expected progression, the housing situation now, and the next thing due with its date.

Every norm comes from contracts/methods.py. "Active" is P1's rule (`Course.active_on`), so the
active rows of a filter are exactly the courses P1 counts for it on that day.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import pairwise
from typing import Any, Literal

from contracts.codes import LEFT_SUPPORT, ContactKind, CtiPhase, Method
from contracts.methods import (
    CONTACT_EVERY_DAYS,
    CTI_CONTACT_PHASE_WEEKS,
    CTI_PHASE_ORDER,
    FOLLOW_UP_MONTHS,
    HANDLEPLAN_DAYS,
    MEASUREMENT_BASELINE_DAYS,
    add_months,
    follow_up_due,
)
from services.projections.history import Citizen, Course, History

State = Literal["active", "ended", "all"]
Sort = Literal["overdue", "gap", "last_contact"]
DueKind = Literal["measurement", "follow_up", "contact", "handleplan", "phase_change", "course_end"]
# When two things fall due on the same day, the order they are listed in.
DUE_ORDER: tuple[DueKind, ...] = ("contact", "handleplan", "measurement", "phase_change", "course_end", "follow_up")


@dataclass(frozen=True)
class RosterFilter:
    team: str | None = None
    worker: str | None = None
    method: Method | None = None
    state: State = "active"
    due_within: int | None = None  # only rows whose next thing is due within this many days (or overdue)


# --- the parts of a row -----------------------------------------------------------------------------


def state_on(course: Course, day: date) -> Literal["active", "ended", "planned"] | None:
    """Active (P1's rule), ended on or before `day`, planned (decided, not started); None: decided later."""
    if course.active_on(day):
        return "active"
    if course.ended_on is not None and course.ended_on <= day:
        return "ended"
    return "planned" if course.decided_on <= day else None


def current_phase(course: Course, day: date) -> tuple[CtiPhase, date | None] | None:
    """A CTI course's phase on `day` and its planned end; the contact phase (before phase 1) runs
    at most CTI_CONTACT_PHASE_WEEKS from the start. None for the other methods and before the start."""
    if course.method != Method.CTI or course.started_on is None or course.started_on > day:
        return None
    started = [p for p in course.phases_by_start if p.start <= day]
    if not started:
        return CtiPhase.CONTACT, course.started_on + timedelta(weeks=CTI_CONTACT_PHASE_WEEKS)
    return started[-1].phase, started[-1].planned_end


def phase_part(course: Course, day: date) -> dict[str, Any] | None:
    phase = current_phase(course, day)
    if phase is None or not course.active_on(day):
        return None
    ends_on = phase[1]
    return {
        "phase": phase[0].value,
        "ends_on": ends_on.isoformat() if ends_on else None,
        "days_left": (ends_on - day).days if ends_on else None,
    }


def cadence(course: Course, day: date) -> int | None:
    """Days between face-to-face contacts the method asks for on `day` (none in CTI's contact phase and §85)."""
    if course.method == Method.CTI:
        phase = current_phase(course, day)
        return CONTACT_EVERY_DAYS.get((course.method, phase[0])) if phase else None
    return CONTACT_EVERY_DAYS.get((course.method, None))


def last_face_to_face(course: Course, day: date) -> date | None:
    return course.contacts.last_on(ContactKind.FACE_TO_FACE, day)


def contact_part(course: Course, day: date) -> dict[str, Any]:
    last = last_face_to_face(course, day)
    return {
        "last_face_to_face_on": last.isoformat() if last else None,
        "days_since": (day - last).days if last else None,
        "every_days": cadence(course, day),
    }


def planned_periods(course: Course) -> list[tuple[date, date, float]]:
    """(first day, day after the last, expected hours) of each planned unit: a CTI phase from its
    start to the next phase's start (or its own planned end), an ICM/ACT/§85 month."""
    periods = []
    phase_starts = {p.phase: p for p in course.phases_by_start}
    for unit, hours in course.planned_hours.items():
        if isinstance(unit, date):
            periods.append((unit, add_months(unit, 1), hours))
            continue
        if unit == CtiPhase.CONTACT:
            if course.started_on is None:
                continue
            start, end = course.started_on, course.started_on + timedelta(weeks=CTI_CONTACT_PHASE_WEEKS)
        elif unit in phase_starts:
            start, end = phase_starts[unit].start, phase_starts[unit].planned_end or phase_starts[unit].start
        else:
            continue  # planned, not begun
        later = [phase_starts[p].start for p in CTI_PHASE_ORDER[CTI_PHASE_ORDER.index(unit) + 1 :] if p in phase_starts]
        periods.append((start, min([end, *later]) if later else end, hours))
    return sorted(periods)


def expected_hours_by(course: Course, day: date) -> float | None:
    """Hours expected up to and including `day`: each planned unit's hours spread evenly over its
    days. None when nothing is planned."""
    periods = planned_periods(course)
    if not periods:
        return None
    total = 0.0
    for start, end, hours in periods:
        length = max((end - start).days, 1)
        used = min(max((day - start).days + 1, 0), length)
        total += hours * used / length
    return total


def hours_part(course: Course, day: date) -> dict[str, Any]:
    actual = course.minutes_between(None, day) / 60
    expected = expected_hours_by(course, day)
    gap = None if expected is None else actual - expected
    return {
        "actual": round(actual, 2),
        "expected": None if expected is None else round(expected, 2),
        "gap": None if gap is None else round(gap, 2),
        "gap_percent": round(gap / expected * 100, 1) if gap is not None and expected else None,
    }


def expected_value_on(checkpoints: list[tuple[date, float]], day: date) -> float | None:
    """The expected progression on `day`: linear between checkpoints, the last one after them;
    None before the first."""
    if not checkpoints or day < checkpoints[0][0]:
        return None
    for (d0, v0), (d1, v1) in pairwise(checkpoints):
        if d0 <= day <= d1:
            return v0 + (v1 - v0) * (day - d0).days / max((d1 - d0).days, 1)
    return checkpoints[-1][1]


def measurement_part(course: Course, day: date) -> dict[str, Any] | None:
    """The latest measurement on or before `day` and the value expected on its day."""
    taken = [m for m in course.measurements if m.on <= day]
    if not taken:
        return None
    latest = max(taken, key=lambda m: m.on)  # max keeps the first recorded of a day's measurements
    expected = expected_value_on(course.progression.get(latest.instrument, []), latest.on)
    return {
        "instrument": latest.instrument.value,
        "value": round(latest.value, 2),
        "expected": None if expected is None else round(expected, 2),
        "on": latest.on.isoformat(),
    }


def due_items(course: Course, citizen: Citizen | None, day: date) -> list[tuple[date, DueKind]]:
    """Everything that falls due for the course, known on `day`, each with its date."""
    items: list[tuple[date, DueKind]] = []
    if course.started_on is None:
        return items
    if course.active_on(day):
        every = cadence(course, day)
        if every is not None:  # the no_contact alert's count: from the last contact or the start
            since = max(course.started_on, last_face_to_face(course, day) or course.started_on)
            items.append((since + timedelta(days=every), "contact"))
        if citizen is None or not any(d <= day for d in citizen.handleplans):
            items.append((course.started_on + timedelta(days=HANDLEPLAN_DAYS), "handleplan"))
        items += _measurements_due(course, day)
        phase = current_phase(course, day)
        if phase is not None and phase[1] is not None:
            items.append((phase[1], "course_end" if phase[0] == CtiPhase.PHASE_3 else "phase_change"))
    elif course.ended_on is not None and course.ended_on <= day and course.end_reason in LEFT_SUPPORT:
        done = {months for on, months, _ in course.follow_ups if on <= day}
        for months in FOLLOW_UP_MONTHS:
            if months not in done:
                items.append((follow_up_due(course.ended_on, months), "follow_up"))
                break
    return items


def _measurements_due(course: Course, day: date) -> list[tuple[date, DueKind]]:
    """A baseline measurement MEASUREMENT_BASELINE_DAYS from the start; then, per instrument with
    an expected progression, its first checkpoint after the latest measurement with it."""
    taken = [m for m in course.measurements if m.on <= day]
    if not taken:
        assert course.started_on is not None
        return [(course.started_on + timedelta(days=MEASUREMENT_BASELINE_DAYS), "measurement")]
    items: list[tuple[date, DueKind]] = []
    for instrument, checkpoints in course.progression.items():
        latest = max((m.on for m in taken if m.instrument == instrument), default=None)
        coming = [on for on, _ in checkpoints if latest is None or on > latest]
        if coming:
            items.append((coming[0], "measurement"))
    return items


def next_due(course: Course, citizen: Citizen | None, day: date) -> dict[str, Any] | None:
    items = due_items(course, citizen, day)
    if not items:
        return None
    due_on, kind = min(items, key=lambda item: (item[0], DUE_ORDER.index(item[1])))
    return {"kind": kind, "due_on": due_on.isoformat(), "days_left": (due_on - day).days}


# --- rows ------------------------------------------------------------------------------------------


def row(course: Course, citizen: Citizen | None, day: date) -> dict[str, Any]:
    housing = citizen.housing_on(day) if citizen else None
    return {
        "course": course.course_id,
        "citizen": course.citizen_id,
        "method": course.method.value,
        "team": course.team,
        "worker": course.worker_on(day),
        "state": state_on(course, day),
        "start": course.started_on.isoformat() if course.started_on else None,
        "ended_on": course.ended_on.isoformat() if course.ended_on and course.ended_on <= day else None,
        "phase": phase_part(course, day),
        "contact": contact_part(course, day),
        "hours": hours_part(course, day),
        "measurement": measurement_part(course, day),
        "housing": {"situation": housing.value if housing else None},
        "next_due": next_due(course, citizen, day),
    }


def all_rows(history: History, day: date) -> list[dict[str, Any]]:
    """Every course decided on or before `day`, as it stands on `day`, by course id."""
    return [
        row(course, history.citizens.get(course.citizen_id), day)
        for course in sorted(history.courses.values(), key=lambda c: c.course_id)
        if course.decided_on <= day
    ]


def selected(rows: Iterable[dict[str, Any]], wanted: RosterFilter) -> list[dict[str, Any]]:
    def keep(r: dict[str, Any]) -> bool:
        if wanted.state != "all" and r["state"] != wanted.state:
            return False
        if wanted.team is not None and r["team"] != wanted.team:
            return False
        if wanted.worker is not None and r["worker"] != wanted.worker:
            return False
        if wanted.method is not None and r["method"] != wanted.method.value:
            return False
        due = r["next_due"]
        return wanted.due_within is None or (due is not None and due["days_left"] <= wanted.due_within)

    return [r for r in rows if keep(r)]


NEVER = 10**9


def _overdue(r: dict[str, Any]) -> tuple:
    due = r["next_due"]
    return (due["days_left"] if due else NEVER, due["kind"] if due else "", r["course"])


def _gap(r: dict[str, Any]) -> tuple:
    gap = r["hours"]["gap"]
    return (-abs(gap) if gap is not None else NEVER, r["course"])


def _last_contact(r: dict[str, Any]) -> tuple:
    since = r["contact"]["days_since"]
    return (-since if since is not None else -NEVER, r["course"])  # never seen face to face: first


SORTS: dict[str, Callable[[dict[str, Any]], tuple]] = {
    "overdue": _overdue,  # the next thing due, the most overdue first; nothing due last
    "gap": _gap,  # the largest gap in hours (over or under plan) first; nothing planned last
    "last_contact": _last_contact,  # the longest since a face-to-face contact first; never first of all
}


def ordered(rows: list[dict[str, Any]], sort: Sort) -> list[dict[str, Any]]:
    return sorted(rows, key=SORTS[sort])


def page_of(rows: list[dict[str, Any]], page: int, page_size: int) -> dict[str, Any]:
    pages = (len(rows) + page_size - 1) // page_size
    return {
        "rows": rows[(page - 1) * page_size : page * page_size],
        "total": len(rows),
        "page": page,
        "pages": pages,
        "page_size": page_size,
    }
