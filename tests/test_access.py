"""Roles and scopes over HTTP on the real services (runtime/access.py has the table), and the same
services tried as an attacker: other municipality, expired and forged tokens, injection in filters."""

import asyncio
import json
import uuid
from typing import Any

import httpx
import psycopg
import pytest

from runtime.auth import Principal, SessionSigner
from tests.support import System, course_facts
from tests.test_registration_privacy import nats_request

pytestmark = pytest.mark.integration

SIGNING_KEY = "s" * 40
D = "2026-01-05"


def _scenario(system: System) -> int:
    """k1 (team-a, Anna's) and k2 (team-b, Bo's) in 101 with an eviction risk each; k9 in 147."""
    facts = course_facts("101", "cit-1", "k1", "ICM", D, team="team-a")
    facts[-1]["support_worker"] = "w-anna"
    facts += course_facts("101", "cit-2", "k2", "ICM", D, team="team-b")
    facts[-1]["support_worker"] = "w-bo"
    for citizen in ("cit-1", "cit-2"):
        about = {"municipality": "101", "citizen_id": citizen, "effective_date": D}
        facts += [
            about | {"type": "HousingGained", "housing": "almen"},
            about | {"type": "EvictionRiskRegistered", "kind": "bailiff_case"},
        ]
    last = [system.submit(f) for f in facts][-1]["position"]
    for fact in course_facts("147", "cit-9", "k9", "ICM", D):
        last = system.submit(fact, token="token-147")["position"]
    system.wait_applied("projections", last)
    system.wait_applied("alerts", last)
    return last


def _status(client: httpx.Client, method: str, path: str, **kwargs: Any) -> int:
    return client.request(method, path, **kwargs).status_code


