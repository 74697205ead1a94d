"""The organisational indicators (docs/surveys.md §4), hand-worked: mean and share agreeing per
item, dimension and overall; the trend; partner meetings; suppression of a team of 4 and the
counting in whole groups of 5 (services/projections/organisation.py, pure)."""

from datetime import date

import pytest

from contracts.surveys import SHIPPED, Dimension, SurveyDefinition, SurveyItem
from services.projections.organisation import Answer, Meeting, organisation, partner_meetings, survey_results, trend

SMALL = SurveyDefinition(
    id="small",
    version=1,
    title_da="Lille",
    title_en="Small",
    respondent="worker",
    anonymous=True,
    dimensions=(Dimension(id="d1", name_da="D1", name_en="D1"), Dimension(id="d2", name_da="D2", name_en="D2")),
    items=(
        SurveyItem(id="a", dimension="d1", text_da="A", text_en="A"),
        SurveyItem(id="b", dimension="d1", text_da="B", text_en="B"),
        SurveyItem(id="c", dimension="d2", text_da="C", text_en="C"),
    ),
)
TEAM_SURVEY = SMALL.model_copy(update={"id": "team_small", "respondent": "team", "anonymous": False})

# Team t1, round 2026-H1: five answer sets (a, b, c), then a sixth that must not count yet.
T1_H1 = [(5, 4, 2), (4, 4, 3), (3, 2, 5), (5, 5, 4), (2, 3, 1)]
SIXTH = (1, 1, 1)
# Team t2, round 2026-H1: only four answered: suppressed.
T2_H1 = [(5, 5, 5), (5, 5, 5), (1, 1, 1), (4, 4, 4)]
# Team t1, round 2026-H2: five answered 4 to everything.
T1_H2 = [(4, 4, 4)] * 5


def answers() -> list[Answer]:
    made: list[Answer] = []

    def add(team: str, round_: str, sets: list[tuple[int, int, int]]) -> None:
        for a, b, c in sets:
            made.append(Answer(len(made) + 1, "small", 1, round_, team, {"a": a, "b": b, "c": c}))

    add("t1", "2026-H1", T1_H1)
    add("t2", "2026-H1", T2_H1)
    add("t1", "2026-H1", [SIXTH])  # recorded after the first five
    add("t1", "2026-H2", T1_H2)
    return made


def row(rows: list[dict], team: str | None, round_: str) -> dict:
    [found] = [r for r in rows if r["team"] == team and r["round"] == round_]
    return found


def test_means_and_shares_per_item_dimension_and_overall() -> None:
    t1 = row(survey_results(SMALL, answers()), "t1", "2026-H1")
    assert t1["suppressed"] is False and t1["respondents"] == 5  # the sixth waits for a group of 5
    items = {i["id"]: (i["mean"], i["share_agreeing"]) for i in t1["items"]}
    # a: (5+4+3+5+2)/5 = 19/5 = 3.8; at 4 or more: 5, 4, 5 -> 3/5 = 0.6
    # b: (4+4+2+5+3)/5 = 18/5 = 3.6; 4, 4, 5 -> 3/5 = 0.6
    # c: (2+3+5+4+1)/5 = 15/5 = 3.0; 5, 4 -> 2/5 = 0.4
    assert items == {"a": (3.8, 0.6), "b": (3.6, 0.6), "c": (3.0, 0.4)}
    dimensions = {d["id"]: (d["mean"], d["share_agreeing"]) for d in t1["dimensions"]}
    # d1 = a and b: (19+18)/10 = 3.7; 6 of 10 at 4 or more = 0.6. d2 = c alone.
    assert dimensions == {"d1": (3.7, 0.6), "d2": (3.0, 0.4)}
    # overall: (19+18+15)/15 = 52/15 = 3.4667; 8 of 15 at 4 or more = 0.5333
    assert t1["overall"] == {"mean": 3.4667, "share_agreeing": 0.5333}


def test_a_team_of_four_respondents_is_suppressed_and_left_out_of_the_municipality() -> None:
    rows = survey_results(SMALL, answers())
    t2 = row(rows, "t2", "2026-H1")
    assert t2["suppressed"] is True and t2["respondents"] is None
    assert t2["overall"] == {"mean": None, "share_agreeing": None}
    assert all(i["mean"] is None and i["share_agreeing"] is None for i in t2["items"] + t2["dimensions"])
    # The municipality pools only t1's five counted answers (not t2's four, not t1's sixth):
    # the same figures as t1, so nothing can be subtracted to reveal t2.
    municipality = row(rows, None, "2026-H1")
    assert municipality["respondents"] == 5
    assert municipality["overall"] == {"mean": 3.4667, "share_agreeing": 0.5333}


def test_the_tenth_answer_shows_the_next_group_of_five() -> None:
    more = answers() + [Answer(100 + n, "small", 1, "2026-H1", "t1", {"a": 5, "b": 5, "c": 5}) for n in range(4)]
    t1 = row(survey_results(SMALL, more), "t1", "2026-H1")
    # 10 counted: the five of T1_H1 (52), SIXTH (3) and four of 5+5+5 (60): 115/30 = 3.8333;
    # agreeing: 8 + 0 + 12 = 20 of 30 = 0.6667
    assert t1["respondents"] == 10
    assert t1["overall"] == {"mean": 3.8333, "share_agreeing": 0.6667}


