"""The same-origin proxy: /api/<service>/<path> is forwarded to that service with a short-lived
token signed for the logged-in user as the bearer token, so the browser talks only to the dashboard
and every service checks the user's own role and scope."""

import logging
from collections.abc import AsyncIterator, Callable
from urllib.parse import quote

import httpx
from fastapi import Request
from fastapi.responses import Response, StreamingResponse
from starlette.background import BackgroundTask

from runtime.errors import ApiError

log = logging.getLogger(__name__)

# Request headers passed on to the service, and response headers passed back.
FORWARD_REQUEST = ("content-type", "accept", "idempotency-key", "last-event-id")
FORWARD_RESPONSE = ("content-type", "content-disposition", "retry-after", "cache-control", "idempotent-replayed")


def api_path(path: str) -> str:
    """The path as the service would resolve it, if it is one of the services' APIs (`v1/...`), not
    their health or metrics: dot segments are resolved first (`v1/../metrics`, also when sent as
    `v1%2F..%2Fmetrics`), then the result is checked and sent re-encoded, so what is checked is
    exactly what the service gets."""
    segments: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if not segments:
                raise _not_found()
            segments.pop()
        elif segment not in ("", "."):
            segments.append(segment)
    if len(segments) < 2 or segments[0] != "v1":
        raise _not_found()
    return "/".join(quote(segment, safe="") for segment in segments)


def _not_found() -> ApiError:
    return ApiError(404, "not_found", "Ukendt adresse.", "Unknown path.")


async def forward(
    request: Request, client: httpx.AsyncClient, url: str, token: str, still_logged_in: Callable[[], bool]
) -> Response:
    headers = {k: v for k, v in request.headers.items() if k.lower() in FORWARD_REQUEST}
    headers["authorization"] = f"Bearer {token}"
    upstream = client.build_request(
        request.method,
        url,
        params=request.query_params,
        headers=headers,
        content=await request.body(),
    )
    try:
        response = await client.send(upstream, stream=True)
    except httpx.HTTPError as exc:
        log.warning("service unreachable", extra={"url": url, "error": repr(exc)})
        raise ApiError(
            503,
            "service_unavailable",
            "Tjenesten svarer ikke; prøv igen.",
            "The service does not answer; retry later.",
            headers={"Retry-After": "5"},
        ) from None
    passed = {k: v for k, v in response.headers.items() if k.lower() in FORWARD_RESPONSE}
    if response.headers.get("content-type", "").startswith("text/event-stream"):
        return StreamingResponse(
            _while(still_logged_in, response.aiter_raw()),
            status_code=response.status_code,
            headers=passed,
            background=BackgroundTask(response.aclose),
        )
    try:
        body = await response.aread()
    finally:
        await response.aclose()
    return Response(body, status_code=response.status_code, headers=passed)


async def _while(still_logged_in: Callable[[], bool], chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """A live stream (server-sent events) ends with the session: at the first chunk after logout
    (the services send a keep-alive at least every 15 s)."""
    async for chunk in chunks:
        if not still_logged_in():
            return
        yield chunk
