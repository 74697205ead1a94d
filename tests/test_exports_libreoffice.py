"""The KPI exports as a spreadsheet reads them: LibreOffice Calc (headless, Danish locale) opens
the XLSX and the Danish CSV (and the English CSV in an English locale) and saves them as ODS,
whose cells carry their types (`office:value-type` float, percentage, date, string). The numbers
must be numbers, the dates dates, and equal to the JSON figures of the same query.

LibreOffice comes from Debian (`libreoffice-calc-nogui`); the fixture installs it with apt-get
when it is missing (tests/debian_packages.py), which takes a few minutes on a fresh machine."""

import os
import subprocess
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest

from services.projections.export import COLUMNS, HEADLINE
from tests.debian_packages import ensure_package
from tests.kpi_scenario import Scenario, client, kpi_pool  # noqa: F401 - fixture

pytestmark = pytest.mark.integration

# LibreOffice's CSV import options (help page "CSV Filter Options"): field separator, text
# delimiter, charset 76 = UTF-8, first line, column formats (none: detect), language (LCID 1030
# Danish, 1033 English US), quoted field as text, detect special numbers (dates, ...).
DANISH_CSV = "CSV:59,34,76,1,,1030"  # what Calc detects by default in Danish: special numbers on
DANISH_CSV_PLAIN = "CSV:59,34,76,1,,1030,false,false"  # special numbers off: ISO dates still read
ENGLISH_CSV = "CSV:44,34,76,1,,1033"
NS = {
    "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
    "table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
    "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0",
}
PARAMS = {"municipality": "101", "from": "2026-01-01", "to": "2026-03-31", "period": "month", "ids": "P2,O2,E3"}


@dataclass(frozen=True)
class Cell:
    type: str  # float, percentage, currency, date, string, or "" when empty
    value: Any  # a float, an ISO date or a string

    @property
    def number(self) -> float:
        assert self.type in ("float", "percentage"), self
        return float(self.value)


@pytest.fixture(scope="module")
def soffice() -> Path:
    return ensure_package("libreoffice-calc-nogui", "soffice", "libreoffice", recommends=False)


def to_ods(soffice: Path, source: Path, locale: str, infilter: str | None = None) -> dict[str, list[list[Cell]]]:
    """The document as LibreOffice Calc reads it in `locale`, saved as ODS: each sheet's cells."""
    out = source.parent / f"{source.name}-{locale}-{abs(hash(infilter))}"
    profile = source.parent / "lo-profile"  # its own profile: no clash with another LibreOffice
    command = [str(soffice), "--headless", "--norestore", f"-env:UserInstallation={profile.as_uri()}"]
    command += [f"--infilter={infilter}"] if infilter else []
    command += ["--convert-to", "ods", "--outdir", str(out), str(source)]
    env = {**os.environ, "LC_ALL": locale, "LANG": locale, "HOME": str(source.parent)}
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    converted = out / f"{source.stem}.ods"
    assert converted.exists(), f"soffice did not convert {source}: {done.stdout}{done.stderr}"
    return ods_sheets(converted)


def ods_sheets(path: Path) -> dict[str, list[list[Cell]]]:
    root = ElementTree.fromstring(zipfile.ZipFile(path).read("content.xml"))
    sheets = {}
    for table in root.iter(f"{{{NS['table']}}}table"):
        rows = []
        for row in table.iter(f"{{{NS['table']}}}table-row"):
            cells: list[Cell] = []
            for cell in row.iter(f"{{{NS['table']}}}table-cell"):
                repeated = int(cell.get(f"{{{NS['table']}}}number-columns-repeated", "1"))
                cells += [_cell(cell)] * min(repeated, 64)  # an empty row's tail repeats 1,000s of times
            while cells and cells[-1].type == "":
                cells.pop()
            if cells:
                rows.append(cells)
        sheets[table.get(f"{{{NS['table']}}}name", "")] = rows
    return sheets


def _cell(element: ElementTree.Element) -> Cell:
    kind = element.get(f"{{{NS['office']}}}value-type", "")
    if kind == "date":
        return Cell(kind, element.get(f"{{{NS['office']}}}date-value", "")[:10])
    if kind in ("float", "percentage", "currency"):
        return Cell(kind, element.get(f"{{{NS['office']}}}value"))
    text = "".join("".join(p.itertext()) for p in element.iter(f"{{{NS['text']}}}p"))
    return Cell(kind, text)


def records(rows: list[list[Cell]]) -> list[dict[str, Cell]]:
    header = [c.value for c in rows[0]]
    return [dict(zip(header, row + [Cell("", None)] * (len(header) - len(row)))) for row in rows[1:]]