CITIZEN_1 = ("GET", "/v1/citizens/cit-1/history", {"params": {"municipality": "101"}})
CITIZEN_2 = ("GET", "/v1/citizens/cit-2/history", {"params": {"municipality": "101"}})
COURSE_1 = ("GET", "/v1/citizens/cit-1/courses/k1/history", {"params": {"municipality": "101"}})
TEAM_A = ("GET", "/v1/teams/team-a/history", {"params": {"municipality": "101"}})
HOUSING = ("GET", "/v1/municipalities/101/history", {})
SUBMIT = (
    "POST",
    "/v1/facts",
    {
        "json": {
            "type": "ContactRecorded",
            "municipality": "101",
            "citizen_id": "cit-1",
            "course_id": "k1",
            "effective_date": D,
            "minutes": 30,
            "kind": "face_to_face",
        }
    },
)
SUBMIT_K2 = ("POST", "/v1/facts", {"json": SUBMIT[2]["json"] | {"citizen_id": "cit-2", "course_id": "k2"}})
SUBMIT_NOT_COURSE_FACT = (
    "POST",
    "/v1/facts",
    {
        "json": {
            "type": "HousingGained",
            "municipality": "101",
            "citizen_id": "cit-1",
            "effective_date": D,
            "housing": "almen",
        }
    },
)
SUBMIT_BATCH = ("POST", "/v1/facts/batch", {"json": {"facts": [SUBMIT[2]["json"]]}})
IMPORT = ("POST", "/v1/import", {"json": {"facts": []}})
KPI = ("GET", "/v1/kpis/P1", {"params": {"municipality": "101"}})
KPI_TEAM_B = ("GET", "/v1/kpis/P1", {"params": {"municipality": "101", "team": "team-b"}})
KPI_WHOLE = ("GET", "/v1/kpis/P1", {"params": {"municipality": "101", "scope": "municipality"}})
BENCHMARK = ("GET", "/v1/kpis/P1/benchmark", {"params": {"municipality": "101"}})
TARGET = ("PUT", "/v1/targets/P1", {"json": {"municipality": "101", "value": 3}})
DBL_1 = ("GET", "/v1/courses/k1/double-bottom-line", {"params": {"municipality": "101"}})
DBL_2 = ("GET", "/v1/courses/k2/double-bottom-line", {"params": {"municipality": "101"}})
MEDIAN = ("GET", "/v1/time-plan-median", {"params": {"municipality": "101", "method": "ICM"}})
MEDIAN_TEAM_B = ("GET", "/v1/time-plan-median", {"params": {"municipality": "101", "method": "ICM", "team": "team-b"}})
ROSTER = ("GET", "/v1/courses", {"params": {"municipality": "101"}})
ROSTER_TEAM_B = ("GET", "/v1/courses", {"params": {"municipality": "101", "team": "team-b"}})
ROSTER_OF_BO = ("GET", "/v1/courses", {"params": {"municipality": "101", "worker": "w-bo"}})
HOMELESS_LIST = ("GET", "/v1/homeless-list", {"params": {"municipality": "101"}})
HOMELESS_LIST_TEAM_B = ("GET", "/v1/homeless-list", {"params": {"municipality": "101", "team": "team-b"}})
DATA_QUALITY = ("GET", "/v1/data-quality", {"params": {"municipality": "101"}})
DATA_QUALITY_TEAM_B = ("GET", "/v1/data-quality", {"params": {"municipality": "101", "team": "team-b"}})
DATA_QUALITY_OF_BO = ("GET", "/v1/data-quality", {"params": {"municipality": "101", "worker": "w-bo"}})
VIVE_COUNT = ("GET", "/v1/exports/vive-count", {"params": {"municipality": "101", "week": D}})
SHELTER_STAYS = ("GET", "/v1/exports/shelter-stays", {"params": {"municipality": "101", "quarter": D}})
REIDENTIFY = (
    "POST",
    "/v1/exports/shelter-stays/reidentify",
    {"params": {"municipality": "101"}, "json": {"version": "shelter-stays/1", "rows": []}},
)
INVESTMENT = ("GET", "/v1/investment", {"params": {"municipality": "101", "success_rate": 0.63}})
PRICE_BOOKS = ("GET", "/v1/price-books", {"params": {"municipality": "101"}})
ALERTS = ("GET", "/v1/alerts", {"params": {"municipality": "101"}})
RULES = ("GET", "/v1/rules/eviction_risk/config", {"params": {"municipality": "101"}})
CONFIGURE = (
    "PUT",
    "/v1/rules/handleplan_missing/config",
    {"params": {"municipality": "101"}, "json": {"params": {"days": 20}}},
)
CLOCK = ("PUT", "/v1/clock", {"json": {"now": "2026-01-06T08:00:00Z"}})
AUDIT = ("GET", "/v1/audit/reads", {"params": {"municipality": "101"}})
SURVEYS = ("GET", "/v1/surveys", {"params": {"municipality": "101"}})
ORGANISATION = ("GET", "/v1/organisation", {"params": {"municipality": "101"}})
ORGANISATION_TEAM_B = ("GET", "/v1/organisation", {"params": {"municipality": "101", "team": "team-b"}})
ORGANISATION_BENCHMARK = (
    "GET",
    "/v1/organisation/benchmark",
    {"params": {"municipality": "101", "survey": "staff", "round": "2026-H1"}},
)
_STAFF_ANSWERS = {
    "management_priority": 4,
    "management_data": 4,
    "method_training": 3,
    "supervision": 5,
    "cooperation_works": 2,
    "cooperation_binding": 3,
    "visitation_clear": 4,
    "visitation_fit": 4,
}
ANSWER_STAFF = (  # team-a is not registered in this scenario: past the permission check, 404
    "POST",
    "/v1/surveys/answers",
    {
        "json": {
            "municipality": "101",
            "survey": "staff",
            "version": 1,
            "round": "2026-H1",
            "team": "team-a",
            "answers": _STAFF_ANSWERS,
        }
    },
)
ANSWER_MATURITY = (  # the municipality's survey: answered once a round (the administrator comes second)
    "POST",
    "/v1/surveys/answers",
    {
        "json": {
            "municipality": "101",
            "survey": "maturity",
            "version": 1,
            "round": "2026-H1",
            "answers": {
                p: 3 for p in ("strategy", "leadership", "organisation", "culture", "competences", "data", "technology")
            },
        }
    },
)
ORGANISATION_EXPORT = ("GET", "/v1/organisation/export", {"params": {"municipality": "101", "format": "csv"}})
PARTNER_MEETING = (
    "POST",
    "/v1/partner-meetings",
    {"json": {"municipality": "101", "effective_date": D, "team": "team-a", "partners": ["jobcentre"]}},
)

