"""Facts by NATS request/reply (FastStream): case systems on the bus submit what they would POST.

Request on `casetrack.facts.submit`: the JSON of one fact (as `POST /v1/facts`) or `{"facts": [...]}`
(as `POST /v1/facts/batch`), with headers `Authorization: Bearer <token>` and optionally
`Idempotency-Key`. The reply is `{"status": <the HTTP status>, "body": <the HTTP body>}`, so the
answer, the validation and the error shape are the same as over HTTP. A malformed message gets an
error reply; nothing a client sends makes the handler fail without one.

This module also declares, for the AsyncAPI document only, the events the relay publishes.
"""

import asyncio
import json
import logging
from typing import Any

from faststream import FastStream
from faststream.nats import NatsBroker
from faststream.nats.annotations import NatsMessage
from faststream.specification import AsyncAPI
from eventsourcing.persistence import InterfaceError, OperationalError
from pydantic import BaseModel, Field

from contracts.events import EVENTS_SUBJECT_ROOT, EventMessage
from contracts.facts import Fact
from runtime.auth import Principal, TokenExpired, TokenTable
from runtime.errors import ApiError
from runtime.metrics import ERRORS
from services.registration.availability import StoreWatch, unavailable
from services.registration.entrypoints import answers
from services.registration.entrypoints.answers import error_answer
from services.registration.submission import MAX_BATCH, Submissions

log = logging.getLogger(__name__)

# The event store is away: the client should retry, nothing was stored.
STORE_UNAVAILABLE = (OperationalError, InterfaceError, ConnectionError, TimeoutError, OSError)

SUBMIT_SUBJECT = "casetrack.facts.submit"
QUEUE_GROUP = "registration"  # replicas share the requests


class FactBatch(BaseModel):
    facts: list[dict[str, Any]] = Field(max_length=MAX_BATCH)


class SubmitReply(BaseModel):
    status: int = Field(description="the HTTP status the same request would have got")
    body: dict[str, Any] = Field(description="the HTTP body: a receipt, a batch report or {'error': ...}")


def create_broker(
    nats_url: str, submissions: Submissions | None, tokens: TokenTable | None, store: StoreWatch | None = None
) -> NatsBroker:
    broker = NatsBroker(
        nats_url,
        max_reconnect_attempts=-1,
        reconnect_time_wait=0.5,
        logger=logging.getLogger("faststream.registration"),  # into the service's JSON log lines
        log_level=logging.DEBUG,  # per-message lines only when debugging
    )

    @broker.subscriber(
        SUBMIT_SUBJECT,
        queue=QUEUE_GROUP,
        title="submit facts",
        description="Request/reply: one fact or {'facts': [...]}; headers Authorization and Idempotency-Key.",
    )
    async def submit(body: Fact | FactBatch | Any, message: NatsMessage) -> SubmitReply:
        # `body` documents the payload; the raw bytes are parsed here, so that anything malformed
        # gets the same error reply as over HTTP instead of failing in the framework.
        assert submissions is not None and tokens is not None
        try:
            if store is not None and not store.available:
                raise unavailable()
            answer = await _answer(submissions, tokens, message)
        except ApiError as error:
            answer = error_answer(error)
        except STORE_UNAVAILABLE:
            ERRORS.labels("registration", "unavailable").inc()
            answer = error_answer(unavailable())
        except Exception:
            ERRORS.labels("registration", "nats_submit").inc()
            log.exception("submission over NATS failed")
            answer = error_answer(ApiError(500, "internal_error", "Intern fejl.", "Internal error."))
        return SubmitReply(**answer)

    broker.publisher(
        f"{EVENTS_SUBJECT_ROOT}.{{municipality}}.{{fact_type}}",
        schema=EventMessage,
        title="recorded events",
        description="Every stored event once, in log order, on JetStream stream CASETRACK_EVENTS "
        "(published by the relay; Nats-Msg-Id = event_id).",
    )
    return broker


async def _answer(submissions: Submissions, tokens: TokenTable, message: NatsMessage) -> dict[str, Any]:
    headers = message.headers or {}
    principal = _principal(tokens, headers.get("Authorization"))
    if isinstance(principal, ApiError):
        return error_answer(principal)
    try:
        payload = json.loads(message.body)
    except (ValueError, UnicodeDecodeError):
        return error_answer(ApiError(
            422, "malformed_message", "Beskeden er ikke gyldig JSON.", "The message is not valid JSON.",
            [{"field": "body", "problem": "not valid JSON", "type": "json_invalid"}],
        ))
    key = headers.get("Idempotency-Key")
    if isinstance(payload, dict) and "facts" in payload and "type" not in payload:
        facts = payload["facts"]
        if not isinstance(facts, list):
            return error_answer(ApiError(
                422, "validation_error", "Ugyldige data: se felterne.", "Invalid input: see fields.",
                [{"field": "facts", "problem": f"a list of at most {MAX_BATCH} facts", "type": "list_type"}],
            ))
        submitted = await asyncio.to_thread(submissions.batch, principal, facts, key)
    else:
        submitted = await asyncio.to_thread(submissions.raw_fact, principal, payload, key)
    return answers.answer(submitted)


def _principal(tokens: TokenTable, authorization: str | None) -> Principal | ApiError:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return ApiError(401, "token_missing", "Mangler Authorization: Bearer <token>.", "Missing bearer token.")
    try:
        principal = tokens.principal(token.strip())
    except TokenExpired:
        return ApiError(401, "token_expired", "Nøglen er udløbet.", "The token has expired.")
    if principal is None:
        return ApiError(401, "token_invalid", "Ugyldig nøgle.", "Invalid token.")
    return principal


def asyncapi_app(nats_url: str = "nats://localhost:4222") -> FastStream:
    """The bus as FastStream sees it, for the AsyncAPI document (`faststream docs gen`)."""
    return FastStream(
        create_broker(nats_url, None, None),
        specification=AsyncAPI(
            title="casetrack registration on NATS",
            version="1",
            description="Facts in by request/reply; recorded events out on JetStream.",
        ),
    )
