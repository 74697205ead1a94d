"""Submitting facts, the same over HTTP and over NATS request/reply: authorise, validate, turn a
CPR number into the pseudonymous id, honour the idempotency key, record, and answer.

An answer is `{"status": <HTTP status>, "body": <the HTTP body>}`; errors have the one error shape
of runtime/errors.py.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from contracts.facts import FactBase, fact_adapter
from runtime.auth import Principal, Role
from runtime.errors import ApiError, validation_fields
from services.registration.application import AlreadyAnswered, Receipt, Registration, Rejection
from services.registration.domain.rules import RuleViolation, UnknownSubject
from services.registration.identity import Pseudonyms
from services.registration.masterkeys import master_key_missing
from services.registration.personal import PersonalDetails, take_details
from services.registration.idempotency import Answer, IdempotencyKey, request_hash

MAX_BATCH = 5000
MAX_IDEMPOTENCY_KEY = 200


@dataclass(frozen=True)
class Submitted:
    answer: Answer
    replayed: bool = False  # the stored answer to an earlier request with the same key


def receipt_body(receipt: Receipt) -> dict[str, Any]:
    body: dict[str, Any] = {
        "event_id": str(receipt.event_id),
        "position": receipt.position,
        "type": receipt.type,
        "recorded_at": receipt.recorded_at.isoformat(),
    }
    if receipt.citizen_id is not None:
        body["citizen_id"] = receipt.citizen_id
    return body


def rejection_error(rejection: Rejection) -> ApiError:
    if isinstance(rejection, RuleViolation):
        rule = rejection.rule
        return ApiError(409, rule.reason, rule.message_da, rule.message_en)
    return ApiError(404, rejection.reason, rejection.message_da, rejection.message_en)


def error_answer(error: ApiError) -> Answer:
    return {"status": error.status, "body": error.body()}


def outcome_answer(outcome: Receipt | Rejection) -> Answer:
    if isinstance(outcome, Receipt):
        return {"status": 201, "body": receipt_body(outcome)}
    return error_answer(rejection_error(outcome))


def validation_error(exc: ValidationError) -> ApiError:
    return ApiError(
        422,
        "validation_error",
        "Ugyldige data: se felterne.",
        "Invalid input: see fields.",
        validation_fields(exc.errors(include_url=False, include_input=False)),
    )


# Facts come from the case systems (and the administrator); people read, they do not submit here.
SUBMITTERS: tuple[Role, ...] = ("client",)


class Submissions:
    def __init__(self, app: Registration, pseudonyms: Pseudonyms):
        self.app = app
        self.pseudonyms = pseudonyms

    def raw_fact(self, principal: Principal, raw: Any, key: str | None) -> Submitted:
        try:
            fact = fact_adapter.validate_python(raw)
        except ValidationError as exc:
            return Submitted(error_answer(validation_error(exc)))
        return self.fact(principal, fact, key)

    def fact(self, principal: Principal, fact: FactBase, key: str | None) -> Submitted:
        try:
            principal.ensure_role(*SUBMITTERS)
            idempotency = self._idempotency(principal, key)
            fact, details = self._admit(principal, fact)
        except ApiError as error:
            return Submitted(error_answer(error))
        idempotency = idempotency and IdempotencyKey(idempotency.client, idempotency.key, request_hash(_dump(fact)))
        replay = self._replay(idempotency)
        if replay is not None:
            return replay
        try:
            receipt = self.app.record(
                fact, principal.name, idempotency, lambda outcomes: outcome_answer(outcomes[0]), details
            )
        except AlreadyAnswered as answered:
            return self._answered(idempotency, answered.request_hash, answered.answer)
        except (RuleViolation, UnknownSubject) as rejection:
            return Submitted(outcome_answer(rejection))
        return Submitted(outcome_answer(receipt))

    def batch(self, principal: Principal, raw_facts: Sequence[Any], key: str | None) -> Submitted:
        if len(raw_facts) > MAX_BATCH:
            return Submitted(error_answer(ApiError(
                413,
                "batch_too_large",
                f"Højst {MAX_BATCH} fakta i en samling; del den op.",
                f"At most {MAX_BATCH} facts in a batch; split it.",
                [{"field": "facts", "problem": f"at most {MAX_BATCH} facts", "type": "too_long"}],
            )))
        try:
            principal.ensure_role(*SUBMITTERS)
            idempotency = self._idempotency(principal, key)
        except ApiError as error:
            return Submitted(error_answer(error))
        early: dict[int, Answer] = {}  # answers decided before recording: invalid or forbidden
        admitted: list[tuple[int, FactBase]] = []
        details: list[PersonalDetails | None] = []
        for index, raw in enumerate(raw_facts):
            try:
                fact, given = self._admit(principal, fact_adapter.validate_python(raw))
            except ValidationError as exc:
                early[index] = error_answer(validation_error(exc))
                continue
            except ApiError as error:
                early[index] = error_answer(error)
                continue
            admitted.append((index, fact))
            details.append(given)
        if idempotency is not None:
            shape = [_dump(f) for _, f in admitted] + [(i, a["body"]) for i, a in sorted(early.items())]
            idempotency = IdempotencyKey(idempotency.client, idempotency.key, request_hash(shape))
        replay = self._replay(idempotency)
        if replay is not None:
            return replay

        def answer_of(outcomes: list[Receipt | Rejection]) -> Answer:
            answers = dict(early)
            answers.update({index: outcome_answer(o) for (index, _), o in zip(admitted, outcomes, strict=True)})
            results = []
            for index in range(len(raw_facts)):
                entry: dict[str, Any] = {"index": index, "status": answers[index]["status"]}
                body = answers[index]["body"]
                entry.update({"receipt": body} if entry["status"] == 201 else {"error": body["error"]})
                results.append(entry)
            accepted = sum(1 for r in results if r["status"] == 201)
            return {"status": 200, "body": {"accepted": accepted, "rejected": len(results) - accepted, "results": results}}

        try:
            outcomes = self.app.record_batch([(f, principal.name) for _, f in admitted], idempotency, answer_of, details)
        except AlreadyAnswered as answered:
            return self._answered(idempotency, answered.request_hash, answered.answer)
        return Submitted(answer_of(outcomes))

    def _admit(self, principal: Principal, fact: FactBase) -> tuple[FactBase, PersonalDetails | None]:
        """The fact as it is stored (pseudonymous, without personal details), and those details."""
        principal.ensure_municipality(fact.municipality)
        fact, details = take_details(fact)
        if details and not self.app.keyring:
            raise master_key_missing()
        return self.pseudonyms.identify(fact), details

    def _idempotency(self, principal: Principal, key: str | None) -> IdempotencyKey | None:
        if key is None:
            return None
        if not key or len(key) > MAX_IDEMPOTENCY_KEY or not key.isprintable():
            raise ApiError(
                422,
                "idempotency_key_invalid",
                f"Idempotency-Key skal være 1-{MAX_IDEMPOTENCY_KEY} synlige tegn.",
                f"Idempotency-Key must be 1-{MAX_IDEMPOTENCY_KEY} printable characters.",
                [{"field": "Idempotency-Key", "problem": "invalid", "type": "idempotency_key"}],
            )
        return IdempotencyKey(principal.name, key, "")

    def _replay(self, idempotency: IdempotencyKey | None) -> Submitted | None:
        if idempotency is None:
            return None
        stored = self.app.stored_answer(idempotency)
        return None if stored is None else self._answered(idempotency, *stored)

    @staticmethod
    def _answered(idempotency: IdempotencyKey | None, stored_hash: str, answer: Answer) -> Submitted:
        assert idempotency is not None
        if stored_hash != idempotency.request_hash:
            return Submitted(error_answer(ApiError(
                409,
                "idempotency_key_reused",
                "Idempotency-Key er allerede brugt til en anden anmodning.",
                "The Idempotency-Key was already used for a different request.",
            )))
        return Submitted(answer, replayed=True)


def _dump(fact: FactBase) -> dict[str, Any]:
    return fact.model_dump(mode="json")
