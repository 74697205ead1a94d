"""The course roster and the by-name list (services/projections/roster.py, homeless_list.py) on the
real read model through HTTP: a hand-worked scenario with a backdated fact and an `as_of` query,
each role's scope, the audit of every list read, the counts against P1 and O11, the exports."""

import csv
import io
from collections.abc import AsyncIterator
from datetime import date

import openpyxl
import pytest

from contracts.audit import AUDIT_STREAM
from runtime.audit import AuditLog, AuditQuery
from runtime.bus import connect, ensure_streams
from tests.kpi_scenario import Scenario, client, figure, kpi_pool  # noqa: F401 - fixture

pytestmark = pytest.mark.integration

TODAY = date(2026, 7, 15)  # the service's clock in every request below
OF_101 = {"municipality": "101"}


def scenario() -> Scenario:
    s = Scenario()
    # k1: ICM, team-a, Anna's, started 1 July 2026; 31 hours planned for July (31 days: 1 h a day).
    s.course("c1", "k1", "ICM", "2026-07-01", worker="w-anna")
    s.fact("HousingSituationRecorded", "2026-07-01", citizen="c1", housing="sofa")
    s.fact("TimePlanned", "2026-07-01", citizen="c1", course="k1", month="2026-07-01", expected_hours=31)
    s.fact(
        "ExpectedProgressionSet",
        "2026-07-01",
        citizen="c1",
        course="k1",
        instrument="WHO5",
        checkpoints=[{"on": "2026-07-01", "value": 40}, {"on": "2026-10-01", "value": 60}],
    )
    s.fact("MeasurementRecorded", "2026-07-05", citizen="c1", course="k1", instrument="WHO5", answers=[2, 2, 2, 2, 2])
    s.fact("ContactRecorded", "2026-07-03", citizen="c1", course="k1", minutes=120, kind="face_to_face")
    s.fact("ContactRecorded", "2026-07-08", citizen="c1", course="k1", minutes=90, kind="face_to_face")
    s.fact("ContactRecorded", "2026-07-10", citizen="c1", course="k1", minutes=30, kind="phone_digital")
    # Backdated: the visit of 12 July is told on 14 July.
    s.fact(
        "ContactRecorded",
        "2026-07-12",
        recorded="2026-07-14",
        citizen="c1",
        course="k1",
        minutes=60,
        kind="face_to_face",
    )
    # k2: CTI, team-a, Bo's, started 1 June; phase 1 from 15 June (planned end 3 months on: 15 Sept),
    # 46 hours planned for phase 1 (15 June - 15 Sept = 92 days: 0.5 h a day); a handleplan.
    s.course("c2", "k2", "CTI", "2026-06-01", worker="w-bo")
    s.fact("ShelterStayStarted", "2026-05-10", citizen="c2", shelter="herberg-1")
    s.fact("AssessedReadyToMove", "2026-06-20", citizen="c2")
    s.fact("HandleplanCreated", "2026-06-10", citizen="c2")
    s.fact("CtiPhaseStarted", "2026-06-15", citizen="c2", course="k2", phase="1")
    s.fact("TimePlanned", "2026-06-15", citizen="c2", course="k2", cti_phase="1", expected_hours=46)
    s.fact("ContactRecorded", "2026-06-20", citizen="c2", course="k2", minutes=600, kind="face_to_face")
    # k3: ICM, team-b, Carl's, 1 May - 30 June, completed; the citizen housed on 5 July.
    s.course("c3", "k3", "ICM", "2026-05-01", team="team-b", worker="w-carl")
    s.fact("HousingSituationRecorded", "2026-06-01", citizen="c3", housing="street")
    s.fact("CourseEnded", "2026-06-30", citizen="c3", course="k3", reason="completed")
    s.fact("HousingGained", "2026-07-05", citizen="c3", housing="almen")
    # c4: no course; housed since March, on the street from 10 July.
    s.citizen("c4", "2026-03-01")
    s.fact("HousingSituationRecorded", "2026-03-01", citizen="c4", housing="almen")
    s.fact("HousingSituationRecorded", "2026-07-10", citizen="c4", housing="street")
    # Another municipality's course, for the scope checks.
    s.course("c9", "k9", "ICM", "2026-07-01", municipality="147", worker="w-anna")
    return s


