"""A generated history to import: casetrack.demo's simulation, each fact recorded in its source on
its effective day, as JSON lines (contracts/imports.py)."""

import hashlib
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from casetrack import demo


def history_lines(municipality: str, citizens: int, years: int, today: date, source: str) -> list[dict[str, Any]]:
    """The municipality's simulated facts as import lines, in the order the source recorded them:
    each on its effective day (facts of one day a second apart, in the simulation's order), never
    after `today` (a plan told ahead is recorded the day it is told: the simulation's dates are
    the facts' own). A CPR number becomes a pseudonymous id here, so the same history can be told
    about another municipality (its pseudonyms would differ)."""
    facts = demo.generate(municipality, citizens=citizens, months=12 * years, seed=2021, today=today)
    ordered = sorted(enumerate(facts), key=lambda pair: (_recorded_day(pair[1], today), pair[0]))
    lines: list[dict[str, Any]] = []
    per_day: dict[date, int] = {}
    for _, fact in ordered:
        day = _recorded_day(fact, today)
        per_day[day] = per_day.get(day, -1) + 1
        recorded = datetime.combine(day, time(9), tzinfo=UTC) + timedelta(seconds=per_day[day])
        lines.append({"recorded_at": recorded.isoformat(), "source": source, "fact": _pseudonymous(fact)})
    return lines


def _recorded_day(fact: dict[str, Any], today: date) -> date:
    return min(date.fromisoformat(fact["effective_date"]), today)


def _pseudonymous(fact: dict[str, Any]) -> dict[str, Any]:
    if "cpr" not in fact:
        return dict(fact)
    rest = {k: v for k, v in fact.items() if k not in ("cpr", "name", "birth_date")}
    return rest | {"citizen_id": "p-" + hashlib.sha256(fact["cpr"].encode()).hexdigest()[:12]}


def told_about(lines: list[dict[str, Any]], municipality: str) -> list[dict[str, Any]]:
    """The same lines about another municipality."""
    return [line | {"fact": line["fact"] | {"municipality": municipality}} for line in lines]
