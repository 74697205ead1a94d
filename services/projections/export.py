"""KPI figures as CSV and Excel (XLSX) with Danish headers: one row per period and measure,
one sheet per KPI. The numbers are the JSON figures' numbers, unrounded further."""

import csv
import io
from typing import Any

from openpyxl import Workbook

from services.projections.kpis import Kpi

HEADERS = [
    "Nøgletal",
    "Navn",
    "Kommune",
    "Periode",
    "Fra",
    "Til",
    "Opgjort pr.",
    "Opgørelse",
    "Værdi",
    "Tæller",
    "Nævner",
    "Borgere",
    "Måltal",
    "Forrige periode",
]
HEADLINE = "værdi"
CSV_DELIMITER = ";"


def rows(kpi: Kpi, municipality: str, result: dict[str, Any], as_of: str | None) -> list[list[Any]]:
    series = result.get("series") or [result]
    table = []
    for figure in series:
        lead = [kpi.id, kpi.name_da, municipality, figure.get("period", ""), figure["from"], figure["to"], as_of or ""]
        target = (figure.get("target") or {}).get("value")
        before = (figure.get("previous") or {}).get("value")
        table.append(
            lead
            + [
                HEADLINE,
                figure.get("value"),
                figure.get("numerator"),
                figure.get("denominator"),
                figure.get("citizens"),
                target,
                before,
            ]
        )
        for measure, value in (figure.get("values") or {}).items():
            table.append(lead + [measure, value, None, None, None, None, None])
    return table


def to_csv(tables: list[list[list[Any]]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=CSV_DELIMITER, lineterminator="\r\n")
    writer.writerow(HEADERS)
    for table in tables:
        writer.writerows([["" if cell is None else cell for cell in row] for row in table])
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # the BOM makes Excel read æøå right


def to_xlsx(sheets: dict[str, list[list[Any]]]) -> bytes:
    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, table in sheets.items():
        sheet = workbook.create_sheet(title=title[:31])
        sheet.append(HEADERS)
        for row in table:
            sheet.append(row)
        sheet.freeze_panes = "A2"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