# service, operation, then the status each role gets: client, support worker, team leader, manager, admin.
TABLE = [
    ("registration", SUBMIT, (201, 201, 201, 403, 201)),  # a contact on k1: Anna's course, Lise's team's
    ("registration", SUBMIT_K2, (201, 403, 403, 403, 201)),  # on k2: Bo's, team-b's
    ("registration", SUBMIT_NOT_COURSE_FACT, (201, 403, 403, 403, 201)),  # the case system's fact
    ("registration", SUBMIT_BATCH, (200, 200, 200, 403, 200)),  # a batch answers per fact (below)
    ("registration", CITIZEN_1, (200, 200, 200, 403, 200)),
    ("registration", CITIZEN_2, (200, 403, 403, 403, 200)),  # team-b, Bo's
    ("registration", COURSE_1, (200, 200, 200, 403, 200)),
    ("registration", TEAM_A, (404, 403, 403, 403, 404)),  # not registered: only the municipality-wide learn that
    ("registration", HOUSING, (404, 403, 403, 404, 404)),
    ("registration", AUDIT, (403, 403, 403, 403, 200)),
    ("registration", REIDENTIFY, (403, 403, 403, 403, 200)),  # the administrator only (test_reidentify.py)
    ("registration", IMPORT, (403, 403, 403, 403, 200)),  # the administrator only (test_import.py)
    ("projections", KPI, (403, 403, 200, 200, 200)),
    ("projections", KPI_TEAM_B, (403, 403, 403, 200, 200)),
    ("projections", KPI_WHOLE, (403, 403, 200, 200, 200)),
    ("projections", BENCHMARK, (403, 403, 403, 200, 200)),
    ("projections", TARGET, (403, 403, 403, 200, 200)),
    ("projections", DBL_1, (403, 200, 200, 403, 200)),
    ("projections", DBL_2, (403, 403, 403, 403, 200)),
    ("projections", MEDIAN, (403, 200, 200, 200, 200)),  # a worker's and a leader's: their own team's
    ("projections", MEDIAN_TEAM_B, (403, 403, 403, 200, 200)),
    ("projections", ROSTER, (403, 200, 200, 200, 200)),  # each their own rows (test_roster.py)
    ("projections", ROSTER_TEAM_B, (403, 200, 403, 200, 200)),  # a worker's own rows of team-b: none
    ("projections", ROSTER_OF_BO, (403, 403, 200, 200, 200)),  # a leader: Bo's rows of the leader's team
    ("projections", HOMELESS_LIST, (403, 403, 200, 200, 200)),
    ("projections", HOMELESS_LIST_TEAM_B, (403, 403, 403, 200, 200)),
    ("projections", DATA_QUALITY, (403, 200, 200, 200, 200)),  # scoped like the roster
    ("projections", DATA_QUALITY_TEAM_B, (403, 200, 403, 200, 200)),
    ("projections", DATA_QUALITY_OF_BO, (403, 403, 200, 200, 200)),
    ("projections", VIVE_COUNT, (403, 403, 403, 200, 200)),
    ("projections", SHELTER_STAYS, (403, 403, 403, 200, 200)),
    ("projections", INVESTMENT, (403, 403, 403, 200, 200)),
    ("projections", PRICE_BOOKS, (403, 403, 403, 200, 200)),  # setting one: test_price_books.py
    ("alerts", ALERTS, (403, 403, 200, 200, 200)),
    ("alerts", RULES, (403, 403, 200, 200, 200)),
    ("alerts", CONFIGURE, (403, 403, 403, 200, 200)),
    ("alerts", CLOCK, (403, 403, 403, 403, 200)),
    ("registration", ANSWER_STAFF, (403, 404, 404, 403, 404)),
    ("registration", ANSWER_MATURITY, (403, 403, 403, 201, 409)),
    ("registration", PARTNER_MEETING, (403, 403, 404, 403, 404)),
    ("projections", SURVEYS, (200, 200, 200, 200, 200)),
    ("projections", ORGANISATION, (403, 200, 200, 200, 200)),
    ("projections", ORGANISATION_TEAM_B, (403, 403, 403, 200, 200)),
    ("projections", ORGANISATION_BENCHMARK, (403, 403, 403, 200, 200)),
    ("projections", ORGANISATION_EXPORT, (403, 200, 200, 200, 200)),
]
ROLE_TOKENS = ("token-101", "token-worker-101", "token-leader-101", "token-manager-101", "token-admin")


