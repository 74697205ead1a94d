"""The FastAPI shell every service shares: health, metrics, latency, errors, tokens, serving."""

import logging
import time
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from runtime.auth import TokenTable
from runtime.errors import ApiError, install_error_handlers
from runtime.logs import configure_logging
from runtime.metrics import ERRORS, REQUEST_LATENCY
from runtime.settings import Settings

log = logging.getLogger(__name__)

HealthCheck = Callable[[], Awaitable[dict[str, bool]]]

# Errors that mean a backing server is unreachable: the client should retry, nothing was stored.
UNAVAILABLE_ERRORS: tuple[type[BaseException], ...] = (ConnectionError, TimeoutError, OSError)


def create_service_app(
    settings: Settings,
    *,
    title: str,
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]],
    health: HealthCheck,
    unavailable_errors: tuple[type[BaseException], ...] = (),
) -> FastAPI:
    app = FastAPI(title=title, version="1", lifespan=lifespan)
    app.state.settings = settings
    app.state.tokens = TokenTable(settings.tokens())
    install_error_handlers(app)
    service = settings.service
    unavailable = UNAVAILABLE_ERRORS + unavailable_errors

    @app.middleware("http")
    async def _observe(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        started = time.perf_counter()
        try:
            response = await call_next(request)
        except unavailable as exc:
            ERRORS.labels(service, "unavailable").inc()
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
        ok = all(checks.values())
        return JSONResponse({"status": "ok" if ok else "degraded", **checks}, status_code=200 if ok else 503)

    @app.get("/metrics", include_in_schema=False)
    async def _metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return app


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
