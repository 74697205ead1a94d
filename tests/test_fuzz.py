"""Every HTTP endpoint of the four services against its own OpenAPI document (schemathesis), on the
real service processes with valid credentials:

- a tour: each operation called once with valid input on seeded data, so every success answer
  (JSON, CSV, XLSX, the live stream) is checked against what the document says;
- fuzzing, property-based: whatever is sent, the answer is never a 5xx, never a hang, and has a
  status code, media type and body the document declares.

Short by default; CASETRACK_LONG=1 runs more examples per endpoint."""

import json
import os
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from runtime.passwords import hash_password
from tests.support import SecuredNats, System, course_facts, create_database

pytestmark = pytest.mark.integration

EXAMPLES = 200 if os.environ.get("CASETRACK_LONG") == "1" else 15
# The administrator reaches every operation, so success answers are fuzzed too, not only refusals.
TOKEN = "token-admin"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
STREAM_SECONDS = 1.5  # how long a live stream is read before it is cut (it stays open by design)
SIGNING_KEY = "fuzz-test-signing-key-of-at-least-32-bytes!"
DASHBOARD_USER, DASHBOARD_PASSWORD = "chef-101", "chef-kode-1"
HYPOTHESIS = settings(
    max_examples=EXAMPLES,
    deadline=None,  # a slow answer is measured by the request timeout below, not by hypothesis
    suppress_health_check=list(HealthCheck),
    derandomize=True,  # the same examples every run: a red CI is reproducible
    database=None,
)


@pytest.fixture(scope="module")
def fuzzed_system(postgres_admin_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    work = tmp_path_factory.mktemp("fuzz")
    nats_server = SecuredNats(work / "nats")
    nats_server.start()
    users = {
        DASHBOARD_USER: {"role": "manager", "municipality": "101", "password_hash": hash_password(DASHBOARD_PASSWORD)}
    }
    system = System(
        database_url=create_database(postgres_admin_url),
        nats_url=nats_server.url,
        work_dir=work / "logs",
        nats_env=nats_server.service_env(),
        with_dashboard=True,
        extra_env={"CASETRACK_SIGNING_KEY": SIGNING_KEY, "CASETRACK_USERS": json.dumps(users)},
    )
    try:
        yield system.start()
    finally:
        system.stop()
        nats_server.stop()


def credentials(system: System, service: str) -> tuple[dict[str, str], dict[str, str]]:
    """Headers and cookies a request to `service` carries: the administrator's token, or for the
    dashboard a logged-in session (and its own origin, which state-changing requests need)."""
    if service != "dashboard":
        return {"Authorization": f"Bearer {TOKEN}"}, {}
    url = system.services["dashboard"].url
    login = httpx.post(f"{url}/login", data={"username": DASHBOARD_USER, "password": DASHBOARD_PASSWORD})
    assert login.status_code == 303, login.text
    return {"Origin": url}, dict(login.cookies)


def timeout(operation: Any) -> float:
    return STREAM_SECONDS if operation.path.endswith("/stream") else 10


def fuzz(system: System, service: str) -> None:
    """Every operation of `service`: valid-looking and invalid examples, each must get a non-5xx
    answer within the timeout that conforms to the document. Failures are collected over all
    operations, then reported."""
    url = system.services[service].url
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
    headers, cookies = credentials(system, service)
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        strategies = [operation.as_strategy(generation_mode=GenerationMode.POSITIVE)]
        try:
            strategies.append(operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))
        except Exception:  # an operation whose input cannot be made invalid (no parameters)
            pass

        @HYPOTHESIS
        @given(case=st.one_of(strategies))
        def examples(case) -> None:  # noqa: ANN001
            # A hang fails too; a live stream is read for a while, then cut.
            response = case.call(base_url=url, headers=headers, cookies=cookies, timeout=timeout(operation))
            case.validate_response(response, checks=CHECKS)

        try:
            examples()
        except Exception as exc:
            failures.append(f"{operation.label}: {exc!s:.2000}")

    assert operations >= 2
    assert failures == [], "\n\n".join(failures)


# --- The tour: every operation once, with valid input, on seeded data ----------------------------

TODAY = date.today()
START = (TODAY - timedelta(days=60)).isoformat()  # a quiet course: alerts are open at once
CITIZEN, COURSE = "tour-1", "tour-course-1"


