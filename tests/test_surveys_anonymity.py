"""Surveys end to end on the real services (docs/surveys.md): workers answer a staff survey round
for themselves, a team of 5 gets its profile and a team of 4 stays suppressed; and no endpoint,
export or table lets anyone, the administrator included, read one respondent's answers of an
anonymous survey, or find who answered."""

import json
from typing import Any

import psycopg
import pytest

from contracts.surveys import STAFF
from tests.support import TOKENS, System

pytestmark = pytest.mark.integration

M = "101"
ROUND = "2026-H1"
D = "2026-03-02"
# Team s: five respondents, each answering one value to every item (hand-worked below); team t: four.
S_VALUES = {"s1": 5, "s2": 4, "s3": 4, "s4": 2, "s5": 3}
T_VALUES = {"t1": 5, "t2": 1, "t3": 4, "t4": 2}


def _worker(key: str, team: str) -> dict[str, str]:
    return {
        "name": f"respondent-{key}",
        "municipality": M,
        "role": "support_worker",
        "team": team,
        "worker": f"w-{key}",
    }


RESPONDENTS = {f"token-{k}": _worker(k, "team-s") for k in S_VALUES} | {
    f"token-{k}": _worker(k, "team-t") for k in T_VALUES
}
LEADER = {"token-leader-s": {"name": "leader-s", "municipality": M, "role": "team_leader", "team": "team-s"}}
# Whatever identifies a respondent: their token's name and their worker id.
IDENTITIES = [entry[field] for entry in RESPONDENTS.values() for field in ("name", "worker")]


def _answers(value: int) -> dict[str, int]:
    return {item.id: value for item in STAFF.items}


def _answer(system: System, token: str, value: int) -> Any:
    with system.client("registration", token) as client:
        return client.post(
            "/v1/surveys/answers",
            json={"municipality": M, "survey": "staff", "version": 1, "round": ROUND, "answers": _answers(value)},
        )


@pytest.fixture
def answered(system: System) -> System:
    system.extra_env["CASETRACK_TOKENS"] = json.dumps(TOKENS | RESPONDENTS | LEADER)
    system.__post_init__()
    system.start("registration", "projections")
    for team in ("team-s", "team-t"):
        system.submit(
            {
                "type": "TeamRegistered",
                "municipality": M,
                "effective_date": D,
                "team_id": team,
                "name": team,
                "methods": ["ICM"],
            }
        )
    last = 0
    for key, value in (S_VALUES | T_VALUES).items():
        response = _answer(system, f"token-{key}", value)
        assert response.status_code == 201, response.text
        last = response.json()["position"]
    system.wait_applied("projections", last)
    return system


def _organisation(system: System, token: str, **params: str) -> dict[str, Any]:
    with system.client("projections", token) as client:
        response = client.get("/v1/organisation", params={"municipality": M, "survey": "staff"} | params)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_team_of_five_gets_its_profile_and_a_team_of_four_does_not(answered: System) -> None:
    [staff] = _organisation(answered, "token-manager-101")["surveys"]
    rows = {(r["team"], r["round"]): r for r in staff["results"]}
    s = rows[("team-s", ROUND)]
    # Each of the five answered one value to all 8 items: 5, 4, 4, 2, 3.
    # Every item and dimension: (5+4+4+2+3)/5 = 18/5 = 3.6; at 4 or more: 5, 4, 4 -> 3/5 = 0.6.
    assert s["suppressed"] is False and s["respondents"] == 5
    assert s["overall"] == {"mean": 3.6, "share_agreeing": 0.6}
    assert {(d["id"], d["mean"], d["share_agreeing"]) for d in s["dimensions"]} == {
        (d, 3.6, 0.6) for d in ("management_support", "competences", "cooperation", "visitation")
    }
    t = rows[("team-t", ROUND)]
    assert t["suppressed"] is True and t["respondents"] is None and t["overall"]["mean"] is None
    # The municipality pools only team s's shown answers: the same 3.6 and 0.6 from 5 respondents.
    assert rows[(None, ROUND)]["respondents"] == 5 and rows[(None, ROUND)]["overall"]["mean"] == 3.6

    # A second answer from the same worker to the round is refused, and nothing moves.
    again = _answer(answered, "token-s1", 1)
    assert (again.status_code, again.json()["error"]["reason"]) == (409, "survey_already_answered")
    # A support worker reads their own team's profile (and the municipality's), not another team's.
    mine = _organisation(answered, "token-s2")
    assert {r["team"] for r in mine["surveys"][0]["results"]} == {"team-s", None}
    with answered.client("projections", "token-s2") as worker:
        other = worker.get("/v1/organisation", params={"municipality": M, "team": "team-t"})
    assert other.status_code == 403


