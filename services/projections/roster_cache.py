"""The roster's rows of a municipality, from the history the KPIs use (store.py).

A row of the current day is kept per municipality and course, beside the live history: a query
takes in what was folded since the last one (the courses and citizens the new facts are about,
store.Live's `*_changed_at`) and works out only their rows again; a new day, another generation
(a rebuild, a re-drive) or the first query work out every row. Any other day, and `as_of` a past
day, are worked out from the fold of that history on each query (store.py caches past histories).
So a row is the same whichever way it was made: roster.row of the course on the day.
"""

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import asyncpg

from services.projections import store
from services.projections.history import History
from services.projections.roster import all_rows, row


@dataclass
class _Rows:
    generation_id: str
    day: date
    position: int  # the last fact the rows take in
    by_course: dict[str, dict[str, Any]] = field(default_factory=dict)
    courses_of: dict[str, set[str]] = field(default_factory=dict)  # citizen -> their course ids
    listing: list[dict[str, Any]] | None = None  # by_course's rows as a list, made when asked


_kept: dict[str, _Rows] = {}  # municipality -> its rows of the current day


def _work_out(history: History, rows: _Rows, courses: set[str]) -> None:
    for course_id in courses:
        course = history.courses.get(course_id)
        if course is None or course.decided_on > rows.day:
            rows.by_course.pop(course_id, None)
            continue
        rows.courses_of.setdefault(course.citizen_id, set()).add(course_id)
        rows.by_course[course_id] = row(course, history.citizens.get(course.citizen_id), rows.day)
    rows.listing = None


def _current(generation_id: str, live: store.Live, day: date) -> _Rows:
    history = live.history
    kept = _kept.get(history.municipality)
    if kept is None or kept.generation_id != generation_id or kept.day != day or kept.position > live.position:
        kept = _kept[history.municipality] = _Rows(generation_id, day, live.position)
        _work_out(history, kept, set(history.courses))
    elif kept.position < live.position:
        since = kept.position
        changed = {c for c, at in live.course_changed_at.items() if at > since}
        for citizen, at in live.citizen_changed_at.items():
            if at > since:
                changed |= kept.courses_of.get(citizen, set())  # a new course is in course_changed_at
        _work_out(history, kept, changed)
        kept.position = live.position
    return kept


async def rows(db: asyncpg.Pool, municipality: str, day: date, as_of: date | None, today: date) -> list[dict[str, Any]]:
    """Every course's row on `day` (decided by then), as known on `as_of` (now when None)."""
    if store.is_past(as_of):
        return all_rows(await store.history(db, municipality, as_of), day)
    generation_id, live = await store.live(db, municipality)
    if day != today:
        return all_rows(live.history, day)
    kept = _current(generation_id, live, day)
    if kept.listing is None:
        kept.listing = list(kept.by_course.values())
    return kept.listing
