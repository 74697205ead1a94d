"""Puts KPI figures together for the API: one window or a series, with the previous period, the
municipality's target (måltal) and benchmarks across municipalities with small counts hidden."""

from dataclasses import dataclass
from datetime import date
from typing import Any

from services.projections.history import History
from services.projections.kpis import Context, Filters, Kpi, Params, Window
from services.projections.periods import PeriodKind, periods, previous

SUPPRESS_BELOW_CITIZENS = 5


@dataclass(frozen=True)
class Query:
    window: Window
    period: PeriodKind | None = None
    filters: Filters = Filters()
    params: Params = Params()
    as_of: date | None = None


def compute(kpi: Kpi, history: History, window: Window, query: Query) -> dict[str, Any]:
    """The figure for the window; a cell of a breakdown by citizen (age band, gender, target
    group) built on fewer than 5 citizens is suppressed, also within the municipality's own figures."""
    figure = kpi.compute(Context(history, window, query.filters, query.params))
    figure = {"from": window.start.isoformat(), "to": window.end.isoformat(), **figure}
    if not query.filters.breakdown:
        return figure
    cell = suppressed(figure)
    return {**cell, "citizens": None} if cell["suppressed"] else cell


def compare(figure: dict[str, Any], before: dict[str, Any], target: float | None) -> dict[str, Any]:
    value, earlier = figure.get("value"), before.get("value")
    figure["previous"] = {
        "from": before["from"],
        "to": before["to"],
        "value": earlier,
        "change": round(value - earlier, 4) if value is not None and earlier is not None else None,
    }
    figure["target"] = (
        None
        if target is None
        else {
            "value": target,
            "difference": round(value - target, 4) if value is not None else None,
        }
    )
    return figure


def figures(kpi: Kpi, history: History, query: Query, target: float | None) -> dict[str, Any]:
    """The figure for the window, or with a period kind the series of calendar periods in it."""
    if query.period is None:
        figure = compute(kpi, history, query.window, query)
        return compare(figure, compute(kpi, history, previous(query.window, None), query), target)
    series: list[dict[str, Any]] = []
    for name, window in periods(query.window.start, query.window.end, query.period):
        figure = compute(kpi, history, window, query)
        before = series[-1] if series else compute(kpi, history, previous(window, query.period), query)
        series.append(compare({"period": name, **figure}, before, target))
    return {"period": query.period.value, "series": series}


def suppressed(figure: dict[str, Any]) -> dict[str, Any]:
    """Hides a figure built on fewer than 5 citizens: only that it is hidden remains."""
    citizens = figure.get("citizens")
    if figure.get("suppressed"):  # a breakdown's cell, hidden already
        return {"from": figure["from"], "to": figure["to"], "suppressed": True, "value": None}
    if citizens is None or citizens >= SUPPRESS_BELOW_CITIZENS:
        return {**figure, "suppressed": False}
    return {"from": figure["from"], "to": figure["to"], "suppressed": True, "value": None}


def benchmark(kpi: Kpi, histories: dict[str, History], own: str, query: Query) -> list[dict[str, Any]]:
    """Each municipality's aggregate figure (no breakdowns), the user's own first; figures on
    fewer than 5 citizens suppressed."""
    rows = []
    for municipality in sorted(histories, key=lambda m: (m != own, m)):
        figure = compute(kpi, histories[municipality], query.window, query)
        figure.pop("values", None)
        rows.append({"municipality": municipality, "own": municipality == own, **suppressed(figure)})
    return rows
