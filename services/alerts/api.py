"""HTTP entrypoint of alerts: list alerts; set the clock where it is adjustable."""

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from contracts.facts import MunicipalityCode
from runtime.auth import Principal, current_principal
from runtime.errors import ApiError
from services.alerts import store

router = APIRouter(prefix="/v1")


@router.get("/alerts")
async def list_alerts(
    request: Request,
    principal: Annotated[Principal, Depends(current_principal)],
    municipality: Annotated[MunicipalityCode, Query()],
    state: Literal["open", "acknowledged", "snoozed", "resolved"] | None = None,
    team: str | None = None,
    rule: str | None = None,
) -> dict[str, Any]:
    principal.ensure_municipality(municipality)
    alerts = await store.list_alerts(
        request.app.state.pool, municipality=municipality, state=state, team=team, rule=rule
    )
    return {"municipality": municipality, "alerts": alerts}


class ClockIn(BaseModel):
    now: datetime


@router.get("/clock")
async def get_clock(request: Request, principal: Annotated[Principal, Depends(current_principal)]) -> dict[str, Any]:
    clock = request.app.state.clock
    return {"now": clock.now().isoformat(), "adjustable": clock.adjustable}


@router.put("/clock")
async def set_clock(
    body: ClockIn, request: Request, principal: Annotated[Principal, Depends(current_principal)]
) -> dict[str, Any]:
    """Moves the service's clock (only with CASETRACK_CLOCK=adjustable: tests and demos)."""
    principal.ensure_admin()
    clock = request.app.state.clock
    if not clock.adjustable:
        raise ApiError(409, "clock_not_adjustable", "Uret kan ikke stilles her.", "The clock is not adjustable.")
    clock.set(body.now)
    request.app.state.wake_poller.set()
    return {"now": clock.now().isoformat(), "adjustable": True}
