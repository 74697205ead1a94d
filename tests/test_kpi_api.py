"""The KPI HTTP API on the real read model: catalogue, series with previous period and target,
as_of, CSV/XLSX exports, benchmarks with suppression, the double bottom line, and bad input."""

import csv
import io

import openpyxl
import pytest

from contracts.audit import AUDIT_STREAM
from runtime.audit import AuditLog, AuditQuery
from runtime.bus import connect, ensure_streams
from tests.kpi_scenario import Scenario, client, kpi_pool  # noqa: F401 - fixture

pytestmark = pytest.mark.integration

CATALOGUE_IDS = (
    {f"P{i}" for i in range(1, 9)}  # P8: the referral funnel
    | {f"O{i}" for i in range(1, 17)}  # O12-O15: the flow measures, O16 the Recovery Star
    | {f"E{i}" for i in range(1, 6)}
    | {"S1", "S2", "S3"}
)


async def test_catalogue_lists_every_kpi_with_its_definition(kpi_pool) -> None:
    async with client(kpi_pool) as api:
        body = (await api.get("/v1/kpis")).json()
    kpis, units = body["kpis"], body["units"]
    assert {k["id"] for k in kpis} == CATALOGUE_IDS
    for k in kpis:
        assert k["name_da"] and k["name_en"] and k["unit_da"] and k["unit_en"]
        assert len(k["definition_da"]) > 80 and len(k["definition_en"]) > 80 and k["definition"] == k["definition_en"]
        assert k["computation"] and k["computation"] != k["definition_en"]
    assert {k["kind"] for k in kpis} == {"process", "outcome", "economy", "structure"}
    o2 = next(k for k in kpis if k["id"] == "O2")
    assert o2["value_labels"]["stably_housed"] == {"da": "Stabilt boende", "en": "Stably housed", "unit": "courses"}
    assert units["share"] == {"da": "andel", "en": "share"}


async def p2_scenario(pool) -> None:
    s = Scenario()
    # January: 2 starts, 1 plan in time; February: 2 starts, 2 in time (one told late, in March).
    s.course("a1", "k1", "ICM", "2026-01-05")
    s.fact("HandleplanCreated", "2026-01-10", citizen="a1")
    s.course("a2", "k2", "CTI", "2026-01-20", team="team-b")
    s.course("a3", "k3", "ICM", "2026-02-03")
    s.fact("HandleplanCreated", "2026-02-04", citizen="a3")
    s.course("a4", "k4", "ICM", "2026-02-10")
    s.fact("HandleplanCreated", "2026-02-20", recorded="2026-03-05", citizen="a4")
    await s.apply(pool)


async def test_series_with_previous_period_target_and_as_of(kpi_pool) -> None:
    await p2_scenario(kpi_pool)
    async with client(kpi_pool) as api:
        put = await api.put("/v1/targets/P2", json={"municipality": "101", "value": 0.9})
        assert put.status_code == 200, put.text
        params = {"municipality": "101", "from": "2026-01-01", "to": "2026-02-28", "period": "month"}
        series = (await api.get("/v1/kpis/P2", params=params)).json()["series"]
        known_before = (await api.get("/v1/kpis/P2", params=params | {"as_of": "2026-03-01"})).json()["series"]
        icm = (await api.get("/v1/kpis/P2", params=params | {"method": "ICM"})).json()["series"]
        team_b = (await api.get("/v1/kpis/P2", params=params | {"team": "team-b"})).json()["series"]
    # January 1 / 2 = 0.5; February 2 / 2 = 1.0, up 0.5 on January, 0.1 above the 0.9 target.
    assert [(p["period"], p["value"]) for p in series] == [("2026-01", 0.5), ("2026-02", 1.0)]
    assert series[1]["previous"] == {"from": "2026-01-01", "to": "2026-01-31", "value": 0.5, "change": 0.5}
    assert series[1]["target"] == {"value": 0.9, "difference": 0.1}
    assert series[0]["previous"]["value"] is None  # December: no course started
    # Known on 1 March, a4's plan was not: February 1 / 2.
    assert [p["value"] for p in known_before] == [0.5, 0.5]
    # ICM only: January a1 1 / 1; the CTI course a2 is team-b's: 0 / 1.
    assert [p["value"] for p in icm] == [1.0, 1.0] and [p["value"] for p in team_b] == [0.0, None]