def seed(system: System) -> int:
    """The municipality's housing figures, a team with a worker, a citizen (with personal details) on
    an ICM course with planned time and a measurement but no contact; returns the last log position."""
    base = {"municipality": "101", "citizen_id": CITIZEN, "course_id": COURSE}
    registered, visitated, started = course_facts("101", CITIZEN, COURSE, "ICM", START)
    month = TODAY.replace(day=1).isoformat()
    facts = [
        {
            "type": "TeamRegistered",
            "municipality": "101",
            "effective_date": START,
            "team_id": "team-a",
            "name": "Team A",
            "methods": ["ICM"],
        },
        {
            "type": "WorkerRegistered",
            "municipality": "101",
            "effective_date": START,
            "worker_id": "w-anna",
            "team_id": "team-a",
            "role": "support_worker",
        },
        {
            "type": "HousingStockReported",
            "municipality": "101",
            "effective_date": TODAY.isoformat(),
            "period_start": START,
            "mean_wait_days_cheap": 120,
            "allocation_right_homes_vacant": 2,
        },
        registered | {"name": "Tove Tursen", "birth_date": "1980-05-01"},
        visitated,
        started,
        base | {"type": "TimePlanned", "effective_date": START, "month": month, "expected_hours": 6},
        base
        | {
            "type": "ExpectedProgressionSet",
            "effective_date": START,
            "instrument": "WHO5",
            "checkpoints": [{"on": TODAY.isoformat(), "value": 60}],
        },
        base
        | {
            "type": "MeasurementRecorded",
            "effective_date": TODAY.isoformat(),
            "instrument": "WHO5",
            "answers": [3, 3, 3, 3, 3],
        },
    ]
    return [system.submit(fact, "token-101") for fact in facts][-1]["position"]


Call = dict[str, Any]  # the Case's path_parameters, query, body