@pytest.fixture
async def audit(nats_server) -> AsyncIterator[AuditLog]:
    """The audit trail on a real nats-server: every list read is recorded before it is served."""
    nc = await connect(nats_server.url, "test")
    log = AuditLog(nc.jetstream(), "projections")
    await ensure_streams(log.js, [AUDIT_STREAM])
    try:
        yield log
    finally:
        await nc.close()


def _rows(body: dict) -> dict[str, dict]:
    return {r["course"]: r for r in body["rows"]}


async def test_roster_rows_worked_out_by_hand_with_a_backdated_fact_and_as_of(kpi_pool, audit) -> None:
    await scenario().apply(kpi_pool)
    async with client(kpi_pool, "token-admin", today=TODAY, audit=audit) as admin:
        now = (await admin.get("/v1/courses", params=OF_101 | {"state": "all"})).json()
        before = (await admin.get("/v1/courses", params=OF_101 | {"as_of": "2026-07-13"})).json()
    assert now["on"] == "2026-07-15" and now["total"] == 3 and now["pages"] == 1
    k1, k2, k3 = (_rows(now)[k] for k in ("k1", "k2", "k3"))
    assert (k1["citizen"], k1["method"], k1["team"], k1["worker"], k1["start"]) == (
        "c1",
        "ICM",
        "team-a",
        "w-anna",
        "2026-07-01",
    )
    assert k1["phase"] is None  # ICM has no phases
    # Last face-to-face: the backdated 12 July visit; 15 - 12 = 3 days; ICM's cadence 7 days.
    assert k1["contact"] == {"last_face_to_face_on": "2026-07-12", "days_since": 3, "every_days": 7}
    # Actual: 120 + 90 + 30 + 60 = 300 min = 5.0 h. Expected: 31 h over July's 31 days, 15 days
    # used (1-15 July) = 15.0 h. Gap 5 - 15 = -10.0 h = -10 / 15 = -66.7 %.
    assert k1["hours"] == {"actual": 5.0, "expected": 15.0, "gap": -10.0, "gap_percent": -66.7}
    # WHO-5 on 5 July: (2+2+2+2+2) x 4 = index 40; expected 40 + (60 - 40) x 4/92 days = 40.87.
    assert k1["measurement"] == {"instrument": "WHO5", "value": 40.0, "expected": 40.87, "on": "2026-07-05"}
    assert k1["housing"] == {"situation": "sofa"}
    # Due: a contact 12 + 7 = 19 July (4 days left); the handleplan 1 July + 30 = 31 July; the WHO-5
    # checkpoint of 1 October. The first: the contact.
    assert k1["next_due"] == {"kind": "contact", "due_on": "2026-07-19", "days_left": 4}

    # k2, CTI phase 1 from 15 June, planned end 15 September: 62 days left.
    assert k2["phase"] == {"phase": "1", "ends_on": "2026-09-15", "days_left": 62}
    # Last face-to-face 20 June: 25 days; phase 1's cadence 7 days.
    assert k2["contact"] == {"last_face_to_face_on": "2026-06-20", "days_since": 25, "every_days": 7}
    # Actual 600 min = 10.0 h; expected 46 h x 31/92 days (15 June - 15 July) = 15.5 h; gap -5.5 h,
    # -5.5 / 15.5 = -35.5 %.
    assert k2["hours"] == {"actual": 10.0, "expected": 15.5, "gap": -5.5, "gap_percent": -35.5}
    assert k2["measurement"] is None
    assert k2["housing"] == {"situation": "shelter_110"}
    # Due: contact 20 June + 7 = 27 June (18 days over); baseline measurement 1 June + 30 = 1 July
    # (14 over); the phase change 15 Sept; the handleplan is in place. The first: the contact.
    assert k2["next_due"] == {"kind": "contact", "due_on": "2026-06-27", "days_left": -18}

    # k3 ended 30 June after completing: the 6-month follow-up falls due 30 December, 168 days on
    # (16 + 31 + 30 + 31 + 30 + 30).
    assert (k3["state"], k3["ended_on"], k3["phase"]) == ("ended", "2026-06-30", None)
    assert k3["next_due"] == {"kind": "follow_up", "due_on": "2026-12-30", "days_left": 168}
    assert k3["housing"] == {"situation": "almen"}

    # As known on 13 July (the 12 July visit not yet told), on 15 July: the last visit is 8 July,
    # 7 days ago, and the next one is due today; 240 min = 4.0 h, gap 4 - 15 = -11.0 h = -73.3 %.
    assert before["as_of"] == "2026-07-13" and before["total"] == 2  # active only: k1, k2
    early = _rows(before)["k1"]
    assert early["contact"] == {"last_face_to_face_on": "2026-07-08", "days_since": 7, "every_days": 7}
    assert early["hours"] == {"actual": 4.0, "expected": 15.0, "gap": -11.0, "gap_percent": -73.3}
    assert early["next_due"] == {"kind": "contact", "due_on": "2026-07-15", "days_left": 0}

    # An earlier day (`on`): 5 July, before the WHO-5 was taken on the same day? It was taken on 5
    # July, so it counts; 5 days of July used = 5.0 h expected; 120 min = 2.0 h actual.
    async with client(kpi_pool, "token-admin", today=TODAY, audit=audit) as admin:
        fifth = _rows((await admin.get("/v1/courses", params=OF_101 | {"on": "2026-07-05"})).json())["k1"]
    assert fifth["hours"] == {"actual": 2.0, "expected": 5.0, "gap": -3.0, "gap_percent": -60.0}
    assert fifth["contact"]["days_since"] == 2  # 3 July


