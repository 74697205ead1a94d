"""The team's usual time plan, as the best guess a new plan starts from (issue 16). Pure domain.

A course's plan for a unit is its latest TimePlanned for it (withdrawn ones left out by the fold).
For CTI the unit is the phase asked for; for ICM, ACT and §85 the month: each course counts with its
latest planned month, so a long course does not outweigh the others. The median is over courses.
"""

from dataclasses import dataclass
from datetime import date
from statistics import median

from contracts.codes import CtiPhase, Method
from services.projections.history import Course, History


@dataclass(frozen=True)
class TimePlanMedian:
    median_hours: float | None  # None when no course of the team has such a plan
    courses: int


def planned_for(course: Course, phase: CtiPhase | None) -> float | None:
    """The course's planned hours for the CTI phase, or (no phase) for its latest planned month."""
    planned = course.planned_hours
    if phase is not None:
        return planned.get(phase)
    months = [unit for unit in planned if isinstance(unit, date)]
    return planned[max(months)] if months else None


def time_plan_median(history: History, team: str | None, method: Method, phase: CtiPhase | None) -> TimePlanMedian:
    plans = [hours for course in history.courses_for(team, method) if (hours := planned_for(course, phase)) is not None]
    return TimePlanMedian(round(median(plans), 4) if plans else None, len(plans))
