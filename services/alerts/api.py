"""HTTP entrypoint of alerts: alerts and their lifecycle, a live stream, rule configuration, the clock."""

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.json_schema import SkipJsonSchema

from contracts.alerts import Severity
from contracts.codes import Method
from contracts.facts import Identifier, MunicipalityCode
from runtime import access
from runtime.audit import audited_read
from runtime.auth import Principal, Role, current_principal
from runtime.errors import ApiError, error_responses
from services.alerts import evaluation, rules, store
from services.alerts.responses import (
    STREAM_RESPONSE,
    AlertsOut,
    AlertWithHistoryOut,
    ClockOut,
    MunicipalityRulesOut,
    RuleConfigOut,
    RulesOut,
)

router = APIRouter(prefix="/v1")

# Who reads alerts: a team leader their team's, a manager the municipality's (read-only: changing an
# alert's state is the team leader's).
ALERT_READERS: tuple[Role, ...] = ("team_leader", "manager")
DEFAULT_PAGE, MAX_PAGE = 100, 1000

AlertStateQuery = Literal["open", "acknowledged", "snoozed", "resolved"]
Person = Annotated[str, Field(min_length=1, max_length=200)]


@router.get("/alerts", response_model=AlertsOut, responses=error_responses(403, 404, 422))
async def list_alerts(
    request: Request,
    principal: Annotated[Principal, Depends(current_principal)],
    municipality: Annotated[MunicipalityCode, Query()],
    state: AlertStateQuery | None = None,
    team: Identifier | None = None,
    rule: str | None = None,
    severity: Severity | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = DEFAULT_PAGE,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    """Newest first, a page at a time: `total` counts every alert that matches, `next_offset` is the
    offset of the next page (null on the last). Team leaders: their team's; managers: the
    municipality's, to read."""
    access.allow(principal, municipality, *ALERT_READERS)
    team = access.team_filter(principal, team)
    if rule is not None:
        _rule(rule)
    alerts, total = await store.list_alerts(
        request.app.state.pool,
        municipality=municipality,
        state=state,
        team=team,
        rule=rule,
        severity=severity,
        limit=limit,
        offset=offset,
    )
    following = offset + len(alerts)
    return {
        "municipality": municipality,
        "alerts": alerts,
        "total": total,
        "offset": offset,
        "limit": limit,
        "next_offset": following if following < total else None,
    }


@router.get("/alerts/stream", response_class=StreamingResponse, responses=STREAM_RESPONSE | error_responses(403, 422))
async def stream_alerts(
    request: Request,
    principal: Annotated[Principal, Depends(current_principal)],
    municipality: Annotated[MunicipalityCode, Query()],
    team: Identifier | None = None,
    after: Annotated[int | None, Query(ge=0, description="replay transitions after this event id")] = None,
    last_event_id: Annotated[str | None, Header()] = None,
) -> StreamingResponse:
    """Server-sent events: every alert transition of the municipality (or team) as it is stored.

    Reads the transitions table, so it sees what every replica raised; reconnecting with
    Last-Event-ID resumes where the client left off."""
    access.allow(principal, municipality, *ALERT_READERS)
    team = access.team_filter(principal, team)
    pool, stop = request.app.state.pool, request.app.state.stop
    if last_event_id is not None and last_event_id.isdigit():
        after = int(last_event_id)
    if after is None:
        after = await pool.fetchval("SELECT coalesce(max(id), 0) FROM alert_transitions")

    async def events() -> AsyncIterator[str]:
        cursor, quiet = after, 0.0
        yield ": connected\n\n"
        while not stop.is_set() and not await request.is_disconnected():
            rows = await pool.fetch(
                """SELECT t.id AS event_id, t.transition, t.state AS transition_state, t.at, t.by, t.on_behalf_of,
                          t.note, a.*
                   FROM alert_transitions t JOIN alerts a ON a.id = t.alert_id
                   WHERE t.id > $1 AND a.municipality = $2 AND ($3::text IS NULL OR a.team = $3)
                   ORDER BY t.id LIMIT 500""",
                cursor,
                municipality,
                team,
            )
            for row in rows:
                cursor = row["event_id"]
                data = store.alert_row(row) | {
                    "transition": row["transition"],
                    "state": row["transition_state"],
                    "at": row["at"].isoformat(),
                    "by": row["by"],
                    "on_behalf_of": row["on_behalf_of"],
                    "note": row["note"],
                }
                yield f"id: {cursor}\nevent: alert\ndata: {json.dumps(data)}\n\n"
            if not rows:
                quiet += 0.25
                if quiet >= 15:
                    quiet = 0.0
                    yield ": keep-alive\n\n"
                await asyncio.sleep(0.25)

    return StreamingResponse(
        events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    )


async def _alert_in(request: Request, principal: Principal, alert_id: uuid.UUID, *, to_change: bool) -> dict[str, Any]:
    """The alert, for the administrator, the leader of its team and (to read) the municipality's
    managers. Anyone else gets the same 403 whether it exists or not: an alert id alone must not
    tell another municipality anything."""
    if to_change:
        principal.ensure_role("team_leader")
    else:
        principal.ensure_role(*ALERT_READERS)
    alert = await store.get_alert(request.app.state.pool, alert_id)
    if principal.role == "admin":
        if alert is None:
            raise ApiError(404, "alert_not_found", "Advarslen findes ikke.", "No such alert.")
        return alert
    if alert is None or alert["municipality"] != principal.municipality:
        raise access.forbidden()
    if principal.role == "team_leader" and alert["team"] != principal.team:
        raise access.forbidden()
    return alert


@router.get("/alerts/{alert_id}", response_model=AlertWithHistoryOut, responses=error_responses(403, 404, 422))
async def get_alert(
    alert_id: uuid.UUID, request: Request, principal: Annotated[Principal, Depends(current_principal)]
) -> dict[str, Any]:
    """The alert with its history: every transition, by whom and when (an audited read)."""
    alert = await _alert_in(request, principal, alert_id, to_change=False)
    await audited_read(
        request,
        principal,
        action="read_alert",
        municipality=alert["municipality"],
        subject_type=alert["subject_type"],
        subject_id=alert["subject_id"],
    )
    return alert


class TransitionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    on_behalf_of: Person | None = Field(
        default=None, description="a person the caller acts for; recorded beside the caller, who is always the actor"
    )
    note: Annotated[str, Field(max_length=2000)] | None = None
    # Earlier versions took the actor from the body; it is refused by name (by_not_accepted).
    by: SkipJsonSchema[Any] = None


class ResolveIn(TransitionIn):
    note: Annotated[str, Field(min_length=1, max_length=2000)]


class SnoozeIn(TransitionIn):
    until: date


async def _change(
    request: Request,
    principal: Principal,
    alert_id: uuid.UUID,
    state: str,
    body: TransitionIn,
    snoozed_until: date | None = None,
) -> dict[str, Any]:
    await _alert_in(request, principal, alert_id, to_change=True)
    clock = request.app.state.clock
    async with request.app.state.pool.acquire() as db, db.transaction():
        try:
            return await store.change_state(
                db,
                alert_id,
                state=state,
                at=clock.now(),
                by=principal.name,
                note=body.note,
                snoozed_until=snoozed_until,
                on_behalf_of=body.on_behalf_of,
            )  # type: ignore[return-value]
        except store.TransitionRefused as refused:
            raise ApiError(
                409,
                "transition_not_allowed",
                f"Advarslen er {refused.state} og kan ikke ændres til {state}.",
                f"The alert is {refused.state} and cannot become {state}.",
            ) from None


def _actor_is_caller(body: TransitionIn) -> None:
    """Who acted is the authenticated caller, never a name in the body."""
    if "by" in body.model_fields_set:
        raise ApiError(
            422,
            "by_not_accepted",
            "Den, der handler, er den indloggede bruger; en anden person angives i on_behalf_of.",
            "The actor is the authenticated caller; name a person you act for in on_behalf_of.",
            [{"field": "by", "problem": "not accepted: the actor is the caller; use on_behalf_of"}],
        )


@router.post(
    "/alerts/{alert_id}/acknowledge",
    response_model=AlertWithHistoryOut,
    responses=error_responses(400, 403, 404, 409, 413, 422),
)
async def acknowledge(
    alert_id: uuid.UUID,
    body: TransitionIn,
    request: Request,
    principal: Annotated[Principal, Depends(current_principal)],
) -> dict[str, Any]:
    _actor_is_caller(body)
    return await _change(request, principal, alert_id, "acknowledged", body)


@router.post(
    "/alerts/{alert_id}/resolve",
    response_model=AlertWithHistoryOut,
    responses=error_responses(400, 403, 404, 409, 413, 422),
)
async def resolve(
    alert_id: uuid.UUID, body: ResolveIn, request: Request, principal: Annotated[Principal, Depends(current_principal)]
) -> dict[str, Any]:
    """Resolve by hand, with a note saying why."""
    _actor_is_caller(body)
    return await _change(request, principal, alert_id, "resolved", body)


@router.post(
    "/alerts/{alert_id}/snooze",
    response_model=AlertWithHistoryOut,
    responses=error_responses(400, 403, 404, 409, 413, 422),
)
async def snooze(
    alert_id: uuid.UUID, body: SnoozeIn, request: Request, principal: Annotated[Principal, Depends(current_principal)]
) -> dict[str, Any]:
    """Snooze until a day, at most CASETRACK_SNOOZE_MAX_DAYS ahead; the alert is open again on that day."""
    _actor_is_caller(body)
    today: date = request.app.state.clock.today()
    if body.until <= today:
        raise ApiError(
            422,
            "snooze_not_in_future",
            "Udsæt til en dag efter i dag.",
            "Snooze until a day after today.",
            [{"field": "until", "problem": "must be after today"}],
        )
    longest: int = request.app.state.settings.snooze_max_days
    if (body.until - today).days > longest:
        raise ApiError(
            422,
            "snooze_too_long",
            f"Udsæt højst {longest} dage.",
            f"Snooze for at most {longest} days.",
            [{"field": "until", "problem": f"at most {longest} days after today"}],
        )
    return await _change(request, principal, alert_id, "snoozed", body, body.until)


# --- Rules and their configuration --------------------------------------------------------------


def _rule(rule_id: str) -> rules.Rule:
    rule = rules.CATALOGUE.get(rule_id)
    if rule is None:
        raise ApiError(
            404,
            "rule_not_found",
            f"Reglen {rule_id} findes ikke.",
            f"No rule {rule_id}.",
            [{"field": "rule", "problem": f"known rules: {', '.join(rules.CATALOGUE)}"}],
        )
    return rule


@router.get("/rules", response_model=RulesOut | MunicipalityRulesOut, responses=error_responses(403, 422))
async def list_rules(
    request: Request,
    principal: Annotated[Principal, Depends(current_principal)],
    municipality: Annotated[MunicipalityCode | None, Query()] = None,
) -> dict[str, Any]:
    """The rule catalogue: every rule with its definition, the facts it reacts to and its defaults;
    with a municipality, also its overrides there (per scope)."""
    if municipality is None:
        return {"rules": [rule.describe() for rule in rules.CATALOGUE.values()]}
    access.allow(principal, municipality, "team_leader", "manager")
    async with request.app.state.pool.acquire() as db:
        config = await evaluation.overrides(db, municipality)
    return {
        "municipality": municipality,
        "rules": [
            rule.describe()
            | {"overrides": config.get(rule.id, {}), "effective": rules.effective_params(rule, config.get(rule.id, {}))}
            for rule in rules.CATALOGUE.values()
        ],
    }


async def _config(
    request: Request, rule: rules.Rule, municipality: str, team: str | None, method: Method | None
) -> dict[str, Any]:
    async with request.app.state.pool.acquire() as db:
        config = (await evaluation.overrides(db, municipality)).get(rule.id, {})
    return rule.describe() | {
        "municipality": municipality,
        "scope": rules.parse_scope(team, method),
        "overrides": config,
        "effective": rules.effective_params(rule, config, team=team, method=method.value if method else None),
    }


def _scope(team: str | None, method: Method | None) -> str:
    try:
        return rules.parse_scope(team, method.value if method else None)
    except ValueError:
        raise ApiError(
            422,
            "scope_ambiguous",
            "Angiv et team eller en metode, ikke begge.",
            "Give a team or a method, not both.",
            [{"field": "team", "problem": "team and method both given"}],
        ) from None


@router.get("/rules/{rule_id}/config", response_model=RuleConfigOut, responses=error_responses(403, 404, 422))
async def get_rule_config(
    rule_id: str,
    request: Request,
    principal: Annotated[Principal, Depends(current_principal)],
    municipality: Annotated[MunicipalityCode, Query()],
    team: Identifier | None = None,
    method: Method | None = None,
) -> dict[str, Any]:
    """The active configuration: defaults, the overrides per scope, and what applies to a team/method."""
    access.allow(principal, municipality, "team_leader", "manager")
    rule = _rule(rule_id)
    _scope(team, method)
    return await _config(request, rule, municipality, team, method)


class ConfigIn(BaseModel):
    params: dict[str, Any] = Field(description="overrides for this scope; {} removes them")


@router.put("/rules/{rule_id}/config", response_model=RuleConfigOut, responses=error_responses(400, 403, 404, 413, 422))
async def put_rule_config(
    rule_id: str,
    body: ConfigIn,
    request: Request,
    principal: Annotated[Principal, Depends(current_principal)],
    municipality: Annotated[MunicipalityCode, Query()],
    team: Identifier | None = None,
    method: Method | None = None,
) -> dict[str, Any]:
    """Overrides thresholds for the municipality, or for one team or method in it. Deadlines and
    open alerts of the rule are looked at again with the new thresholds at once."""
    access.allow(principal, municipality, "manager")
    rule = _rule(rule_id)
    scope = _scope(team, method)
    problems = rules.param_problems(rule, body.params)
    if problems:
        raise ApiError(
            422,
            "invalid_rule_parameters",
            "Ugyldige parametre for reglen.",
            "Invalid parameters for the rule.",
            problems,
        )
    now: datetime = request.app.state.clock.now()
    async with request.app.state.pool.acquire() as db, db.transaction():
        if body.params:
            await db.execute(
                """INSERT INTO alert_rule_config (rule, municipality, scope, params, updated_at, updated_by)
                   VALUES ($1, $2, $3, $4, $5, $6)
                   ON CONFLICT (rule, municipality, scope) DO UPDATE
                   SET params = EXCLUDED.params, updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by""",
                rule.id,
                municipality,
                scope,
                json.dumps(body.params),
                now,
                principal.name,
            )
        else:
            await db.execute(
                "DELETE FROM alert_rule_config WHERE rule = $1 AND municipality = $2 AND scope = $3",
                rule.id,
                municipality,
                scope,
            )
        await store.rule_config_changed(db, rule.id, municipality, now, principal.name)
    await evaluation.rule_everywhere(request.app.state.pool, rule, municipality, now, "configuration changed")
    return await _config(request, rule, municipality, team, method)


# --- Clock --------------------------------------------------------------------------------------


class ClockIn(BaseModel):
    now: datetime

    @field_validator("now")
    @classmethod
    def _plausible(cls, now: datetime) -> datetime:
        # Far from today the clock's offset overflows datetime arithmetic (found by fuzzing).
        if not 2000 <= now.year <= 2100:
            raise ValueError("the clock can be set between the years 2000 and 2100")
        return now


@router.get("/clock", response_model=ClockOut, responses=error_responses())
async def get_clock(request: Request, principal: Annotated[Principal, Depends(current_principal)]) -> dict[str, Any]:
    clock = request.app.state.clock
    return {"now": clock.now().isoformat(), "adjustable": clock.adjustable}


@router.put("/clock", response_model=ClockOut, responses=error_responses(400, 403, 409, 413, 422))
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
