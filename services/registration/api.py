"""HTTP entrypoint of registration: thin handlers that authorise and hand over to the submissions."""

import asyncio
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from contracts.events import EventMessage
from contracts.facts import Fact
from runtime.auth import Principal, current_principal
from runtime.errors import ApiError
from services.registration.application import Registration
from services.registration.domain.rules import UnknownSubject
from services.registration.submission import MAX_BATCH, Submissions, Submitted

router = APIRouter(prefix="/v1")

IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="a retried request with the same key gets the first answer and stores nothing new",
    ),
]


class ReceiptOut(BaseModel):
    event_id: str
    position: int
    type: str
    recorded_at: str
    citizen_id: str | None = Field(default=None, description="the pseudonymous id, also when a CPR number was sent")


class BatchIn(BaseModel):
    facts: list[dict[str, Any]] = Field(
        description=f"facts as for POST /v1/facts; each is validated and reported on its own. "
        f"At most {MAX_BATCH}: a larger batch is refused whole with 413 (reason batch_too_large)",
    )


class BatchResult(BaseModel):
    index: int
    status: int
    receipt: ReceiptOut | None = None
    error: dict[str, Any] | None = None


class BatchOut(BaseModel):
    accepted: int
    rejected: int
    results: list[BatchResult]


class HistoryOut(BaseModel):
    events: list[dict[str, Any]] = Field(
        description="each event with its fact (effective date inside), recorded_at and recorded_by"
    )


def submissions(request: Request) -> Submissions:
    return request.app.state.submissions


def registration(request: Request) -> Registration:
    return request.app.state.registration


def respond(submitted: Submitted) -> JSONResponse:
    headers = {"Idempotent-Replayed": "true"} if submitted.replayed else None
    return JSONResponse(submitted.answer["body"], status_code=submitted.answer["status"], headers=headers)


@router.post("/facts", status_code=201, response_model=ReceiptOut)
async def submit_fact(
    fact: Annotated[Fact, Body()],
    principal: Annotated[Principal, Depends(current_principal)],
    service: Annotated[Submissions, Depends(submissions)],
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    return respond(await asyncio.to_thread(service.fact, principal, fact, idempotency_key))


@router.post("/facts/batch", response_model=BatchOut)
async def submit_batch(
    batch: BatchIn,
    principal: Annotated[Principal, Depends(current_principal)],
    service: Annotated[Submissions, Depends(submissions)],
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    return respond(await asyncio.to_thread(service.batch, principal, batch.facts, idempotency_key))


async def _history(read: Callable[[], list[EventMessage]]) -> dict[str, Any]:
    try:
        messages = await asyncio.to_thread(read)
    except UnknownSubject as unknown:
        raise ApiError(404, unknown.reason, unknown.message_da, unknown.message_en) from None
    return {"events": [m.model_dump(mode="json", exclude={"position"}) for m in messages]}


@router.get("/citizens/{citizen_id}/history")
async def citizen_history(
    citizen_id: str,
    municipality: str,
    principal: Annotated[Principal, Depends(current_principal)],
    app: Annotated[Registration, Depends(registration)],
) -> dict[str, Any]:
    principal.ensure_municipality(municipality)
    return {"citizen_id": citizen_id, **await _history(lambda: app.history(citizen_id, municipality))}


@router.get("/citizens/{citizen_id}/courses/{course_id}/history")
async def course_history(
    citizen_id: str,
    course_id: str,
    municipality: str,
    principal: Annotated[Principal, Depends(current_principal)],
    app: Annotated[Registration, Depends(registration)],
) -> dict[str, Any]:
    principal.ensure_municipality(municipality)
    events = await _history(lambda: app.course_history(citizen_id, course_id, municipality))
    return {"citizen_id": citizen_id, "course_id": course_id, **events}


@router.get("/teams/{team_id}/history")
async def team_history(
    team_id: str,
    municipality: str,
    principal: Annotated[Principal, Depends(current_principal)],
    app: Annotated[Registration, Depends(registration)],
) -> dict[str, Any]:
    principal.ensure_municipality(municipality)
    return {"team_id": team_id, **await _history(lambda: app.team_history(team_id, municipality))}


@router.get("/workers/{worker_id}/history")
async def worker_history(
    worker_id: str,
    municipality: str,
    principal: Annotated[Principal, Depends(current_principal)],
    app: Annotated[Registration, Depends(registration)],
) -> dict[str, Any]:
    principal.ensure_municipality(municipality)
    return {"worker_id": worker_id, **await _history(lambda: app.worker_history(worker_id, municipality))}


@router.get("/municipalities/{municipality}/history")
async def municipality_history(
    municipality: str,
    principal: Annotated[Principal, Depends(current_principal)],
    app: Annotated[Registration, Depends(registration)],
) -> dict[str, Any]:
    """The municipality's periodic figures (housing stock reports)."""
    principal.ensure_municipality(municipality)
    return {"municipality": municipality, **await _history(lambda: app.municipality_history(municipality))}
