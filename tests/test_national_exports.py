"""The national exports (services/projections/national.py) on a hand-made scenario: the VIVE
count-week snapshot and the quarterly §110 stays file equal hand-worked rows; neither, in JSON, CSV
or XLSX, holds a CPR number, also when the facts arrived with CPR numbers (registration's keyed
pseudonyms replace them before the fold)."""

import io
import json
import re
import zipfile
from datetime import UTC, date, datetime, time
from typing import Any

from contracts.facts import fact_adapter
from services.projections import export
from services.projections.history import History, Record, fold
from services.projections.national import age_band, quarter_of, shelter_stays, vive_count
from services.projections.national_api import STAY_COLUMNS, VIVE_COLUMNS
from services.registration.identity import Pseudonyms

CPR_A1 = "0101801234"  # a1 and a5 arrive with CPR numbers
CPR_A5 = "150575-4321"
PSEUDONYMS = Pseudonyms("test-key-for-the-national-exports")
A1 = PSEUDONYMS.citizen_id("101", CPR_A1)
A5 = PSEUDONYMS.citizen_id("101", CPR_A5)


def _fact(fact_type: str, on: str, who: str, course: str | None = None, **fields: Any) -> Any:
    identity = {"cpr": who} if who[0].isdigit() else {"citizen_id": who}
    body = {"type": fact_type, "municipality": "101", "effective_date": on} | identity
    fact = fact_adapter.validate_python(body | ({"course_id": course} if course else {}) | fields)
    return PSEUDONYMS.identify(fact)


def _history() -> History:
    facts = [
        # a1 (CPR): born 1980, male; on the street from 10 January, into shelter sh-1 on Thursday
        # 5 February; ICM from 15 January. Contact 9 February (4 days), ready 1 March, out 20 March
        # (planned, to an almen home).
        _fact("CitizenRegistered", "2026-01-10", CPR_A1, birth_year=1980, gender="male"),
        _fact("HousingSituationRecorded", "2026-01-10", CPR_A1, housing="street"),
        _fact("VisitationDecided", "2026-01-15", CPR_A1, "k1", method="ICM", team="team-a"),
        _fact("CourseStarted", "2026-01-15", CPR_A1, "k1"),
        _fact("ShelterStayStarted", "2026-02-05", CPR_A1, shelter="sh-1"),
        _fact("ShelterContactMade", "2026-02-09", CPR_A1),
        _fact("AssessedReadyToMove", "2026-03-01", CPR_A1),
        _fact("ShelterStayEnded", "2026-03-20", CPR_A1, discharge="planned", destination="almen"),
        # a2: born 2000, female; sofa from 1 January, housed Tuesday 3 February; no course.
        _fact("CitizenRegistered", "2026-01-01", "a2", birth_year=2000, gender="female"),
        _fact("HousingSituationRecorded", "2026-01-01", "a2", housing="sofa"),
        _fact("HousingGained", "2026-02-03", "a2", housing="almen"),
        # a3: in an own home: no row.
        _fact("HousingSituationRecorded", "2025-12-01", "a3", housing="almen"),
        # a4: born 1960, gender not given; on the street from Sunday 8 February; a CTI course that
        # ended Tuesday 3 February (active on Monday 2 February).
        _fact("CitizenRegistered", "2026-01-01", "a4", birth_year=1960),
        _fact("VisitationDecided", "2026-01-01", "a4", "k4", method="CTI", team="team-a"),
        _fact("CourseStarted", "2026-01-01", "a4", "k4"),
        _fact("CourseEnded", "2026-02-03", "a4", "k4", reason="moved"),
        _fact("HousingSituationRecorded", "2026-02-08", "a4", housing="street"),
        # a5 (CPR): shelter sh-2 from 20 December 2025 to 5 January (unplanned, to almen); on the
        # street from Monday 9 February, after the count week.
        _fact("ShelterStayStarted", "2025-12-20", CPR_A5, shelter="sh-2"),
        _fact("ShelterStayEnded", "2026-01-05", CPR_A5, discharge="unplanned", destination="almen"),
        _fact("HousingSituationRecorded", "2026-02-09", CPR_A5, housing="street"),
        # a6: shelter sh-1 from 25 March, open at the quarter's end; contacted 2 April (next quarter).
        _fact("ShelterStayStarted", "2026-03-25", "a6", shelter="sh-1"),
        _fact("ShelterContactMade", "2026-04-02", "a6"),
        # a7: a stay of the quarter before: no row.
        _fact("ShelterStayStarted", "2025-10-01", "a7", shelter="sh-2"),
        _fact("ShelterStayEnded", "2025-12-31", "a7", discharge="planned", destination="sel107"),
    ]
    at = datetime.combine(date(2026, 4, 10), time(12), UTC)
    return fold("101", [Record(n, at, one) for n, one in enumerate(facts, start=1)])