async def test_roster_sorts_filters_and_pages(kpi_pool, audit) -> None:
    await scenario().apply(kpi_pool)
    async with client(kpi_pool, "token-manager-101", today=TODAY, audit=audit) as manager:

        async def order(**params: object) -> list[str]:
            body = (await manager.get("/v1/courses", params=OF_101 | params)).json()
            return [r["course"] for r in body["rows"]]

        assert await order(sort="overdue") == ["k2", "k1"]  # -18 days, then 4
        assert await order(sort="gap") == ["k1", "k2"]  # |-10.0| h, then |-5.5|
        assert await order(sort="last_contact") == ["k2", "k1"]  # 25 days, then 3
        assert await order(state="ended") == ["k3"]
        assert await order(state="all", sort="overdue") == ["k2", "k1", "k3"]  # -18, 4, 168
        assert await order(team="team-b", state="all") == ["k3"]
        assert await order(method="CTI") == ["k2"]
        assert await order(worker="w-anna") == ["k1"]
        assert await order(due_within=0) == ["k2"]  # only k2 is due today or overdue
        assert await order(due_within=4) == ["k2", "k1"]
        paged = (await manager.get("/v1/courses", params=OF_101 | {"state": "all", "page_size": 2, "page": 2})).json()
        assert ([r["course"] for r in paged["rows"]], paged["total"], paged["pages"]) == (["k3"], 3, 2)
        bad = await manager.get("/v1/courses", params=OF_101 | {"sort": "name"})
        assert bad.status_code == 422


