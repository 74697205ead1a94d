"""KPI figures as CSV and Excel (XLSX) that a spreadsheet reads as data: one row per period and
measure (the headline figure, then each key of the breakdown by its label), one sheet per KPI.
The numbers are the JSON figures' numbers, unrounded further.

- Danish (`lang=da`, the default): column headers and labels in Danish; the CSV has `;` between
  fields and a decimal comma, as Excel and LibreOffice in a Danish locale expect.
- English (`lang=en`): English headers and labels; the CSV has `,` and a decimal point.
- Both: dates as ISO 8601 (2026-01-31), which LibreOffice reads as a date in every locale (also
  without "detect special numbers") and Excel too; UTF-8 with a BOM, so Excel reads æøå right.
- Every row names the filters the figure was computed with (team, method, age band, gender,
  target group; empty when none), as the JSON header does.
- XLSX: dates are date cells, numbers are numbers with a number format, shares have a percent
  format, the columns are as wide as their content."""

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from contracts.codes import CitizenMethod, Gender, Method
from contracts.labels import code_label
from services.projections.kpis import Kpi
from services.projections.kpis.labels import Label, Lang, unit_text

# The columns: (Danish header, English header).
COLUMNS = {
    "kpi": ("Nøgletal", "KPI"),
    "name": ("Navn", "Name"),
    "municipality": ("Kommune", "Municipality"),
    "period": ("Periode", "Period"),
    "from": ("Fra", "From"),
    "to": ("Til", "To"),
    "as_of": ("Opgjort pr.", "As of"),
    "measure": ("Opgørelse", "Measure"),
    "unit": ("Enhed", "Unit"),
    "value": ("Værdi", "Value"),
    "numerator": ("Tæller", "Numerator"),
    "denominator": ("Nævner", "Denominator"),
    "citizens": ("Borgere", "Citizens"),
    "target": ("Måltal", "Target"),
    "previous": ("Forrige periode", "Previous period"),
    # The filters the figure was computed with (empty: none), as the JSON header names them.
    "team": ("Team", "Team"),
    "method": ("Metode", "Method"),
    "age_band": ("Aldersgruppe", "Age band"),
    "gender": ("Køn", "Gender"),
    "target_group": ("Målgruppe", "Target group"),
    "key": ("Teknisk nøgle", "Technical key"),  # the breakdown key as the JSON has it, for joins
}
HEADLINE = ("Hovedtal", "Headline figure")
CSV_DELIMITER: dict[Lang, str] = {"da": ";", "en": ","}
DATE_FORMAT = "yyyy-mm-dd"
SHARE_FORMAT = "0.0%"
COUNT_FORMAT = "#,##0"
NUMBER_FORMAT = "#,##0.0###"
SHARED = ("value", "target", "previous")  # the columns in the row's unit (the others are counts)
MAX_WIDTH = 60


@dataclass(frozen=True)
class Row:
    kpi: Kpi
    municipality: str
    period: str
    start: date
    end: date
    as_of: date | None
    measure: Label
    key: str
    value: float | None
    numerator: float | None = None
    denominator: float | None = None
    citizens: int | None = None
    target: float | None = None
    previous: float | None = None
    filters: tuple[tuple[str, Any], ...] = ()  # (filter, its value as the JSON header has it)

    def cells(self, lang: Lang) -> dict[str, Any]:
        return {
            "kpi": self.kpi.id,
            "name": self.kpi.name(lang),
            "municipality": self.municipality,
            "period": self.period,
            "from": self.start,
            "to": self.end,
            "as_of": self.as_of,
            "measure": self.measure.text(lang),
            "unit": unit_text(self.measure.unit, lang),
            "value": self.value,
            "numerator": self.numerator,
            "denominator": self.denominator,
            "citizens": self.citizens,
            "target": self.target,
            "previous": self.previous,
            **{name: _filter_text(name, dict(self.filters).get(name), lang) for name in FILTERS},
            "key": self.key,
        }


FILTERS = ("team", "method", "age_band", "gender", "target_group")
_FILTER_CODES: dict[str, tuple[type[StrEnum], ...]] = {"method": (Method, CitizenMethod), "gender": (Gender,)}


def _filter_text(name: str, value: Any, lang: Lang) -> str | None:
    """A filter's value as a reader sees it: a method or gender by its label, the rest as given."""
    if value is None:
        return None
    for codes in _FILTER_CODES.get(name, ()):
        if value in codes.__members__.values():
            return code_label(codes(value), lang)
    return str(value)


