"""HTTP entrypoint of projections: the KPI catalogue and figures, targets, benchmarks, exports and
the double bottom line of a course."""

from collections.abc import Iterable
from dataclasses import replace
from datetime import date, timedelta
from enum import StrEnum
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from contracts.codes import CitizenMethod, CtiPhase, Gender, Method
from contracts.facts import Identifier, MunicipalityCode
from contracts.methods import AGE_BANDS
from runtime import access
from runtime.audit import audited_read
from runtime.auth import Principal, Role, current_principal
from runtime.errors import ApiError, error_responses
from services.projections import export, figures, store, targets
from services.projections.double_bottom_line import double_bottom_line
from services.projections.history import fold
from services.projections.kpis import CATALOGUE, Filters, Kpi, Params, Window
from services.projections.kpis.labels import UNITS
from services.projections.periods import MAX_PERIODS, PeriodKind, periods
from services.projections.responses import (
    XLSX_TYPE,
    BenchmarkOut,
    DoubleBottomLineOut,
    KpiCatalogueOut,
    KpiFigureOut,
    KpiSeriesOut,
    TargetSetOut,
    TargetsOut,
    TeamsOut,
    TimePlanMedianOut,
    downloads,
)
from services.projections.time_plans import time_plan_median

AgeBand = StrEnum("AgeBand", {band: band for band in AGE_BANDS})  # type: ignore[misc]

router = APIRouter(prefix="/v1")
Caller = Annotated[Principal, Depends(current_principal)]


class Format(StrEnum):
    JSON = "json"
    CSV = "csv"
    XLSX = "xlsx"


class Language(StrEnum):
    """The language of an export: headers, labels, and for CSV the separator and decimal mark."""

    DA = "da"
    EN = "en"


def _kpi(kpi_id: str) -> Kpi:
    kpi = CATALOGUE.get(kpi_id)
    if kpi is None:
        raise ApiError(404, "kpi_not_found", f"Ukendt nøgletal: {kpi_id}.", f"Unknown KPI: {kpi_id}.")
    return kpi


def own_municipality(principal: Principal, municipality: str | None) -> str:
    """The municipality a benchmark is seen from: the one asked for, else the caller's own; an
    administrator, who has none, must name it (422 municipality_missing)."""
    own = municipality or principal.municipality
    if own is None:
        raise ApiError(
            422,
            "municipality_missing",
            "Angiv 'municipality'.",
            "Give 'municipality'.",
            [{"field": "municipality", "problem": "required for the administrator"}],
        )
    return own


def _params(
    ucla3_threshold: Annotated[int, Query(ge=3, le=9)] = Params.ucla3_lonely_at,
    day_rate: Annotated[float, Query(ge=0)] = Params.shelter_day_rate_dkk,
    hourly_rate: Annotated[float, Query(ge=0)] = Params.hourly_rate_dkk,
    eviction_cost: Annotated[float, Query(ge=0)] = Params.eviction_cost_dkk,
    success_rate: Annotated[float, Query(ge=0, le=1)] = Params.success_rate,
    success_rate_low: Annotated[float, Query(ge=0, le=1)] = Params.success_rate_low,
) -> Params:
    return Params(ucla3_threshold, day_rate, hourly_rate, eviction_cost, success_rate, success_rate_low)


def _dates_in_window(request: Request, **dates: date | None) -> None:
    """Query dates inside the window of dates casetrack computes with (the calendar's ends overflow)."""
    window = request.app.state.settings.date_window
    today = request.app.state.clock.today()
    for name, value in dates.items():
        problem = None if value is None else window.problem(value, today)
        if problem is not None:
            span = f"{window.earliest.isoformat()} – {window.latest(today).isoformat()}"
            raise ApiError(
                422,
                "date_out_of_range",
                f"Datoen '{name}' skal ligge i {span}.",
                f"The date '{name}' must lie in {span}.",
                [{"field": name, "problem": problem}],
            )


