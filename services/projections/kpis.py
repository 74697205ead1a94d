"""The KPI catalogue (domain.md §7): each KPI defined once, with the query that computes it."""

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal

import asyncpg

from contracts.codes import Method

Kind = Literal["process", "outcome", "economy", "structure"]


@dataclass(frozen=True)
class Kpi:
    id: str
    name_da: str
    name_en: str
    kind: Kind
    unit: str
    definition: str

    def describe(self) -> dict[str, str]:
        return {
            "id": self.id, "name_da": self.name_da, "name_en": self.name_en, "kind": self.kind,
            "unit": self.unit, "definition": self.definition,
        }


P1 = Kpi(
    id="P1",
    name_da="Aktive forløb pr. metode",
    name_en="Active courses by method",
    kind="process",
    unit="courses",
    definition=(
        "Number of courses of each method that are active on the date `on`: the course has "
        "started (CourseStarted effective on or before `on`) and has not ended (no CourseEnded "
        "effective on or before `on`). Counted per municipality."
    ),
)

P2 = Kpi(
    id="P2",
    name_da="Andel forløb med §141-handleplan inden for 30 dage",
    name_en="Share of courses with a §141 handleplan within 30 days of start",
    kind="process",
    unit="share",
    definition=(
        "Of the courses that started in the period [from, to] (CourseStarted effective date), the "
        "share whose citizen has a §141 handleplan created no later than 30 days after the course "
        "start. A plan created before the start counts: the law asks that a plan exists. "
        "`value` is numerator / denominator, or null when no course started in the period."
    ),
)

CATALOGUE: dict[str, Kpi] = {kpi.id: kpi for kpi in (P1, P2)}
HANDLEPLAN_WITHIN_DAYS = 30


async def active_courses_by_method(db: asyncpg.Pool, municipality: str, on: date) -> dict[str, Any]:
    rows = await db.fetch(
        """SELECT method, count(*) AS n FROM kpi_courses
           WHERE municipality = $1 AND started_on <= $2 AND (ended_on IS NULL OR ended_on > $2)
           GROUP BY method""",
        municipality, on,
    )
    counts = {method.value: 0 for method in Method}
    counts.update({row["method"]: row["n"] for row in rows})
    return {"on": on.isoformat(), "values": counts, "total": sum(counts.values())}


async def handleplan_within_30_days(
    db: asyncpg.Pool, municipality: str, period_from: date, period_to: date
) -> dict[str, Any]:
    row = await db.fetchrow(
        """SELECT count(*) AS denominator,
                  count(*) FILTER (WHERE EXISTS (
                      SELECT 1 FROM kpi_handleplans h
                      WHERE h.municipality = c.municipality AND h.citizen_id = c.citizen_id
                        AND h.created_on <= c.started_on + $4::int
                  )) AS numerator
           FROM kpi_courses c
           WHERE c.municipality = $1 AND c.started_on BETWEEN $2 AND $3""",
        municipality, period_from, period_to, HANDLEPLAN_WITHIN_DAYS,
    )
    numerator, denominator = row["numerator"], row["denominator"]
    return {
        "from": period_from.isoformat(),
        "to": period_to.isoformat(),
        "numerator": numerator,
        "denominator": denominator,
        "value": round(numerator / denominator, 4) if denominator else None,
    }


def default_period(today: date) -> tuple[date, date]:
    return today - timedelta(days=365), today
