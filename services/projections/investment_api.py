"""HTTP entrypoint of the investment calculation (investment.py, investment_inputs.py):
GET /v1/investment. A manager's (and the administrator's): the municipality's measured inputs, the
example price book (the Isolerede sindslidende evaluation's prices) and the assumptions given in
the query; JSON, or an XLSX that mirrors SØM's input structure (target group and effort, costs,
consequences and prices, results per payer and year, sensitivity, assumptions)."""

import io
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from openpyxl import Workbook
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from contracts.codes import Method
from contracts.facts import Identifier, MunicipalityCode
from runtime import access
from runtime.auth import Principal, current_principal
from runtime.errors import ApiError, error_responses
from services.projections import price_books, store
from services.projections.api import Format, _dates_in_window, _download
from services.projections.investment import (
    EXAMPLE_HOURLY_RATE_DKK,
    MAX_HORIZON_YEARS,
    PAYERS,
    Consequence,
    Effort,
    Payer,
    Price,
    PriceBook,
    investment,
)
from services.projections.investment_inputs import measured_inputs
from services.projections.responses import XLSX_TYPE, downloads

router = APIRouter(prefix="/v1")
Caller = Annotated[Principal, Depends(current_principal)]


class Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PayersOut(Answer):
    municipality: float
    region: float
    state: float
    other: float


class YearOut(Answer):
    year: int
    cost: PayersOut
    gain: PayersOut
    net: PayersOut
    net_total: float


class TotalsOut(Answer):
    cost: PayersOut
    gain: PayersOut
    net: PayersOut


class ScenarioOut(Answer):
    name: str
    success_rate: float
    cost_factor: float
    consequence_factor: float


class ResultOut(Answer):
    scenario: ScenarioOut
    horizon_years: int
    years: list[YearOut]
    totals: TotalsOut
    net_total: float
    net_per_citizen: float | None
    net_per_citizen_by_payer: PayersOut | None


class SensitivityOut(Answer):
    assumption: str
    scenario: ScenarioOut
    net_total: float
    net_by_payer: PayersOut
    change_from_base: float


class MeasuredOut(Answer):
    period_from: str
    period_to: str
    citizens: int
    hours_per_citizen: float
    ended_courses: int
    observed_success_rate: float | None
    bed_days_per_citizen_year: float
    evictions_per_citizen_year: float


class InvestmentOut(Answer):
    municipality: str
    method: Method | None
    team: str | None
    as_of: str | None
    measured: MeasuredOut
    scenarios: list[ResultOut] = Field(description="low, mid, high")
    sensitivity: list[SensitivityOut]
    assumptions: dict[str, Any] = Field(description="every assumption the result was made with")


def _consequences(measured: dict[str, Any], psychiatric_admissions: float) -> tuple[Consequence, ...]:
    found = [
        Consequence(
            "shelter_bed_day", measured["bed_days_per_citizen_year"], "measured", "§110 nights the year before"
        ),
        Consequence("eviction", measured["evictions_per_citizen_year"], "measured", "evictions the year before"),
    ]
    if psychiatric_admissions:
        found.append(Consequence("psychiatric_admission", psychiatric_admissions, "assumed", "given in the query"))
    return tuple(found)