async def scenario(pool) -> None:  # noqa: ANN001
    s = Scenario()
    # P2: January 1 of 2 courses with a plan in time; February 1 of 1; March none started.
    s.course("a1", "k1", "ICM", "2026-01-05")
    s.fact("HandleplanCreated", "2026-01-10", citizen="a1")
    s.course("a2", "k2", "CTI", "2026-01-20")
    s.course("a3", "k3", "ICM", "2026-02-03")
    s.fact("HandleplanCreated", "2026-02-04", citizen="a3")
    # O2: k1 ends in March, housed since before its start (stably housed); k2 gains a home and ends.
    s.fact("HousingSituationRecorded", "2026-01-02", citizen="a1", housing="almen")
    s.fact("HousingSituationRecorded", "2026-01-20", citizen="a2", housing="shelter_110")
    s.fact("HousingGained", "2026-02-15", citizen="a2", housing="almen")
    s.fact("CourseEnded", "2026-03-10", citizen="a1", course="k1", reason="completed")
    s.fact("CourseEnded", "2026-03-20", citizen="a2", course="k2", reason="completed")
    # E3: a §110 stay from 1 February, ended 11 March: bed-days at 1,057.0 DKK a day.
    s.fact("ShelterStayStarted", "2026-02-01", citizen="a3", shelter="herberg-1")
    s.fact("ShelterStayEnded", "2026-03-11", citizen="a3", discharge="planned")
    await s.apply(pool)


async def test_libreoffice_reads_the_exports_as_numbers_and_dates_equal_to_the_json(
    kpi_pool,  # noqa: ANN001, F811
    soffice: Path,
    tmp_path: Path,
) -> None:
    await scenario(kpi_pool)
    async with client(kpi_pool) as api:
        await api.put("/v1/targets/P2", json={"municipality": "101", "value": 0.75})
        figures = {}
        for kpi in PARAMS["ids"].split(","):
            one = {k: v for k, v in PARAMS.items() if k != "ids"}
            figures[kpi] = (await api.get(f"/v1/kpis/{kpi}", params=one)).json()
        downloads = {
            "noegletal.xlsx": await api.get("/v1/kpis/export", params=PARAMS | {"format": "xlsx"}),
            "noegletal.csv": await api.get("/v1/kpis/export", params=PARAMS | {"format": "csv"}),
            "noegletal-en.csv": await api.get("/v1/kpis/export", params=PARAMS | {"format": "csv", "lang": "en"}),
        }
    for name, response in downloads.items():
        assert response.status_code == 200, response.text
        (tmp_path / name).write_bytes(response.content)
    # The scenario gives every kind of cell: shares (P2), counts (O2) and amounts (E3).
    assert figures["P2"]["series"][0]["value"] == 0.5 and figures["O2"]["series"][2]["values"]["stably_housed"] == 1
    assert figures["E3"]["series"][1]["values"]["bed_days_cost_dkk"] > 0

    workbook = to_ods(soffice, tmp_path / "noegletal.xlsx", "da_DK.UTF-8")
    assert list(workbook) == ["P2", "O2", "E3"]
    for kpi, rows in workbook.items():
        assert [c.value for c in rows[0]] == [da for da, _ in COLUMNS.values()]
        assert_equal_to_json(records(rows), figures[kpi], "da", share_type="percentage")

    for source, locale, infilter, lang in (
        ("noegletal.csv", "da_DK.UTF-8", DANISH_CSV, "da"),
        ("noegletal.csv", "da_DK.UTF-8", DANISH_CSV_PLAIN, "da"),
        ("noegletal-en.csv", "en_US.UTF-8", ENGLISH_CSV, "en"),
    ):
        (sheet,) = to_ods(soffice, tmp_path / source, locale, infilter).values()
        assert [c.value for c in sheet[0]] == [da if lang == "da" else en for da, en in COLUMNS.values()]
        table = records(sheet)
        for kpi, figure in figures.items():
            mine = [r for r in table if r[_header("kpi", lang)].value == kpi]
            assert_equal_to_json(mine, figure, lang, share_type="float")


def _header(column: str, lang: str) -> str:
    da, en = COLUMNS[column]
    return da if lang == "da" else en


def assert_equal_to_json(rows: list[dict[str, Cell]], result: dict[str, Any], lang: str, share_type: str) -> None:
    """Every period's headline and breakdown, typed and equal to the JSON figure."""

    def col(row: dict[str, Cell], column: str) -> Cell:
        return row[_header(column, lang)]

    headline = HEADLINE[0] if lang == "da" else HEADLINE[1]
    share = result["unit"] == "share"
    for figure in result["series"]:
        mine = [r for r in rows if col(r, "period").value == figure["period"]]
        (top,) = [r for r in mine if col(r, "measure").value == headline]
        for row in mine:
            assert (col(row, "from").type, col(row, "to").type) == ("date", "date"), row
            assert (col(row, "from").value, col(row, "to").value) == (figure["from"], figure["to"])
        value = col(top, "value")
        if figure["value"] is None:
            assert value.type == "", top
        else:
            assert value.type == (share_type if share else "float"), top
            assert value.number == pytest.approx(figure["value"], abs=1e-9)
        for column in ("numerator", "denominator", "citizens"):
            if figure.get(column) is not None:
                assert col(top, column).type == "float"
                assert col(top, column).number == pytest.approx(figure[column], abs=1e-9)
        if figure["target"] is not None:
            assert col(top, "target").number == pytest.approx(figure["target"]["value"])
        breakdown = {col(r, "key").value: r for r in mine if r is not top}
        assert set(breakdown) == set(figure.get("values") or {})
        for key, expected in (figure.get("values") or {}).items():
            cell = col(breakdown[key], "value")
            if expected is None:
                assert cell.type == "", (key, cell)
            else:
                assert cell.type in ("float", "percentage"), (key, cell)
                assert cell.number == pytest.approx(expected, abs=1e-9), key
            assert col(breakdown[key], "measure").value not in ("", key), key  # labelled, not the code