def tour_calls(system: System) -> dict[str, list[tuple[str, str, Call]]]:
    """(method, path, input) per service: at least one call for every operation of its document."""
    history = {"municipality": "101"}
    kpi = {"municipality": "101"}
    with system.client("alerts", TOKEN) as alerts:
        alert_ids = [
            a["id"] for a in alerts.get("/v1/alerts", params={"municipality": "101", "state": "open"}).json()["alerts"]
        ]
        now = alerts.get("/v1/clock").json()["now"]
    assert len(alert_ids) >= 2, "the quiet course raises alerts to walk through their lifecycle"
    until = (date.fromisoformat(now[:10]) + timedelta(days=7)).isoformat()
    rule = "no_contact"
    return {
        "registration": [
            (
                "POST",
                "/v1/facts",
                {
                    "body": {
                        "type": "ContactRecorded",
                        "municipality": "101",
                        "citizen_id": CITIZEN,
                        "course_id": COURSE,
                        "effective_date": TODAY.isoformat(),
                        "minutes": 20,
                        "kind": "phone_digital",
                    }
                },
            ),
            (
                "POST",
                "/v1/facts/batch",
                {
                    "body": {
                        "facts": [
                            {
                                "type": "ContactRecorded",
                                "municipality": "101",
                                "citizen_id": CITIZEN,
                                "course_id": COURSE,
                                "effective_date": TODAY.isoformat(),
                                "minutes": 10,
                                "kind": "attempted",
                            },
                            {"type": "ContactRecorded", "municipality": "101", "citizen_id": CITIZEN},
                        ]
                    }
                },
            ),
            (
                "POST",
                "/v1/import",
                {
                    "body": {
                        "facts": [
                            {
                                "recorded_at": f"{TODAY.isoformat()}T08:00:00+00:00",
                                "source": "fuzz-tour",
                                "id": "contact-1",
                                "fact": {
                                    "type": "ContactRecorded",
                                    "municipality": "101",
                                    "citizen_id": CITIZEN,
                                    "course_id": COURSE,
                                    "effective_date": TODAY.isoformat(),
                                    "minutes": 15,
                                    "kind": "phone_digital",
                                },
                            },
                            {"recorded_at": "yesterday", "source": "fuzz-tour", "fact": {}},
                        ]
                    }
                },
            ),
            (
                "GET",
                "/v1/citizens/{citizen_id}/history",
                {"path_parameters": {"citizen_id": CITIZEN}, "query": history},
            ),
            (
                "POST",
                "/v1/exports/shelter-stays/reidentify",
                {
                    "query": history,
                    "body": {
                        "version": "shelter-stays/1",
                        "rows": [{"citizen": CITIZEN, "shelter": "s", "check_in": "2026-01-05"}],
                    },
                },
            ),
            (
                "POST",
                "/v1/exports/shelter-stays/reidentify",
                {"query": history | {"csv": True}, "body": {"version": "shelter-stays/1", "rows": []}},
            ),
            (
                "GET",
                "/v1/citizens/{citizen_id}/courses/{course_id}/history",
                {"path_parameters": {"citizen_id": CITIZEN, "course_id": COURSE}, "query": history},
            ),
            ("GET", "/v1/teams/{team_id}/history", {"path_parameters": {"team_id": "team-a"}, "query": history}),
            ("GET", "/v1/workers/{worker_id}/history", {"path_parameters": {"worker_id": "w-anna"}, "query": history}),
            ("GET", "/v1/municipalities/{municipality}/history", {"path_parameters": {"municipality": "101"}}),
            (
                "GET",
                "/v1/citizens/{citizen_id}/personal-details",
                {"path_parameters": {"citizen_id": CITIZEN}, "query": history},
            ),
            ("GET", "/v1/audit/reads", {"query": {"municipality": "101"}}),
            (
                "POST",
                "/v1/surveys/answers",
                {
                    "body": {
                        "municipality": "101",
                        "survey": "self_evaluation_outreach",
                        "version": 1,
                        "round": "2026-H1",
                        "team": "team-a",
                        "answers": dict.fromkeys(
                            (
                                "roles_clear",
                                "management_bridging",
                                "partner_network",
                                "partner_roles",
                                "follow_up_plan",
                                "data_used",
                            ),
                            4,
                        ),
                    }
                },
            ),
            (
                "POST",
                "/v1/partner-meetings",
                {
                    "body": {
                        "municipality": "101",
                        "effective_date": TODAY.isoformat(),
                        "team": "team-a",
                        "partners": ["jobcentre", "housing"],
                    }
                },
            ),
        ],
        "projections": [
            ("GET", "/v1/kpis", {}),
            ("GET", "/v1/teams", {"query": {"municipality": "101"}}),
            (
                "GET",
                "/v1/kpis/{kpi_id}",
                {"path_parameters": {"kpi_id": "P1"}, "query": kpi | {"scope": "municipality"}},
            ),
            *[
                ("GET", "/v1/kpis/{kpi_id}", {"path_parameters": {"kpi_id": kpi_id}, "query": kpi})
                for kpi_id in ("P1", "P2", "P3", "P8", "O1", "O12", "O13", "O15", "O16", "E2", "S1")
            ],
            ("GET", "/v1/kpis/{kpi_id}", {"path_parameters": {"kpi_id": "P4"}, "query": kpi | {"period": "quarter"}}),
            (
                "GET",
                "/v1/kpis/{kpi_id}",
                {"path_parameters": {"kpi_id": "O4"}, "query": kpi | {"age_band": "18-24", "gender": "female"}},
            ),
            ("GET", "/v1/kpis/{kpi_id}", {"path_parameters": {"kpi_id": "P1"}, "query": kpi | {"format": "csv"}}),
            ("GET", "/v1/kpis/{kpi_id}", {"path_parameters": {"kpi_id": "P1"}, "query": kpi | {"format": "xlsx"}}),
            ("GET", "/v1/kpis/export", {"query": kpi | {"ids": "P1,P2", "format": "csv"}}),
            ("GET", "/v1/kpis/export", {"query": kpi}),
            ("GET", "/v1/kpis/{kpi_id}/benchmark", {"path_parameters": {"kpi_id": "P1"}, "query": kpi}),
            (
                "PUT",
                "/v1/targets/{kpi_id}",
                {"path_parameters": {"kpi_id": "P2"}, "body": {"municipality": "101", "value": 0.8}},
            ),
            ("GET", "/v1/kpis/{kpi_id}", {"path_parameters": {"kpi_id": "P2"}, "query": kpi}),  # with its target
            ("GET", "/v1/targets", {"query": kpi}),
            (
                "GET",
                "/v1/courses/{course_id}/double-bottom-line",
                {"path_parameters": {"course_id": COURSE}, "query": kpi},
            ),
            ("GET", "/v1/time-plan-median", {"query": {"municipality": "101", "method": "ICM"}}),
            ("GET", "/v1/time-plan-median", {"query": {"municipality": "101", "method": "CTI", "phase": "1"}}),
            ("GET", "/v1/courses", {"query": kpi}),
            ("GET", "/v1/courses", {"query": kpi | {"state": "all", "sort": "gap", "page_size": 5}}),
            ("GET", "/v1/courses", {"query": kpi | {"format": "csv", "sort": "last_contact"}}),
            ("GET", "/v1/courses", {"query": kpi | {"format": "xlsx", "due_within": 30}}),
            ("GET", "/v1/homeless-list", {"query": kpi}),
            ("GET", "/v1/homeless-list", {"query": kpi | {"format": "xlsx"}}),
            ("GET", "/v1/surveys", {"query": {"municipality": "101"}}),
            ("GET", "/v1/organisation", {"query": {"municipality": "101"}}),
            ("GET", "/v1/organisation/catalogue", {}),
            ("GET", "/v1/organisation/export", {"query": {"municipality": "101", "format": "csv"}}),
            ("GET", "/v1/organisation/export", {"query": {"municipality": "101", "lang": "en"}}),
            (
                "GET",
                "/v1/organisation/benchmark",
                {"query": {"municipality": "101", "survey": "self_evaluation_outreach", "round": "2026-H1"}},
            ),
            ("GET", "/v1/data-quality", {"query": kpi}),
            ("GET", "/v1/exports/vive-count", {"query": kpi | {"week": "2026-01-05"}}),
            ("GET", "/v1/exports/vive-count", {"query": kpi | {"week": "2026-01-05", "format": "csv"}}),
            ("GET", "/v1/exports/shelter-stays", {"query": kpi | {"quarter": "2026-01-05", "format": "xlsx"}}),
            ("GET", "/v1/exports/shelter-stays", {"query": kpi | {"quarter": "2026-01-05"}}),
            (
                "PUT",
                "/v1/price-books",
                {
                    "body": {
                        "municipality": "101",
                        "version": "kk-1",
                        "valid_from": "2025-01-01",
                        "price_level": "2025",
                        "prices": [
                            {
                                "id": "shelter_bed_day",
                                "name_da": "Døgn",
                                "name_en": "Bed-day",
                                "unit": "bed-day",
                                "unit_price_dkk": 1100,
                                "split": {"municipality": 0.5, "state": 0.5},
                                "effect_years": 3,
                                "source": "own rate",
                            }
                        ],
                    }
                },
            ),
            ("GET", "/v1/price-books", {"query": kpi}),
            ("GET", "/v1/investment", {"query": kpi | {"success_rate": 0.63, "psychiatric_admissions_per_year": 0.1}}),
            ("GET", "/v1/investment", {"query": kpi | {"success_rate": 0.63, "format": "xlsx", "horizon_years": 3}}),
            ("GET", "/v1/position", {}),
        ],
        "alerts": [
            ("GET", "/v1/alerts", {"query": {"municipality": "101"}}),
            ("GET", "/v1/alerts", {"query": {"municipality": "101", "limit": 1, "offset": 1}}),
            ("GET", "/v1/alerts/stream", {"query": {"municipality": "101", "after": 0}}),
            ("GET", "/v1/alerts/{alert_id}", {"path_parameters": {"alert_id": alert_ids[0]}}),
            (
                "POST",
                "/v1/alerts/{alert_id}/acknowledge",
                {"path_parameters": {"alert_id": alert_ids[0]}, "body": {"note": "set i gang"}},
            ),
            (
                "POST",
                "/v1/alerts/{alert_id}/snooze",
                {"path_parameters": {"alert_id": alert_ids[1]}, "body": {"until": until}},
            ),
            (
                "POST",
                "/v1/alerts/{alert_id}/resolve",
                {"path_parameters": {"alert_id": alert_ids[0]}, "body": {"note": "løst", "on_behalf_of": "Lise"}},
            ),
            ("GET", "/v1/rules", {}),
            ("GET", "/v1/rules", {"query": {"municipality": "101"}}),
            (
                "PUT",
                "/v1/rules/{rule_id}/config",
                {
                    "path_parameters": {"rule_id": rule},
                    "query": {"municipality": "101", "method": "ICM"},
                    "body": {"params": {}},
                },
            ),
            (
                "GET",
                "/v1/rules/{rule_id}/config",
                {"path_parameters": {"rule_id": rule}, "query": {"municipality": "101"}},
            ),
            ("GET", "/v1/clock", {}),
            ("PUT", "/v1/clock", {"body": {"now": now}}),  # to where it is: the clock does not move
            ("GET", "/v1/position", {}),
        ],
        "dashboard": [
            ("GET", "/api/session", {}),
            ("GET", "/api/labels", {}),
            ("GET", "/api/{service}/{path}", {"path_parameters": {"service": "projections", "path": "v1/kpis"}}),
            (
                "PUT",
                "/api/{service}/{path}",
                {
                    "path_parameters": {"service": "projections", "path": "v1/targets/P3"},
                    "body": {"municipality": "101", "value": 0.5},
                    "media_type": "application/json",
                },
            ),
            ("POST", "/api/{service}/{path}", {"path_parameters": {"service": "alerts", "path": "v1/no-such"}}),
            ("DELETE", "/api/{service}/{path}", {"path_parameters": {"service": "alerts", "path": "v1/no-such"}}),
        ],
    }