# Figures: the managers of the municipality; a team leader their own team's (team_filter), and the
# whole municipality's beside it (scope=municipality), never another team's.
KPI_READERS: tuple[Role, ...] = ("team_leader", "manager")


def _query(
    request: Request,
    principal: Caller,
    params: Annotated[Params, Depends(_params)],
    team: Identifier | None = None,
    method: Annotated[
        Method | CitizenMethod | None,
        Query(description="a course method, or UDREDNING/KOREPLAN: the citizens who followed it in the period"),
    ] = None,
    on: date | None = None,
    period_from: Annotated[date | None, Query(alias="from")] = None,
    period_to: Annotated[date | None, Query(alias="to")] = None,
    period: PeriodKind | None = None,
    as_of: date | None = None,
    age_band: Annotated[
        AgeBand | None, Query(description="only citizens of this age band on the period's last day")
    ] = None,
    gender: Gender | None = None,
    target_group: Annotated[str | None, Query(pattern=r"^[a-z0-9_]{1,40}$")] = None,
    scope: Annotated[
        Literal["municipality"] | None,
        Query(description="municipality: the whole municipality's figure, also for a team leader (no team)"),
    ] = None,
) -> figures.Query:
    _dates_in_window(request, on=on, **{"from": period_from, "to": period_to}, as_of=as_of)
    today = request.app.state.clock.today()
    if on is not None and (period_from or period_to):
        raise ApiError(
            422,
            "on_with_period",
            "Angiv enten 'on' eller 'from'/'to'.",
            "Give either 'on' or 'from'/'to'.",
            [{"field": "on", "problem": "not with from/to"}],
        )
    end = on or period_to or today
    start = on or period_from or end - timedelta(days=365)
    if start > end:
        raise ApiError(
            422,
            "period_reversed",
            "'from' ligger efter 'to'.",
            "'from' is after 'to'.",
            [{"field": "from", "problem": "after 'to'"}],
        )
    if period is not None and len(periods(start, end, period)) > MAX_PERIODS:
        raise ApiError(
            422,
            "too_many_periods",
            f"Højst {MAX_PERIODS} perioder ad gangen.",
            f"At most {MAX_PERIODS} periods at a time.",
            [{"field": "period", "problem": "too many"}],
        )
    if scope == "municipality" and team is not None:
        raise ApiError(
            422,
            "scope_with_team",
            "Angiv enten et team eller scope=municipality.",
            "Give either a team or scope=municipality.",
            [{"field": "scope", "problem": "not with team"}],
        )
    chosen_team = None if scope == "municipality" else access.team_filter(principal, team)
    breakdown = Filters(chosen_team, method, age_band.value if age_band else None, gender, target_group)
    return figures.Query(Window(start, end), period, breakdown, params, as_of)


QueryDep = Annotated[figures.Query, Depends(_query)]


def _header(kpi: Kpi, municipality: str, query: figures.Query) -> dict[str, Any]:
    return {
        "kpi": kpi.id,
        "name_da": kpi.name_da,
        "name_en": kpi.name_en,
        "kind": kpi.kind,
        "unit": kpi.unit,
        "municipality": municipality,
        "as_of": query.as_of.isoformat() if query.as_of else None,
        "team": query.filters.team,
        "method": query.filters.method.value if query.filters.method else None,
        "age_band": query.filters.age_band,
        "gender": query.filters.gender.value if query.filters.gender else None,
        "target_group": query.filters.target_group,
    }


async def _configured(request: Request, query: figures.Query, municipalities: Iterable[str]) -> figures.Query:
    """The query with the municipalities' alert-rule configuration, for the KPIs that share a norm."""
    reader = getattr(request.app.state, "rule_config", None)  # None: an app without a bus (figure tests)
    if reader is None:
        return query
    rule_config = await reader.configs(municipalities)
    return replace(query, params=replace(query.params, rule_config=rule_config))


