"""HTTP entrypoint of the organisational indicators (docs/surveys.md §4-5): the surveys, their
indicators per team and round, the catalogue of indicators, and a benchmark across municipalities.
Only aggregates leave: services/projections/organisation.py suppresses and groups."""

from typing import Annotated, Any, Literal

import asyncpg
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from contracts.facts import (
    Identifier,
    MunicipalityCode,
    PartnerMeetingHeld,
    SurveyAnswered,
    SurveyDefined,
    fact_adapter,
)
from contracts.methods import SURVEY_MIN_RESPONDENTS, SURVEY_ROUND_MONTHS
from contracts.surveys import SHIPPED, Round, SurveyDefinition, SurveyId
from runtime import access
from runtime.auth import Principal, Role, current_principal
from runtime.errors import ApiError, error_responses
from services.projections import organisation, organisation_export
from services.projections.api import own_municipality
from services.projections.organisation_responses import (
    OrganisationBenchmarkOut,
    OrganisationCatalogueOut,
    OrganisationOut,
    SurveysOut,
)
from services.projections.projector import current_generation, generation_number
from services.projections.responses import CSV_TYPE, XLSX_TYPE, downloads

router = APIRouter(prefix="/v1")
Caller = Annotated[Principal, Depends(current_principal)]
TYPES = ["SurveyDefined", "SurveyAnswered", "PartnerMeetingHeld"]


class Facts:
    """A municipality's survey definitions, answers and partner meetings, from the read model."""

    def __init__(self) -> None:
        self.own: list[SurveyDefinition] = []
        self.answers: list[organisation.Answer] = []
        self.meetings: list[organisation.Meeting] = []

    def definitions(self) -> list[SurveyDefinition]:
        return list(SHIPPED.values()) + self.own


async def _facts(db: asyncpg.Pool, municipality: str | None) -> dict[str, Facts]:
    schema = await current_generation(db)
    generation_number(schema)  # interpolated into SQL: only kpi_g<N> passes
    rows = await db.fetch(
        f"""SELECT position, municipality, fact::text AS fact FROM {schema}.kpi_facts
            WHERE event_type = ANY($1) AND ($2::text IS NULL OR municipality = $2) ORDER BY position""",
        TYPES,
        municipality,
    )
    by_municipality: dict[str, Facts] = {}
    for row in rows:
        facts = by_municipality.setdefault(row["municipality"], Facts())
        fact = fact_adapter.validate_json(row["fact"])
        if isinstance(fact, SurveyDefined):
            facts.own.append(fact.survey)
        elif isinstance(fact, SurveyAnswered):
            facts.answers.append(
                organisation.Answer(row["position"], fact.survey, fact.version, fact.round, fact.team, fact.answers)
            )
        elif isinstance(fact, PartnerMeetingHeld):
            facts.meetings.append(organisation.Meeting(fact.team, fact.effective_date))
    return by_municipality


@router.get("/surveys", response_model=SurveysOut, responses=error_responses(403, 422))
async def list_surveys(municipality: MunicipalityCode, request: Request, principal: Caller) -> dict[str, Any]:
    """The surveys the municipality's staff can answer: the shipped ones and its own."""
    access.allow(principal, municipality, "client", "support_worker", "team_leader", "manager")
    facts = (await _facts(request.app.state.pool, municipality)).get(municipality, Facts())
    return {"municipality": municipality, "surveys": facts.definitions()}


@router.get("/organisation/catalogue", response_model=OrganisationCatalogueOut, responses=error_responses())
async def organisation_catalogue(principal: Caller) -> dict[str, Any]:
    return {
        "min_respondents": SURVEY_MIN_RESPONDENTS,
        "round_months": SURVEY_ROUND_MONTHS,
        "indicators": [i.describe() for i in organisation.CATALOGUE],
    }


READERS: tuple[Role, ...] = ("support_worker", "team_leader", "manager")