@router.get(
    "/investment",
    response_model=InvestmentOut,
    responses=downloads("the calculation (format=json), or an XLSX in SØM's input structure")
    | error_responses(403, 422),
)
async def get_investment(
    request: Request,
    principal: Caller,
    municipality: Annotated[MunicipalityCode, Query()],
    method: Method | None = None,
    team: Identifier | None = None,
    success_rate: Annotated[
        float | None, Query(ge=0, le=1, description="default: the observed rate (ended courses housed)")
    ] = None,
    alternative_success_rate: Annotated[float, Query(ge=0, le=1, description="the sensitivity's rate")] = 0.10,
    horizon_years: Annotated[int, Query(ge=1, le=MAX_HORIZON_YEARS)] = MAX_HORIZON_YEARS,
    hourly_rate_dkk: Annotated[float, Query(ge=0, le=10_000)] = EXAMPLE_HOURLY_RATE_DKK,
    overhead: Annotated[float, Query(ge=0, le=5, description="a share on top of the hours' cost")] = 0.25,
    psychiatric_admissions_per_year: Annotated[
        float, Query(ge=0, le=100, description="assumed admissions avoided per successful citizen a year")
    ] = 0.0,
    on: Annotated[date | None, Query(description="the last day of the measured year (default today)")] = None,
    as_of: Annotated[date | None, Query(description="as known at the end of that day (UTC)")] = None,
    format: Format = Format.JSON,  # noqa: A002
) -> dict[str, Any] | Response:
    """Net result per payer (municipality, region, state, other), per citizen and per year over a 1-5
    year horizon, in low, mid and high scenarios, with a sensitivity on success rate, cost and
    consequences; hours, bed-days, evictions and the success rate measured from events; every
    assumption printed with the result (docs/investment.md)."""
    access.allow(principal, municipality, "manager")
    _dates_in_window(request, on=on, as_of=as_of)
    day = on or request.app.state.clock.today()
    history = await store.history(request.app.state.pool, municipality, as_of)
    measured = measured_inputs(history, day, method, team)
    rate = success_rate if success_rate is not None else measured["observed_success_rate"]
    if rate is None:
        raise ApiError(
            422,
            "success_rate_needed",
            "Ingen afsluttede forløb at måle succesraten på: angiv success_rate.",
            "No ended courses to measure the success rate on: give success_rate.",
        )
    effort = Effort(
        citizens=measured["citizens"],
        hours_per_citizen_by_year=(measured["hours_per_citizen"],),
        hourly_rate_dkk=hourly_rate_dkk,
        overhead=overhead,
    )
    consequences = _consequences(measured, psychiatric_admissions_per_year)
    book = await price_books.book_on(request.app.state.pool, municipality, day)
    result = investment(effort, book, consequences, rate, horizon_years, alternative_success_rate)
    answer = {
        "municipality": municipality,
        "method": method.value if method else None,
        "team": team,
        "as_of": as_of.isoformat() if as_of else None,
        "measured": measured,
    } | result
    if format == Format.JSON:
        return answer
    if format == Format.XLSX:
        return _download(sheets(answer), XLSX_TYPE, f"soem-{municipality}.xlsx")
    raise ApiError(422, "format_not_supported", "Beregningen findes som json eller xlsx.", "As json or xlsx.")


# --- price books ------------------------------------------------------------------------------------

Code = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{1,40}$")]
Text = Annotated[str, StringConstraints(min_length=1, max_length=300)]


class PriceIn(Answer):
    id: Code = Field(description="e.g. shelter_bed_day, psychiatric_admission, eviction (docs/investment.md)")
    name_da: Text
    name_en: Text
    unit: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    unit_price_dkk: float = Field(ge=0, le=100_000_000)
    split: dict[Payer, Annotated[float, Field(ge=0, le=1)]] = Field(description="shares per payer, summing to 1")
    effect_years: int = Field(ge=1, le=MAX_HORIZON_YEARS)
    source: Text


class PriceBookIn(Answer):
    municipality: MunicipalityCode
    version: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")]
    valid_from: date
    price_level: Annotated[str, StringConstraints(min_length=1, max_length=20)]
    prices: list[PriceIn] = Field(min_length=1, max_length=200)


class PriceBookSetOut(Answer):
    municipality: str
    version: str
    valid_from: str
    set_by: str
    set_at: str


class PriceBookVersionOut(Answer):
    version: str
    valid_from: str
    set_by: str
    set_at: str


class PriceBooksOut(Answer):
    municipality: str
    versions: list[PriceBookVersionOut] = Field(description="latest first; without one, the example book applies")


@router.put("/price-books", response_model=PriceBookSetOut, responses=error_responses(400, 403, 422))
async def put_price_book(request: Request, principal: Caller, body: PriceBookIn) -> dict[str, Any]:
    """A new version of the municipality's price book, from `valid_from` on (earlier versions are
    kept). Prices it lacks are taken from the example book."""
    access.allow(principal, body.municipality, "manager")
    _dates_in_window(request, valid_from=body.valid_from)
    ids = [p.id for p in body.prices]
    problems = [
        {"field": f"prices.{n}.split", "problem": "the shares must sum to 1"}
        for n, p in enumerate(body.prices)
        if abs(sum(p.split.values()) - 1) > 1e-6
    ] + [{"field": "prices", "problem": f"{i} is given twice"} for i in sorted({i for i in ids if ids.count(i) > 1})]
    if problems:
        raise ApiError(
            422,
            "price_book_invalid",
            "Prisbogen er ikke gyldig.",
            "The price book is not valid.",
            fields=problems,
        )
    book = PriceBook(
        body.municipality,
        body.version,
        body.valid_from.isoformat(),
        body.price_level,
        tuple(
            Price(p.id, p.name_da, p.name_en, p.unit, p.unit_price_dkk, p.split, p.effect_years, p.source)
            for p in body.prices
        ),
    )
    return await price_books.set_book(request.app.state.pool, book, principal.name)


