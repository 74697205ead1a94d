"""HTTP entrypoint of projections: the KPI catalogue and figures."""

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from contracts.facts import MunicipalityCode
from runtime.auth import Principal, current_principal
from runtime.errors import ApiError
from services.projections import kpis

router = APIRouter(prefix="/v1")


@router.get("/kpis")
async def list_kpis(principal: Annotated[Principal, Depends(current_principal)]) -> dict[str, Any]:
    return {"kpis": [kpi.describe() for kpi in kpis.CATALOGUE.values()]}


@router.get("/kpis/{kpi_id}")
async def get_kpi(
    kpi_id: str,
    request: Request,
    principal: Annotated[Principal, Depends(current_principal)],
    municipality: Annotated[MunicipalityCode, Query()],
    on: date | None = None,
    period_from: Annotated[date | None, Query(alias="from")] = None,
    period_to: Annotated[date | None, Query(alias="to")] = None,
) -> dict[str, Any]:
    kpi = kpis.CATALOGUE.get(kpi_id)
    if kpi is None:
        raise ApiError(404, "kpi_not_found", f"Ukendt nøgletal: {kpi_id}.", f"Unknown KPI: {kpi_id}.")
    principal.ensure_municipality(municipality)
    pool = request.app.state.pool
    today = request.app.state.clock.today()
    if kpi is kpis.P1:
        figure = await kpis.active_courses_by_method(pool, municipality, on or today)
    else:
        default_from, default_to = kpis.default_period(today)
        start, end = period_from or default_from, period_to or default_to
        if start > end:
            raise ApiError(422, "period_reversed", "'from' ligger efter 'to'.", "'from' is after 'to'.",
                           [{"field": "from", "problem": "after 'to'"}])
        figure = await kpis.handleplan_within_30_days(pool, municipality, start, end)
    return {"kpi": kpi.id, "name_da": kpi.name_da, "name_en": kpi.name_en, "unit": kpi.unit,
            "municipality": municipality, **figure}
