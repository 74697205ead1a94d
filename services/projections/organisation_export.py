"""The organisational indicators (docs/surveys.md §4) as CSV or XLSX, in Danish or English, by the
conventions of the KPI exports (services/projections/README.md "Exports"): ';' and a decimal comma
in Danish, ',' and a point in English, UTF-8 with a BOM; shares as fractions. One row per figure:
overall, each dimension, each item. A suppressed round has one row, marked suppressed, no figures."""

import csv
import io
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from contracts.surveys import SurveyDefinition
from services.projections.export import CSV_DELIMITER
from services.projections.kpis.labels import Lang

COLUMNS = {
    "survey": ("Spørgeskema", "Survey"),
    "version": ("Version", "Version"),
    "title": ("Titel", "Title"),
    "team": ("Team", "Team"),
    "round": ("Runde", "Round"),
    "level": ("Niveau", "Level"),
    "id": ("Teknisk nøgle", "Technical key"),
    "label": ("Opgørelse", "Measure"),
    "respondents": ("Besvarelser", "Respondents"),
    "mean": ("Gennemsnit", "Mean"),
    "share_agreeing": ("Andel enige", "Share agreeing"),
    "suppressed": ("Skjult (færre end 5)", "Suppressed (fewer than 5)"),
}
LEVELS = {"overall": ("I alt", "Overall"), "dimension": ("Dimension", "Dimension"), "item": ("Spørgsmål", "Item")}
WHOLE = ("Hele kommunen", "Whole municipality")
YES_NO = {True: ("ja", "yes"), False: ("nej", "no")}


def _pick(pair: tuple[str, str], lang: Lang) -> str:
    return pair[0] if lang == "da" else pair[1]


def rows(
    surveys: list[dict[str, Any]], definitions: dict[tuple[str, int], SurveyDefinition], lang: Lang
) -> list[list[Any]]:
    table = []
    for survey in surveys:
        definition = definitions[(survey["survey"], survey["version"])]
        texts = {i.id: _pick((i.text_da, i.text_en), lang) for i in definition.items}
        lead = [survey["survey"], survey["version"], _pick((survey["title_da"], survey["title_en"]), lang)]
        for result in survey["results"]:
            where = [result["team"] or _pick(WHOLE, lang), result["round"]]
            tail = [_pick(YES_NO[result["suppressed"]], lang)]
            overall = result["overall"]
            table.append(
                lead
                + where
                + [
                    _pick(LEVELS["overall"], lang),
                    "",
                    _pick(LEVELS["overall"], lang),
                    result["respondents"],
                    overall["mean"],
                    overall["share_agreeing"],
                ]
                + tail
            )
            if result["suppressed"]:
                continue
            for d in result["dimensions"]:
                label = d["name_da"] if lang == "da" else d["name_en"]
                table.append(
                    lead
                    + where
                    + [_pick(LEVELS["dimension"], lang), d["id"], label, None, d["mean"], d["share_agreeing"]]
                    + tail
                )
            for i in result["items"]:
                table.append(
                    lead
                    + where
                    + [_pick(LEVELS["item"], lang), i["id"], texts[i["id"]], None, i["mean"], i["share_agreeing"]]
                    + tail
                )
    return table


def headers(lang: Lang) -> list[str]:
    return [_pick(pair, lang) for pair in COLUMNS.values()]


def _cell(value: Any, lang: Lang) -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    text = format(Decimal(repr(value)), "f")
    return text.replace(".", ",") if lang == "da" else text


def to_csv(table: list[list[Any]], lang: Lang) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=CSV_DELIMITER[lang], lineterminator="\r\n")
    writer.writerow(headers(lang))
    writer.writerows([_cell(cell, lang) for cell in row] for row in table)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(table: list[list[Any]], lang: Lang) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Organisation"
    sheet.append(headers(lang))
    share_column = list(COLUMNS).index("share_agreeing") + 1
    mean_column = list(COLUMNS).index("mean") + 1
    for row in table:
        sheet.append(row)
        sheet.cell(sheet.max_row, share_column).number_format = "0.0%"
        sheet.cell(sheet.max_row, mean_column).number_format = "0.00"
    for column in range(1, len(COLUMNS) + 1):
        width = max(len(str(sheet.cell(r, column).value or "")) for r in range(1, sheet.max_row + 1))
        sheet.column_dimensions[get_column_letter(column)].width = min(width + 2, 60)
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
