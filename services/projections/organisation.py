"""The organisational indicators of docs/surveys.md §4, computed from survey answers and partner
meetings (pure; no I/O): per survey version, team and round the mean and share agreeing per item,
per dimension and overall, the trend over rounds, and the partner-meeting count.

Anonymity (docs/surveys.md §3), for surveys answered anonymously by workers:
- a team's round counts only whole groups of `min_respondents` answers, in the order they were
  recorded (the first 5, then the first 10, ...): fewer than 5 and the round is suppressed, and one
  more answer never moves a shown figure, so no reader learns one answer from the change;
- the municipality's row pools only the answers counted in the teams' shown rows, so no figure
  can be subtracted from another to reveal a suppressed team;
- a suppressed row carries no count and no figure.
Answers to a team's or the municipality's own survey are that body's statements: shown as they are.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from statistics import fmean
from typing import Any

from contracts.methods import SURVEY_MIN_RESPONDENTS, SURVEY_ROUND_MONTHS
from contracts.surveys import SurveyDefinition, round_of

Figure = dict[str, Any]


@dataclass(frozen=True)
class Answer:
    """One stored SurveyAnswered, in log order (`position`); it names no respondent."""

    position: int
    survey: str
    version: int
    round: str
    team: str | None
    answers: dict[str, int]


@dataclass(frozen=True)
class Meeting:
    team: str
    on: date


@dataclass(frozen=True)
class Indicator:
    """An indicator of the catalogue, described like a KPI (services/projections/kpis/common.py)."""

    id: str
    name_da: str
    name_en: str
    unit: str
    definition_da: str
    definition_en: str

    def describe(self) -> dict[str, str]:
        return dict(vars(self))


CATALOGUE: tuple[Indicator, ...] = (
    Indicator(
        "respondents",
        "Besvarelser",
        "Respondents",
        "count",
        "Antal besvarelser i runden, der tæller med: for anonyme skemaer hele grupper af 5 i den rækkefølge, "
        "de kom ind. Under 5: skjult.",
        "Number of answer sets in the round that count: for anonymous surveys whole groups of 5 in the order "
        "they came in. Under 5: hidden.",
    ),
    Indicator(
        "mean",
        "Gennemsnit",
        "Mean",
        "score",
        "Gennemsnittet af svarene på skalaen (1-5), pr. spørgsmål, pr. dimension (alle svar på dimensionens "
        "spørgsmål) og samlet.",
        "The mean of the answers on the scale (1-5), per item, per dimension (every answer to the dimension's "
        "items) and overall.",
    ),
    Indicator(
        "share_agreeing",
        "Andel enige",
        "Share agreeing",
        "share",
        "Andelen af svarene på 4 eller 5 (i høj grad, i meget høj grad) pr. spørgsmål, dimension og samlet.",
        "The share of the answers at 4 or 5 (to a high or very high degree) per item, dimension and overall.",
    ),
    Indicator(
        "trend",
        "Udvikling",
        "Trend",
        "score",
        "Samlet gennemsnit og andel enige i hver runde og ændringen fra runden før (kun mellem viste runder).",
        "Overall mean and share agreeing in each round and the change from the round before (only between "
        "shown rounds).",
    ),
    Indicator(
        "partner_meetings",
        "Møder med samarbejdspartnere",
        "Partner meetings",
        "count",
        "Antal møder, teamet har holdt med samarbejdspartnere i runden (efter mødedato).",
        "Number of meetings the team held with partners in the round (by meeting date).",
    ),
)


def _share(values: Sequence[int], agree_from: int) -> float:
    return sum(1 for v in values if v >= agree_from) / len(values)


def _figures(values: Sequence[int], agree_from: int) -> Figure:
    return {"mean": round(fmean(values), 4), "share_agreeing": round(_share(values, agree_from), 4)}


def round_figures(definition: SurveyDefinition, answers: Sequence[dict[str, int]]) -> Figure:
    """Items, dimensions and overall of a round's counted answer sets (none: all null)."""
    agree = definition.scale.agree_from
    empty = {"mean": None, "share_agreeing": None}
    items = []
    for item in definition.items:
        values = [a[item.id] for a in answers if item.id in a]
        items.append({"id": item.id, "dimension": item.dimension} | (_figures(values, agree) if values else empty))
    dimensions = []
    for dimension in definition.dimensions:
        values = [a[i.id] for a in answers for i in definition.items if i.dimension == dimension.id and i.id in a]
        dimensions.append(
            {"id": dimension.id, "name_da": dimension.name_da, "name_en": dimension.name_en}
            | (_figures(values, agree) if values else empty)
        )
    everything = [v for a in answers for v in a.values()]
    return {
        "overall": _figures(everything, agree) if everything else empty,
        "dimensions": dimensions,
        "items": items,
    }


