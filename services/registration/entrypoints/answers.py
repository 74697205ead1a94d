"""The answer to a submission, as HTTP gives it and NATS replies it: `{"status", "body"}`.

Rendered from what became of the submission (submission.Submitted), the same way the first time
and when an idempotency key replays a stored outcome. Errors have the one shape of runtime/errors.py.
"""

from typing import Any

from runtime.errors import ApiError
from services.registration.application import Receipt, Rejection
from services.registration.domain.rules import RuleViolation
from services.registration.submission import FactOutcome, Submitted

Answer = dict[str, Any]  # {"status": int, "body": {...}}


def answer(submitted: Submitted) -> Answer:
    if isinstance(submitted.outcome, list):
        return batch_answer(submitted.outcome)
    return fact_answer(submitted.outcome)


def fact_answer(outcome: FactOutcome) -> Answer:
    if isinstance(outcome, Receipt):
        return {"status": 201, "body": outcome.as_json()}
    return error_answer(outcome if isinstance(outcome, ApiError) else rejection_error(outcome))


def batch_answer(outcomes: list[FactOutcome]) -> Answer:
    results = []
    for index, outcome in enumerate(outcomes):
        one = fact_answer(outcome)
        entry: dict[str, Any] = {"index": index, "status": one["status"]}
        entry.update({"receipt": one["body"]} if one["status"] == 201 else {"error": one["body"]["error"]})
        results.append(entry)
    accepted = sum(1 for r in results if r["status"] == 201)
    return {"status": 200, "body": {"accepted": accepted, "rejected": len(results) - accepted, "results": results}}


def import_answer(outcome: list[Submitted] | ApiError) -> Answer:
    """The answer to POST /v1/import (contracts/imports.py): per line as for a batch, and whether
    an earlier import stored it already."""
    if isinstance(outcome, ApiError):
        return error_answer(outcome)
    report = batch_answer([one.outcome for one in outcome])  # type: ignore[misc]  # one outcome per line
    for result, one in zip(report["body"]["results"], outcome, strict=True):
        result["imported_before"] = one.replayed and result["status"] == 201
    return report


def error_answer(error: ApiError) -> Answer:
    return {"status": error.status, "body": error.body()}


def rejection_error(rejection: Rejection) -> ApiError:
    if isinstance(rejection, RuleViolation):
        rule = rejection.rule
        return ApiError(409, rule.reason, rule.message_da, rule.message_en)
    return ApiError(404, rejection.reason, rejection.message_da, rejection.message_en)
