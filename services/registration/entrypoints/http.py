"""HTTP entrypoint of registration: thin handlers that authorise and hand over to the submissions
and the application."""

import asyncio
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from contracts.events import EventMessage
from contracts.facts import Fact, Identifier, MunicipalityCode
from contracts.imports import ImportBatch, ImportReport
from contracts.submission import MAX_BATCH
from runtime import access
from runtime.audit import audited_read
from runtime.auth import Principal, Role, current_principal
from runtime.errors import ApiError, error_responses
from services.registration.application import Registration
from services.registration.domain.rules import UnknownSubject
from services.registration.entrypoints.answers import answer, import_answer
from services.registration.personal import PersonalDetails
from services.registration.responses import (
    BatchOut,
    CitizenHistoryOut,
    CourseHistoryOut,
    HistoryEvent,
    MunicipalityHistoryOut,
    PersonalDetailsOut,
    ReceiptOut,
    TeamHistoryOut,
    WorkerHistoryOut,
)
from services.registration.submission import Submissions, Submitted

router = APIRouter(prefix="/v1")

IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="a retried request with the same key gets the first answer and stores nothing new",
    ),
]


class BatchIn(BaseModel):
    facts: list[dict[str, Any]] = Field(
        description=f"facts as for POST /v1/facts; each is validated and reported on its own. "
        f"At most {MAX_BATCH}: a larger batch is refused whole with 413 (reason batch_too_large)",
    )


def submissions(request: Request) -> Submissions:
    return request.app.state.submissions


def registration(request: Request) -> Registration:
    return request.app.state.registration


def respond(submitted: Submitted) -> JSONResponse:
    headers = {"Idempotent-Replayed": "true"} if submitted.replayed else None
    rendered = answer(submitted)
    return JSONResponse(rendered["body"], status_code=rendered["status"], headers=headers)


