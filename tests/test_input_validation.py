"""Issue 12, findings 5-8: the attacks as they were made on the running system, now refused with a
4xx naming the reason, and the read models as they were.

5. who acted on an alert was taken from the body (`by`); snooze had no upper bound;
6. dates registration accepted but alerts could not compute with (9999-12-31);
7. municipality codes in any script's digits (١٠١, １٠١) and unknown municipalities;
8. KPI query dates at the calendar's ends answered 500; CPR-shaped team, worker and other ids.

The end-to-end tests share one system of real processes; the contract-level tests below them need none.
"""

import asyncio
import json
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import psycopg
import pytest
from pydantic import ValidationError

from contracts.dates import DateWindow, add_years
from contracts.facts import Admission, fact_adapter
from contracts.municipalities import DANISH_MUNICIPALITIES, known, parse_extra
from runtime.settings import ConfigError, Settings
from services.alerts import rules
from tests.support import SecuredNats, System, course_facts, create_database
from tests.test_registration_privacy import nats_request

D = "2026-01-05"
EXTRA_MUNICIPALITY = "990"  # configured with CASETRACK_MUNICIPALITIES, like a training municipality
CPR_SHAPED = ("0101901234", "010190-1234")


@pytest.fixture(scope="module")
def running(postgres_admin_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    """The three services with a CTI course k-cti and an ICM course k1 (team-a) whose citizen has an
    eviction risk, so an eviction_risk alert is open for team-a's leader."""
    work = tmp_path_factory.mktemp("input-validation")
    nats_server = SecuredNats(work / "nats")
    nats_server.start()
    system = System(
        database_url=create_database(postgres_admin_url),
        nats_url=nats_server.url,
        work_dir=work / "logs",
        nats_env=nats_server.service_env(),
        extra_env={"CASETRACK_MUNICIPALITIES": json.dumps({EXTRA_MUNICIPALITY: "Øvelseskommune"})},
    )
    try:
        system.start()
        facts = course_facts("101", "cit-1", "k1", "ICM", D, team="team-a")
        facts += course_facts("101", "cit-2", "k-cti", "CTI", D, team="team-a")
        about = {"municipality": "101", "citizen_id": "cit-1", "effective_date": D}
        facts += [
            about | {"type": "HousingGained", "housing": "almen"},
            about | {"type": "EvictionRiskRegistered", "kind": "bailiff_case"},
        ]
        last = [system.submit(fact) for fact in facts][-1]["position"]
        system.wait_applied("projections", last)
        system.wait_applied("alerts", last)
        yield system
    finally:
        system.stop()
        nats_server.stop()


def _reason(response: Any) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["reason"]


def _field_types(response: Any) -> set[tuple[str, str]]:
    return {(f["field"].split(".")[-1], f["type"]) for f in response.json()["error"]["fields"]}


def _stored_events(system: System) -> int:
    with psycopg.connect(system.database_url) as db:
        return db.execute("SELECT count(*) FROM registration_events").fetchone()[0]


def _parked(system: System) -> list[tuple]:
    with psycopg.connect(system.database_url) as db:
        return db.execute(
            "SELECT subject, error FROM alert_parked UNION ALL SELECT subject, error FROM projection_parked"
        ).fetchall()


def _benchmark_municipalities(system: System) -> list[str]:
    with system.client("projections", "token-manager-101") as manager:
        response = manager.get("/v1/kpis/P1/benchmark", params={"municipality": "101"})
    assert response.status_code == 200, response.text
    return [row["municipality"] for row in response.json()["municipalities"]]


def _submit(system: System, fact: dict[str, Any], token: str = "token-101") -> Any:
    with system.client("registration", token) as client:
        return client.post("/v1/facts", json=fact)


def _open_alert(system: System) -> dict[str, Any]:
    with system.client("alerts", "token-leader-101") as leader:
        alerts = leader.get("/v1/alerts", params={"municipality": "101", "rule": "eviction_risk"}).json()["alerts"]
    [alert] = [a for a in alerts if a["state"] != "resolved"]
    return alert


# --- 5. Who acted on an alert ---------------------------------------------------------------------


@pytest.mark.integration
def test_finding_5_an_alert_action_records_the_caller_never_a_name_from_the_body(running: System) -> None:
    alert_id = _open_alert(running)["id"]
    with running.client("alerts", "token-leader-101") as lise:
        # The attack: team leader lise acknowledges, snoozes and resolves as "mads" (the manager).
        for action, body in (
            ("acknowledge", {"by": "mads"}),
            ("snooze", {"by": "mads", "until": "2027-01-10"}),
            ("resolve", {"by": "mads", "note": "done"}),
        ):
            response = lise.post(f"/v1/alerts/{alert_id}/{action}", json=body)
            assert _reason(response) == (422, "by_not_accepted"), (action, response.text)
        history = lise.get(f"/v1/alerts/{alert_id}").json()["history"]
        assert [(h["state"], h["by"]) for h in history] == [("open", "casetrack")]  # nothing recorded

        # Acting for someone else is said as such: the caller stays the actor.
        acknowledged = lise.post(f"/v1/alerts/{alert_id}/acknowledge", json={"on_behalf_of": "anne"})
        assert acknowledged.status_code == 200, acknowledged.text
        last = acknowledged.json()["history"][-1]
        assert (last["state"], last["by"], last["on_behalf_of"]) == ("acknowledged", "lise", "anne")


@pytest.mark.integration
def test_finding_5_snooze_has_an_upper_bound(running: System) -> None:
    alert_id = _open_alert(running)["id"]
    with running.client("alerts", "token-leader-101") as lise:
        today = date.fromisoformat(lise.get("/v1/clock").json()["now"][:10])
        for until in ("9999-12-31", (today + timedelta(days=91)).isoformat()):
            response = lise.post(f"/v1/alerts/{alert_id}/snooze", json={"until": until})
            assert _reason(response) == (422, "snooze_too_long"), response.text
        assert lise.get(f"/v1/alerts/{alert_id}").json()["snoozed_until"] is None
        snoozed = lise.post(f"/v1/alerts/{alert_id}/snooze", json={"until": (today + timedelta(days=90)).isoformat()})
        assert snoozed.status_code == 200, snoozed.text
        assert (snoozed.json()["history"][-1]["by"], snoozed.json()["history"][-1]["on_behalf_of"]) == ("lise", None)


# --- 6. Dates alerts cannot compute with ------------------------------------------------------------


@pytest.mark.integration
def test_finding_6_dates_outside_the_window_are_refused_and_nothing_is_parked(running: System) -> None:
    before = _stored_events(running)
    course = {"municipality": "101", "citizen_id": "cit-2", "course_id": "k-cti", "effective_date": D}
    icm = course | {"citizen_id": "cit-1", "course_id": "k1"}  # ICM plans time per month
    attacks = [
        course | {"type": "CtiPhaseStarted", "phase": "1", "planned_end": "9999-12-31"},
        icm | {"type": "TimePlanned", "month": "9999-12-01", "expected_hours": 10},
        icm
        | {"type": "ExpectedProgressionSet", "instrument": "WHO5", "checkpoints": [{"on": "9999-12-31", "value": 50}]},
        icm | {"type": "TimePlanned", "month": "1899-12-01", "expected_hours": 10},
    ]
    for fact in attacks:
        response = _submit(running, fact)
        assert _reason(response) == (422, "validation_error"), (fact, response.text)
        assert "date_out_of_range" in {t for _, t in _field_types(response)}, response.text
    assert _stored_events(running) == before

    # At the window's far end a plan is accepted, and every consumer computes with it.
    far = add_years(date.today(), 49)
    accepted = [
        running.submit(course | {"type": "CtiPhaseStarted", "phase": "1", "planned_end": far.isoformat()}),
        running.submit(icm | {"type": "TimePlanned", "month": far.replace(day=1).isoformat(), "expected_hours": 10}),
    ]
    running.wait_applied("alerts", accepted[-1]["position"])
    running.wait_applied("projections", accepted[-1]["position"])
    assert _parked(running) == []
    with running.client("projections", "token-leader-101") as leader:
        for course_id in ("k1", "k-cti"):
            response = leader.get(f"/v1/courses/{course_id}/double-bottom-line", params={"municipality": "101"})
            assert response.status_code == 200, response.text
        assert leader.get("/v1/kpis/P1", params={"municipality": "101"}).status_code == 200


def test_finding_6_alerts_compute_with_a_stored_date_at_the_calendars_end() -> None:
    """The minimal guard for events stored before registration refused such dates: a deadline past
    the calendar's end is a day never reached, not an overflow that parks the event."""
    start = date(2026, 1, 5)
    course = rules.CourseView(
        course_id="k",
        citizen_id="c",
        team="t",
        method="CTI",
        started_on=start,
        phases={"1": (start, date(9999, 12, 31))},
        planned_hours={"month:9999-12-01": 10.0},
    )
    today = date(2026, 3, 1)
    for rule_id in ("cti_phase_overdue", "cti_course_overdue", "time_gap"):
        rule = rules.CATALOGUE[rule_id]
        rule.checks["course"](course, rules.effective_params(rule, {}), today)
    overdue_rule = rules.CATALOGUE["cti_phase_overdue"]
    overdue = overdue_rule.checks["course"](course, rules.effective_params(overdue_rule, {}), today)
    assert overdue.raise_on == date.max


# --- 7. Municipality codes --------------------------------------------------------------------------


@pytest.mark.integration
def test_finding_7_municipality_codes_are_ascii_and_known(running: System) -> None:
    before_events, before_benchmark = _stored_events(running), _benchmark_municipalities(running)
    citizen = {"type": "CitizenRegistered", "citizen_id": "phantom", "effective_date": D}
    for code, expected in (
        ("١٠١", "string_pattern_mismatch"),
        ("１٠١", "string_pattern_mismatch"),
        ("１０１", "string_pattern_mismatch"),
        ("999", "unknown_municipality"),
        ("411", "unknown_municipality"),
    ):  # Christiansø has a code but is no municipality
        response = _submit(running, citizen | {"municipality": code}, token="token-admin")
        assert _reason(response) == (422, "validation_error"), (code, response.text)
        assert _field_types(response) == {("municipality", expected)}, (code, response.text)
    # The same over the batch endpoint and over NATS.
    with running.client("registration", "token-admin") as admin:
        batch = admin.post(
            "/v1/facts/batch", json={"facts": [citizen | {"municipality": "١٠١"}, citizen | {"municipality": "999"}]}
        ).json()
    assert (batch["accepted"], [r["status"] for r in batch["results"]]) == (0, [422, 422])
    answer = asyncio.run(
        nats_request(
            running.nats_url,
            json.dumps(citizen | {"municipality": "999"}).encode(),
            {"Authorization": "Bearer token-admin"},
        )
    )
    assert answer["status"] == 422
    assert answer["body"]["error"]["fields"][0]["type"] == "unknown_municipality"
    assert _stored_events(running) == before_events
    assert _benchmark_municipalities(running) == before_benchmark

    # A configured municipality is accepted (CASETRACK_MUNICIPALITIES).
    stored = running.submit(citizen | {"municipality": EXTRA_MUNICIPALITY}, token="token-admin")
    running.wait_applied("projections", stored["position"])
    assert EXTRA_MUNICIPALITY in _benchmark_municipalities(running)


# --- 8. KPI query dates, CPR-shaped ids --------------------------------------------------------------


@pytest.mark.integration
def test_finding_8_kpi_query_dates_at_the_calendars_ends_are_refused_not_a_500(running: System) -> None:
    with (
        running.client("projections", "token-manager-101") as manager,
        running.client("projections", "token-leader-101") as leader,
    ):
        for params in (
            {"to": "0001-06-01"},
            {"as_of": "9999-12-31"},
            {"on": "0001-01-01"},
            {"from": "0001-01-01", "to": "2026-01-01"},
            {"on": "9999-12-31"},
        ):
            for path in ("/v1/kpis/P1", "/v1/kpis/P1/benchmark", "/v1/kpis/export"):
                response = manager.get(path, params={"municipality": "101"} | params)
                assert _reason(response) == (422, "date_out_of_range"), (path, params, response.text)
                assert response.json()["error"]["fields"][0]["field"] in params
        for params in ({"on": "9999-12-31"}, {"as_of": "0001-01-01"}):
            response = leader.get("/v1/courses/k1/double-bottom-line", params={"municipality": "101"} | params)
            assert _reason(response) == (422, "date_out_of_range"), (params, response.text)
        assert manager.get("/v1/kpis/P1", params={"municipality": "101", "as_of": "2026-06-30"}).status_code == 200


@pytest.mark.integration
def test_finding_8_cpr_shaped_team_worker_and_other_ids_are_refused(running: System) -> None:
    before = _stored_events(running)
    base = {"municipality": "101", "effective_date": D}
    citizen = base | {"citizen_id": "cit-1"}
    for cpr in CPR_SHAPED:
        attacks = [
            (base | {"type": "TeamRegistered", "team_id": cpr, "name": "x", "methods": ["ICM"]}, "team_id"),
            (
                base | {"type": "WorkerRegistered", "worker_id": cpr, "team_id": "team-a", "role": "support_worker"},
                "worker_id",
            ),
            (base | {"type": "WorkerMovedTeam", "worker_id": "w-anna", "team_id": cpr}, "team_id"),
            (base | {"type": "WorkerLeft", "worker_id": cpr}, "worker_id"),
            (citizen | {"type": "ShelterStayStarted", "shelter": cpr}, "shelter"),
            (citizen | {"type": "VisitationDecided", "course_id": "k-new", "method": "ICM", "team": cpr}, "team"),
            (citizen | {"type": "SupportWorkerChanged", "course_id": "k1", "support_worker": cpr}, "support_worker"),
            (citizen | {"type": "CourseStarted", "course_id": "k1", "support_worker": cpr}, "support_worker"),
        ]
        for fact, field in attacks:
            response = _submit(running, fact)
            assert _reason(response) == (422, "validation_error"), (fact, response.text)
            assert _field_types(response) == {(field, "cpr_shaped_identifier")}, (fact, response.text)
    assert _stored_events(running) == before
    with running.client("registration") as client:
        assert client.get(f"/v1/teams/{CPR_SHAPED[0]}/history", params={"municipality": "101"}).status_code == 404


# --- The same rules at the contract, and their configuration ---------------------------------------


def _problems(fact: dict[str, Any], admission: Admission | None = Admission()) -> set[tuple[str, str]]:
    try:
        fact_adapter.validate_python(fact, context=admission)
    except ValidationError as exc:
        return {(str(e["loc"][-1]), e["type"]) for e in exc.errors()}
    return set()


def test_the_98_danish_municipality_codes() -> None:
    assert len(DANISH_MUNICIPALITIES) == 98
    assert (
        DANISH_MUNICIPALITIES["101"],
        DANISH_MUNICIPALITIES["147"],
        DANISH_MUNICIPALITIES["751"],
        DANISH_MUNICIPALITIES["851"],
        DANISH_MUNICIPALITIES["461"],
        DANISH_MUNICIPALITIES["400"],
    ) == ("København", "Frederiksberg", "Aarhus", "Aalborg", "Odense", "Bornholm")
    assert all(len(code) == 3 and code.isascii() and code.isdigit() for code in DANISH_MUNICIPALITIES)
    assert "411" not in DANISH_MUNICIPALITIES


def test_admission_is_checked_at_the_edge_and_stored_events_read_back_without_it() -> None:
    cti = {
        "type": "CtiPhaseStarted",
        "municipality": "101",
        "citizen_id": "c",
        "course_id": "k",
        "effective_date": D,
        "phase": "1",
        "planned_end": "9999-12-31",
    }
    assert _problems(cti) == {("planned_end", "date_out_of_range")}
    assert _problems(cti, admission=None) == set()  # an event stored before the window existed
    unknown = cti | {"municipality": "999", "planned_end": "2026-04-05"}
    assert _problems(unknown) == {("municipality", "unknown_municipality")}
    assert _problems(unknown, Admission(frozenset(known({"999": "Test"})))) == set()
    assert _problems(cti | {"municipality": "١٠١"}, admission=None) == {("municipality", "string_pattern_mismatch")}
    assert _problems(cti | {"citizen_id": "0101901234"}, admission=None) == {("citizen_id", "cpr_shaped_identifier")}
    cpr = {"type": "CitizenRegistered", "municipality": "101", "cpr": "٠١٠١٩٠١٢٣٤", "effective_date": D}
    assert _problems(cpr) == {("cpr", "string_pattern_mismatch")}
    narrow = Admission(window=DateWindow(date(2000, 1, 1), 5))
    assert _problems(cti | {"planned_end": add_years(date.today(), 6).isoformat()}, narrow) == {
        ("planned_end", "date_out_of_range")
    }
    assert _problems(cti | {"effective_date": "1999-12-31", "planned_end": "2026-04-05"}, narrow) == {
        ("effective_date", "date_out_of_range")
    }


def test_settings_for_the_window_the_municipalities_and_snooze(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://x/y")
    monkeypatch.setenv("NATS_URL", "nats://x")
    settings = Settings.from_env("alerts", 8003)
    assert (settings.date_window, settings.snooze_max_days, len(settings.municipalities)) == (DateWindow(), 90, 98)
    monkeypatch.setenv("CASETRACK_EARLIEST_DATE", "1950-01-01")
    monkeypatch.setenv("CASETRACK_YEARS_AHEAD", "20")
    monkeypatch.setenv("CASETRACK_SNOOZE_MAX_DAYS", "30")
    monkeypatch.setenv("CASETRACK_MUNICIPALITIES", json.dumps({"990": "Øvelseskommune"}))
    settings = Settings.from_env("alerts", 8003)
    assert settings.date_window == DateWindow(date(1950, 1, 1), 20)
    assert settings.snooze_max_days == 30
    assert settings.admission().municipalities == frozenset(DANISH_MUNICIPALITIES) | {"990"}
    for name, value in (
        ("CASETRACK_EARLIEST_DATE", "1850-01-01"),
        ("CASETRACK_YEARS_AHEAD", "9000"),
        ("CASETRACK_SNOOZE_MAX_DAYS", "0"),
        ("CASETRACK_MUNICIPALITIES", '{"١٠١": "x"}'),
        ("CASETRACK_MUNICIPALITIES", "[1]"),
    ):
        with monkeypatch.context() as env:
            env.setenv(name, value)
            with pytest.raises(ConfigError):
                Settings.from_env("alerts", 8003)
    with pytest.raises(ValueError):
        parse_extra('{"12": "x"}')
