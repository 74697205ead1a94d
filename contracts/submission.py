"""Submitting facts and the answer to it, over HTTP (`POST /v1/facts`, `/v1/facts/batch`) and over
NATS (request/reply on `casetrack.facts.submit`, whose reply is `{"status", "body"}` = the HTTP answer).

The error body is the one shape every service answers with (runtime/errors.py).
"""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

FACTS_SUBMIT_SUBJECT = "casetrack.facts.submit"
MAX_BATCH = 5000  # facts in one batch; a larger one is refused whole (413 batch_too_large)

MAX_IDEMPOTENCY_KEY = 200  # characters, printable


class SubmitHeaders(BaseModel):
    """The headers of a request on casetrack.facts.submit."""

    authorization: str = Field(
        alias="Authorization", pattern=r"^[Bb]earer .+", description="Bearer <token>: the case system's API token"
    )
    idempotency_key: str | None = Field(
        default=None,
        alias="Idempotency-Key",
        min_length=1,
        max_length=MAX_IDEMPOTENCY_KEY,
        description="a retried request with the same key gets the first answer and stores nothing new",
    )


class FactBatch(BaseModel):
    facts: list[dict[str, Any]] = Field(
        max_length=MAX_BATCH,
        description=f"facts as for POST /v1/facts; each is validated and reported on its own. "
        f"At most {MAX_BATCH}: a larger batch is refused whole with 413 (reason batch_too_large)",
    )


class FactReceipt(BaseModel):
    """A stored fact: the event it became."""

    model_config = ConfigDict(extra="forbid")

    event_id: str = Field(description="the event's id, also its Nats-Msg-Id on the events stream")
    position: int = Field(ge=1, description="its position in the registration log")
    type: str
    recorded_at: str = Field(description="ISO 8601 with time zone")
    citizen_id: str | None = Field(default=None, description="the pseudonymous id, also when a CPR number was sent")


class FieldProblem(BaseModel):
    model_config = ConfigDict(extra="allow")

    field: str = Field(description="the field (dotted path for a nested one), parameter or header")
    problem: str = Field(description="what is wrong with it, in English")
    type: str | None = Field(
        default=None, description="machine-readable kind, e.g. missing, date_out_of_range, unknown_municipality"
    )


class ErrorDetail(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(description="machine-readable reason, e.g. validation_error, forbidden, kpi_not_found")
    message: str = Field(description="in English")
    message_da: str = Field(description="in Danish")
    fields: list[FieldProblem] = Field(description="the fields at fault; empty when the refusal is not about one")


class ErrorBody(BaseModel):
    """Every refusal, of every service: HTTP 4xx/5xx body and NATS reply body alike."""

    model_config = ConfigDict(extra="forbid")

    error: ErrorDetail


class BatchResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    index: int = Field(ge=0, description="the fact's place in the batch")
    status: int = Field(description="the HTTP status the fact alone would have got")
    receipt: FactReceipt | None = None
    error: ErrorDetail | None = None


class BatchReport(BaseModel):
    model_config = ConfigDict(extra="forbid")

    accepted: int
    rejected: int
    results: list[BatchResult]


class SubmitReply(BaseModel):
    """The reply to a request on casetrack.facts.submit."""

    model_config = ConfigDict(extra="forbid")

    status: int = Field(description="the HTTP status the same request would have got")
    body: FactReceipt | BatchReport | ErrorBody = Field(
        description="the HTTP body: a receipt (201), a batch report (200) or an error body"
    )
