"""Submitting facts, the same over HTTP and over NATS request/reply: authorise, validate, turn a
CPR number into the pseudonymous id, honour the idempotency key, and record.

The result says what became of each fact (`Submitted`); the entrypoints put it into words
(entrypoints/answers.py), the same way the first time and when a key replays a stored outcome.
"""

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from eventsourcing.persistence import IntegrityError
from pydantic import ValidationError

from contracts.events import Imported
from contracts.facts import Admission, FactBase, admit, fact_adapter
from contracts.imports import MAX_IMPORT_BATCH, ImportLine
from contracts.submission import MAX_BATCH, MAX_IDEMPOTENCY_KEY
from runtime import access
from runtime.access import CourseScope
from runtime.auth import Principal, Role
from runtime.errors import ApiError, validation_fields
from services.registration.application import (
    AlreadyAnswered,
    IdempotencyKey,
    Outcome,
    Receipt,
    Registration,
    Rejection,
    StoredOutcome,
)
from services.registration.domain.rules import RuleViolation, UnknownSubject
from services.registration.identity import Pseudonyms
from services.registration.masterkeys import master_key_missing
from services.registration.personal import PersonalDetails, take_details

# What became of one fact: stored, refused by the rules or the register, or refused before that
# (invalid, forbidden); the last also stands for a whole request refused.
FactOutcome = Receipt | Rejection | ApiError


@dataclass(frozen=True)
class Submitted:
    outcome: FactOutcome | list[FactOutcome]  # a fact's, or a batch's in the order sent
    replayed: bool = False  # the stored outcome of an earlier request with the same key


# How far ahead of casetrack's clock a source's recorded time may lie (clocks drift a little).
IMPORT_CLOCK_SKEW = timedelta(minutes=5)
IMPORT_KEY_PREFIX = "import:"  # the idempotency keys of imported lines, kept for good (adapters/idempotency.py)


def request_hash(payload: Any) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def validation_error(exc: ValidationError, prefix: str | None = None) -> ApiError:
    """`prefix`: the field the validated data sits in (an import line's `fact`)."""
    errors = exc.errors(include_url=False, include_input=False)
    if prefix is not None:
        errors = [e | {"loc": (prefix, *e["loc"])} for e in errors]
    return ApiError(
        422,
        "validation_error",
        "Ugyldige data: se felterne.",
        "Invalid input: see fields.",
        validation_fields(errors),
    )


def _submitters(bus: bool) -> tuple[Role, ...]:
    """Over HTTP the case systems, and the support workers and team leaders their course facts
    (runtime/access.py); over the bus the case systems only."""
    return access.BUS_FACT_SUBMITTERS if bus else access.FACT_SUBMITTERS


