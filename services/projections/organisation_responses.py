"""What projections' organisation endpoints answer (docs/surveys.md §4), as OpenAPI documents it."""

from pydantic import BaseModel, ConfigDict, Field

from contracts.surveys import SurveyDefinition


class Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Measure(Answer):
    mean: float | None = Field(description="null when suppressed")
    share_agreeing: float | None = Field(description="share of answers at or above agree_from; null when suppressed")


class ItemFigure(Measure):
    id: str
    dimension: str


class DimensionFigure(Measure):
    id: str
    name_da: str
    name_en: str


class RoundResult(Answer):
    team: str | None = Field(description="null: the municipality (the teams' shown answers pooled)")
    round: str
    suppressed: bool = Field(description="fewer than min_respondents answered: no count, no figure")
    respondents: int | None
    overall: Measure
    dimensions: list[DimensionFigure]
    items: list[ItemFigure]


class TrendPoint(Answer):
    team: str | None
    round: str
    suppressed: bool
    mean: float | None
    share_agreeing: float | None
    change_mean: float | None = Field(description="from the team's round before, when both are shown")
    change_share_agreeing: float | None


class SurveyResults(Answer):
    survey: str
    version: int
    title_da: str
    title_en: str
    respondent: str
    anonymous: bool
    agree_from: int
    results: list[RoundResult]
    trend: list[TrendPoint]


class MeetingCount(Answer):
    team: str | None = Field(description="null: the municipality's total")
    round: str
    count: int


class OrganisationOut(Answer):
    municipality: str
    min_respondents: int
    surveys: list[SurveyResults]
    partner_meetings: list[MeetingCount]


class IndicatorOut(Answer):
    id: str
    name_da: str
    name_en: str
    unit: str
    definition_da: str
    definition_en: str


class OrganisationCatalogueOut(Answer):
    min_respondents: int
    round_months: int
    indicators: list[IndicatorOut]


class SurveysOut(Answer):
    municipality: str
    surveys: list[SurveyDefinition] = Field(description="the shipped surveys and the municipality's own")


class BenchmarkRow(Answer):
    municipality: str
    suppressed: bool
    respondents: int | None
    overall: Measure
    dimensions: list[DimensionFigure]


class OrganisationBenchmarkOut(Answer):
    survey: str
    version: int
    round: str
    min_respondents: int
    municipalities: list[BenchmarkRow] = Field(description="own first")