ROLES = ("token-101", "token-s1", "token-leader-s", "token-manager-101", "token-admin")
READS = [
    ("projections", "/v1/organisation", {"municipality": M}),
    ("projections", "/v1/organisation", {"municipality": M, "team": "team-t"}),
    ("projections", "/v1/organisation", {"municipality": M, "team": "team-s", "round": ROUND}),
    ("projections", "/v1/organisation/benchmark", {"municipality": M, "survey": "staff", "round": ROUND}),
    ("projections", "/v1/surveys", {"municipality": M}),
    ("projections", "/v1/organisation/export", {"municipality": M, "format": "csv"}),
    ("projections", "/v1/organisation/export", {"municipality": M, "format": "xlsx", "lang": "en"}),
    ("projections", "/v1/organisation/export", {"municipality": M, "format": "csv", "team": "team-t"}),
    ("projections", "/v1/kpis/export", {"municipality": M, "format": "csv"}),
    ("projections", "/v1/kpis/export", {"municipality": M, "format": "xlsx"}),
    ("registration", "/v1/teams/team-s/history", {"municipality": M}),
    ("registration", "/v1/teams/team-t/history", {"municipality": M}),
    ("registration", "/v1/municipalities/101/history", {}),
    ("registration", "/v1/workers/w-s1/history", {"municipality": M}),
    ("registration", "/v1/audit/reads", {"municipality": M}),
]


def _shown_rows(body: Any) -> list[dict[str, Any]]:
    if not isinstance(body, dict):
        return []
    rows = [r for s in body.get("surveys", []) if s.get("anonymous") for r in s.get("results", [])]
    return rows + list(body.get("municipalities", []))


def test_no_role_reads_one_respondents_answers_or_who_answered(answered: System) -> None:
    for service, path, params in READS:
        for token in ROLES:
            with answered.client(service, token) as client:
                response = client.get(path, params=params)
            text = response.content.decode("utf-8", errors="replace")
            where = (service, path, params, token, response.status_code)
            assert "SurveyAnswered" not in text, where  # no single answer set is served
            assert not any(identity in text for identity in IDENTITIES), where
            if response.headers.get("content-type", "").startswith("application/json"):
                for row in _shown_rows(response.json()):
                    assert row["suppressed"] or row["respondents"] >= 5, where
    # The export has the same figures: team t's round one suppressed row without figures.
    with answered.client("projections", "token-manager-101") as manager:
        csv_text = manager.get("/v1/organisation/export", params={"municipality": M, "format": "csv"}).text
    lines = [line.split(";") for line in csv_text.lstrip("\ufeff").splitlines()]
    team_t = [line for line in lines if line[3] == "team-t"]
    assert team_t == [["staff", "1", STAFF.title_da, "team-t", ROUND, "I alt", "", "I alt", "", "", "", "ja"]]
    [s_overall] = [line for line in lines if line[3] == "team-s" and line[5] == "I alt"]
    assert s_overall[8:] == ["5", "3,6", "0,6", "nej"]  # 18/5 = 3.6; 3 of 5 agree
    # The one the workers of team t could tell apart by subtraction: the municipality shows only team s.
    [staff] = _organisation(answered, "token-admin")["surveys"]
    assert [r["respondents"] for r in staff["results"] if r["team"] is None] == [5]


def _every_table(database_url: str) -> dict[str, list[str]]:
    """Every row of every table of the database, as text (byte columns decoded)."""
    with psycopg.connect(database_url) as connection:
        tables = connection.execute(
            """SELECT table_schema, table_name FROM information_schema.tables
               WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')"""
        ).fetchall()
        rows = {}
        for schema, table in tables:
            found = connection.execute(f'SELECT * FROM "{schema}"."{table}"').fetchall()
            rows[f"{schema}.{table}"] = [
                " ".join(
                    bytes(v).decode("utf-8", errors="replace") if isinstance(v, (bytes, memoryview)) else str(v)
                    for v in row
                )
                for row in found
            ]
        return rows


def test_no_table_holds_a_respondent(answered: System) -> None:
    tables = _every_table(answered.database_url)
    for table, rows in tables.items():
        for row in rows:
            assert not any(identity in row for identity in IDENTITIES), (table, row[:300])
    # The answers are there, 9 of them, each told by "anonymous"; the participation marks are bare digests.
    stored = [r for r in tables["public.registration_events"] if "SurveyAnswered" in r]
    assert len(stored) == 9 and all('"recorded_by":"anonymous"' in r.replace(" ", "") for r in stored)
    marks = tables["public.registration_survey_participation"]
    assert len(marks) == 9 and all(len(m) == 64 for m in marks)
    with psycopg.connect(answered.database_url) as connection:
        columns = connection.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'registration_survey_participation'"
        ).fetchall()
    assert columns == [("mark",)]
    # Nor do the services' logs name who answered.
    for log in answered.work_dir.glob("*.log"):
        text = log.read_text(errors="replace")
        assert not any(identity in text for identity in IDENTITIES), log.name