def tour(system: System, service: str, calls: list[tuple[str, str, Call]], expect: Callable[[str, str], bool]) -> None:
    url = system.services[service].url
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
    headers, cookies = credentials(system, service)
    documented = {(op.ok().method.upper(), op.ok().path) for op in schema.get_all_operations()}
    failures = []
    for method, path, given_input in calls:
        operation = schema[path][method]
        case = operation.Case(**given_input)
        response = case.call(base_url=url, headers=headers, cookies=cookies, timeout=timeout(operation))
        if expect(method, path) and not 200 <= response.status_code < 300:
            failures.append(f"{method} {path}: {response.status_code} {response.text[:500]}")
            continue
        try:
            case.validate_response(response, checks=CHECKS)
        except Exception as exc:
            failures.append(f"{method} {path}: {exc!s:.2000}")
    assert failures == [], "\n\n".join(failures)
    assert documented - {(m, p) for m, p, _ in calls} == set(), "operations the tour does not call"


def test_every_operation_answers_as_its_document_says(fuzzed_system: System) -> None:
    last = seed(fuzzed_system)
    fuzzed_system.wait_applied("projections", last)
    fuzzed_system.wait_applied("alerts", last)
    calls = tour_calls(fuzzed_system)
    for service in ("alerts", "registration", "projections"):  # alerts first: a contact resolves some
        tour(fuzzed_system, service, calls[service], lambda method, path: True)
    # The proxy passes on the service's answer, whatever it is (here also a 404 of alerts).
    tour(fuzzed_system, "dashboard", calls["dashboard"], lambda method, path: method in ("GET", "PUT"))


