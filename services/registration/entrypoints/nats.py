"""Facts by NATS request/reply (FastStream): case systems on the bus submit what they would POST.

Request on `casetrack.facts.submit`: the JSON of one fact (as `POST /v1/facts`) or `{"facts": [...]}`
(as `POST /v1/facts/batch`), with headers `Authorization: Bearer <token>` and optionally
`Idempotency-Key`. The reply is `{"status": <the HTTP status>, "body": <the HTTP body>}`, so the
answer, the validation and the error shape are the same as over HTTP. A malformed message gets an
error reply; nothing a client sends makes the handler fail without one.

The reply goes only to the requester's own inbox, `_INBOX.client-<municipality of its token>.…`
(the operator's, `_INBOX.admin.…`, for an administrator token): a request naming any other reply
subject, e.g. one of the event stream's, is neither answered nor carried out, and is logged and
counted (`casetrack_errors_total{kind="reply_refused"}`). NATS refuses such a reply too: the broker
signs in as `submissions`, which may publish into the clients' inboxes and nowhere else
(casetrack.natsauth); this is the same rule, kept where the request is understood.

The request, its headers and the reply are contracts (contracts/submission.py) and so in the AsyncAPI
document of the bus (contracts/asyncapi.py).
"""

import asyncio
import json
import logging
import re
from typing import Any

from eventsourcing.persistence import InterfaceError, OperationalError
from faststream.nats import NatsBroker
from faststream.nats.annotations import NatsMessage

from casetrack.natsauth import SUBMISSIONS
from contracts.facts import Fact
from contracts.submission import FACTS_SUBMIT_SUBJECT, MAX_BATCH, FactBatch
from runtime.auth import Principal, TokenExpired, TokenTable
from runtime.bus import inbox_prefix
from runtime.errors import ApiError
from runtime.metrics import ERRORS, UNAVAILABLE, count_refusal
from services.registration.availability import StoreWatch, unavailable
from services.registration.entrypoints import answers
from services.registration.entrypoints.answers import error_answer
from services.registration.submission import Submissions

log = logging.getLogger(__name__)

# The event store is away: the client should retry, nothing was stored.
STORE_UNAVAILABLE = (OperationalError, InterfaceError, ConnectionError, TimeoutError, OSError)

QUEUE_GROUP = "registration"  # replicas share the requests
# The inboxes registration answers: a client's or the operator's (casetrack.natsauth).
_REPLY_SUBJECT = re.compile(r"_INBOX\.(?P<user>client-\d+|admin)(\.[^.*> \t\r\n]+)+")


def create_broker(
    nats_url: str, submissions: Submissions | None, tokens: TokenTable | None, store: StoreWatch | None = None
) -> NatsBroker:
    broker = NatsBroker(
        nats_url,
        max_reconnect_attempts=-1,
        reconnect_time_wait=0.5,  # type: ignore[arg-type]  # FastStream types it int; nats-py takes seconds as float
        inbox_prefix=inbox_prefix(SUBMISSIONS),  # its NATS user's own inboxes (casetrack.natsauth)
        logger=logging.getLogger("faststream.registration"),  # into the service's JSON log lines
        log_level=logging.DEBUG,  # per-message lines only when debugging
    )

    @broker.subscriber(
        FACTS_SUBMIT_SUBJECT,
        queue=QUEUE_GROUP,
        no_reply=True,  # answered below, and only into the requester's own inbox
        title="submit facts",
        description="Request/reply: one fact or {'facts': [...]}; headers Authorization and Idempotency-Key. "
        "The reply subject must be the requester's own inbox, _INBOX.client-<municipality>.…",
    )
    async def submit(body: Fact | FactBatch | Any, message: NatsMessage) -> None:
        # `body` documents the payload; the raw bytes are parsed here, so that anything malformed
        # gets the same error reply as over HTTP instead of failing in the framework.
        assert submissions is not None and tokens is not None
        reply_to = message.reply_to or None
        if reply_to is not None and _inbox_owner(reply_to) is None:
            _refuse_reply(reply_to, None)
            return None
        try:
            if store is not None and not store.available:
                raise unavailable()
            answer = await _answer(submissions, tokens, message, reply_to)
        except ApiError as error:
            count_refusal("registration", error.status, error.reason)
            answer = error_answer(error)
        except ReplyRefused as refused:
            _refuse_reply(reply_to or "", refused.principal)
            return None
        except STORE_UNAVAILABLE:
            ERRORS.labels("registration", UNAVAILABLE).inc()
            answer = error_answer(unavailable())
        except Exception:
            ERRORS.labels("registration", "nats_submit").inc()
            log.exception("submission over NATS failed")
            answer = error_answer(ApiError(500, "internal_error", "Intern fejl.", "Internal error."))
        if reply_to is not None:  # {"status", "body"}: a contracts.submission.SubmitReply
            await message.raw_message.respond(json.dumps(answer).encode())
        return None

    return broker


class ReplyRefused(Exception):
    """The request's reply subject is not the inbox of the token's holder: nothing is done."""

    def __init__(self, principal: Principal):
        self.principal = principal


def _inbox_owner(reply_to: str) -> str | None:
    """The NATS user whose inbox `reply_to` is, if registration may answer there at all."""
    match = _REPLY_SUBJECT.fullmatch(reply_to)
    return match["user"] if match else None


def _may_answer(principal: Principal, reply_to: str) -> bool:
    if principal.role == "admin":
        return True  # the operator may submit for any municipality, from its own or a client's inbox
    return reply_to.startswith(inbox_prefix(f"client-{principal.municipality}") + ".")


def _refuse_reply(reply_to: str, principal: Principal | None) -> None:
    ERRORS.labels("registration", "reply_refused").inc()
    log.warning(
        "request refused: its reply subject is not the requester's inbox",
        extra={"reply_to": reply_to[:200], "requester": principal.name if principal else None},
    )
    return None


async def _answer(
    submissions: Submissions, tokens: TokenTable, message: NatsMessage, reply_to: str | None
) -> dict[str, Any]:
    headers = message.headers or {}
    principal = _principal(tokens, headers.get("Authorization"))
    if isinstance(principal, ApiError):
        return error_answer(principal)
    if reply_to is not None and not _may_answer(principal, reply_to):
        raise ReplyRefused(principal)
    try:
        payload = json.loads(message.body)
    except (ValueError, UnicodeDecodeError):
        return error_answer(
            ApiError(
                422,
                "malformed_message",
                "Beskeden er ikke gyldig JSON.",
                "The message is not valid JSON.",
                [{"field": "body", "problem": "not valid JSON", "type": "json_invalid"}],
            )
        )
    key = headers.get("Idempotency-Key")
    if isinstance(payload, dict) and "facts" in payload and "type" not in payload:
        facts = payload["facts"]
        if not isinstance(facts, list):
            return error_answer(
                ApiError(
                    422,
                    "validation_error",
                    "Ugyldige data: se felterne.",
                    "Invalid input: see fields.",
                    [{"field": "facts", "problem": f"a list of at most {MAX_BATCH} facts", "type": "list_type"}],
                )
            )
        submitted = await asyncio.to_thread(submissions.batch, principal, facts, key, bus=True)
    else:
        submitted = await asyncio.to_thread(submissions.raw_fact, principal, payload, key, bus=True)
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