def test_each_role_may_do_what_the_table_says_and_nothing_else(system: System) -> None:
    system.extra_env["CASETRACK_SIGNING_KEY"] = SIGNING_KEY
    system.__post_init__()
    system.start()
    _scenario(system)
    got, expected = {}, {}
    for service, (method, path, kwargs), statuses in TABLE:
        for token, status in zip(ROLE_TOKENS, statuses, strict=True):
            with system.client(service, token) as client:
                got[(path, str(kwargs), token)] = _status(client, method, path, **kwargs)
            expected[(path, str(kwargs), token)] = status
    assert got == expected

    # A team leader's alert list is their team's; a filter on another team is refused, not widened.
    with system.client("alerts", "token-leader-101") as leader, system.client("alerts", "token-admin") as admin:
        mine = leader.get("/v1/alerts", params={"municipality": "101", "rule": "eviction_risk"}).json()["alerts"]
        every = admin.get("/v1/alerts", params={"municipality": "101", "rule": "eviction_risk"}).json()["alerts"]
        assert {a["team"] for a in mine} == {"team-a"} and {a["team"] for a in every} == {"team-a", "team-b"}
        [other_team] = [a for a in every if a["team"] == "team-b"]
        # Another team's alert and an alert that does not exist: the same 403, for reading and changing.
        for path in (f"/v1/alerts/{other_team['id']}", f"/v1/alerts/{uuid.uuid4()}"):
            refused = leader.get(path)
            assert (refused.status_code, refused.json()["error"]["reason"]) == (403, "forbidden")
            assert leader.post(f"{path}/acknowledge", json={}).json() == refused.json()
        assert leader.get(f"/v1/alerts/{mine[0]['id']}").status_code == 200
        assert leader.post(f"/v1/alerts/{mine[0]['id']}/acknowledge", json={}).status_code == 200

    # A manager reads every team's alerts of the municipality, and changes none of them.
    with system.client("alerts", "token-manager-101") as manager:
        theirs = manager.get("/v1/alerts", params={"municipality": "101", "rule": "eviction_risk"}).json()["alerts"]
        assert {a["id"] for a in theirs} == {a["id"] for a in every}
        assert manager.get(f"/v1/alerts/{other_team['id']}").status_code == 200
        for change in ("acknowledge", "resolve"):
            refused = manager.post(f"/v1/alerts/{other_team['id']}/{change}", json={"note": "x"})
            assert (refused.status_code, refused.json()["error"]["reason"]) == (403, "forbidden"), change
        assert manager.get(f"/v1/alerts/{uuid.uuid4()}").status_code == 403
        assert manager.get("/v1/alerts", params={"municipality": "147"}).status_code == 403

    # Every service put the citizen and course reads it served on the audit trail, with who read.
    with system.client("registration", "token-admin") as admin:
        reads = admin.get("/v1/audit/reads", params={"municipality": "101"}).json()["reads"]
    by_service = {(r["service"], r["action"], r["actor"], r["subject_id"]) for r in reads}
    assert {
        ("registration", "read_citizen_history", "anna", "cit-1"),
        ("registration", "read_course_history", "lise", "k1"),
        ("projections", "read_double_bottom_line", "anna", "k1"),
        ("projections", "read_course_roster", "anna", "w-anna"),
        ("projections", "read_course_roster", "lise", "team-a"),
        ("projections", "read_homeless_list", "mads", "101"),
        ("alerts", "read_alert", "lise", mine[0]["subject_id"]),
    } <= by_service
    assert not any(r["subject_id"] == "k2" and r["actor"] == "anna" for r in reads)  # refused: not a read

    # A citizen out of a support worker's reach and one that does not exist answer alike.
    with system.client("registration", "token-worker-101") as worker:
        out_of_scope = worker.get("/v1/citizens/cit-2/history", params={"municipality": "101"})
        missing = worker.get("/v1/citizens/nobody/history", params={"municipality": "101"})
        assert (out_of_scope.status_code, out_of_scope.json()) == (missing.status_code, missing.json())
        assert worker.get("/v1/workers/w-bo/history", params={"municipality": "101"}).status_code == 403

    # A person's session token carries the same role and scope as an API token would.
    leader_session = SessionSigner(SIGNING_KEY.encode()).issue(
        Principal("lise", "101", "team_leader", team="team-a", worker="leader-a")
    )
    with system.client("projections", leader_session) as leader:
        assert leader.get("/v1/kpis/P1", params={"municipality": "101"}).json()["team"] == "team-a"
        assert leader.get("/v1/kpis/P1", params={"municipality": "101", "team": "team-b"}).status_code == 403