def rows(kpi: Kpi, municipality: str, result: dict[str, Any], as_of: str | None) -> list[Row]:
    """The rows of one KPI's result (one figure or a series): per period the headline, then its
    breakdown; each row names the filters the figure was computed with."""
    table = []
    filters = tuple((name, result.get(name)) for name in FILTERS)
    headline = Label(*HEADLINE, kpi.unit)
    for figure in result.get("series") or [result]:
        lead = {
            "kpi": kpi,
            "municipality": municipality,
            "period": figure.get("period", ""),
            "start": date.fromisoformat(figure["from"]),
            "end": date.fromisoformat(figure["to"]),
            "as_of": date.fromisoformat(as_of) if as_of else None,
            "filters": filters,
        }
        table.append(
            Row(
                **lead,
                measure=headline,
                key="",
                value=figure.get("value"),
                numerator=figure.get("numerator"),
                denominator=figure.get("denominator"),
                citizens=figure.get("citizens"),
                target=(figure.get("target") or {}).get("value"),
                previous=(figure.get("previous") or {}).get("value"),
            )
        )
        for key, value in (figure.get("values") or {}).items():
            label = kpi.labels.get(key) or Label(key, key, kpi.unit)
            table.append(Row(**lead, measure=label, key=key, value=value))
    return table


def to_csv(tables: Iterable[list[Row]], lang: Lang = "da") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=CSV_DELIMITER[lang], lineterminator="\r\n")
    writer.writerow(_headers(lang))
    for table in tables:
        writer.writerows([_csv_cell(cell, lang) for cell in row.cells(lang).values()] for row in table)
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # the BOM makes Excel read the file as UTF-8


def _csv_cell(cell: Any, lang: Lang) -> str:
    if cell is None:
        return ""
    if isinstance(cell, date):
        return cell.isoformat()
    if isinstance(cell, bool) or not isinstance(cell, int | float):
        return str(cell)
    text = format(Decimal(repr(cell)), "f")  # never an exponent: 1.5e+16 -> 15000000000000000
    return text.replace(".", ",") if lang == "da" else text


def to_xlsx(sheets: dict[str, list[Row]], lang: Lang = "da") -> bytes:
    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, table in sheets.items():
        sheet = workbook.create_sheet(title=title[:31])
        sheet.append(_headers(lang))
        widths = [len(header) for header in _headers(lang)]
        for row in table:
            cells = row.cells(lang)
            sheet.append(list(cells.values()))
            for column, (name, value) in enumerate(cells.items(), 1):
                cell = sheet.cell(sheet.max_row, column)
                cell.number_format = _number_format(name, value, row.measure.unit)
                widths[column - 1] = max(widths[column - 1], _shown_width(value))
        for column, width in enumerate(widths, 1):
            sheet.column_dimensions[get_column_letter(column)].width = min(width + 2, MAX_WIDTH)
        sheet.freeze_panes = "A2"
        sheet.auto_filter.ref = sheet.dimensions
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _headers(lang: Lang) -> list[str]:
    return [da if lang == "da" else en for da, en in COLUMNS.values()]


def _number_format(column: str, value: Any, unit: str) -> str:
    if isinstance(value, date):
        return DATE_FORMAT
    if column in SHARED and unit == "share":
        return SHARE_FORMAT
    if isinstance(value, int) and not isinstance(value, bool):
        return COUNT_FORMAT
    if isinstance(value, float):
        return NUMBER_FORMAT
    return "General"


def _shown_width(value: Any) -> int:
    """About the characters a cell shows (a percent takes a few more than its fraction)."""
    if value is None:
        return 0
    if isinstance(value, date):
        return len(DATE_FORMAT)
    if isinstance(value, float):
        return len(f"{value:,.4f}")
    return len(f"{value:,}") if isinstance(value, int) else len(str(value))


# --- lists (the roster, the by-name list): one row per course or citizen ---------------------------

Column = tuple[str, str, str]  # (key, Danish header, English header)


def list_csv(columns: list[Column], rows: Iterable[dict[str, Any]], lang: Lang = "da") -> bytes:
    """A list as CSV with the same conventions as the KPIs' (separator, decimal mark, BOM, ISO dates)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=CSV_DELIMITER[lang], lineterminator="\r\n")
    writer.writerow([da if lang == "da" else en for _, da, en in columns])
    writer.writerows([_csv_cell(row.get(key), lang) for key, _, _ in columns] for row in rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def list_xlsx(title: str, columns: list[Column], rows: Iterable[dict[str, Any]], lang: Lang = "da") -> bytes:
    """A list as one sheet: date cells, numbers as numbers, columns as wide as their content."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title[:31]
    headers = [da if lang == "da" else en for _, da, en in columns]
    sheet.append(headers)
    widths = [len(header) for header in headers]
    for row in rows:
        values = [row.get(key) for key, _, _ in columns]
        sheet.append(values)
        for column, value in enumerate(values, 1):
            sheet.cell(sheet.max_row, column).number_format = _number_format("", value, "")
            widths[column - 1] = max(widths[column - 1], _shown_width(value))
    for column, width in enumerate(widths, 1):
        sheet.column_dimensions[get_column_letter(column)].width = min(width + 2, MAX_WIDTH)
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
