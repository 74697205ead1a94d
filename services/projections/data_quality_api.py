"""HTTP entrypoint of the data-quality figures (data_quality.py): GET /v1/data-quality.

Scoped like the roster: a support worker sees the figures of their own courses, a team leader the
team's, a manager the municipality's. The figures are counts and shares, no citizen is named, so a
read is not put on the audit trail (the roster's and the by-name list's reads are)."""

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from contracts.codes import Method
from contracts.facts import Identifier, MunicipalityCode
from runtime import access
from runtime.auth import Principal, current_principal
from runtime.errors import error_responses
from services.projections import store
from services.projections.api import _dates_in_window
from services.projections.data_quality import data_quality
from services.projections.roster_api import _roster_scope

router = APIRouter(prefix="/v1")
Caller = Annotated[Principal, Depends(current_principal)]


class Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ShareOut(Answer):
    count: int = Field(description="how many lack it")
    of: int = Field(description="out of how many could have it")
    share: float | None = Field(description="count / of, 4 decimals; null when `of` is 0")


class UnknownOut(Answer):
    housing: ShareOut = Field(description="housing situations recorded as `unknown`")
    employment: ShareOut = Field(description="employment statuses recorded as `unknown`")
    gender: ShareOut = Field(description="citizens whose gender is `unknown`")
    follow_on_offer: ShareOut = Field(description="ended courses whose follow-on offer is `ved_ikke`")


class FiguresOut(Answer):
    active_courses: int
    ended_courses: int
    no_time_plan: ShareOut
    no_expected_progression: ShareOut
    no_worker: ShareOut
    no_recent_housing: ShareOut = Field(description="no housing situation in the last 90 days")
    no_baseline_measurement: ShareOut
    status_late: ShareOut = Field(description="the last status window closed without all four registrations")
    backdated_facts: ShareOut = Field(description="facts recorded more than 30 days after they happened")
    unknown: UnknownOut
    ended_without_follow_on_offer: ShareOut


class TeamFiguresOut(FiguresOut):
    team: str


class WorkerFiguresOut(FiguresOut):
    team: str
    worker: str


class DataQualityOut(Answer):
    municipality: str
    team: str | None
    worker: str | None
    method: Method | None
    as_of: str | None
    on: str
    overall: FiguresOut
    teams: list[TeamFiguresOut]
    workers: list[WorkerFiguresOut]


@router.get("/data-quality", response_model=DataQualityOut, responses=error_responses(403, 422))
async def get_data_quality(
    request: Request,
    principal: Caller,
    municipality: Annotated[MunicipalityCode, Query()],
    team: Identifier | None = None,
    worker: Identifier | None = None,
    method: Method | None = None,
    on: Annotated[date | None, Query(description="the day the figures stand on (default today)")] = None,
    as_of: Annotated[date | None, Query(description="as known at the end of that day (UTC)")] = None,
) -> dict[str, Any]:
    """The shares of active courses lacking a time plan, an expected progression, a worker, a housing
    situation in the last 90 days, a baseline measurement or a status on time; the share of `unknown`
    codes per field; backdated facts; ended courses without a follow-on offer. Overall, by team and by
    worker (services/projections/data_quality.py defines each)."""
    access.allow(principal, municipality, "support_worker", "team_leader", "manager")
    _dates_in_window(request, on=on, as_of=as_of)
    team, worker = _roster_scope(principal, team, worker)
    day = on or request.app.state.clock.today()
    history = await store.history(request.app.state.pool, municipality, as_of)
    figures = data_quality(history, day, team, worker, method)
    return {
        "municipality": municipality,
        "team": team,
        "worker": worker,
        "method": method.value if method else None,
        "as_of": as_of.isoformat() if as_of else None,
    } | figures