async def _result(request: Request, kpi: Kpi, municipality: str, query: figures.Query) -> dict[str, Any]:
    query = await _configured(request, query, [municipality])
    pool = request.app.state.pool
    history = await store.history(pool, municipality, query.as_of)
    target = await targets.target(pool, kpi.id, municipality, query.as_of)
    return {**_header(kpi, municipality, query), **figures.figures(kpi, history, query, target)}


def _download(body: bytes, media_type: str, filename: str) -> Response:
    return Response(body, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def language_code(lang: Language) -> Literal["da", "en"]:
    return "da" if lang == Language.DA else "en"


def list_download(
    format: Format,  # noqa: A002 - the query parameter's name
    columns: list[export.Column],
    rows: list[dict[str, Any]],
    lang: Literal["da", "en"],
    sheet: tuple[str, str],
    name: str,
) -> Response:
    """A list (one flat row each) as `name`.csv or as `name`.xlsx, a workbook whose one sheet is
    titled in the language: `sheet` is its (Danish, English) title."""
    if format == Format.CSV:
        return _download(export.list_csv(columns, rows, lang), "text/csv; charset=utf-8", f"{name}.csv")
    title = sheet[0] if lang == "da" else sheet[1]
    return _download(export.list_xlsx(title, columns, rows, lang), XLSX_TYPE, f"{name}.xlsx")


def day_or_none(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


QUERY_RULES = {
    "period": "from/to: the days the figure covers (default: the last 365 days); figures with on_date are "
    "taken on `to` (or `on`). period=month|quarter|year gives a series of whole calendar periods.",
    "as_of": "the figure as it was known at the end of that day (UTC): facts recorded later are left out, "
    "also when they are effective earlier.",
    "team_method": "course figures count the courses of that team/method; citizen figures (housing, "
    "stays, income, treatment, evictions) count the citizens who have such a course. method=UDREDNING "
    "(Udredning og Plan) or KOREPLAN (Køreplan), the methods recorded as facts about the citizen: the "
    "citizens who followed it on a day of the period (from its start to its completion), and their courses.",
    "comparison": "each figure carries `previous` (the period before) and `target` (the måltal set "
    "with PUT /v1/targets/{kpi} that applied on as_of).",
    "breakdowns": "age_band (18-24, 25-29, 30-39, 40-49, 50-64, 65+: the age reached in the year of the "
    "period's last day), gender and target_group count only the courses and citizens of that cell; a "
    f"cell built on fewer than {figures.SUPPRESS_BELOW_CITIZENS} citizens is suppressed (value null).",
    "benchmark": f"/v1/kpis/{{id}}/benchmark: each municipality's aggregate; a figure built on fewer "
    f"than {figures.SUPPRESS_BELOW_CITIZENS} citizens is suppressed.",
    "formats": "format=json|csv|xlsx; /v1/kpis/export?ids=P1,P2 gives one workbook, one sheet per KPI. "
    "lang=da (default): Danish headers and labels, CSV with ';' and a decimal comma; lang=en: English, "
    "CSV with ',' and a decimal point. Dates are ISO 8601 (yyyy-mm-dd); XLSX cells are dates and numbers.",
}


@router.get("/teams", response_model=TeamsOut, responses=error_responses(403, 422))
async def list_teams(
    request: Request, principal: Caller, municipality: Annotated[MunicipalityCode, Query()]
) -> dict[str, Any]:
    """The municipality's teams, from the organisation facts (TeamRegistered) and the courses."""
    access.allow(principal, municipality, "support_worker", *KPI_READERS)
    history = await store.history(request.app.state.pool, municipality, None)
    return {
        "municipality": municipality,
        "teams": [
            {"team": t.team_id, "name": t.name, "methods": [m.value for m in t.methods]} for t in history.teams()
        ],
    }


@router.get("/kpis", response_model=KpiCatalogueOut, responses=error_responses())
async def list_kpis(principal: Caller) -> dict[str, Any]:
    """The catalogue itself: definitions only, for anyone with a token."""
    return {
        "kpis": [kpi.describe() for kpi in CATALOGUE.values()],
        "units": {unit: {"da": da, "en": en} for unit, (da, en) in UNITS.items()},
        "rules": QUERY_RULES,
    }


@router.get(
    "/kpis/export",
    response_class=Response,
    responses=downloads("one CSV, or one workbook with a sheet per KPI") | error_responses(403, 404, 422),
)
async def export_kpis(
    request: Request,
    principal: Caller,
    query: QueryDep,
    municipality: Annotated[MunicipalityCode, Query()],
    ids: str | None = None,
    format: Format = Format.XLSX,  # noqa: A002
    lang: Annotated[Language, Query(description="csv and xlsx: headers, labels, CSV separators")] = Language.DA,
) -> Response:
    """A selection of KPIs (default all) in one workbook, one sheet per KPI, or one CSV."""
    access.allow(principal, municipality, *KPI_READERS)
    selected = [_kpi(i.strip()) for i in ids.split(",")] if ids else list(CATALOGUE.values())
    query = await _configured(request, query, [municipality])
    pool = request.app.state.pool
    history = await store.history(pool, municipality, query.as_of)
    as_of = query.as_of.isoformat() if query.as_of else None
    tables = {}
    for kpi in selected:
        result = figures.figures(kpi, history, query, await targets.target(pool, kpi.id, municipality, query.as_of))
        tables[kpi.id] = export.rows(kpi, municipality, result, as_of)
    if format == Format.CSV:
        return _download(
            export.to_csv(tables.values(), lang.value), "text/csv; charset=utf-8", f"noegletal-{municipality}.csv"
        )
    if format == Format.XLSX:
        return _download(export.to_xlsx(tables, lang.value), XLSX_TYPE, f"noegletal-{municipality}.xlsx")
    raise ApiError(
        422,
        "format_not_supported",
        "Eksport findes som csv eller xlsx.",
        "Export is csv or xlsx.",
        [{"field": "format", "problem": "csv or xlsx"}],
    )


@router.get(
    "/kpis/{kpi_id}",
    response_model=KpiFigureOut | KpiSeriesOut,
    response_model_exclude_unset=True,  # a KPI's own fields are left out where it has none
    responses=downloads("the figure (format=json), or as CSV or an XLSX workbook") | error_responses(403, 404, 422),
)
async def get_kpi(
    kpi_id: str,
    request: Request,
    principal: Caller,
    query: QueryDep,
    municipality: Annotated[MunicipalityCode, Query()],
    format: Format = Format.JSON,  # noqa: A002
    lang: Annotated[Language, Query(description="csv and xlsx only")] = Language.DA,
) -> dict[str, Any] | Response:
    kpi = _kpi(kpi_id)
    access.allow(principal, municipality, *KPI_READERS)
    result = await _result(request, kpi, municipality, query)
    if format == Format.JSON:
        return result
    table = export.rows(kpi, municipality, result, result["as_of"])
    if format == Format.CSV:
        return _download(export.to_csv([table], lang.value), "text/csv; charset=utf-8", f"{kpi.id}-{municipality}.csv")
    return _download(export.to_xlsx({kpi.id: table}, lang.value), XLSX_TYPE, f"{kpi.id}-{municipality}.xlsx")


@router.get(
    "/kpis/{kpi_id}/benchmark",
    response_model=BenchmarkOut,
    response_model_exclude_unset=True,
    responses=error_responses(403, 404, 422),
)
async def benchmark(
    kpi_id: str,
    request: Request,
    principal: Caller,
    query: QueryDep,
    municipality: Annotated[MunicipalityCode | None, Query(description="the caller's own; needed for admin")] = None,
) -> dict[str, Any]:
    kpi = _kpi(kpi_id)
    own = own_municipality(principal, municipality)
    access.allow(principal, own, "manager")
    histories = await store.histories(request.app.state.pool, query.as_of)
    histories.setdefault(own, fold(own, []))
    query = await _configured(request, query, histories)
    return {
        **_header(kpi, own, query),
        "suppress_below_citizens": figures.SUPPRESS_BELOW_CITIZENS,
        "municipalities": figures.benchmark(kpi, histories, own, query),
    }


class TargetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    municipality: MunicipalityCode
    value: float = Field(allow_inf_nan=False)


@router.put("/targets/{kpi_id}", response_model=TargetSetOut, responses=error_responses(400, 403, 404, 413, 422))
async def put_target(kpi_id: str, body: TargetIn, request: Request, principal: Caller) -> dict[str, Any]:
    kpi = _kpi(kpi_id)
    access.allow(principal, body.municipality, "manager")
    return await targets.set_target(request.app.state.pool, kpi.id, body.municipality, body.value, principal.name)


@router.get("/targets", response_model=TargetsOut, responses=error_responses(403, 422))
async def get_targets(
    request: Request, principal: Caller, municipality: Annotated[MunicipalityCode, Query()]
) -> dict[str, Any]:
    access.allow(principal, municipality, "manager")
    return {"municipality": municipality, "targets": await targets.targets(request.app.state.pool, municipality)}


@router.get(
    "/courses/{course_id}/double-bottom-line",
    response_model=DoubleBottomLineOut,
    responses=error_responses(403, 404, 422),
)
async def get_double_bottom_line(
    course_id: Identifier,
    request: Request,
    principal: Caller,
    municipality: Annotated[MunicipalityCode, Query()],
    on: date | None = None,
    as_of: date | None = None,
) -> dict[str, Any]:
    """A course's figures: for its support worker, its team's leader and the administrator; the
    read is on the audit trail before it is served."""
    access.allow(principal, municipality, "support_worker", "team_leader")
    _dates_in_window(request, on=on, as_of=as_of)
    history = await store.history(request.app.state.pool, municipality, as_of)
    course = history.courses.get(course_id)
    access.ensure_course(
        principal,
        None if course is None else access.CourseScope(course.team, course.workers[-1][1] if course.workers else None),
    )
    await audited_read(
        request,
        principal,
        action="read_double_bottom_line",
        municipality=municipality,
        subject_type="course",
        subject_id=course_id,
    )
    if course is None:
        raise ApiError(404, "course_not_found", f"Ukendt forløb: {course_id}.", f"Unknown course: {course_id}.")
    return {
        "municipality": municipality,
        "as_of": as_of.isoformat() if as_of else None,
        **double_bottom_line(course, on or request.app.state.clock.today()),
    }


@router.get("/time-plan-median", response_model=TimePlanMedianOut, responses=error_responses(403, 422))
async def get_time_plan_median(
    request: Request,
    principal: Caller,
    municipality: Annotated[MunicipalityCode, Query()],
    method: Annotated[Method, Query()],
    team: Annotated[Identifier | None, Query()] = None,
    phase: Annotated[CtiPhase | None, Query(description="the CTI phase (CTI only)")] = None,
) -> dict[str, Any]:
    """The median planned hours of the team's courses of a method, for a CTI phase or (other
    methods) a month: the best guess a support worker's new time plan starts from. Support workers
    and team leaders get their own team's (another team is 403), managers any team's or the
    municipality's."""
    access.allow(principal, municipality, "support_worker", "team_leader", "manager")
    if access.hides_existence(principal):
        if team is not None and team != principal.team:
            raise access.forbidden()
        team = principal.team
    if (method == Method.CTI) != (phase is not None):
        problem = "a CTI phase is asked with method CTI, and only then"
        raise ApiError(
            422,
            "validation_error",
            "Ugyldige data: fase angives for CTI og kun for CTI.",
            "Invalid input: a phase goes with CTI, and only with CTI.",
            [{"field": "phase", "problem": problem, "type": "phase_for_cti_only"}],
        )
    history = await store.history(request.app.state.pool, municipality, None)
    found = time_plan_median(history, team, method, phase)
    return {
        "municipality": municipality,
        "team": team,
        "method": method.value,
        "phase": phase.value if phase is not None else None,
        "median_hours": found.median_hours,
        "courses": found.courses,
    }
