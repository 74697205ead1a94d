"""HTTP entrypoint of registration: thin handlers that validate, authorise and call the application."""

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request
from pydantic import BaseModel, Field, ValidationError

from contracts.facts import Fact, FactBase, fact_adapter
from runtime.auth import Principal, current_principal
from runtime.errors import ApiError, validation_fields
from services.registration.application import Receipt, Registration, Rejection
from services.registration.domain.rules import RuleViolation, UnknownSubject

MAX_BATCH = 5000

router = APIRouter(prefix="/v1")


class ReceiptOut(BaseModel):
    event_id: str
    position: int
    type: str
    recorded_at: str

    @classmethod
    def of(cls, receipt: Receipt) -> "ReceiptOut":
        return cls(
            event_id=str(receipt.event_id),
            position=receipt.position,
            type=receipt.type,
            recorded_at=receipt.recorded_at.isoformat(),
        )


class BatchIn(BaseModel):
    facts: list[dict[str, Any]] = Field(
        max_length=MAX_BATCH,
        description="facts as for POST /v1/facts; each is validated and reported on its own",
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


def registration(request: Request) -> Registration:
    return request.app.state.registration


def rejection_error(rejection: Rejection) -> ApiError:
    if isinstance(rejection, RuleViolation):
        rule = rejection.rule
        return ApiError(409, rule.reason, rule.message_da, rule.message_en)
    return ApiError(404, rejection.reason, rejection.message_da, rejection.message_en)


@router.post("/facts", status_code=201, response_model=ReceiptOut)
async def submit_fact(
    fact: Annotated[Fact, Body()],
    principal: Annotated[Principal, Depends(current_principal)],
    app: Annotated[Registration, Depends(registration)],
) -> ReceiptOut:
    principal.ensure_municipality(fact.municipality)
    try:
        receipt = await asyncio.to_thread(app.record, fact, principal.name)
    except (RuleViolation, UnknownSubject) as rejection:
        raise rejection_error(rejection) from None
    return ReceiptOut.of(receipt)


@router.post("/facts/batch", response_model=BatchOut)
async def submit_batch(
    batch: BatchIn,
    principal: Annotated[Principal, Depends(current_principal)],
    app: Annotated[Registration, Depends(registration)],
) -> BatchOut:
    results: list[BatchResult | None] = [None] * len(batch.facts)
    accepted: list[tuple[int, FactBase]] = []
    for index, raw in enumerate(batch.facts):
        try:
            fact = fact_adapter.validate_python(raw)
            principal.ensure_municipality(fact.municipality)
        except ValidationError as exc:
            error = ApiError(422, "validation_error", "Ugyldige data.", "Invalid input.",
                             validation_fields(exc.errors(include_url=False, include_input=False)))
            results[index] = BatchResult(index=index, status=422, error=error.body()["error"])
            continue
        except ApiError as exc:
            results[index] = BatchResult(index=index, status=exc.status, error=exc.body()["error"])
            continue
        accepted.append((index, fact))
    outcomes = await asyncio.to_thread(app.record_batch, [(f, principal.name) for _, f in accepted])
    for (index, _), outcome in zip(accepted, outcomes):
        if isinstance(outcome, Receipt):
            results[index] = BatchResult(index=index, status=201, receipt=ReceiptOut.of(outcome))
        else:
            error = rejection_error(outcome)
            results[index] = BatchResult(index=index, status=error.status, error=error.body()["error"])
    done = [r for r in results if r is not None]
    ok = sum(1 for r in done if r.status == 201)
    return BatchOut(accepted=ok, rejected=len(done) - ok, results=done)


@router.get("/citizens/{citizen_id}/history")
async def citizen_history(
    citizen_id: str,
    municipality: str,
    principal: Annotated[Principal, Depends(current_principal)],
    app: Annotated[Registration, Depends(registration)],
) -> dict[str, Any]:
    principal.ensure_municipality(municipality)
    try:
        messages = await asyncio.to_thread(app.history, citizen_id, municipality)
    except UnknownSubject as unknown:
        raise ApiError(404, unknown.reason, unknown.message_da, unknown.message_en) from None
    return {
        "citizen_id": citizen_id,
        "events": [m.model_dump(mode="json", exclude={"position"}) for m in messages],
    }
