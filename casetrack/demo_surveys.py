"""Demo surveys and partner meetings (docs/surveys.md) for `casetrack demo`: every past and the
current half-year round, the staff survey and each team's fidelity checklist answered by the
team's workers (a team of 4 stays suppressed), the municipality's maturity answered once a
round, and a few partner meetings per team. Sent by the case system, as a survey tool would relay
them; the answers name no one."""

import random
from datetime import date, timedelta
from typing import Any

from contracts.methods import add_months
from contracts.surveys import FIDELITY_BY_METHOD, MATURITY, SHIPPED, STAFF, SurveyDefinition, round_of, round_start

Fact = dict[str, Any]


def _rounds(first: date, today: date) -> list[str]:
    rounds, day = [], round_start(round_of(first))
    while day <= today:
        rounds.append(round_of(day))
        day = add_months(day, 6)
    return rounds


def _answers(rng: random.Random, survey: SurveyDefinition, level: float) -> dict[str, int]:
    """One answer set around `level` (1-5), item by item."""
    low, high = survey.scale.low, survey.scale.high
    return {item.id: max(low, min(high, round(rng.gauss(level, 0.9)))) for item in survey.items}


def survey_facts(
    rng: random.Random, municipality: str, teams: dict[str, tuple[str, int]], first: date, today: date
) -> list[Fact]:
    """`teams`: team id -> (method, number of workers answering)."""
    facts: list[Fact] = []

    def fact(kind: str, day: date, **fields: Any) -> None:
        facts.append({"type": kind, "municipality": municipality, "effective_date": day.isoformat(), **fields})

    for n, round_ in enumerate(_rounds(first, today)):
        start = round_start(round_)
        answered_on = min(today, start + timedelta(days=30))
        if answered_on < start:
            continue
        level = 2.8 + 0.25 * n  # the organisation matures round by round
        for team, (method, workers) in teams.items():
            fidelity = SHIPPED[(FIDELITY_BY_METHOD[method], 1)]
            for survey in (STAFF, fidelity):
                for _ in range(workers):
                    fact(
                        "SurveyAnswered",
                        answered_on,
                        survey=survey.id,
                        version=1,
                        round=round_,
                        team=team,
                        answers=_answers(rng, survey, level),
                    )
            for _ in range(rng.randint(1, 4)):
                day = start + timedelta(days=rng.randint(0, 150))
                if day <= today:
                    fact(
                        "PartnerMeetingHeld",
                        day,
                        team=team,
                        partners=rng.sample(
                            ["jobcentre", "psychiatry", "addiction_treatment", "housing", "health"], k=rng.randint(1, 2)
                        ),
                    )
        fact(
            "SurveyAnswered",
            answered_on,
            survey=MATURITY.id,
            version=1,
            round=round_,
            answers=_answers(rng, MATURITY, level),
        )
    return facts
