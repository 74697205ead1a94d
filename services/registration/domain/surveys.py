"""Surveys and partner meetings (docs/surveys.md): a municipality's own survey definitions, the
answers to a survey round, a team's partner meetings.

- `MunicipalitySurveys`: the surveys a municipality defined itself (SurveyDefined). A version is
  defined once; a shipped survey's (id, version) cannot be defined again.
- `SurveyRound`: the answers of one (municipality, team, survey, version, round). An answer to an
  anonymous survey is recorded as told by `ANONYMOUS`, whoever submitted it, and no history
  endpoint serves this aggregate (docs/surveys.md §3).
- A partner meeting is recorded in the team's own aggregate (organisation.py).
"""

from typing import Any
from uuid import NAMESPACE_URL, UUID

from eventsourcing.domain import Aggregate, event

from contracts.facts import FactBase, SurveyAnswered, SurveyDefined
from contracts.surveys import SurveyDefinition, shipped
from services.registration.domain.recorded import FactRecorded, define_fact_events, event_class
from services.registration.domain.rules import Rule, RuleViolation, UnknownSubject
from services.registration.domain.uuids import uuid5

ANONYMOUS = "anonymous"  # who told an anonymous survey's answers, as every such event says

_DEFINITIONS_NAMESPACE = uuid5(NAMESPACE_URL, "https://casetrack.dk/survey-definitions")
_ROUND_NAMESPACE = uuid5(NAMESPACE_URL, "https://casetrack.dk/survey-round")

SURVEY_VERSION_EXISTS = Rule(
    "survey_version_exists",
    "Denne version af spørgeskemaet findes allerede; definer en ny version.",
    "This version of the survey already exists; define a new version.",
)
SURVEY_ANSWERS_DONT_FIT = Rule(
    "survey_answers_dont_fit",
    "Svarene passer ikke til spørgeskemaet (ukendte spørgsmål eller værdier uden for skalaen).",
    "The answers do not fit the survey (unknown items or values off the scale).",
)
SURVEY_TEAM_MISMATCH = Rule(
    "survey_team_mismatch",
    "Angiv et team for et spørgeskema, som medarbejdere eller teams besvarer, og kun da.",
    "Send a team for a survey that workers or teams answer, and only then.",
)


def survey_not_found() -> UnknownSubject:
    return UnknownSubject("survey_not_found", "Ukendt spørgeskema eller version.", "Unknown survey or version.")


def definitions_uuid(municipality: str) -> UUID:
    return uuid5(_DEFINITIONS_NAMESPACE, municipality)


def round_uuid(fact: SurveyAnswered) -> UUID:
    return uuid5(_ROUND_NAMESPACE, f"{fact.municipality}:{fact.team or ''}:{fact.survey}:{fact.version}:{fact.round}")


class MunicipalitySurveys(Aggregate):
    class Recorded(FactRecorded):
        pass

    @staticmethod
    def create_id(fact: SurveyDefined, recorded_by: str) -> UUID:
        return definitions_uuid(fact.municipality)

    @event("FirstSurveyDefined")
    def __init__(self, fact: SurveyDefined, recorded_by: str):
        self.municipality = fact.municipality
        self.surveys: dict[tuple[str, int], SurveyDefinition] = {}
        self.apply_fact(fact)

    def record(self, fact: SurveyDefined, recorded_by: str) -> None:
        key = (fact.survey.id, fact.survey.version)
        if key in self.surveys or shipped(*key) is not None:
            raise RuleViolation(SURVEY_VERSION_EXISTS)
        self.trigger_event(event_class(self, fact), fact=fact, recorded_by=recorded_by)

    def apply_fact(self, fact: FactBase) -> None:
        assert isinstance(fact, SurveyDefined)
        self.surveys[(fact.survey.id, fact.survey.version)] = fact.survey


define_fact_events(MunicipalitySurveys, ["SurveyDefined"])


def check_answers(definition: SurveyDefinition, fact: SurveyAnswered) -> None:
    """The rules an answer keeps whichever survey it answers (a shipped one's are also checked by
    the fact's own validator)."""
    if (definition.respondent == "municipality") != (fact.team is None):
        raise RuleViolation(SURVEY_TEAM_MISMATCH)
    if definition.answer_problems(fact.answers):
        raise RuleViolation(SURVEY_ANSWERS_DONT_FIT)


def told_by(definition: SurveyDefinition, recorded_by: str) -> str:
    return ANONYMOUS if definition.anonymous else recorded_by


class SurveyRound(Aggregate):
    class Recorded(FactRecorded):
        pass

    @staticmethod
    def create_id(fact: SurveyAnswered, recorded_by: str) -> UUID:
        return round_uuid(fact)

    @event("FirstSurveyAnswered")
    def __init__(self, fact: SurveyAnswered, recorded_by: str):
        self.answers = 0
        self.apply_fact(fact)

    def record(self, fact: SurveyAnswered, recorded_by: str) -> None:
        self.trigger_event(event_class(self, fact), fact=fact, recorded_by=recorded_by)

    def apply_fact(self, fact: Any) -> None:
        self.answers += 1


define_fact_events(SurveyRound, ["SurveyAnswered"])