def test_trend_over_rounds() -> None:
    points = [p for p in trend(survey_results(SMALL, answers())) if p["team"] == "t1"]
    assert [p["round"] for p in points] == ["2026-H1", "2026-H2"]
    assert points[0]["change_mean"] is None  # no round before
    # H2: every answer 4: mean 4.0, share 1.0; change: 4.0 - 3.4667 = 0.5333 and 1.0 - 0.5333 = 0.4667
    assert (points[1]["mean"], points[1]["share_agreeing"]) == (4.0, 1.0)
    assert (points[1]["change_mean"], points[1]["change_share_agreeing"]) == (0.5333, 0.4667)
    t2 = [p for p in trend(survey_results(SMALL, answers())) if p["team"] == "t2"]
    assert t2 == [
        {
            "team": "t2",
            "round": "2026-H1",
            "suppressed": True,
            "mean": None,
            "share_agreeing": None,
            "change_mean": None,
            "change_share_agreeing": None,
        }
    ]


def test_partner_meetings_per_team_and_round() -> None:
    meetings = [
        Meeting("t1", date(2026, 3, 1)),
        Meeting("t1", date(2026, 6, 30)),  # the last day of H1
        Meeting("t1", date(2026, 7, 1)),  # the first of H2
        Meeting("t2", date(2026, 2, 1)),
    ]
    # H1: t1 2, t2 1, the municipality 2 + 1 = 3; H2: t1 1, the municipality 1.
    assert partner_meetings(meetings) == [
        {"team": None, "round": "2026-H1", "count": 3},
        {"team": "t1", "round": "2026-H1", "count": 2},
        {"team": "t2", "round": "2026-H1", "count": 1},
        {"team": None, "round": "2026-H2", "count": 1},
        {"team": "t1", "round": "2026-H2", "count": 1},
    ]
    # Quarterly rounds: 1 March is Q1, 30 June Q2, 1 July Q3.
    assert {(r["team"], r["round"]) for r in partner_meetings(meetings, months=3) if r["team"] == "t1"} == {
        ("t1", "2026-Q1"),
        ("t1", "2026-Q2"),
        ("t1", "2026-Q3"),
    }


def test_a_team_survey_is_the_team_statement_and_not_suppressed() -> None:
    one = [Answer(1, "team_small", 1, "2026-H1", "t1", {"a": 4, "b": 2, "c": 5})]
    t1 = row(survey_results(TEAM_SURVEY, one), "t1", "2026-H1")
    # one answer set: a 4, b 2, c 5; overall 11/3 = 3.6667, agreeing 2 of 3 = 0.6667
    assert t1["suppressed"] is False and t1["respondents"] == 1
    assert t1["overall"] == {"mean": 3.6667, "share_agreeing": 0.6667}


def test_filters_keep_the_team_and_the_municipality() -> None:
    figures = organisation([SMALL, *SHIPPED.values()], answers(), [], team="t2", round_="2026-H1")
    [small] = figures["surveys"]  # the shipped surveys have no answers: left out
    assert {(r["team"], r["round"]) for r in small["results"]} == {("t2", "2026-H1"), (None, "2026-H1")}
    assert {p["team"] for p in small["trend"]} == {"t2", None}


def test_every_item_is_answered_and_on_the_scale() -> None:
    staff = SHIPPED[("staff", 1)]
    assert staff.answer_problems(dict.fromkeys((i.id for i in staff.items), 3)) == []
    problems = staff.answer_problems({"supervision": 6, "nope": 3})
    assert "supervision: 6 is not in 1-5" in problems and "nope: not an item of staff v1" in problems
    assert "visitation_clear: not answered" in problems


@pytest.mark.parametrize("survey", sorted(SHIPPED))
def test_shipped_surveys_have_both_languages_and_anonymous_only_for_workers(survey: tuple[str, int]) -> None:
    definition = SHIPPED[survey]
    assert all(i.text_da and i.text_en and i.text_da != i.text_en for i in definition.items)
    assert not definition.anonymous or definition.respondent == "worker"
    assert len(SHIPPED[("maturity", 1)].dimensions) == 7  # the seven parameters


def test_a_round_that_has_not_begun_cannot_be_answered() -> None:
    from pydantic import ValidationError

    from contracts.facts import fact_adapter

    maturity = {item.id: 3 for item in SHIPPED[("maturity", 1)].items}
    fact = {"type": "SurveyAnswered", "municipality": "101", "effective_date": "2026-03-01", "survey": "maturity"}
    fact |= {"version": 1, "answers": maturity}
    assert fact_adapter.validate_python(fact | {"round": "2026-H1"}).round == "2026-H1"
    with pytest.raises(ValidationError) as refused:
        fact_adapter.validate_python(fact | {"round": f"{date.today().year + 1}-H2"})
    assert refused.value.errors()[0]["type"] == "date_out_of_range"
