"""The FastAPI shell every service shares: health, metrics, latency, errors, tokens, serving."""

import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager

import asyncpg
import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from runtime.auth import SessionSigner, TokenTable
from runtime.errors import ApiError, install_error_handlers
from runtime.logs import configure_logging
from runtime.metrics import ERRORS, REQUEST_LATENCY, UNAVAILABLE, start_counting
from runtime.settings import Settings

log = logging.getLogger(__name__)

# Room for a batch of 5,000 facts; anything larger is refused with 413 before it is parsed.
DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024

# Checks by name: a bool each (all true: healthy); other entries (e.g. the partitions a replica
# leads, runtime/partitions.py) are shown as they are.
HealthCheck = Callable[[], Awaitable[Mapping[str, object]]]

# Errors that mean a backing server is unreachable: the client should retry, nothing was stored.
UNAVAILABLE_ERRORS: tuple[type[BaseException], ...] = (
    ConnectionError,
    TimeoutError,
    OSError,
    asyncpg.exceptions.PostgresConnectionError,  # the connection broke (PostgreSQL stopped or restarted)
    asyncpg.exceptions.CannotConnectNowError,  # PostgreSQL is starting up or shutting down
    asyncpg.exceptions.AdminShutdownError,
)


def create_service_app(
    settings: Settings,
    *,
    title: str,
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]],
    health: HealthCheck,
    unavailable_errors: tuple[type[BaseException], ...] = (),
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
) -> FastAPI:
    app = FastAPI(title=title, version="1", lifespan=lifespan)
    app.state.settings = settings
    app.state.tokens = TokenTable(settings.tokens())
    app.state.signer = SessionSigner(settings.signing_key) if settings.signing_key else None
    service = settings.service
    start_counting(service)
    install_error_handlers(app, service)
    app.add_middleware(BodyLimit, limit=max_body_bytes)
    unavailable = UNAVAILABLE_ERRORS + unavailable_errors

    @app.middleware("http")
    async def _observe(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        started = time.perf_counter()
        try:
            response = await call_next(request)
        except unavailable as exc:
            ERRORS.labels(service, UNAVAILABLE).inc()
            log.warning("backing service unavailable", extra={"error": repr(exc), "path": request.url.path})
            response = JSONResponse(
                ApiError(
                    503,
                    "service_unavailable",
                    "Tjenesten er midlertidigt utilgængelig; prøv igen.",
                    "Temporarily unavailable; retry later.",
                ).body(),
                status_code=503,
                headers={"Retry-After": "5"},
            )
        except Exception:
            ERRORS.labels(service, "http_500").inc()
            log.exception("unhandled error", extra={"path": request.url.path})
            response = JSONResponse(
                ApiError(500, "internal_error", "Intern fejl.", "Internal error.").body(), status_code=500
            )
        route = request.scope.get("route")
        REQUEST_LATENCY.labels(
            service, request.method, getattr(route, "path", "unmatched"), str(response.status_code)
        ).observe(time.perf_counter() - started)
        return response

    @app.get("/healthz", include_in_schema=False)
    async def _healthz() -> JSONResponse:
        try:
            checks = await health()
        except Exception as exc:  # health must answer, whatever is down
            return JSONResponse({"status": "unavailable", "error": repr(exc)}, status_code=503)
        ok = all(value for value in checks.values() if isinstance(value, bool))
        return JSONResponse({"status": "ok" if ok else "degraded", **checks}, status_code=200 if ok else 503)

    @app.get("/metrics", include_in_schema=False)
    async def _metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return app


class BodyLimit:
    """ASGI middleware: reads the body up to `limit` bytes before the app sees it, and answers 413
    past that, whether the size was declared (Content-Length) or the body came chunked."""

    def __init__(self, app: ASGIApp, limit: int):
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers", []))
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            return await _too_large(self.limit)(scope, receive, send)
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.limit:
                return await _too_large(self.limit)(scope, receive, send)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def _too_large(limit: int) -> JSONResponse:
    error = ApiError(
        413,
        "payload_too_large",
        f"Forespørgslen er for stor (højst {limit} byte).",
        f"Request body too large (at most {limit} bytes).",
    )
    return JSONResponse(error.body(), status_code=413)


def serve(app: FastAPI, settings: Settings) -> None:
    """Run until SIGINT/SIGTERM; uvicorn finishes in-flight requests, then the lifespan closes."""
    configure_logging(settings.service, settings.log_level)
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        timeout_graceful_shutdown=10,
        limit_concurrency=1000,
    )
