"""Data quality: what is missing from the registrations behind the figures, by team and worker.
Pure domain, no I/O, from the same fold as the KPIs and the roster (history.py).

Figures built on missing registrations mislead silently; these shares say where the gaps are. Each
figure is a count of what lacks something, out of what could have it, and their share:

- of the courses active on the day (P1's rule, as the roster counts them), those lacking a time
  plan (no TimePlanned), an expected progression (no ExpectedProgressionSet), a support worker, a
  housing situation in the last RECENT_HOUSING_DAYS days (a situation recorded, housing gained, a
  §110 stay begun or ended), a baseline measurement (none within MEASUREMENT_BASELINE_DAYS of the
  start, counted once those days have passed), and a status on time (`status_due`'s rule:
  contracts/methods.py STATUS_CADENCE);
- the share of `unknown` codes per field: the housing situations and employment statuses recorded
  for the active courses' citizens (up to the day), their gender, and the follow-on offer of the
  courses ended by the day;
- backdated facts: of the facts about the active courses (course facts, and the citizen's facts
  about no course), those recorded more than BACKDATED_AFTER_DAYS after they happened (all facts
  known, whatever their date);
- of the courses ended by the day, those ended without a follow-on offer (`slet_ikke`).

A worker's figures are those of the courses whose support worker they are on the day (an ended
course: its last worker).
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from contracts.codes import EmploymentStatus, FollowOnOffer, Gender, HousingSituation, Method
from contracts.methods import (
    DEFAULT_STATUS_CADENCE,
    MEASUREMENT_BASELINE_DAYS,
    RECENT_HOUSING_DAYS,
    STATUS_CADENCE,
    status_due_on,
)
from services.projections.history import Citizen, Course, History

# The housing entries that name where the citizen lives (a loss says only where they do not).
HOUSING_NAMED = ("recorded", "gained", "shelter", "shelter_left")
ACTIVE_FIGURES = (
    "no_time_plan",
    "no_expected_progression",
    "no_worker",
    "no_recent_housing",
    "no_baseline_measurement",
    "status_late",
    "backdated_facts",
)
UNKNOWN_FIELDS = ("housing", "employment", "gender", "follow_on_offer")


@dataclass(frozen=True)
class Share:
    count: int
    of: int

    def __add__(self, other: "Share") -> "Share":
        return Share(self.count + other.count, self.of + other.of)

    def out(self) -> dict[str, Any]:
        return {"count": self.count, "of": self.of, "share": round(self.count / self.of, 4) if self.of else None}


NONE = Share(0, 0)


def _lacks(missing: bool) -> Share:
    return Share(1 if missing else 0, 1)


def recent_housing(citizen: Citizen | None, day: date) -> bool:
    if citizen is None:
        return False
    since = day - timedelta(days=RECENT_HOUSING_DAYS)
    return any(since < on <= day for on, _, _, how in citizen.housing if how in HOUSING_NAMED)


def baseline_missing(course: Course, day: date) -> bool:
    assert course.started_on is not None
    due = course.started_on + timedelta(days=MEASUREMENT_BASELINE_DAYS)
    return due < day and not any(m.on <= due for m in course.measurements)


def status_late(course: Course, citizen: Citizen | None, day: date) -> bool:
    """The status whose window closed last before `day` lacks a kind (`status_due`'s rule, defaults)."""
    assert course.started_on is not None
    cadence = STATUS_CADENCE.get(course.method, DEFAULT_STATUS_CADENCE)
    window = timedelta(weeks=cadence.window_weeks)
    number, due = 0, None
    while status_due_on(course.started_on, number + 1, cadence.every_months) + window < day:
        number += 1
        due = status_due_on(course.started_on, number, cadence.every_months)
    if due is None:
        return False
    since = due - window
    housing = citizen is not None and any(on >= since and how in HOUSING_NAMED for on, _, _, how in citizen.housing)
    income = citizen is not None and any(on >= since for on, _, _ in citizen.incomes)
    employment = citizen is not None and any(on >= since for on, _, _ in citizen.employment)
    measured = any(m.on >= since for m in course.measurements)
    return not (housing and income and employment and measured)


def _active_figures(course: Course, citizen: Citizen | None, day: date) -> dict[str, Share]:
    told = citizen.facts_told if citizen else {}
    backdated = citizen.facts_backdated if citizen else {}
    return {
        "no_time_plan": _lacks(not course.plans),
        "no_expected_progression": _lacks(not course.progression),
        "no_worker": _lacks(course.worker_on(day) is None),
        "no_recent_housing": _lacks(not recent_housing(citizen, day)),
        "no_baseline_measurement": _lacks(baseline_missing(course, day)),
        "status_late": _lacks(status_late(course, citizen, day)),
        "backdated_facts": Share(
            backdated.get(course.course_id, 0) + backdated.get("", 0),
            told.get(course.course_id, 0) + told.get("", 0),
        ),
    }


def _unknowns(citizen: Citizen | None, day: date) -> dict[str, Share]:
    if citizen is None:
        return {"housing": NONE, "employment": NONE, "gender": Share(1, 1)}
    housing = [code for on, _, code, how in citizen.housing if on <= day and how in ("recorded", "shelter_left")]
    employment = [status for on, _, status in citizen.employment if on <= day]
    return {
        "housing": Share(sum(c == HousingSituation.UNKNOWN for c in housing), len(housing)),
        "employment": Share(sum(s == EmploymentStatus.UNKNOWN for s in employment), len(employment)),
        "gender": _lacks(citizen.gender == Gender.UNKNOWN),
    }


class _Tally:
    def __init__(self) -> None:
        self.courses = 0
        self.ended = 0
        self.figures: dict[str, Share] = dict.fromkeys(ACTIVE_FIGURES, NONE)
        self.unknown: dict[str, Share] = dict.fromkeys(UNKNOWN_FIELDS, NONE)
        self.without_offer = NONE
        self.citizens: set[str] = set()

    def active(self, course: Course, citizen: Citizen | None, day: date) -> None:
        self.courses += 1
        for name, share in _active_figures(course, citizen, day).items():
            self.figures[name] += share
        if course.citizen_id not in self.citizens:  # a citizen's registrations count once per group
            self.citizens.add(course.citizen_id)
            for name, share in _unknowns(citizen, day).items():
                self.unknown[name] += share

    def ended_course(self, course: Course) -> None:
        self.ended += 1
        self.unknown["follow_on_offer"] += _lacks(course.follow_on_offer in (None, FollowOnOffer.UNKNOWN))
        self.without_offer += _lacks(course.follow_on_offer == FollowOnOffer.NONE)

    def out(self) -> dict[str, Any]:
        return {
            "active_courses": self.courses,
            "ended_courses": self.ended,
            **{name: share.out() for name, share in self.figures.items()},
            "unknown": {name: share.out() for name, share in self.unknown.items()},
            "ended_without_follow_on_offer": self.without_offer.out(),
        }


def _worker_of(course: Course, day: date) -> str | None:
    if course.ended_on is not None and course.ended_on <= day:
        return course.worker_on(course.ended_on - timedelta(days=1)) or course.worker_on(course.ended_on)
    return course.worker_on(day)


def data_quality(
    history: History,
    day: date,
    team: str | None = None,
    worker: str | None = None,
    method: Method | None = None,
) -> dict[str, Any]:
    """The figures for the municipality (or the team, or the worker), and by team and by worker."""
    overall = _Tally()
    by_team: dict[str, _Tally] = {}
    by_worker: dict[tuple[str, str], _Tally] = {}

    def tallies(course: Course) -> Iterable[_Tally]:
        yield overall
        yield by_team.setdefault(course.team, _Tally())
        who = _worker_of(course, day)
        if who is not None:
            yield by_worker.setdefault((course.team, who), _Tally())

    keep: Callable[[Course], bool] = lambda c: (  # noqa: E731
        (team is None or c.team == team)
        and (worker is None or _worker_of(c, day) == worker)
        and (method is None or c.method == method)
    )
    for course in sorted(history.courses.values(), key=lambda c: c.course_id):
        if not keep(course):
            continue
        citizen = history.citizens.get(course.citizen_id)
        if course.active_on(day):
            for tally in tallies(course):
                tally.active(course, citizen, day)
        elif course.ended_on is not None and course.ended_on <= day:
            for tally in tallies(course):
                tally.ended_course(course)
    return {
        "on": day.isoformat(),
        "overall": overall.out(),
        "teams": [{"team": t} | tally.out() for t, tally in sorted(by_team.items())],
        "workers": [{"team": t, "worker": w} | tally.out() for (t, w), tally in sorted(by_worker.items())],
    }
