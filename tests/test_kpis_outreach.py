"""Issue 17's methods in the KPIs: E5 (hours per outreach phase, staff and leaders) on a small fixed
scenario, the `method` filter for OUTREACH (a course method) and UDREDNING/KOREPLAN (citizen
methods), over the API and in the exports' filter columns; each with a backdated fact and `as_of`."""

import csv
import io

import openpyxl
import pytest

from contracts.codes import CitizenMethod, Method
from tests.kpi_scenario import Scenario, client, figure, kpi_pool  # noqa: F401 - fixture

pytestmark = pytest.mark.integration


async def test_e5_hours_per_outreach_phase_for_staff_and_leaders(kpi_pool) -> None:
    s = Scenario()
    s.fact("WorkerRegistered", "2026-01-01", worker_id="w1", team_id="team-o", role="support_worker")
    s.fact("WorkerRegistered", "2026-01-01", worker_id="l1", team_id="team-o", role="team_leader")
    s.course("a", "o1", "OUTREACH", "2026-03-01", team="team-o", worker="w1")
    s.fact("OutreachPhaseStarted", "2026-03-01", citizen="a", course="o1", phase="contact_making")
    s.fact("ContactRecorded", "2026-03-05", citizen="a", course="o1", minutes=60, kind="face_to_face")
    s.fact("ContactRecorded", "2026-03-10", citizen="a", course="o1", minutes=30, kind="attempted")
    s.fact("OutreachPhaseStarted", "2026-03-15", citizen="a", course="o1", phase="relationship")
    s.fact("ContactRecorded", "2026-03-16", citizen="a", course="o1", minutes=90, kind="face_to_face")
    s.fact("SupportWorkerChanged", "2026-03-20", citizen="a", course="o1", support_worker="l1")
    s.fact("ContactRecorded", "2026-03-22", citizen="a", course="o1", minutes=45, kind="face_to_face")
    s.fact(  # told late: on 1 April the course was still in relationship building
        "OutreachPhaseStarted", "2026-03-25", recorded="2026-04-20", citizen="a", course="o1", phase="bridging"
    )
    s.fact("ContactRecorded", "2026-03-28", citizen="a", course="o1", minutes=30, kind="phone_digital")
    s.course("b", "o2", "OUTREACH", "2026-03-01", team="team-o", worker="w1")
    s.fact("ContactRecorded", "2026-03-05", citizen="b", course="o2", minutes=60, kind="face_to_face")  # no phase
    s.fact("OutreachPhaseStarted", "2026-03-10", citizen="b", course="o2", phase="contact_making")
    s.fact("ContactRecorded", "2026-03-12", citizen="b", course="o2", minutes=120, kind="face_to_face")
    s.course("c", "k3", "ICM", "2026-03-01", worker="w1")  # not outreach: not counted
    s.fact("ContactRecorded", "2026-03-12", citizen="c", course="k3", minutes=600, kind="face_to_face")
    await s.apply(kpi_pool)

    e5 = await figure(kpi_pool, "E5", "2026-03-01", "2026-03-31")
    v = e5["values"]
    # contact making: o1 60 + 30 min = 1.5 h and o2 120 min = 2 h, all staff -> 3.5 h, 1.75 per course
    # (o2's contact before its first phase is left out).
    assert (v["contact_making.hours"], v["contact_making.staff_hours"], v["contact_making.leader_hours"]) == (
        3.5,
        3.5,
        0.0,
    )
    assert v["contact_making.mean_per_course"] == 1.75
    # relationship: 90 min staff (w1) + 45 min leader (l1, from 20 March) = 2.25 h.
    assert (v["relationship.hours"], v["relationship.staff_hours"], v["relationship.leader_hours"]) == (2.25, 1.5, 0.75)
    # bridging: 30 min of the leader on 28 March = 0.5 h.
    assert (v["bridging.hours"], v["bridging.leader_hours"], v["bridging.mean_per_course"]) == (0.5, 0.5, 0.5)
    assert (e5["value"], e5["citizens"]) == (6.25, 2)  # 3.5 + 2.25 + 0.5

    # Known on 1 April, the bridging phase was not: 28 March still relationship building (leader).
    e5 = await figure(kpi_pool, "E5", "2026-03-01", "2026-03-31", as_of="2026-04-01")
    v = e5["values"]
    assert (v["relationship.hours"], v["relationship.leader_hours"]) == (2.75, 1.25)  # 2.25 + 0.5
    assert (v["bridging.hours"], v["bridging.mean_per_course"], e5["value"]) == (0.0, None, 6.25)


