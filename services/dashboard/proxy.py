"""The same-origin proxy: /api/<service>/<path> is forwarded to that service with the user's session
token as the bearer token, so the browser talks only to the dashboard and every service checks
the user's own role and scope."""

import logging

import httpx
from fastapi import Request
from fastapi.responses import Response, StreamingResponse
from starlette.background import BackgroundTask

from runtime.errors import ApiError

log = logging.getLogger(__name__)

# Request headers passed on to the service, and response headers passed back.
FORWARD_REQUEST = ("content-type", "accept", "idempotency-key", "last-event-id")
FORWARD_RESPONSE = ("content-type", "content-disposition", "retry-after", "cache-control")


async def forward(request: Request, client: httpx.AsyncClient, base_url: str, path: str, token: str) -> Response:
    headers = {k: v for k, v in request.headers.items() if k.lower() in FORWARD_REQUEST}
    headers["authorization"] = f"Bearer {token}"
    upstream = client.build_request(
        request.method, f"{base_url}/{path}", params=request.query_params, headers=headers,
        content=await request.body(),
    )
    try:
        response = await client.send(upstream, stream=True)
    except httpx.HTTPError as exc:
        log.warning("service unreachable", extra={"url": base_url, "error": repr(exc)})
        raise ApiError(503, "service_unavailable", "Tjenesten svarer ikke; prøv igen.",
                       "The service does not answer; retry later.", headers={"Retry-After": "5"}) from None
    passed = {k: v for k, v in response.headers.items() if k.lower() in FORWARD_RESPONSE}
    if response.headers.get("content-type", "").startswith("text/event-stream"):
        return StreamingResponse(response.aiter_raw(), status_code=response.status_code, headers=passed,
                                 background=BackgroundTask(response.aclose))
    try:
        body = await response.aread()
    finally:
        await response.aclose()
    return Response(body, status_code=response.status_code, headers=passed)
