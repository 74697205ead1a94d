"""Wires the dashboard: login and session cookie, the page shell and its static files, the proxy."""

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qs

import httpx
from fastapi import Depends, FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from contracts import labels
from runtime.errors import ApiError, error_responses
from runtime.http import create_service_app
from services.dashboard import proxy
from services.dashboard.config import Config
from services.dashboard.responses import PROXIED, LabelsOut, SessionOut
from services.dashboard.sessions import SESSION_SECONDS, Session, Sessions
from services.dashboard.texts import login_page

STATIC = Path(__file__).parent / "static"
COOKIE = "casetrack_session"
LANG_COOKIE = "casetrack_lang"
# Everything from casetrack's own host: no CDN, no inline script, no other host to talk to.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def _session(request: Request) -> Session | None:
    session_id = request.cookies.get(COOKIE)
    return request.app.state.sessions.get(session_id) if session_id else None


def require_session(request: Request) -> Session:
    session = _session(request)
    if session is None:
        raise ApiError(401, "login_required", "Log ind først.", "Log in first.")
    return session


def _same_origin(request: Request) -> None:
    """A state-changing request must come from the dashboard's own pages (with SameSite=Strict, a
    second guard against cross-site requests)."""
    origin = request.headers.get("origin")
    if origin is None or origin.split("://", 1)[-1] != request.headers.get("host"):
        raise ApiError(
            403,
            "cross_origin_refused",
            "Forespørgslen kom ikke fra casetrack.",
            "The request did not come from casetrack.",
        )


def _lang(request: Request) -> str:
    lang = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    return "en" if lang == "en" else "da"


def create_app(config: Config) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with httpx.AsyncClient(timeout=httpx.Timeout(60.0, connect=5.0)) as client:
            app.state.client = client
            yield

    async def health() -> dict[str, bool]:
        return {"signing_key": app.state.signer is not None}

    app = create_service_app(config.settings, title="casetrack dashboard", lifespan=lifespan, health=health)
    app.state.config = config
    app.state.sessions = Sessions()

    @app.middleware("http")
    async def _security_headers(request: Request, call_next: Any) -> Response:
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    def _login_response(
        request: Request, status: int = 200, error: str | None = None, username: str = ""
    ) -> HTMLResponse:
        return HTMLResponse(login_page(_lang(request), error, username), status_code=status)

    @app.get("/login", include_in_schema=False)
    async def login_form(request: Request) -> Response:
        response = _login_response(request)
        if request.query_params.get("lang") in ("da", "en"):
            response.set_cookie(LANG_COOKIE, _lang(request), max_age=365 * 86400, samesite="strict", path="/")
        return response

    @app.post("/login", include_in_schema=False)
    async def login(request: Request) -> Response:
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode(errors="replace")).items()}
        username, password = form.get("username", "").strip(), form.get("password", "")
        if app.state.signer is None:
            return _login_response(request, 503, "login_unavailable", username)
        principal = config.users.authenticate(username, password) if username and password else None
        if principal is None:
            return _login_response(request, 401, "login_failed", username)
        if (previous := _session(request)) is not None:
            app.state.sessions.close(previous.id)
        session = app.state.sessions.open(principal)
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(
            COOKIE,
            session.id,
            max_age=SESSION_SECONDS,
            httponly=True,
            samesite="strict",
            secure=config.secure_cookie,
            path="/",
        )
        return response

    @app.post("/logout", include_in_schema=False)
    async def logout(request: Request) -> Response:
        if (session := _session(request)) is not None:
            app.state.sessions.close(session.id)  # the cookie, wherever it is kept, is worthless now
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict", secure=config.secure_cookie)
        return response

    @app.get("/", include_in_schema=False)
    async def shell(request: Request) -> Response:
        if _session(request) is None:
            return RedirectResponse("/login", status_code=303)
        return FileResponse(
            STATIC / "index.html", media_type="text/html; charset=utf-8", headers={"Cache-Control": "no-store"}
        )

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> Response:
        return RedirectResponse("/static/favicon.svg", status_code=301)

    @app.get("/static/{name}", include_in_schema=False)
    async def static(name: str) -> Response:
        path = STATIC / name
        if "/" in name or name.startswith(".") or not path.is_file():
            raise ApiError(404, "not_found", "Filen findes ikke.", "No such file.")
        return FileResponse(path, headers={"Cache-Control": "no-cache"})

    @app.get("/api/session", response_model=SessionOut, responses=error_responses())
    async def session_info(session: Annotated[Session, Depends(require_session)]) -> dict[str, Any]:
        """Who is logged in, for the pages: role and scope. (The municipality's teams come from the
        organisation facts: projections' GET /v1/teams.)"""
        principal = session.principal
        return {
            "name": principal.name,
            "role": principal.role,
            "municipality": principal.municipality,
            "team": principal.team,
            "worker": principal.worker,
        }

    @app.get("/api/labels", response_model=LabelsOut, responses=error_responses())
    async def code_labels(session: Annotated[Session, Depends(require_session)]) -> dict[str, Any]:
        """The Danish and English words for codes and fact types (contracts/labels.py)."""
        return labels.catalogue()

    async def forward(
        service: str, path: str, request: Request, session: Annotated[Session, Depends(require_session)]
    ) -> Response:
        base_url = config.upstreams.get(service)
        if base_url is None:
            raise ApiError(404, "service_not_found", f"Ukendt tjeneste: {service}.", f"Unknown service: {service}.")
        upstream_path = proxy.api_path(path)
        if request.method in UNSAFE_METHODS:
            _same_origin(request)
        return await proxy.forward(
            request,
            app.state.client,
            f"{base_url}/{upstream_path}",
            session.api_token(app.state.signer),
            still_logged_in=lambda: app.state.sessions.get(session.id) is not None,
        )

    for method in ("GET", "POST", "PUT", "DELETE"):  # one operation (and operationId) per method
        app.add_api_route(
            "/api/{service}/{path:path}",
            forward,
            methods=[method],
            operation_id=f"forward_{method.lower()}",
            response_class=Response,
            responses=PROXIED,
        )

    return app