def counted(definition: SurveyDefinition, answers: Sequence[Answer], min_respondents: int) -> list[Answer]:
    """The answers of one team's round that count: all of them for a team's or municipality's
    survey; for an anonymous one the first whole groups of `min_respondents` in log order."""
    ordered = sorted(answers, key=lambda a: a.position)
    if not definition.anonymous:
        return ordered
    return ordered[: len(ordered) // min_respondents * min_respondents]


@dataclass
class _Group:
    answers: list[Answer] = field(default_factory=list)


def survey_results(
    definition: SurveyDefinition,
    answers: Iterable[Answer],
    min_respondents: int = SURVEY_MIN_RESPONDENTS,
) -> list[Figure]:
    """One row per (team, round) of the survey version, and the municipality's row per round
    (team None) pooling the teams' counted answers; sorted by round, then team (municipality first)."""
    by_team_round: dict[tuple[str | None, str], list[Answer]] = defaultdict(list)
    for answer in answers:
        if (answer.survey, answer.version) == (definition.id, definition.version):
            by_team_round[(answer.team, answer.round)].append(answer)
    rows: list[Figure] = []
    pooled: dict[str, list[Answer]] = defaultdict(list)
    for (team, round_), group in by_team_round.items():
        kept = counted(definition, group, min_respondents)
        if team is not None:
            pooled[round_].extend(kept)
            rows.append(_row(definition, team, round_, kept, min_respondents))
        else:  # a survey the municipality answers: its one row
            rows.append(_row(definition, None, round_, kept, min_respondents))
    if definition.respondent != "municipality":
        rows += [_row(definition, None, round_, kept, min_respondents) for round_, kept in pooled.items()]
    rows.sort(key=lambda r: (r["round"], r["team"] is not None, r["team"] or ""))
    return rows


def _row(
    definition: SurveyDefinition, team: str | None, round_: str, kept: list[Answer], min_respondents: int
) -> Figure:
    suppressed = definition.anonymous and len(kept) < min_respondents
    shown = [] if suppressed else [a.answers for a in kept]
    return {
        "team": team,
        "round": round_,
        "suppressed": suppressed,
        "respondents": None if suppressed else len(kept),
        **round_figures(definition, shown),
    }


def trend(rows: Sequence[Figure]) -> list[Figure]:
    """Per team (and the municipality), each round's overall mean and share agreeing and the change
    from the team's round before, when both are shown."""
    by_team: dict[str | None, list[Figure]] = defaultdict(list)
    for row in rows:
        by_team[row["team"]].append(row)
    points = []
    for team, team_rows in by_team.items():
        previous: Figure | None = None
        for row in sorted(team_rows, key=lambda r: r["round"]):
            mean, share = row["overall"]["mean"], row["overall"]["share_agreeing"]
            both = previous is not None and mean is not None and previous["mean"] is not None
            point = {
                "team": team,
                "round": row["round"],
                "suppressed": row["suppressed"],
                "mean": mean,
                "share_agreeing": share,
                "change_mean": round(mean - previous["mean"], 4) if both and previous else None,
                "change_share_agreeing": round(share - previous["share_agreeing"], 4) if both and previous else None,
            }
            points.append(point)
            previous = point
    points.sort(key=lambda p: (p["team"] is not None, p["team"] or "", p["round"]))
    return points


def partner_meetings(meetings: Iterable[Meeting], months: int = SURVEY_ROUND_MONTHS) -> list[Figure]:
    """Meetings per team and round (by the meeting's date), and the municipality's total per round."""
    counts: dict[tuple[str | None, str], int] = defaultdict(int)
    for meeting in meetings:
        round_ = round_of(meeting.on, months)
        counts[(meeting.team, round_)] += 1
        counts[(None, round_)] += 1
    rows = [{"team": team, "round": round_, "count": n} for (team, round_), n in counts.items()]
    rows.sort(key=lambda r: (r["round"], r["team"] is not None, r["team"] or ""))
    return rows


def organisation(
    definitions: Sequence[SurveyDefinition],
    answers: Sequence[Answer],
    meetings: Sequence[Meeting],
    team: str | None = None,
    round_: str | None = None,
    min_respondents: int = SURVEY_MIN_RESPONDENTS,
) -> Figure:
    """The indicators of every survey version that has answers, filtered to a team (its rows and
    the municipality's) and a round; the trend is over every round."""

    def keep(row: Figure, with_round: bool = True) -> bool:
        return (team is None or row["team"] in (None, team)) and (not with_round or round_ in (None, row["round"]))

    surveys = []
    for definition in definitions:
        rows = survey_results(definition, answers, min_respondents)
        if not rows:
            continue
        surveys.append(
            {
                "survey": definition.id,
                "version": definition.version,
                "title_da": definition.title_da,
                "title_en": definition.title_en,
                "respondent": definition.respondent,
                "anonymous": definition.anonymous,
                "agree_from": definition.scale.agree_from,
                "results": [r for r in rows if keep(r)],
                "trend": [p for p in trend(rows) if keep(p, with_round=False)],
            }
        )
    return {
        "min_respondents": min_respondents,
        "surveys": surveys,
        "partner_meetings": [m for m in partner_meetings(meetings) if keep(m)],
    }