@router.get("/price-books", response_model=PriceBooksOut, responses=error_responses(403, 422))
async def get_price_books(
    principal: Caller, request: Request, municipality: Annotated[MunicipalityCode, Query()]
) -> dict[str, Any]:
    access.allow(principal, municipality, "manager")
    return {"municipality": municipality, "versions": await price_books.versions(request.app.state.pool, municipality)}


def sheets(answer: dict[str, Any]) -> bytes:
    """SØM's input structure: target group and effort, costs, consequences with their prices, the
    results per payer and year for each scenario, the sensitivity, and the assumptions."""
    workbook = Workbook()
    group = workbook.active
    group.title = "Målgruppe og indsats"
    measured, effort = answer["measured"], answer["assumptions"]["effort"]
    for row in (
        ("Kommune", answer["municipality"]),
        ("Metode", answer["method"] or "alle"),
        ("Team", answer["team"] or "alle"),
        ("Målt periode", f"{measured['period_from']} – {measured['period_to']}"),
        ("Målgruppens størrelse (borgere)", measured["citizens"]),
        ("Observeret succesrate (afsluttede forløb i egen bolig)", measured["observed_success_rate"]),
        ("Afsluttede forløb", measured["ended_courses"]),
    ):
        group.append(row)
    costs = workbook.create_sheet("Omkostninger")
    costs.append(("Timer pr. borger (målt)", "Timepris (kr.)", "Overhead", "Omkostning pr. borger (kr.)"))
    hours = effort["hours_per_citizen_by_year"][0] if effort["hours_per_citizen_by_year"] else 0
    costs.append(
        (
            hours,
            effort["hourly_rate_dkk"],
            effort["overhead"],
            hours * effort["hourly_rate_dkk"] * (1 + effort["overhead"]),
        )
    )
    prices = workbook.create_sheet("Konsekvenser")
    prices.append(
        (
            "Konsekvens",
            "Enhed",
            "Enheder pr. borger pr. år",
            "Grundlag",
            "Enhedspris (kr.)",
            *PAYERS,
            "Varighed (år)",
            "Kilde",
        )
    )
    for c in answer["assumptions"]["consequences"]:
        price = c["price"]
        split = [price["split"].get(p, 0.0) for p in PAYERS]
        prices.append(
            (
                price["name_da"],
                price["unit"],
                c["units_per_year"],
                c["basis"],
                price["unit_price_dkk"],
                *split,
                price["effect_years"],
                price["source"],
            )
        )
    for result in answer["scenarios"]:
        sheet = workbook.create_sheet(f"Resultat {result['scenario']['name']}")
        sheet.append(
            (
                "Succesrate",
                result["scenario"]["success_rate"],
                "Omkostning ×",
                result["scenario"]["cost_factor"],
                "Konsekvenser ×",
                result["scenario"]["consequence_factor"],
            )
        )
        sheet.append(("År", *(f"netto {p}" for p in PAYERS), "netto i alt"))
        for year in result["years"]:
            sheet.append((year["year"], *(year["net"][p] for p in PAYERS), year["net_total"]))
        sheet.append(("I alt", *(result["totals"]["net"][p] for p in PAYERS), result["net_total"]))
        sheet.append(
            (
                "Pr. borger",
                *((result["net_per_citizen_by_payer"] or {}).get(p) for p in PAYERS),
                result["net_per_citizen"],
            )
        )
    sensitivity = workbook.create_sheet("Følsomhed")
    sensitivity.append(("Forudsætning", "Succesrate", "Omkostning ×", "Konsekvenser ×", "Netto i alt", "Ændring"))
    for row in answer["sensitivity"]:
        s = row["scenario"]
        sensitivity.append(
            (
                row["assumption"],
                s["success_rate"],
                s["cost_factor"],
                s["consequence_factor"],
                row["net_total"],
                row["change_from_base"],
            )
        )
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