async def test_each_role_sees_its_own_rows_only_and_every_list_read_is_audited(kpi_pool, audit) -> None:
    await scenario().apply(kpi_pool)
    every = {"state": "all"}
    async with client(kpi_pool, "token-worker-101", today=TODAY, audit=audit) as anna:
        mine = (await anna.get("/v1/courses", params=OF_101 | every)).json()
        assert [r["course"] for r in mine["rows"]] == ["k1"] and mine["worker"] == "w-anna"
        assert (await anna.get("/v1/courses", params=OF_101 | {"worker": "w-bo"})).status_code == 403
        assert (await anna.get("/v1/courses", params={"municipality": "147"})).status_code == 403
        assert (await anna.get("/v1/homeless-list", params=OF_101)).status_code == 403
    async with client(kpi_pool, "token-leader-101", today=TODAY, audit=audit) as lise:
        team = (await lise.get("/v1/courses", params=OF_101 | every)).json()
        assert sorted(r["course"] for r in team["rows"]) == ["k1", "k2"] and team["team"] == "team-a"
        assert (await lise.get("/v1/courses", params=OF_101 | {"team": "team-b"})).status_code == 403
        listed = (await lise.get("/v1/homeless-list", params=OF_101)).json()
        assert [c["citizen"] for c in listed["citizens"]] == ["c2", "c1"]  # team-a's citizens
        assert (await lise.get("/v1/homeless-list", params=OF_101 | {"team": "team-b"})).status_code == 403
    async with client(kpi_pool, "token-manager-101", today=TODAY, audit=audit) as mads:
        whole = (await mads.get("/v1/courses", params=OF_101 | every)).json()
        assert sorted(r["course"] for r in whole["rows"]) == ["k1", "k2", "k3"]  # not 147's k9
        assert (await mads.get("/v1/courses", params={"municipality": "147"})).status_code == 403
        assert (await mads.get("/v1/homeless-list", params={"municipality": "147"})).status_code == 403
    async with client(kpi_pool, "token-manager-147", today=TODAY, audit=audit) as mette:
        other = (await mette.get("/v1/courses", params={"municipality": "147", "state": "all"})).json()
        assert [r["course"] for r in other["rows"]] == ["k9"]
    reads = (await audit.query(AuditQuery("101", order="asc"))).reads
    assert [(r.entry.actor, r.entry.action, r.entry.subject_type, r.entry.subject_id) for r in reads] == [
        ("anna", "read_course_roster", "worker", "w-anna"),
        ("lise", "read_course_roster", "team", "team-a"),
        ("lise", "read_homeless_list", "team", "team-a"),
        ("mads", "read_course_roster", "municipality", "101"),
    ]  # refused reads are not reads
    assert reads[0].entry.filter == {
        "worker": "w-anna",
        "state": "all",
        "sort": "overdue",
        "page": "1",
        "format": "json",
    }
    async with client(kpi_pool, "token-manager-101", today=TODAY) as unaudited:
        refused = await unaudited.get("/v1/courses", params=OF_101)
    assert (refused.status_code, refused.json()["error"]["reason"]) == (503, "audit_unavailable")