def test_the_vive_snapshot_has_one_row_per_citizen_homeless_in_the_count_week() -> None:
    result = vive_count(_history(), date(2026, 2, 4))  # Wednesday: the week 2-8 February
    assert (result["version"], result["week_start"], result["week_end"]) == ("vive-count/1", "2026-02-02", "2026-02-08")
    # a1: street, then shelter from Thursday: the last homeless day's situation, §110 (VIVE 3);
    # 2026 - 1980 = 46: 40-49. a2: sofa on Monday (VIVE 5), 2026 - 2000 = 26: 25-29, no course.
    # a4: street on Sunday (VIVE 1), 2026 - 1960 = 66: 60+; CTI active on Monday. a3 housed, a5 on
    # the street only from 9 February: no rows. Each cell has 1 citizen: all flagged (under 5).
    # Ordered by category, age band, gender, method.
    assert result["rows"] == [
        {"situation": "street", "vive_category": 1, "age_band": "60+", "gender": "unknown", "method": "CTI", "small_cell": True},
        {"situation": "shelter_110", "vive_category": 3, "age_band": "40-49", "gender": "male", "method": "ICM", "small_cell": True},
        {"situation": "sofa", "vive_category": 5, "age_band": "25-29", "gender": "female", "method": "none", "small_cell": True},
    ]  # fmt: skip
    assert result["citizens"] == 3
    counts = {r["situation"]: (r["citizens"], r["small_cell"]) for r in result["by_situation"]}
    assert counts["street"] == (1, True) and counts["sofa"] == (1, True) and counts["hotel"] == (0, False)
    assert len(counts) == 9


def test_the_age_bands_and_the_small_cell_limit() -> None:
    assert [age_band(2026 - age, 2026) for age in (17, 18, 24, 25, 29, 30, 59, 60)] == [
        "under_18", "18-24", "18-24", "25-29", "25-29", "30-39", "50-59", "60+",
    ]  # fmt: skip
    assert age_band(None, 2026) == "unknown"
    # Five citizens on the street in one cell: not flagged; a sixth in another cell: flagged.
    facts = [
        fact_adapter.validate_python(
            {"type": t, "municipality": "101", "effective_date": "2026-02-02", "citizen_id": f"s{n}"} | extra
        )
        for n in range(6)
        for t, extra in (
            ("CitizenRegistered", {"birth_year": 1990, "gender": "male" if n < 5 else "female"}),
            ("HousingSituationRecorded", {"housing": "street"}),
        )
    ]
    at = datetime.combine(date(2026, 2, 3), time(12), UTC)
    rows = vive_count(fold("101", [Record(n, at, f) for n, f in enumerate(facts)]), date(2026, 2, 2))["rows"]
    assert [(r["gender"], r["small_cell"]) for r in rows] == [("female", True)] + [("male", False)] * 5


def test_the_shelter_stays_file_has_one_row_per_stay_overlapping_the_quarter() -> None:
    result = shelter_stays(_history(), date(2026, 2, 4))
    assert (result["version"], result["quarter_start"], result["quarter_end"]) == (
        "shelter-stays/1",
        "2026-01-01",
        "2026-03-31",
    )
    # By citizen pseudonym: a1 (5 Feb - 20 Mar, planned to almen, contact 9 - 5 = 4 days, ready 1
    # Mar), a5 (20 Dec - 5 Jan: overlaps the quarter by 5 days; unplanned), a6 (open; the contact is
    # in April: not yet known in the quarter). a7 ended 31 December: before the quarter.
    expected = {
        A1: {"citizen": A1, "shelter": "sh-1", "check_in": "2026-02-05", "check_out": "2026-03-20",
             "discharge": "planned", "destination": "almen", "days_to_contact": 4, "ready_to_move_on": "2026-03-01"},
        A5: {"citizen": A5, "shelter": "sh-2", "check_in": "2025-12-20", "check_out": "2026-01-05",
             "discharge": "unplanned", "destination": "almen", "days_to_contact": None, "ready_to_move_on": None},
        "a6": {"citizen": "a6", "shelter": "sh-1", "check_in": "2026-03-25", "check_out": None,
               "discharge": None, "destination": None, "days_to_contact": None, "ready_to_move_on": None},
    }  # fmt: skip
    assert result["rows"] == [expected[c] for c in sorted(expected)]
    assert quarter_of(date(2026, 11, 30)) == (date(2026, 10, 1), date(2026, 12, 31))


CPR_SHAPED = re.compile(r"(?<![0-9a-f])\d{6}-?\d{4}(?![0-9a-f])")


def _texts(body: bytes) -> str:
    """A file's text: an XLSX's XML parts unzipped, a CSV as it is."""
    if body[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(body)) as xlsx:
            return "".join(xlsx.read(name).decode("utf-8") for name in xlsx.namelist())
    return body.decode("utf-8-sig")


def test_no_export_holds_a_cpr_number() -> None:
    history = _history()
    vive, stays = vive_count(history, date(2026, 2, 4)), shelter_stays(history, date(2026, 2, 4))
    files = [json.dumps(vive), json.dumps(stays)]
    for lang in ("da", "en"):
        files.append(_texts(export.list_csv(VIVE_COLUMNS, vive["rows"], lang)))
        files.append(_texts(export.list_xlsx("VIVE", VIVE_COLUMNS, vive["rows"], lang)))
        files.append(_texts(export.list_csv(STAY_COLUMNS, stays["rows"], lang)))
        files.append(_texts(export.list_xlsx("Stays", STAY_COLUMNS, stays["rows"], lang)))
    assert A1 in files[1] and A1.startswith("p-")  # the stays file is keyed by the pseudonym
    for text in files:
        assert CPR_A1 not in text and CPR_A5 not in text and CPR_A5.replace("-", "") not in text
        assert not CPR_SHAPED.search(text), CPR_SHAPED.search(text)