INJECTIONS = ["101' OR '1'='1", "101; DROP TABLE alerts; --", '{"$ne": null}', "team-a' --", "../147", "1 OR 1=1"]


def _row_counts(database_url: str) -> tuple[int, int, int]:
    """What a write could change: stored events, targets, rule configuration (alerts come and go by
    the clock, so they are not counted)."""
    with psycopg.connect(database_url) as connection:
        return tuple(
            connection.execute(  # type: ignore[return-value]
                "SELECT (SELECT count(*) FROM registration_events), (SELECT count(*) FROM kpi_targets),"
                " (SELECT count(*) FROM alert_rule_config)"
            ).fetchone()
        )


def test_an_attacker_is_refused_everywhere_and_reaches_no_store(system: System) -> None:
    system.extra_env["CASETRACK_SIGNING_KEY"] = SIGNING_KEY
    system.__post_init__()
    system.start()
    _scenario(system)
    before = _row_counts(system.database_url)
    signer = SessionSigner(SIGNING_KEY.encode())
    admin_claims = Principal("mallory", None, "admin")
    forged = SessionSigner(b"m" * 40).issue(admin_claims)  # signed with a key casetrack does not have
    tampered = (
        "ct1."
        + signer.issue(admin_claims)[4:].split(".")[0]
        + "."
        + signer.issue(Principal("mallory", "101", "client"))[4:].split(".")[1]
    )  # admin claims with a client's signature
    stale = signer.issue(Principal("lise", "101", "team_leader", team="team-a"), lifetime_seconds=-1)
    bad_credentials = {
        forged: "token_invalid",
        tampered: "token_invalid",
        stale: "token_expired",
        "token-expired-101": "token_expired",
        "": "token_missing",
        "token-admin2": "token_invalid",
    }

    operations = (
        [("registration", op) for op in (SUBMIT, CITIZEN_1, COURSE_1, AUDIT)]
        + [("projections", op) for op in (KPI, TARGET, DBL_1)]
        + [("alerts", op) for op in (ALERTS, CONFIGURE, CLOCK)]
    )
    for service, (method, path, kwargs) in operations:
        for token, reason in bad_credentials.items():
            with system.client(service, None) as client:
                headers = {"Authorization": f"Bearer {token}"} if token else {}
                response = client.request(method, path, headers=headers, **kwargs)
            assert (response.status_code, response.json()["error"]["reason"]) == (401, reason), (path, token)

    # Over NATS too: an expired or unknown token, or a person's role, submits nothing.
    fact = json.dumps(SUBMIT[2]["json"]).encode()
    for token, (status, reason) in {
        "token-expired-101": (401, "token_expired"),
        "token-nope": (401, "token_invalid"),
        "token-manager-101": (403, "forbidden"),
        "token-worker-101": (403, "forbidden"),  # people submit over HTTP only
        "token-leader-101": (403, "forbidden"),
        "token-147": (403, "municipality_forbidden"),
    }.items():
        answer = asyncio.run(nats_request(system.nats_url, fact, {"Authorization": f"Bearer {token}"}))
        assert (answer["status"], answer["body"]["error"]["reason"]) == (status, reason), token

    # Another municipality's manager, team leader and case system: 403 on everything of 101.
    for token in ("token-147", "token-leader-147", "token-manager-147"):
        for service, (method, path, kwargs) in operations:
            if path == "/v1/clock" or path == "/v1/audit/reads":
                continue  # administrator only, checked above for everyone else
            with system.client(service, token) as client:
                assert _status(client, method, path, **kwargs) == 403, (token, path)

    # Injection in every filter and identifier: refused at the edge with a 4xx naming the field.
    reads = {
        "registration": [
            ("/v1/citizens/{v}/history", {"municipality": "101"}),
            ("/v1/citizens/cit-1/history", {"municipality": "{v}"}),
            ("/v1/citizens/cit-1/courses/{v}/history", {"municipality": "101"}),
            ("/v1/teams/{v}/history", {"municipality": "101"}),
            ("/v1/workers/{v}/history", {"municipality": "101"}),
            ("/v1/audit/reads", {"municipality": "{v}"}),
            ("/v1/audit/reads", {"municipality": "101", "subject_id": "{v}"}),
            ("/v1/audit/reads", {"municipality": "101", "subject_type": "{v}"}),
        ],
        "projections": [
            ("/v1/kpis/P1", {"municipality": "{v}"}),
            ("/v1/kpis/P1", {"municipality": "101", "team": "{v}"}),
            ("/v1/kpis/P1", {"municipality": "101", "method": "{v}"}),
            ("/v1/kpis/P1", {"municipality": "101", "as_of": "{v}"}),
            ("/v1/kpis/P1", {"municipality": "101", "from": "{v}"}),
            ("/v1/kpis/P1/benchmark", {"municipality": "{v}"}),
            ("/v1/targets", {"municipality": "{v}"}),
            ("/v1/courses/{v}/double-bottom-line", {"municipality": "101"}),
            ("/v1/courses", {"municipality": "{v}"}),
            ("/v1/courses", {"municipality": "101", "team": "{v}"}),
            ("/v1/courses", {"municipality": "101", "worker": "{v}"}),
            ("/v1/courses", {"municipality": "101", "state": "{v}"}),
            ("/v1/courses", {"municipality": "101", "sort": "{v}"}),
            ("/v1/homeless-list", {"municipality": "101", "team": "{v}"}),
            ("/v1/homeless-list", {"municipality": "101", "on": "{v}"}),
            ("/v1/data-quality", {"municipality": "101", "team": "{v}"}),
            ("/v1/data-quality", {"municipality": "101", "worker": "{v}"}),
            ("/v1/exports/vive-count", {"municipality": "{v}", "week": "2026-01-05"}),
            ("/v1/exports/shelter-stays", {"municipality": "101", "quarter": "{v}"}),
            ("/v1/investment", {"municipality": "101", "team": "{v}", "success_rate": "0.5"}),
        ],
        "alerts": [
            ("/v1/alerts", {"municipality": "{v}"}),
            ("/v1/alerts", {"municipality": "101", "team": "{v}"}),
            ("/v1/alerts", {"municipality": "101", "state": "{v}"}),
            ("/v1/alerts", {"municipality": "101", "severity": "{v}"}),
            ("/v1/alerts", {"municipality": "101", "rule": "{v}"}),
            ("/v1/alerts/{v}", {}),
            ("/v1/rules/eviction_risk/config", {"municipality": "101", "team": "{v}"}),
        ],
    }
    for service, templates in reads.items():
        with system.client(service, "token-admin") as admin:
            for path, params in templates:
                for value in INJECTIONS:
                    url = path.replace("{v}", value.replace("/", "%2F"))
                    response = admin.get(url, params={k: v.replace("{v}", value) for k, v in params.items()})
                    assert response.status_code in (404, 422), (url, params, value, response.text)
                    assert response.json()["error"]["reason"] in ("validation_error", "rule_not_found", "not_found"), (
                        url,
                        params,
                        value,
                    )
    with system.client("registration", "token-admin") as admin:
        for value in INJECTIONS:
            fact = dict(SUBMIT[2]["json"]) | {"citizen_id": value}
            assert admin.post("/v1/facts", json=fact).status_code == 422
            assert admin.post("/v1/facts", json=dict(SUBMIT[2]["json"]) | {"municipality": value}).status_code == 422
            assert admin.post("/v1/facts", json={**SUBMIT[2]["json"], "type": {"$ne": None}}).status_code == 422
    assert _row_counts(system.database_url) == before
