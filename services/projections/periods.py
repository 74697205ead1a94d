"""Calendar periods (month, quarter, year) for KPI series. Pure."""

from datetime import date, timedelta
from enum import StrEnum

from contracts.methods import add_months
from services.projections.kpis.common import Window


class PeriodKind(StrEnum):
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


_MONTHS = {PeriodKind.MONTH: 1, PeriodKind.QUARTER: 3, PeriodKind.YEAR: 12}
MAX_PERIODS = 120


def period_start(day: date, kind: PeriodKind) -> date:
    if kind == PeriodKind.MONTH:
        return day.replace(day=1)
    if kind == PeriodKind.QUARTER:
        return date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    return date(day.year, 1, 1)


def label(start: date, kind: PeriodKind) -> str:
    if kind == PeriodKind.MONTH:
        return start.strftime("%Y-%m")
    if kind == PeriodKind.QUARTER:
        return f"{start.year}-K{(start.month - 1) // 3 + 1}"
    return str(start.year)


def periods(start: date, end: date, kind: PeriodKind) -> list[tuple[str, Window]]:
    """The calendar periods that touch [start, end], whole."""
    result = []
    first = period_start(start, kind)
    while first <= end:
        following = add_months(first, _MONTHS[kind])
        result.append((label(first, kind), Window(first, following - timedelta(days=1))))
        first = following
    return result


def previous(window: Window, kind: PeriodKind | None) -> Window:
    """The period before: the previous calendar period, or an equally long window just before."""
    if kind is not None:
        first = add_months(window.start, -_MONTHS[kind])
        return Window(first, window.start - timedelta(days=1))
    return Window(window.start - timedelta(days=window.days), window.start - timedelta(days=1))