async def test_csv_and_xlsx_hold_the_json_numbers(kpi_pool) -> None:
    await p2_scenario(kpi_pool)
    params = {"municipality": "101", "from": "2026-01-01", "to": "2026-02-28", "period": "month"}
    async with client(kpi_pool) as api:
        await api.put("/v1/targets/P2", json={"municipality": "101", "value": 0.75})
        as_json = (await api.get("/v1/kpis/P2", params=params)).json()
        as_csv = await api.get("/v1/kpis/P2", params=params | {"format": "csv"})
        as_english_csv = await api.get("/v1/kpis/P2", params=params | {"format": "csv", "lang": "en"})
        as_xlsx = await api.get("/v1/kpis/P2", params=params | {"format": "xlsx"})
        workbook_response = await api.get("/v1/kpis/export", params=params | {"ids": "P1,P2,O1"})
        english_workbook = await api.get("/v1/kpis/export", params=params | {"ids": "O1", "lang": "en"})
        bad_lang = await api.get("/v1/kpis/P2", params=params | {"format": "csv", "lang": "de"})
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert as_csv.content.startswith("\ufeff".encode())  # UTF-8 with BOM
    rows = list(csv.DictReader(io.StringIO(as_csv.content.decode("utf-8-sig")), delimiter=";"))
    english = list(csv.DictReader(io.StringIO(as_english_csv.content.decode("utf-8-sig")), delimiter=","))
    sheet = openpyxl.load_workbook(io.BytesIO(as_xlsx.content))["P2"]
    header = [c.value for c in sheet[1]]
    cells = [dict(zip(header, (c for c in row))) for row in sheet.iter_rows(min_row=2)]
    assert header == list(rows[0].keys()) and "Værdi" in header and "Nævner" in header
    assert list(english[0].keys())[:4] == ["KPI", "Name", "Municipality", "Period"]

    def danish(number: str) -> float:
        assert "." not in number, number  # a decimal comma, no thousands mark
        return float(number.replace(",", "."))

    for figure in as_json["series"]:
        from_csv = next(r for r in rows if r["Periode"] == figure["period"] and r["Opgørelse"] == "Hovedtal")
        from_english = next(r for r in english if r["Period"] == figure["period"] and r["Measure"] == "Headline figure")
        from_xlsx = next(
            r for r in cells if r["Periode"].value == figure["period"] and r["Opgørelse"].value == "Hovedtal"
        )
        expected = (figure["value"], figure["numerator"], figure["denominator"], figure["target"]["value"])
        assert (
            danish(from_csv["Værdi"]),
            int(from_csv["Tæller"]),
            int(from_csv["Nævner"]),
            danish(from_csv["Måltal"]),
        ) == expected
        assert (from_csv["Fra"], from_csv["Til"], from_csv["Enhed"]) == (figure["from"], figure["to"], "andel")
        assert (float(from_english["Value"]), float(from_english["Target"])) == (expected[0], expected[3])
        assert tuple(from_xlsx[c].value for c in ("Værdi", "Tæller", "Nævner", "Måltal")) == expected
        assert from_xlsx["Fra"].value.date().isoformat() == figure["from"] and from_xlsx["Fra"].is_date
        assert from_xlsx["Værdi"].number_format == from_xlsx["Måltal"].number_format == "0.0%"
        assert from_xlsx["Tæller"].number_format == "#,##0"
    assert "0,5" in {r["Værdi"] for r in rows} and "0.5" in {r["Value"] for r in english}

    workbook = openpyxl.load_workbook(io.BytesIO(workbook_response.content))
    assert workbook.sheetnames == ["P1", "P2", "O1"]
    p1_header = [c.value for c in workbook["P1"][1]]
    p1 = [dict(zip(p1_header, (c.value for c in row))) for row in workbook["P1"].iter_rows(min_row=2)]
    # February's end: a1, a3, a4 ICM and a2 CTI active -> ICM 3, total 4.
    feb = {row["Opgørelse"]: row["Værdi"] for row in p1 if row["Periode"] == "2026-02"}
    assert (feb["Hovedtal"], feb["ICM"], feb["CTI"], feb["§85-støtte"]) == (4, 3, 1, 0)
    o1 = [[c.value for c in row] for row in workbook["O1"].iter_rows()]
    assert ["På periodens sidste dag: egen bolig"] == [r[7] for r in o1 if r[-1] == "now.own_home"][:1]
    english_o1 = [
        [c.value for c in row] for row in openpyxl.load_workbook(io.BytesIO(english_workbook.content))["O1"].iter_rows()
    ]
    assert english_o1[0][7] == "Measure" and "On the last day of the period: own home" in {r[7] for r in english_o1}
    assert bad_lang.status_code == 422 and bad_lang.json()["error"]["reason"] == "validation_error"


