"""The national exports a manager reports upward (docs/exports.md has their schema). Pure domain,
no I/O, from the same fold as the KPIs (history.py). No row carries a CPR number: the fold holds
none (registration replaces it by a keyed pseudonym before a fact is stored).

- The VIVE count-week snapshot (`vive-count`): one row per citizen homeless on at least one day of
  the count week (Monday to Sunday), with the VIVE situation (the nine homeless codes, docs/domain.md
  §5) of the last homeless day of the week, the age band in the count week's year, the gender and
  the method(s) of the citizen's courses active in the week. No identifier at all: VIVE counts
  people, not cases. A row whose (situation, age band, gender) cell has fewer than
  SMALL_CELL citizens is flagged, and so is every such cell of the counts by situation.
- The §110 stays file (`shelter-stays`): one row per §110 stay that overlaps the quarter, keyed by
  the citizen's pseudonym: check-in, check-out (when in or before the quarter), shelter, planned or
  unplanned discharge, destination, days from check-in to the municipality's contact, and when the
  citizen was assessed ready to move.

Each export carries its schema version; a change of columns or meaning is a new version.
"""

from datetime import date, timedelta
from typing import Any

from contracts.codes import HousingSituation
from contracts.methods import HOMELESS
from services.projections.history import History

VIVE_COUNT_VERSION = "vive-count/1"
SHELTER_STAYS_VERSION = "shelter-stays/1"
SMALL_CELL = 5  # cells with fewer citizens than this are flagged (discretion)

# The VIVE categories 1-9, in the order of the count's questionnaire (docs/domain.md §5).
VIVE_CATEGORY: dict[HousingSituation, int] = {
    HousingSituation.STREET: 1,
    HousingSituation.NIGHT_SHELTER: 2,
    HousingSituation.SHELTER_110: 3,
    HousingSituation.HOTEL: 4,
    HousingSituation.SOFA: 5,
    HousingSituation.TRANSITIONAL: 6,
    HousingSituation.PRISON_NO_HOUSING: 7,
    HousingSituation.HOSPITAL_NO_HOUSING: 8,
    HousingSituation.OTHER_HOMELESS: 9,
}
assert set(VIVE_CATEGORY) == HOMELESS

# (lowest age, band) in rising order; the count's bands.
AGE_BANDS: tuple[tuple[int, str], ...] = (
    (0, "under_18"),
    (18, "18-24"),
    (25, "25-29"),
    (30, "30-39"),
    (40, "40-49"),
    (50, "50-59"),
    (60, "60+"),
)


def count_week(day: date) -> tuple[date, date]:
    """The Monday and Sunday of the week `day` is in."""
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=6)


def age_band(birth_year: int | None, year: int) -> str:
    """The band of the age a citizen reaches in `year` (the facts hold a birth year, not a birth date)."""
    if birth_year is None:
        return "unknown"
    age = year - birth_year
    return [band for lowest, band in AGE_BANDS if age >= lowest][-1] if age >= 0 else "unknown"


def vive_count(history: History, day: date) -> dict[str, Any]:
    """The snapshot of the count week that `day` is in."""
    monday, sunday = count_week(day)
    week = [monday + timedelta(days=n) for n in range(7)]
    rows: list[dict[str, Any]] = []
    for citizen_id in sorted(history.citizens):
        citizen = history.citizens[citizen_id]
        situations = [s for s in (citizen.housing_on(d) for d in week) if s in HOMELESS]
        if not situations:
            continue
        situation = situations[-1]
        methods = sorted(
            {
                c.method.value
                for c in history.courses.values()
                if c.citizen_id == citizen_id and c.active_span(monday, sunday) is not None
            }
        )
        rows.append(
            {
                "situation": situation.value,
                "vive_category": VIVE_CATEGORY[situation],
                "age_band": age_band(citizen.birth_year, monday.year),
                "gender": citizen.gender.value,
                "method": ",".join(methods) or "none",
            }
        )
    # Rows in a stable order that says nothing of who they are: by their cell, then method.
    rows.sort(key=lambda r: (r["vive_category"], r["age_band"], r["gender"], r["method"]))
    cells: dict[tuple[str, str, str], int] = {}
    for r in rows:
        key = (r["situation"], r["age_band"], r["gender"])
        cells[key] = cells.get(key, 0) + 1
    for r in rows:
        r["small_cell"] = cells[(r["situation"], r["age_band"], r["gender"])] < SMALL_CELL
    by_situation = [
        {
            "situation": s.value,
            "vive_category": n,
            "citizens": sum(r["situation"] == s.value for r in rows),
            "small_cell": 0 < sum(r["situation"] == s.value for r in rows) < SMALL_CELL,
        }
        for s, n in VIVE_CATEGORY.items()
    ]
    return {
        "version": VIVE_COUNT_VERSION,
        "week_start": monday.isoformat(),
        "week_end": sunday.isoformat(),
        "citizens": len(rows),
        "rows": rows,
        "by_situation": by_situation,
    }


def quarter_of(day: date) -> tuple[date, date]:
    first_month = (day.month - 1) // 3 * 3 + 1
    start = date(day.year, first_month, 1)
    next_start = date(day.year + 1, 1, 1) if first_month == 10 else date(day.year, first_month + 3, 1)
    return start, next_start - timedelta(days=1)


def shelter_stays(history: History, day: date) -> dict[str, Any]:
    """The §110 stays overlapping the quarter that `day` is in."""
    start, end = quarter_of(day)
    rows: list[dict[str, Any]] = []
    for citizen_id in sorted(history.citizens):
        for stay in sorted(history.citizens[citizen_id].stays, key=lambda s: s.start):
            if stay.start > end or (stay.end is not None and stay.end < start):
                continue
            out = stay.end is not None and stay.end <= end
            rows.append(
                {
                    "citizen": citizen_id,
                    "shelter": stay.shelter,
                    "check_in": stay.start.isoformat(),
                    "check_out": stay.end.isoformat() if out and stay.end else None,
                    "discharge": stay.discharge.value if out and stay.discharge else None,
                    "destination": stay.destination.value if out and stay.destination else None,
                    "days_to_contact": (stay.contact_on - stay.start).days
                    if stay.contact_on and stay.contact_on <= end
                    else None,
                    "ready_to_move_on": stay.ready_on.isoformat() if stay.ready_on and stay.ready_on <= end else None,
                }
            )
    return {
        "version": SHELTER_STAYS_VERSION,
        "quarter_start": start.isoformat(),
        "quarter_end": end.isoformat(),
        "stays": len(rows),
        "rows": rows,
    }