async def _indicators(
    request: Request,
    principal: Principal,
    municipality: str,
    team: str | None,
    survey: str | None,
    version: int | None,
    round_: str | None,
) -> tuple[dict[str, Any], dict[tuple[str, int], SurveyDefinition]]:
    access.allow(principal, municipality, *READERS)
    if principal.role in access.SCOPED_ROLES:
        if principal.team is None or (team is not None and team != principal.team):
            raise access.forbidden()
        team = principal.team
    facts = (await _facts(request.app.state.pool, municipality)).get(municipality, Facts())
    definitions = [d for d in facts.definitions() if survey in (None, d.id) and version in (None, d.version)]
    figures = organisation.organisation(definitions, facts.answers, facts.meetings, team, round_)
    return {"municipality": municipality, **figures}, {(d.id, d.version): d for d in definitions}


@router.get("/organisation", response_model=OrganisationOut, responses=error_responses(403, 422))
async def get_organisation(
    municipality: MunicipalityCode,
    request: Request,
    principal: Caller,
    team: Identifier | None = None,
    survey: SurveyId | None = None,
    version: Annotated[int | None, Query(ge=1, le=1000)] = None,
    round: Round | None = None,  # noqa: A002 (the API's name)
) -> dict[str, Any]:
    """The indicators per survey version, team and round (docs/surveys.md §4): a worker's and a
    team leader's are their team's beside the municipality's."""
    figures, _ = await _indicators(request, principal, municipality, team, survey, version, round)
    return figures


@router.get(
    "/organisation/export",
    response_class=Response,
    responses=downloads("the indicators as CSV or an XLSX workbook") | error_responses(403, 422),
)
async def export_organisation(
    municipality: MunicipalityCode,
    request: Request,
    principal: Caller,
    team: Identifier | None = None,
    survey: SurveyId | None = None,
    version: Annotated[int | None, Query(ge=1, le=1000)] = None,
    round: Round | None = None,  # noqa: A002
    format: Literal["csv", "xlsx"] = "xlsx",  # noqa: A002
    lang: Literal["da", "en"] = "da",
) -> Response:
    """The indicators of GET /v1/organisation, one row per figure, suppressed rounds without figures."""
    figures, definitions = await _indicators(request, principal, municipality, team, survey, version, round)
    table = organisation_export.rows(figures["surveys"], definitions, lang)
    if format == "csv":
        body, media_type = organisation_export.to_csv(table, lang), CSV_TYPE
    else:
        body, media_type = organisation_export.to_xlsx(table, lang), XLSX_TYPE
    name = f"organisation-{municipality}.{format}"
    return Response(body, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get(
    "/organisation/benchmark", response_model=OrganisationBenchmarkOut, responses=error_responses(403, 404, 422)
)
async def organisation_benchmark(
    request: Request,
    principal: Caller,
    survey: SurveyId,
    round: Round,  # noqa: A002
    version: Annotated[int, Query(ge=1, le=1000)] = 1,
    municipality: Annotated[MunicipalityCode | None, Query(description="the caller's own; needed for admin")] = None,
) -> dict[str, Any]:
    """A shipped survey's round in every municipality: each municipality's pooled row, own first;
    suppressed where fewer than 5 counted."""
    own = own_municipality(principal, municipality)
    access.allow(principal, own, "manager")
    definition = SHIPPED.get((survey, version))
    if definition is None:
        raise ApiError(404, "survey_not_found", "Ukendt spørgeskema eller version.", "Unknown survey or version.")
    rows = []
    for code, facts in (await _facts(request.app.state.pool, None)).items():
        pooled = [
            r
            for r in organisation.survey_results(definition, facts.answers)
            if r["team"] is None and r["round"] == round
        ]
        for row in pooled:
            rows.append(
                {"municipality": code} | {k: row[k] for k in ("suppressed", "respondents", "overall", "dimensions")}
            )
    if not any(r["municipality"] == own for r in rows):
        empty = organisation.round_figures(definition, [])
        rows.append(
            {
                "municipality": own,
                "suppressed": True,
                "respondents": None,
                "overall": empty["overall"],
                "dimensions": empty["dimensions"],
            }
        )
    rows.sort(key=lambda r: (r["municipality"] != own, r["municipality"]))
    return {
        "survey": survey,
        "version": version,
        "round": round,
        "min_respondents": SURVEY_MIN_RESPONDENTS,
        "municipalities": rows,
    }