async def test_benchmark_hides_a_figure_on_four_citizens(kpi_pool) -> None:
    s = Scenario()
    for i in range(5):
        s.course(f"x{i}", f"k{i}", "ICM", "2026-03-01")
    for i in range(4):
        s.course(f"y{i}", f"l{i}", "ICM", "2026-03-01", municipality="147")
    for i in range(6):
        s.course(f"z{i}", f"m{i}", "ACT", "2026-03-01", municipality="751")
    await s.apply(kpi_pool)
    async with client(kpi_pool) as api:
        bench = (await api.get("/v1/kpis/P1/benchmark", params={"on": "2026-04-01"})).json()
    async with client(kpi_pool, "token-admin") as admin_api:
        admin = await admin_api.get("/v1/kpis/P1/benchmark")
    rows = {r["municipality"]: r for r in bench["municipalities"]}
    assert [r["municipality"] for r in bench["municipalities"]] == ["101", "147", "751"]  # own first
    assert rows["101"]["own"] and rows["101"]["value"] == 5 and not rows["101"]["suppressed"]
    assert rows["147"] == {
        "municipality": "147",
        "own": False,
        "from": "2026-04-01",
        "to": "2026-04-01",
        "suppressed": True,
        "value": None,
    }  # 4 citizens: hidden
    assert rows["751"]["value"] == 6 and "values" not in rows["751"]  # aggregates only
    assert admin.status_code == 422 and admin.json()["error"]["reason"] == "municipality_missing"


async def test_double_bottom_line_of_a_cti_course(kpi_pool, nats_server) -> None:
    s = Scenario()
    s.course("c1", "k1", "CTI", "2026-01-05", worker="w-anna")
    s.course("c2", "k2", "ICM", "2026-01-05", team="team-b", worker="w-bo")
    s.fact("CtiPhaseStarted", "2026-01-05", citizen="c1", course="k1", phase="1")
    s.fact("TimePlanned", "2026-01-05", citizen="c1", course="k1", cti_phase="1", expected_hours=20)
    s.fact("TimePlanned", "2026-01-05", citizen="c1", course="k1", cti_phase="2", expected_hours=10)
    s.fact(
        "ExpectedProgressionSet",
        "2026-01-05",
        citizen="c1",
        course="k1",
        instrument="WHO5",
        checkpoints=[{"on": "2026-01-05", "value": 32}, {"on": "2026-04-05", "value": 48}],
    )
    s.fact("MeasurementRecorded", "2026-01-06", citizen="c1", course="k1", instrument="WHO5", answers=[1, 2, 2, 1, 2])
    s.fact("ContactRecorded", "2026-01-10", citizen="c1", course="k1", minutes=300, kind="face_to_face")
    s.fact("ContactRecorded", "2026-02-10", citizen="c1", course="k1", minutes=600, kind="partners")
    s.fact("CtiPhaseStarted", "2026-04-05", citizen="c1", course="k1", phase="2")
    s.fact("ContactRecorded", "2026-04-10", citizen="c1", course="k1", minutes=120, kind="phone_digital")
    s.fact("MeasurementRecorded", "2026-04-07", citizen="c1", course="k1", instrument="WHO5", answers=[2, 2, 3, 2, 2])
    s.fact(
        "ContactRecorded",
        "2026-03-01",
        recorded="2026-05-01",
        citizen="c1",
        course="k1",
        minutes=180,
        kind="face_to_face",
    )  # told late
    await s.apply(kpi_pool)
    nc = await connect(nats_server.url, "test")
    audit = AuditLog(nc.jetstream(), "projections")
    await ensure_streams(audit.js, [AUDIT_STREAM])
    of_101 = {"municipality": "101"}
    async with client(kpi_pool, "token-worker-101", audit=audit) as api:
        dbl = (await api.get("/v1/courses/k1/double-bottom-line", params=of_101)).json()
        earlier = (
            await api.get(
                "/v1/courses/k1/double-bottom-line",
                params={"municipality": "101", "as_of": "2026-04-30", "on": "2026-04-30"},
            )
        ).json()
        # Another worker's course and a course that does not exist look the same to a support worker.
        others = await api.get("/v1/courses/k2/double-bottom-line", params=of_101)
        nowhere = await api.get("/v1/courses/nope/double-bottom-line", params=of_101)
        assert (others.status_code, others.json()) == (nowhere.status_code, nowhere.json())
        assert nowhere.json()["error"]["reason"] == "forbidden"
    async with client(kpi_pool, "token-leader-101", audit=audit) as leader:
        assert (await leader.get("/v1/courses/k1/double-bottom-line", params=of_101)).status_code == 200
        assert (await leader.get("/v1/courses/k2/double-bottom-line", params=of_101)).status_code == 403
    async with client(kpi_pool, "token-manager-101", audit=audit) as manager:
        assert (await manager.get("/v1/courses/k1/double-bottom-line", params=of_101)).status_code == 403
    async with client(kpi_pool, "token-admin", audit=audit) as admin:
        missing = await admin.get("/v1/courses/nope/double-bottom-line", params=of_101)
    # Each served read is on the audit trail, with who read it; refused ones are not reads.
    reads = (await audit.query(AuditQuery("101", "course", order="asc"))).reads
    assert [(r.entry.actor, r.entry.subject_id, r.entry.action) for r in reads] == [
        ("anna", "k1", "read_double_bottom_line"),
        ("anna", "k1", "read_double_bottom_line"),
        ("lise", "k1", "read_double_bottom_line"),
        ("admin", "nope", "read_double_bottom_line"),
    ]
    # Without its audit trail the service serves no course data at all.
    async with client(kpi_pool, "token-worker-101") as unaudited:
        refused = await unaudited.get("/v1/courses/k1/double-bottom-line", params=of_101)
    assert (refused.status_code, refused.json()["error"]["reason"]) == (503, "audit_unavailable")
    # Nor when the bus does not take the entry.
    await nc.close()
    async with client(kpi_pool, "token-worker-101", audit=audit) as cut_off:
        refused = await cut_off.get("/v1/courses/k1/double-bottom-line", params=of_101)
    assert (refused.status_code, refused.json()["error"]["reason"]) == (503, "audit_unavailable")
    # Phase 1: 5 + 10 + 3 = 18 h of 20; phase 2: 2 h, cumulative 20 of 30.
    assert [
        (
            h["unit"],
            h["expected_hours"],
            h["actual_hours"],
            h["cumulative_expected_hours"],
            h["cumulative_actual_hours"],
            h["share_used"],
        )
        for h in dbl["hours"]
    ] == [("phase_1", 20, 18, 20, 18, 0.9), ("phase_2", 10, 2, 30, 20, 0.6667)]
    # WHO-5 index: raw 8 x 4 = 32, then raw 11 x 4 = 44, against the expected 32 -> 48.
    (who5,) = dbl["progression"]
    assert who5["instrument"] == "WHO5"
    assert [p["value"] for p in who5["expected"]] == [32, 48] and [p["value"] for p in who5["actual"]] == [32, 44]
    # As known on 30 April, the 1 March contact was not told: phase 1 15 h.
    assert earlier["hours"][0]["actual_hours"] == 15
    assert missing.status_code == 404 and missing.json()["error"]["reason"] == "course_not_found"


