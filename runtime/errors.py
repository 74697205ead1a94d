"""One error shape for every service: {"error": {"reason", "message", "message_da", "fields"}}, and
its description in the services' OpenAPI documents (`error_responses`)."""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from contracts.submission import ErrorBody
from runtime.metrics import count_refusal


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        reason: str,
        message_da: str,
        message_en: str,
        fields: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message_en)
        self.status = status
        self.reason = reason
        self.message_da = message_da
        self.message_en = message_en
        self.fields = fields or []
        self.headers = headers

    def body(self) -> dict[str, Any]:
        return {
            "error": {
                "reason": self.reason,
                "message": self.message_en,
                "message_da": self.message_da,
                "fields": self.fields,
            }
        }


# What each status means wherever it is answered; an endpoint lists the ones it can give.
ERROR_MEANINGS = {
    400: "the body cannot be read as JSON text (malformed_body)",
    401: "no, an expired or an invalid bearer token (token_missing, token_expired, token_invalid)",
    403: "the token's role or municipality does not reach this (forbidden, municipality_forbidden, admin_required)",
    404: "the object asked for does not exist (for callers who may see the whole municipality)",
    409: "refused by a rule or by the object's state",
    410: "gone: erased on purpose",
    413: "the request body is too large (payload_too_large, batch_too_large)",
    422: "invalid input: `fields` names each field and why",
    503: "a backing server is unavailable; nothing was changed, retry later (see Retry-After)",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The `responses=` of an endpoint: the error body for each status it can answer, with 401
    (every endpoint needs a token) and 503 (every endpoint needs its backing servers)."""
    return {
        status: {"model": ErrorBody, "description": ERROR_MEANINGS[status]} for status in sorted({401, 503, *statuses})
    }


def validation_fields(errors: list[Any]) -> list[dict[str, Any]]:
    """pydantic errors as [{"field": "fact.effective_date", "problem": "..."}]."""
    fields = []
    for err in errors:
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body",)]
        fields.append({"field": ".".join(loc), "problem": err.get("msg", ""), "type": err.get("type")})
    return fields


def install_error_handlers(app: FastAPI, service: str) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        count_refusal(service, exc.status, exc.reason)
        return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        error = ApiError(
            422,
            "validation_error",
            "Ugyldige data: se felterne.",
            "Invalid input: see fields.",
            jsonable_encoder(validation_fields(list(exc.errors()))),
        )
        return JSONResponse(error.body(), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        reason = {400: "malformed_body", 404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}.get(
            exc.status_code, "http_error"
        )
        error = ApiError(exc.status_code, reason, str(exc.detail), str(exc.detail))
        return JSONResponse(error.body(), status_code=exc.status_code, headers=exc.headers)
