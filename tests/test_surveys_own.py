"""A municipality's own survey version and a team's partner meetings, end to end (docs/surveys.md
§1, §4): defined by the case system, answered by a team leader for the team, counted per round."""

import json

import pytest

from tests.support import TOKENS, System

pytestmark = pytest.mark.integration

M = "101"
OWN = {
    "id": "teammoede",
    "version": 1,
    "title_da": "Teammødet",
    "title_en": "The team meeting",
    "respondent": "team",
    "anonymous": False,
    "dimensions": [{"id": "moede", "name_da": "Mødet", "name_en": "The meeting"}],
    "items": [
        {"id": "dagsorden", "dimension": "moede", "text_da": "Der er en dagsorden.", "text_en": "There is an agenda."},
        {"id": "opfoelgning", "dimension": "moede", "text_da": "Vi følger op.", "text_en": "We follow up."},
    ],
}
LEADER = {"token-leader-own": {"name": "lone", "municipality": M, "role": "team_leader", "team": "team-own"}}


def test_an_own_survey_version_is_answered_and_partner_meetings_are_counted(system: System) -> None:
    system.extra_env["CASETRACK_TOKENS"] = json.dumps(TOKENS | LEADER)
    system.__post_init__()
    system.start("registration", "projections")
    system.submit(
        {
            "type": "TeamRegistered",
            "municipality": M,
            "effective_date": "2026-01-05",
            "team_id": "team-own",
            "name": "Eget team",
            "methods": ["CTI"],
        }
    )
    defined = {"type": "SurveyDefined", "municipality": M, "effective_date": "2026-01-06", "survey": OWN}
    system.submit(defined)
    with system.client("registration") as client:
        again = client.post("/v1/facts", json=defined)
        shipped = client.post("/v1/facts", json=defined | {"survey": OWN | {"id": "staff"}})
    assert (again.status_code, again.json()["error"]["reason"]) == (409, "survey_version_exists")
    assert (shipped.status_code, shipped.json()["error"]["reason"]) == (409, "survey_version_exists")

    answer = {"municipality": M, "survey": "teammoede", "version": 1, "round": "2026-H1"}
    with system.client("registration", "token-leader-own") as leader:
        off_scale = leader.post("/v1/surveys/answers", json=answer | {"answers": {"dagsorden": 9, "opfoelgning": 3}})
        unknown = leader.post("/v1/surveys/answers", json=answer | {"version": 2, "answers": {"dagsorden": 3}})
        stored = leader.post("/v1/surveys/answers", json=answer | {"answers": {"dagsorden": 5, "opfoelgning": 2}})
        twice = leader.post("/v1/surveys/answers", json=answer | {"answers": {"dagsorden": 1, "opfoelgning": 1}})
        meetings = [
            leader.post("/v1/partner-meetings", json={"municipality": M, "effective_date": day, "partners": partners})
            for day, partners in (("2026-02-01", ["jobcentre"]), ("2026-03-01", ["psychiatry", "housing"]))
        ]
    assert (off_scale.status_code, off_scale.json()["error"]["reason"]) == (409, "survey_answers_dont_fit")
    assert (unknown.status_code, unknown.json()["error"]["reason"]) == (404, "survey_not_found")
    assert stored.status_code == 201, stored.text
    # The team answers once a round: the second is refused, and the refused first one did not count.
    assert (twice.status_code, twice.json()["error"]["reason"]) == (409, "survey_already_answered")
    assert [m.status_code for m in meetings] == [201, 201]
    system.wait_applied("projections", meetings[-1].json()["position"])

    with system.client("projections", "token-leader-own") as leader:
        surveys = leader.get("/v1/surveys", params={"municipality": M}).json()["surveys"]
        figures = leader.get("/v1/organisation", params={"municipality": M}).json()
    assert "teammoede" in {s["id"] for s in surveys} and "maturity" in {s["id"] for s in surveys}
    [own] = figures["surveys"]
    team_row = next(r for r in own["results"] if r["team"] == "team-own")
    # The team's statement, not suppressed: dagsorden 5, opfølgning 2: mean 7/2 = 3.5; 1 of 2 agree = 0.5.
    assert (team_row["suppressed"], team_row["respondents"]) == (False, 1)
    assert team_row["overall"] == {"mean": 3.5, "share_agreeing": 0.5}
    # Two meetings in 2026-H1, for the team and for the municipality.
    assert figures["partner_meetings"] == [
        {"team": None, "round": "2026-H1", "count": 2},
        {"team": "team-own", "round": "2026-H1", "count": 2},
    ]
    # The partner meetings are the team's history (who recorded them is the leader: not anonymous).
    with system.client("registration", "token-leader-own") as leader:
        events = leader.get("/v1/teams/team-own/history", params={"municipality": M}).json()["events"]
    assert [e["fact"]["type"] for e in events] == ["TeamRegistered", "PartnerMeetingHeld", "PartnerMeetingHeld"]
    assert {e["recorded_by"] for e in events[1:]} == {"lone"}