async def test_the_method_filter_takes_outreach_udredning_and_koereplan(kpi_pool) -> None:
    s = Scenario()
    for citizen in ("a", "b", "c", "d"):
        s.course(citizen, f"k-{citizen}", "ICM", "2026-02-01")
    s.course("e", "o-e", "OUTREACH", "2026-02-01")
    s.fact("ShelterStayStarted", "2026-02-18", citizen="a", shelter="h1")
    s.fact("UdredningStarted", "2026-02-20", citizen="a")  # Udredning og Plan into March: counted
    s.fact("UdredningCompleted", "2026-03-05", citizen="a", recommended_housing="almen")
    s.fact("ShelterStayStarted", "2026-01-08", citizen="d", shelter="h1")
    s.fact("UdredningStarted", "2026-01-10", citizen="d")  # completed in January: not in March
    s.fact("UdredningCompleted", "2026-01-30", citizen="d", recommended_housing="skaev")
    s.fact(  # a Køreplan made in March, told in April
        "ReleasePlanned",
        "2026-03-10",
        recorded="2026-04-10",
        citizen="b",
        release_from="prison",
        planned_release_on="2026-05-01",
    )
    await s.apply(kpi_pool)

    async def active(method: Method | CitizenMethod, as_of: str | None = None) -> tuple[int, dict]:
        p1 = await figure(kpi_pool, "P1", "2026-03-01", "2026-03-31", as_of=as_of, method=method)
        return p1["value"], p1["values"]

    # Active on 31 March: a, b, c, d ICM and e OUTREACH. UDREDNING: a only (d's ended in January);
    # KOREPLAN: b; OUTREACH: e's course.
    assert (await active(CitizenMethod.UDREDNING))[0] == 1
    assert (await active(CitizenMethod.KOREPLAN))[0] == 1
    assert (await active(CitizenMethod.KOREPLAN, as_of="2026-04-01"))[0] == 0  # b's Køreplan not yet known
    total, values = await active(Method.OUTREACH)
    assert (total, values["OUTREACH"], values["ICM"]) == (1, 1, 0)

    params = {"municipality": "101", "from": "2026-03-01", "to": "2026-03-31", "method": "UDREDNING"}
    async with client(kpi_pool) as api:
        as_json = (await api.get("/v1/kpis/P1", params=params)).json()
        as_csv = await api.get("/v1/kpis/P1", params=params | {"format": "csv"})
        as_xlsx = await api.get("/v1/kpis/P1", params=params | {"format": "xlsx", "lang": "en", "gender": "male"})
        wrong = await api.get("/v1/kpis/P1", params=params | {"method": "CAMPING"})
    assert (as_json["method"], as_json["value"]) == ("UDREDNING", 1)
    rows = list(csv.DictReader(io.StringIO(as_csv.content.decode("utf-8-sig")), delimiter=";"))
    # The export names the filters it was computed with, in the reader's language.
    assert {(r["Metode"], r["Aldersgruppe"], r["Køn"], r["Målgruppe"]) for r in rows} == {
        ("Udredning og Plan", "", "", "")
    }
    sheet = openpyxl.load_workbook(io.BytesIO(as_xlsx.content))["P1"]
    header = [c.value for c in sheet[1]]
    first = dict(zip(header, (c.value for c in sheet[2]), strict=True))
    assert (first["Method"], first["Gender"], first["Age band"]) == (
        "Assessment and plan (Udredning)",
        "Male",
        None,
    )
    assert header[-1] == "Technical key"
    assert wrong.status_code == 422 and wrong.json()["error"]["reason"] == "validation_error"


async def test_an_age_band_cell_of_outreach_with_four_citizens_is_hidden(kpi_pool) -> None:
    s = Scenario()
    for n in range(4):  # four citizens of 18-24 (born 2004: 22 in 2026) in outreach
        s.citizen(f"y{n}", "2026-02-01", birth_year=2004)
        s.course(f"y{n}", f"o{n}", "OUTREACH", "2026-02-01")
        s.fact("OutreachPhaseStarted", "2026-02-01", citizen=f"y{n}", course=f"o{n}", phase="contact_making")
        s.fact("ContactRecorded", "2026-03-02", citizen=f"y{n}", course=f"o{n}", minutes=60, kind="face_to_face")
    await s.apply(kpi_pool)
    params = {"municipality": "101", "from": "2026-03-01", "to": "2026-03-31"}
    async with client(kpi_pool) as api:
        cell = (await api.get("/v1/kpis/E5", params=params | {"age_band": "18-24"})).json()
        whole = (await api.get("/v1/kpis/E5", params=params)).json()
    assert whole["value"] == 4.0 and whole["citizens"] == 4  # 4 x 1 hour
    assert cell["value"] is None and cell.get("suppressed") is True, cell