async def test_by_name_list_worked_out_by_hand_equals_o11(kpi_pool, audit) -> None:
    await scenario().apply(kpi_pool)
    async with client(kpi_pool, "token-admin", today=TODAY, audit=audit) as admin:
        body = (await admin.get("/v1/homeless-list", params=OF_101)).json()
        team_a = (await admin.get("/v1/homeless-list", params=OF_101 | {"team": "team-a"})).json()
    assert (body["on"], body["month_from"], body["total"]) == ("2026-07-15", "2026-07-01", 3)
    # c2: in a §110 stay since 10 May (66 days to 15 July), ready to move since 20 June, on the list
    # before July; c1: on a sofa since 1 July (14 days), first known in July: new; c4: housed until
    # 10 July (5 days), known since March: returned. c3 left the list for an own home: housed.
    assert body["citizens"] == [
        {
            "citizen": "c2",
            "situation": "shelter_110",
            "homeless_since": "2026-05-10",
            "days_homeless": 66,
            "ready_to_move": True,
            "ready_to_move_on": "2026-06-20",
            "courses": [{"course": "k2", "method": "CTI"}],
            "inflow": None,
        },
        {
            "citizen": "c1",
            "situation": "sofa",
            "homeless_since": "2026-07-01",
            "days_homeless": 14,
            "ready_to_move": False,
            "ready_to_move_on": None,
            "courses": [{"course": "k1", "method": "ICM"}],
            "inflow": "new",
        },
        {
            "citizen": "c4",
            "situation": "street",
            "homeless_since": "2026-07-10",
            "days_homeless": 5,
            "ready_to_move": False,
            "ready_to_move_on": None,
            "courses": [],
            "inflow": "returned",
        },
    ]
    assert (body["inflow"], body["outflow"]) == ({"new": 1, "returned": 1}, {"housed": 1, "other": 0})
    async with client(kpi_pool, "token-admin", today=TODAY, audit=audit) as admin:
        for sort, expected in (
            ("ready_to_move", ["c2", "c1", "c4"]),  # c2 ready; then by days homeless, 14 before 5
            ("inflow", ["c1", "c4", "c2"]),  # new ("new" < "returned"), returned, then those on it before
        ):
            sorted_list = (await admin.get("/v1/homeless-list", params=OF_101 | {"sort": sort})).json()
            assert [c["citizen"] for c in sorted_list["citizens"]] == expected, sort
    o11 = await figure(kpi_pool, "O11", "2026-07-01", "2026-07-15")
    assert o11["value"] == body["total"]
    assert o11["values"]["inflow.new"] == body["inflow"]["new"]
    assert o11["values"]["inflow.from_housing"] + o11["values"]["inflow.from_inactive"] == body["inflow"]["returned"]
    assert (o11["values"]["outflow.to_housing"], o11["values"]["outflow.to_inactive"]) == (1, 0)
    assert team_a["total"] == (await figure(kpi_pool, "O11", "2026-07-01", "2026-07-15", team="team-a"))["value"] == 2
    p1 = await figure(kpi_pool, "P1", "2026-07-15")
    async with client(kpi_pool, "token-admin", today=TODAY, audit=audit) as admin:
        active = (await admin.get("/v1/courses", params=OF_101)).json()
    assert active["total"] == p1["value"] == 2


async def test_roster_and_by_name_list_as_csv_and_xlsx_in_danish(kpi_pool, audit) -> None:
    await scenario().apply(kpi_pool)
    async with client(kpi_pool, "token-admin", today=TODAY, audit=audit) as admin:
        csv_body = (await admin.get("/v1/courses", params=OF_101 | {"format": "csv", "sort": "gap"})).content
        xlsx = await admin.get("/v1/homeless-list", params=OF_101 | {"format": "xlsx"})
    table = list(csv.reader(io.StringIO(csv_body.decode("utf-8-sig")), delimiter=";"))
    header, first = table[0], dict(zip(table[0], table[1], strict=True))
    assert header[:3] == ["Forløb", "Borger (pseudonym)", "Metode"] and len(table) == 3
    assert (first["Forløb"], first["Afvigelse (timer)"], first["Næste"], first["Bolig"]) == (
        "k1",
        "-10,0",
        "Personlig kontakt",
        "Sofasurfer hos familie/venner",
    )
    assert xlsx.headers["content-disposition"] == 'attachment; filename="by-name-liste-101.xlsx"'
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content))["By-name-liste"]
    assert [c.value for c in sheet[1]][:4] == ["Borger (pseudonym)", "Situation", "Hjemløs siden", "Dage i hjemløshed"]
    assert sheet.max_row == 4 and sheet["A2"].value == "c2" and sheet["D2"].value == 66


async def test_rows_kept_between_queries_equal_rows_worked_out_afresh(kpi_pool, audit) -> None:
    """The current day's rows are kept and only the courses and citizens of new facts worked out
    again (roster_cache.py): after every few facts they equal the rows of a fresh fold."""
    from services.projections import projector, roster_cache

    events = scenario().events
    async with client(kpi_pool, "token-admin", today=TODAY, audit=audit) as admin:
        for end in range(5, len(events) + 5, 5):
            async with kpi_pool.acquire() as connection, connection.transaction():
                for event in events[end - 5 : end]:
                    await projector.apply(connection, event)
            params = OF_101 | {"state": "all", "page_size": 500}
            kept = (await admin.get("/v1/courses", params=params)).json()
            roster_cache._kept.clear()
            afresh = (await admin.get("/v1/courses", params=params)).json()
            assert kept == afresh, end
    assert kept["total"] == 3