@pytest.mark.parametrize(
    "path, params, status, reason",
    [
        ("/v1/kpis/P99", {"municipality": "101"}, 404, "kpi_not_found"),
        ("/v1/kpis/P2", {"municipality": "101", "from": "2026-03-01", "to": "2026-01-01"}, 422, "period_reversed"),
        ("/v1/kpis/P2", {"municipality": "101", "method": "XYZ"}, 422, "validation_error"),
        ("/v1/kpis/P2", {"municipality": "101", "period": "week"}, 422, "validation_error"),
        (
            "/v1/kpis/P2",
            {"municipality": "101", "from": "1900-01-01", "to": "2026-01-01", "period": "month"},
            422,
            "too_many_periods",
        ),
        ("/v1/kpis/P1", {"municipality": "101", "on": "2026-01-01", "from": "2025-01-01"}, 422, "on_with_period"),
        ("/v1/kpis/P2", {"municipality": "147"}, 403, "municipality_forbidden"),
        ("/v1/kpis/P2", {"municipality": "101", "format": "pdf"}, 422, "validation_error"),
        ("/v1/kpis/export", {"municipality": "101", "format": "json"}, 422, "format_not_supported"),
        ("/v1/kpis/export", {"municipality": "101", "ids": "P1,Q7"}, 404, "kpi_not_found"),
        ("/v1/kpis/E4", {"municipality": "101", "success_rate": "2"}, 422, "validation_error"),
    ],
)
async def test_bad_input_is_a_clear_4xx(kpi_pool, path, params, status, reason) -> None:
    async with client(kpi_pool) as api:
        response = await api.get(path, params=params)
    assert response.status_code == status, response.text
    assert response.json()["error"]["reason"] == reason


async def test_targets_are_scoped_and_validated(kpi_pool) -> None:
    async with client(kpi_pool) as api:
        assert (await api.put("/v1/targets/P2", json={"municipality": "147", "value": 1})).status_code == 403
        assert (await api.put("/v1/targets/P99", json={"municipality": "101", "value": 1})).status_code == 404
        assert (await api.put("/v1/targets/P2", json={"municipality": "101"})).status_code == 422
        await api.put("/v1/targets/P2", json={"municipality": "101", "value": 0.8})
        await api.put("/v1/targets/P2", json={"municipality": "101", "value": 0.85})
        assert (await api.get("/v1/targets", params={"municipality": "101"})).json()["targets"] == {"P2": 0.85}
