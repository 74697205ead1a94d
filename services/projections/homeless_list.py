"""The by-name list: the citizens behind O11, by pseudonymous id (the Built for Zero practice).
Pure domain, no I/O; the same fold and the same rule as O11 (kpis/outcome.py), so the list's
length is O11's value and its inflow and outflow are O11's for the month up to the day.

A citizen is on the list on a day when they are actively homeless on it: the latest housing
situation is in the homeless group (docs/domain.md §5) and something about them was recorded
within INACTIVE_AFTER_DAYS. The month's inflow: on the list on the day but not on the day before
the month began, "new" when first known this month, else "returned" (O11's from an own home and
previously inactive). The outflow: on the list the day before the month, not on the day: "housed"
(in an own home now) or "other".
"""

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any, Literal

from contracts.methods import OWN_HOME, housing_group
from services.projections.history import Citizen, History
from services.projections.kpis.outcome import actively_homeless


def homeless_since(citizen: Citizen, day: date) -> date | None:
    """The first day of the unbroken run of homeless situations that stands on `day`."""
    entries = sorted((on, position, code) for on, position, code, _ in citizen.housing if on <= day)
    since = None
    for on, _, code in reversed(entries):
        if housing_group(code) != "homeless":
            break
        since = on
    return since


def ready_to_move_on(citizen: Citizen, day: date) -> date | None:
    """When the citizen was assessed ready to move, in the §110 stay open on `day`."""
    for stay in citizen.stays:
        if stay.start <= day and (stay.end is None or stay.end > day) and stay.ready_on and stay.ready_on <= day:
            return stay.ready_on
    return None


HomelessSort = Literal["days_homeless", "ready_to_move", "inflow"]
HOMELESS_SORTS: dict[str, Callable[[dict[str, Any]], tuple]] = {
    "days_homeless": lambda r: (-(r["days_homeless"] or 0), r["citizen"]),  # the longest homeless first
    "ready_to_move": lambda r: (  # those ready to move first, the longest ready first
        not r["ready_to_move"],
        r["ready_to_move_on"] or "",
        -(r["days_homeless"] or 0),
        r["citizen"],
    ),
    "inflow": lambda r: (r["inflow"] is None, r["inflow"] or "", -(r["days_homeless"] or 0), r["citizen"]),
}


def homeless_list(
    history: History, day: date, team: str | None = None, sort: HomelessSort = "days_homeless"
) -> dict[str, Any]:
    month_start = day.replace(day=1)
    before = month_start - timedelta(days=1)
    inflow = {"new": 0, "returned": 0}
    outflow = {"housed": 0, "other": 0}
    courses = [c for c in history.courses_for(team) if c.active_on(day)]
    by_citizen: dict[str, list[dict[str, str]]] = {}
    for course in sorted(courses, key=lambda c: c.course_id):
        by_citizen.setdefault(course.citizen_id, []).append({"course": course.course_id, "method": course.method.value})
    listed: list[dict[str, Any]] = []
    for citizen in history.citizens_for(team):
        was, now = actively_homeless(citizen, before), actively_homeless(citizen, day)
        if was and not now:
            outflow["housed" if citizen.housing_on(day) in OWN_HOME else "other"] += 1
        if not now:
            continue
        came = None
        if not was:
            came = "new" if month_start <= citizen.first_seen <= day else "returned"
            inflow[came] += 1
        situation = citizen.housing_on(day)
        since = homeless_since(citizen, day)
        ready = ready_to_move_on(citizen, day)
        listed.append(
            {
                "citizen": citizen.citizen_id,
                "situation": situation.value if situation else None,
                "homeless_since": since.isoformat() if since else None,
                "days_homeless": (day - since).days if since else None,
                "ready_to_move": ready is not None,
                "ready_to_move_on": ready.isoformat() if ready else None,
                "courses": by_citizen.get(citizen.citizen_id, []),
                "inflow": came,
            }
        )
    listed.sort(key=HOMELESS_SORTS[sort])
    return {
        "on": day.isoformat(),
        "month_from": month_start.isoformat(),
        "total": len(listed),
        "inflow": inflow,
        "outflow": outflow,
        "citizens": listed,
    }
