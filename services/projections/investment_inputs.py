"""The SØM inputs casetrack measures from events (pure, from the KPIs' fold, history.py): the
target group, the hours spent per citizen, an observed success rate and the consequences a citizen
had before the effort. What casetrack has no events for stays an assumption of the calculation.

For the courses (of a method and team, if given) active in the year up to `on` (365 days):
- `citizens`: their citizens;
- `hours_per_citizen`: the contacts' minutes in that year / 60 / citizens;
- `observed_success_rate`: of the courses ended in that year, the share whose citizen was in an own
  home (docs/domain.md §5) on the end day; None without an ended course;
- `bed_days_per_citizen_year`: §110 nights in the 365 days before each course's start, per citizen
  (the bed-days a successful citizen no longer has);
- `evictions_per_citizen_year`: evictions carried out in the 365 days before each course's start,
  per citizen.
"""

from datetime import date, timedelta
from typing import Any

from contracts.codes import Method
from contracts.methods import OWN_HOME
from services.projections.history import History

YEAR = timedelta(days=365)


def measured_inputs(
    history: History, on: date, method: Method | None = None, team: str | None = None
) -> dict[str, Any]:
    start = on - YEAR + timedelta(days=1)
    courses = [c for c in history.courses_for(team, method) if c.active_span(start, on) is not None]
    citizens = sorted({c.citizen_id for c in courses})
    minutes = sum(c.minutes_between(start, on) for c in courses)
    ended = [c for c in history.courses_for(team, method) if c.ended_on is not None and start <= c.ended_on <= on]
    housed = [
        c
        for c in ended
        if (citizen := history.citizens.get(c.citizen_id)) is not None
        and c.ended_on is not None
        and citizen.housing_on(c.ended_on) in OWN_HOME
    ]
    nights = evictions = 0
    first_start: dict[str, date] = {}
    for c in courses:
        if c.started_on is not None:
            first_start[c.citizen_id] = min(first_start.get(c.citizen_id, c.started_on), c.started_on)
    for citizen_id, began in first_start.items():
        citizen = history.citizens.get(citizen_id)
        if citizen is None:
            continue
        before = (began - YEAR, began - timedelta(days=1))
        nights += sum(stay.nights(*before) for stay in citizen.stays)
        evictions += sum(before[0] <= d <= before[1] for d in citizen.evictions_carried_out)
    n = len(citizens)
    return {
        "period_from": start.isoformat(),
        "period_to": on.isoformat(),
        "citizens": n,
        "hours_per_citizen": round(minutes / 60 / n, 2) if n else 0.0,
        "ended_courses": len(ended),
        "observed_success_rate": round(len(housed) / len(ended), 4) if ended else None,
        "bed_days_per_citizen_year": round(nights / n, 2) if n else 0.0,
        "evictions_per_citizen_year": round(evictions / n, 4) if n else 0.0,
    }