@pytest.mark.parametrize("service", ["registration", "projections", "alerts", "dashboard"])
def test_endpoints_never_fail_or_hang_on_hostile_input(fuzzed_system: System, service: str) -> None:
    fuzz(fuzzed_system, service)


def test_batch_over_the_limit_is_refused_whole_with_413(fuzzed_system: System) -> None:
    import asyncio
    import json

    from services.registration.submission import MAX_BATCH
    from tests.test_registration_privacy import nats_request

    fact = {
        "type": "CitizenRegistered",
        "municipality": "101",
        "citizen_id": "too-many",
        "effective_date": "2026-03-01",
    }
    batch = {"facts": [fact] * (MAX_BATCH + 1)}
    with fuzzed_system.client("registration") as client:
        response = client.post("/v1/facts/batch", json=batch)
    assert response.status_code == 413
    assert response.json()["error"]["reason"] == "batch_too_large"

    answer = asyncio.run(
        nats_request(fuzzed_system.nats_url, json.dumps(batch).encode(), {"Authorization": "Bearer token-101"})
    )
    assert (answer["status"], answer["body"]["error"]["reason"]) == (413, "batch_too_large")
    with fuzzed_system.client("registration") as client:
        history = client.get("/v1/citizens/too-many/history", params={"municipality": "101"})
    assert history.status_code == 404  # nothing of either batch was stored


def test_found_by_fuzzing_a_clock_far_from_today_is_refused_not_a_500(fuzzed_system: System) -> None:
    with fuzzed_system.client("alerts", "token-admin") as client:
        response = client.put("/v1/clock", json={"now": "0001-01-01T00:00:01+01:16"})
        assert response.status_code == 422, response.text
        assert client.get("/v1/alerts", params={"municipality": "101"}).status_code == 200