class Submissions:
    def __init__(self, app: Registration, pseudonyms: Pseudonyms, admission: Admission):
        self.app = app
        self.pseudonyms = pseudonyms
        self.admission = admission  # known municipalities, the window of dates

    def raw_fact(self, principal: Principal, raw: Any, key: str | None, *, bus: bool = False) -> Submitted:
        try:
            principal.ensure_role(*_submitters(bus))
            fact = fact_adapter.validate_python(raw, context=self.admission)
        except ApiError as error:
            return Submitted(error)
        except ValidationError as exc:
            return Submitted(validation_error(exc))
        return self._submit(principal, fact, key)

    def fact(self, principal: Principal, fact: FactBase, key: str | None) -> Submitted:
        """A fact whose shape the caller validated (HTTP): the admission checks are still to make."""
        try:
            fact = admit(fact, self.admission)
        except ValidationError as exc:
            return Submitted(validation_error(exc))
        return self._submit(principal, fact, key)

    def _submit(self, principal: Principal, fact: FactBase, key: str | None) -> Submitted:
        try:
            principal.ensure_role(*_submitters(False))
            idempotency = self._idempotency(principal, key)
            fact, details = self._admit(principal, fact, {})
        except ApiError as error:
            return Submitted(error)
        idempotency = idempotency and IdempotencyKey(idempotency.client, idempotency.key, request_hash(_dump(fact)))
        stored = self._stored(idempotency)
        if stored is not None:
            return self._replayed(idempotency, stored, lambda outcomes: outcomes[0])
        try:
            receipt = self.app.record(fact, principal.name, idempotency, details)
        except AlreadyAnswered as answered:
            return self._replayed(idempotency, answered.stored, lambda outcomes: outcomes[0])
        except (RuleViolation, UnknownSubject) as rejection:
            return Submitted(rejection)
        return Submitted(receipt)

    def batch(self, principal: Principal, raw_facts: Sequence[Any], key: str | None, *, bus: bool = False) -> Submitted:
        if len(raw_facts) > MAX_BATCH:
            return Submitted(
                ApiError(
                    413,
                    "batch_too_large",
                    f"Højst {MAX_BATCH} fakta i en samling; del den op.",
                    f"At most {MAX_BATCH} facts in a batch; split it.",
                    [{"field": "facts", "problem": f"at most {MAX_BATCH} facts", "type": "too_long"}],
                )
            )
        try:
            principal.ensure_role(*_submitters(bus))
            idempotency = self._idempotency(principal, key)
        except ApiError as error:
            return Submitted(error)
        scopes: dict[tuple[str, str], dict[str, CourseScope] | None] = {}  # each citizen's courses, looked up once
        early: dict[int, ApiError] = {}  # facts refused before recording: invalid or forbidden
        admitted: list[tuple[int, FactBase]] = []
        details: list[PersonalDetails | None] = []
        for index, raw in enumerate(raw_facts):
            try:
                fact, given = self._admit(principal, fact_adapter.validate_python(raw, context=self.admission), scopes)
            except ValidationError as exc:
                early[index] = validation_error(exc)
                continue
            except ApiError as error:
                early[index] = error
                continue
            admitted.append((index, fact))
            details.append(given)
        if idempotency is not None:
            # The facts refused early are part of the request: a replay has the same ones (and they
            # are not stored, so the replay's own stand in for them).
            shape = [_dump(f) for _, f in admitted] + [(i, e.body()) for i, e in sorted(early.items())]
            idempotency = IdempotencyKey(idempotency.client, idempotency.key, request_hash(shape))

        def in_order(recorded: list[Outcome]) -> list[FactOutcome]:
            by_index: dict[int, FactOutcome] = dict(early)
            by_index.update({index: o for (index, _), o in zip(admitted, recorded, strict=True)})
            return [by_index[index] for index in range(len(raw_facts))]

        stored = self._stored(idempotency)
        if stored is not None:
            return self._replayed(idempotency, stored, in_order)
        try:
            recorded = self.app.record_batch([(f, principal.name) for _, f in admitted], idempotency, details)
        except AlreadyAnswered as answered:
            return self._replayed(idempotency, answered.stored, in_order)
        return Submitted(in_order(recorded))

    def import_lines(self, principal: Principal, raw_lines: Sequence[Any]) -> list[Submitted] | ApiError:
        """Imports lines of another system's history (contracts/imports.py, docs/import.md), for the
        administrator. Each line is judged on its own, in order, as of the day its source recorded
        it; the lines not imported before are stored in one transaction, each with an idempotency key
        of its own (its source and id, or else its content) under which its outcome is kept. A line
        stored before is answered with its receipt (`replayed`) and stored nothing again, a line the
        rules refused with the same refusal. So a batch cut short by a crash is simply sent again."""
        if len(raw_lines) > MAX_IMPORT_BATCH:
            return ApiError(
                413,
                "batch_too_large",
                f"Højst {MAX_IMPORT_BATCH} linjer i en import-anmodning; del den op.",
                f"At most {MAX_IMPORT_BATCH} lines in an import request; split it.",
                [{"field": "facts", "problem": f"at most {MAX_IMPORT_BATCH} lines", "type": "too_long"}],
            )
        try:
            principal.ensure_admin()
        except ApiError as error:
            return error
        prepared = [self._prepare_line(principal, raw) for raw in raw_lines]
        lines = [line for line in prepared if isinstance(line, _ImportLine)]
        recorded = None
        if len({line.key.key for line in lines}) == len(lines):
            recorded = self._record_lines(principal, lines)
        if recorded is None:  # a line twice in the batch, or the same lines imported at the same time
            recorded = [self._record_line(principal, line) for line in lines]
        answers = iter(recorded)
        return [one if isinstance(one, Submitted) else next(answers) for one in prepared]

    def _prepare_line(self, principal: Principal, raw: Any) -> "Submitted | _ImportLine":
        """The line ready to record, or its answer: refused before recording, or stored before."""
        try:
            line = ImportLine.model_validate(raw)
        except ValidationError as exc:
            return Submitted(validation_error(exc))
        recorded_at = line.recorded_at.astimezone(UTC)
        if recorded_at > datetime.now(UTC) + IMPORT_CLOCK_SKEW:
            return Submitted(
                ApiError(
                    422,
                    "recorded_in_future",
                    "Tidspunktet, kildesystemet registrerede faktum, ligger i fremtiden.",
                    "The time the source system recorded the fact lies in the future.",
                    [{"field": "recorded_at", "problem": "in the future", "type": "recorded_in_future"}],
                )
            )
        # Judged as of the day the source recorded it: an effective date "in the future" then, or
        # a plan beyond the window then, is refused as it would have been had it been told live.
        admission = replace(self.admission, today=recorded_at.date())
        try:
            fact = fact_adapter.validate_python(line.fact, context=admission)
            fact, details = self._admit(principal, fact, {})
        except ValidationError as exc:
            return Submitted(validation_error(exc, prefix="fact"))
        except ApiError as error:
            return Submitted(error)
        content = request_hash([line.source, recorded_at.isoformat(), _dump(fact)])
        key = IdempotencyKey(principal.name, f"{IMPORT_KEY_PREFIX}{line.source}:{line.id or content}", content)
        stored = self._stored(key)
        if stored is not None:
            return self._replayed(key, stored, lambda outcomes: outcomes[0])
        return _ImportLine(fact, details, Imported(source=line.source, recorded_at=recorded_at), key)

    def _record_lines(self, principal: Principal, lines: "list[_ImportLine]") -> list[Submitted] | None:
        """The lines in one transaction, each with its own key; None when a key was taken meanwhile."""
        if not lines:
            return []
        try:
            outcomes = self.app.record_batch(
                [(line.fact, principal.name) for line in lines],
                details=[line.details for line in lines],
                imported=[line.origin for line in lines],
                line_keys=[line.key for line in lines],
            )
        except IntegrityError:
            return None
        if not any(isinstance(outcome, Receipt) for outcome in outcomes):  # nothing stored, no transaction
            for line, outcome in zip(lines, outcomes, strict=True):
                self.app.keep_refusal(line.key, outcome)  # type: ignore[arg-type]  # all refusals here
        return [Submitted(outcome) for outcome in outcomes]

    def _record_line(self, principal: Principal, line: "_ImportLine") -> Submitted:
        """One line in a transaction of its own (the way round a key taken meanwhile)."""
        stored = self._stored(line.key)
        if stored is not None:
            return self._replayed(line.key, stored, lambda outcomes: outcomes[0])
        try:
            [outcome] = self.app.record_batch([(line.fact, principal.name)], line.key, [line.details], [line.origin])
        except AlreadyAnswered as answered:
            return self._replayed(line.key, answered.stored, lambda outcomes: outcomes[0])
        if isinstance(outcome, (RuleViolation, UnknownSubject)):
            # Judged against the history as it stood when the line came; a rerun, with later lines
            # in by then, would judge it against the future: it gets this answer again instead.
            self.app.keep_refusal(line.key, outcome)
        return Submitted(outcome)

    def _admit(
        self, principal: Principal, fact: FactBase, scopes: dict[tuple[str, str], dict[str, CourseScope] | None]
    ) -> tuple[FactBase, PersonalDetails | None]:
        """The fact as it is stored (pseudonymous, without personal details), and those details.
        A support worker's or team leader's fact must be one of theirs about a course in their
        scope (as registered when the request came; `scopes` keeps each citizen's courses)."""
        principal.ensure_municipality(fact.municipality)
        fact, details = take_details(fact)
        if details and not self.app.keyring:
            raise master_key_missing()
        fact = self.pseudonyms.identify(fact)
        if access.hides_existence(principal):
            access.ensure_may_submit(principal, fact.type, self._course_scope(fact, scopes))
        return fact, details

    def _course_scope(
        self, fact: FactBase, scopes: dict[tuple[str, str], dict[str, CourseScope] | None]
    ) -> CourseScope | None:
        citizen_id, course_id = getattr(fact, "citizen_id", None), getattr(fact, "course_id", None)
        if citizen_id is None or course_id is None:
            return None
        key = (fact.municipality, citizen_id)
        if key not in scopes:
            scopes[key] = self.app.course_scopes(citizen_id, fact.municipality)
        courses = scopes[key]
        return None if courses is None else courses.get(course_id)

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

    def _stored(self, idempotency: IdempotencyKey | None) -> StoredOutcome | None:
        return None if idempotency is None else self.app.stored_outcome(idempotency)

    @staticmethod
    def _replayed(
        idempotency: IdempotencyKey | None,
        stored: StoredOutcome,
        outcome_of: Callable[[list[Outcome]], FactOutcome | list[FactOutcome]],
    ) -> Submitted:
        assert idempotency is not None
        if stored.request_hash != idempotency.request_hash:
            return Submitted(
                ApiError(
                    409,
                    "idempotency_key_reused",
                    "Idempotency-Key er allerede brugt til en anden anmodning.",
                    "The Idempotency-Key was already used for a different request.",
                )
            )
        return Submitted(outcome_of(stored.outcomes), replayed=True)


@dataclass(frozen=True)
class _ImportLine:
    """An import line admitted and not stored before: what to record, and under which key."""

    fact: FactBase
    details: PersonalDetails | None
    origin: Imported
    key: IdempotencyKey


def _dump(fact: FactBase) -> dict[str, Any]:
    return fact.model_dump(mode="json")
