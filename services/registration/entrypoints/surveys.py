"""HTTP entrypoint for people's organisation facts (docs/surveys.md §5): a worker, team leader or
manager answers a survey round for themselves, their team or the municipality; a team leader
records a partner meeting. The team is the caller's own (from the token); an answer to an
anonymous survey is recorded without its respondent and marked answered without it too
(participation.py)."""

import asyncio
from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from contracts.facts import MunicipalityCode, PartnerMeetingHeld, PseudonymousId, SurveyAnswered, admit
from contracts.surveys import ItemId, Partner, Round, SurveyDefinition, SurveyId
from runtime import access
from runtime.auth import Principal, Role, current_principal
from runtime.errors import ApiError, error_responses
from services.registration.application import Registration
from services.registration.domain.rules import RuleViolation, UnknownSubject
from services.registration.domain.surveys import survey_not_found
from services.registration.entrypoints.http import respond
from services.registration.participation import Participation
from services.registration.responses import ReceiptOut
from services.registration.submission import Submissions, Submitted, validation_error

router = APIRouter(prefix="/v1")
Caller = Annotated[Principal, Depends(current_principal)]

# Who answers which kind of survey (the administrator: any).
ANSWERERS: dict[str, tuple[Role, ...]] = {
    "worker": ("support_worker", "team_leader"),
    "team": ("team_leader",),
    "municipality": ("manager",),
}


class SurveyAnswerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    municipality: MunicipalityCode
    survey: SurveyId
    version: int = Field(ge=1, le=1000)
    round: Round
    team: PseudonymousId | None = Field(
        default=None, description="only the administrator sends it: a worker or team leader answers for their own team"
    )
    answers: dict[ItemId, int] = Field(max_length=80)


class PartnerMeetingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    municipality: MunicipalityCode
    effective_date: date
    team: PseudonymousId | None = Field(default=None, description="only the administrator sends it")
    partners: tuple[Partner, ...] = Field(min_length=1, max_length=len(Partner))


def _team(principal: Principal, asked: str | None) -> str:
    """The caller's own team; the administrator names one."""
    if principal.role == "admin":
        if asked is None:
            raise ApiError(
                422,
                "validation_error",
                "Angiv team.",
                "Send team.",
                [{"field": "team", "problem": "required", "type": "missing"}],
            )
        return asked
    if principal.team is None or (asked is not None and asked != principal.team):
        raise access.forbidden()
    return principal.team


def _record(request: Request, principal: Principal, raw: dict[str, object]) -> Submitted:
    app: Registration = request.app.state.registration
    submissions: Submissions = request.app.state.submissions
    try:
        model = SurveyAnswered if raw["type"] == "SurveyAnswered" else PartnerMeetingHeld
        fact = admit(model.model_validate(raw), submissions.admission)
    except ValidationError as exc:
        return Submitted(validation_error(exc))
    try:
        return Submitted(app.record(fact, principal.name))
    except (RuleViolation, UnknownSubject) as rejection:
        return Submitted(rejection)


def _answer(request: Request, principal: Principal, body: SurveyAnswerIn) -> Submitted:
    app: Registration = request.app.state.registration
    participation: Participation = request.app.state.participation
    access.allow(principal, body.municipality, "support_worker", "team_leader", "manager")
    definition: SurveyDefinition | None = app.survey_definition(body.municipality, body.survey, body.version)
    if definition is None:
        raise ApiError(404, *_not_found())
    principal.ensure_role(*ANSWERERS[definition.respondent])
    team = None if definition.respondent == "municipality" else _team(principal, body.team)
    respondent = {"worker": principal.name, "team": f"team:{team}", "municipality": "municipality"}
    mark = participation.mark_of(
        body.municipality, body.survey, body.version, body.round, respondent[definition.respondent]
    )
    participation.mark(mark)
    raw = body.model_dump() | {"type": "SurveyAnswered", "team": team, "effective_date": _today()}
    submitted = _record(request, principal, raw)
    if isinstance(submitted.outcome, (ApiError, RuleViolation, UnknownSubject)):
        participation.unmark(mark)  # refused: the round may be answered again
    return submitted


def _not_found() -> tuple[str, str, str]:
    missing = survey_not_found()
    return missing.reason, missing.message_da, missing.message_en


def _today() -> date:
    return datetime.now(UTC).date()


@router.post(
    "/surveys/answers",
    status_code=201,
    response_model=ReceiptOut,
    responses=error_responses(403, 404, 409, 422, 503),
)
async def answer_survey(body: SurveyAnswerIn, request: Request, principal: Caller) -> JSONResponse:
    """Answers a survey round: a worker for themselves (anonymous surveys keep no respondent), a
    team leader for the team, a manager for the municipality. One answer per respondent and round."""
    return respond(await asyncio.to_thread(_answer, request, principal, body))


@router.post(
    "/partner-meetings", status_code=201, response_model=ReceiptOut, responses=error_responses(403, 404, 409, 422)
)
async def record_partner_meeting(body: PartnerMeetingIn, request: Request, principal: Caller) -> JSONResponse:
    """A team leader records a meeting the team held with partners."""
    access.allow(principal, body.municipality, "team_leader")
    raw = body.model_dump() | {"type": "PartnerMeetingHeld", "team": _team(principal, body.team)}
    return respond(await asyncio.to_thread(_record, request, principal, raw))