@router.post(
    "/facts", status_code=201, response_model=ReceiptOut, responses=error_responses(400, 403, 404, 409, 413, 422)
)
async def submit_fact(
    fact: Annotated[Fact, Body()],
    principal: Annotated[Principal, Depends(current_principal)],
    service: Annotated[Submissions, Depends(submissions)],
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    return respond(await asyncio.to_thread(service.fact, principal, fact, idempotency_key))


@router.post("/facts/batch", response_model=BatchOut, responses=error_responses(400, 403, 409, 413, 422))
async def submit_batch(
    batch: BatchIn,
    principal: Annotated[Principal, Depends(current_principal)],
    service: Annotated[Submissions, Depends(submissions)],
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    return respond(await asyncio.to_thread(service.batch, principal, batch.facts, idempotency_key))


@router.post("/import", response_model=ImportReport, responses=error_responses(400, 403, 413, 422))
async def import_history(
    batch: ImportBatch,
    principal: Annotated[Principal, Depends(current_principal)],
    service: Annotated[Submissions, Depends(submissions)],
) -> JSONResponse:
    """Another system's history, for the administrator (`casetrack import FILE`, docs/import.md):
    each line a fact with the time its source recorded it, judged in order as of that day and
    stored whole (the request's accepted lines in one transaction), or refused; a line stored before
    is answered with its receipt (imported_before) and not stored again."""
    rendered = import_answer(await asyncio.to_thread(service.import_lines, principal, batch.facts))
    return JSONResponse(rendered["body"], status_code=rendered["status"])


async def _history(read: Callable[[], list[EventMessage]], principal: Principal) -> dict[str, Any]:
    try:
        messages = await asyncio.to_thread(read)
    except UnknownSubject as unknown:
        if access.hides_existence(principal):
            raise access.forbidden() from None
        raise ApiError(404, unknown.reason, unknown.message_da, unknown.message_en) from None
    return {"events": [HistoryEvent.of(m) for m in messages]}


CITIZEN_READERS: tuple[Role, ...] = ("client", "support_worker", "team_leader")


async def _citizen_in_scope(
    principal: Principal, app: Registration, citizen_id: str, municipality: str, course_id: str | None = None
) -> None:
    """A support worker or team leader reaches a citizen (or course) only through their courses;
    out of scope and not found are the same 403."""
    if not access.hides_existence(principal):
        return
    courses = await asyncio.to_thread(app.course_scopes, citizen_id, municipality)
    if course_id is None:
        access.ensure_citizen(principal, None if courses is None else courses.values())
    else:
        access.ensure_course(principal, None if courses is None else courses.get(course_id))


@router.get(
    "/citizens/{citizen_id}/history", response_model=CitizenHistoryOut, responses=error_responses(403, 404, 422)
)
async def citizen_history(
    citizen_id: Identifier,
    municipality: MunicipalityCode,
    request: Request,
    principal: Annotated[Principal, Depends(current_principal)],
    app: Annotated[Registration, Depends(registration)],
) -> dict[str, Any]:
    access.allow(principal, municipality, *CITIZEN_READERS)
    await _citizen_in_scope(principal, app, citizen_id, municipality)
    await audited_read(
        request,
        principal,
        action="read_citizen_history",
        municipality=municipality,
        subject_type="citizen",
        subject_id=citizen_id,
    )
    return {"citizen_id": citizen_id, **await _history(lambda: app.history(citizen_id, municipality), principal)}


@router.get(
    "/citizens/{citizen_id}/courses/{course_id}/history",
    response_model=CourseHistoryOut,
    responses=error_responses(403, 404, 422),
)
async def course_history(
    citizen_id: Identifier,
    course_id: Identifier,
    municipality: MunicipalityCode,
    request: Request,
    principal: Annotated[Principal, Depends(current_principal)],
    app: Annotated[Registration, Depends(registration)],
) -> dict[str, Any]:
    access.allow(principal, municipality, *CITIZEN_READERS)
    await _citizen_in_scope(principal, app, citizen_id, municipality, course_id)
    await audited_read(
        request,
        principal,
        action="read_course_history",
        municipality=municipality,
        subject_type="course",
        subject_id=course_id,
    )
    events = await _history(lambda: app.course_history(citizen_id, course_id, municipality), principal)
    return {"citizen_id": citizen_id, "course_id": course_id, **events}


@router.get("/teams/{team_id}/history", response_model=TeamHistoryOut, responses=error_responses(403, 404, 422))
async def team_history(
    team_id: Identifier,
    municipality: MunicipalityCode,
    principal: Annotated[Principal, Depends(current_principal)],
    app: Annotated[Registration, Depends(registration)],
) -> dict[str, Any]:
    access.allow(principal, municipality, "client", "team_leader")
    if principal.role == "team_leader" and team_id != principal.team:
        raise access.forbidden()
    return {"team_id": team_id, **await _history(lambda: app.team_history(team_id, municipality), principal)}


@router.get("/workers/{worker_id}/history", response_model=WorkerHistoryOut, responses=error_responses(403, 404, 422))
async def worker_history(
    worker_id: Identifier,
    municipality: MunicipalityCode,
    principal: Annotated[Principal, Depends(current_principal)],
    app: Annotated[Registration, Depends(registration)],
) -> dict[str, Any]:
    access.allow(principal, municipality, "client", "support_worker")
    if principal.role == "support_worker" and worker_id != principal.worker:
        raise access.forbidden()
    return {"worker_id": worker_id, **await _history(lambda: app.worker_history(worker_id, municipality), principal)}


@router.get(
    "/municipalities/{municipality}/history",
    response_model=MunicipalityHistoryOut,
    responses=error_responses(403, 404, 422),
)
async def municipality_history(
    municipality: MunicipalityCode,
    principal: Annotated[Principal, Depends(current_principal)],
    app: Annotated[Registration, Depends(registration)],
) -> dict[str, Any]:
    """The municipality's periodic figures (housing stock reports)."""
    access.allow(principal, municipality, "client", "manager")
    return {"municipality": municipality, **await _history(lambda: app.municipality_history(municipality), principal)}


PERSONAL_DETAILS_READERS: tuple[Role, ...] = ("support_worker", "team_leader")


@router.get(
    "/citizens/{citizen_id}/personal-details",
    response_model=PersonalDetailsOut,
    responses=error_responses(403, 404, 410, 422),
)
async def personal_details(
    citizen_id: Identifier,
    municipality: MunicipalityCode,
    request: Request,
    principal: Annotated[Principal, Depends(current_principal)],
    app: Annotated[Registration, Depends(registration)],
) -> dict[str, Any]:
    """Name, CPR number and birth date, decrypted with the citizen's key: for the citizen's support
    worker, their team's leader and the administrator; on the audit trail before it is served."""
    access.allow(principal, municipality, *PERSONAL_DETAILS_READERS)
    await _citizen_in_scope(principal, app, citizen_id, municipality)
    await audited_read(
        request,
        principal,
        action="read_personal_details",
        municipality=municipality,
        subject_type="citizen",
        subject_id=citizen_id,
    )

    def read() -> tuple[bool, PersonalDetails | None]:
        return app.is_erased(citizen_id, municipality), app.personal_details(citizen_id, municipality)

    try:
        erased, details = await asyncio.to_thread(read)
    except UnknownSubject as unknown:
        raise ApiError(404, unknown.reason, unknown.message_da, unknown.message_en) from None
    if erased:
        raise ApiError(
            410,
            "personal_details_erased",
            "Borgerens personoplysninger er slettet.",
            "The citizen's personal details have been erased.",
        )
    if details is None:
        raise ApiError(
            404,
            "personal_details_missing",
            "Der er ingen personoplysninger om borgeren.",
            "No personal details are kept for the citizen.",
        )
    return {
        "citizen_id": citizen_id,
        "cpr": details.cpr,
        "name": details.name,
        "birth_date": details.birth_date.isoformat() if details.birth_date else None,
    }
