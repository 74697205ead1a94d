"""The registration application: facts in, events stored (eventsourcing, PostgreSQL)."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import unquote, urlparse
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, JSONTranscoder, Transcoding

from contracts.events import EventMessage, Imported
from contracts.facts import (
    FACT_TYPES,
    CitizenErased,
    CitizenRegistered,
    FactBase,
    HousingStockReported,
    PartnerMeetingHeld,
    SurveyAnswered,
    SurveyDefined,
    TeamRegistered,
    WorkerLeft,
    WorkerMovedTeam,
    WorkerRegistered,
)
from contracts.surveys import SurveyDefinition, shipped
from runtime.access import CourseScope
from services.registration.domain import rules
from services.registration.domain.citizen import Citizen, citizen_uuid
from services.registration.domain.municipality import MunicipalityFigures, municipality_uuid
from services.registration.domain.organisation import Team, Worker, team_uuid, worker_uuid
from services.registration.domain.recorded import event_id
from services.registration.domain.rules import RuleViolation, UnknownSubject
from services.registration.domain.surveys import (
    SURVEY_VERSION_EXISTS,
    MunicipalitySurveys,
    SurveyRound,
    check_answers,
    definitions_uuid,
    round_uuid,
    survey_not_found,
    told_by,
)
from services.registration.masterkeys import Keyring
from services.registration.personal import PersonalDetails, Rewrapped, ToErase, ToKeep
from services.registration.recent import RecentEvents

SAVE_ATTEMPTS = 5
Rejection = RuleViolation | UnknownSubject


class FactAsDict(Transcoding):
    """Stores a fact as its JSON form, under a name per fact type."""

    def __init__(self, fact_type: type[FactBase]):
        self.type = fact_type  # what eventsourcing's Transcoding registers it by
        self.fact_type = fact_type
        self.name = f"fact:{fact_type.__name__}"

    def encode(self, obj: FactBase) -> dict[str, Any]:
        return obj.model_dump(mode="json")

    def decode(self, data: dict[str, Any]) -> FactBase:
        return self.fact_type.model_validate(data)


@dataclass(frozen=True)
class Receipt:
    event_id: UUID
    position: int
    type: str
    recorded_at: datetime
    citizen_id: str | None = None

    def as_json(self) -> dict[str, Any]:
        """The receipt as the answer shows it and the idempotency record keeps it."""
        body: dict[str, Any] = {
            "event_id": str(self.event_id),
            "position": self.position,
            "type": self.type,
            "recorded_at": self.recorded_at.isoformat(),
        }
        if self.citizen_id is not None:
            body["citizen_id"] = self.citizen_id
        return body


Outcome = Receipt | Rejection  # what became of one fact: stored, or refused by the rules or the register


@dataclass(frozen=True)
class IdempotencyKey:
    client: str  # the key is the client's own: two clients may use the same key
    key: str
    request_hash: str  # what the request asked, so that the key reused for another request is told


@dataclass(frozen=True)
class StoredOutcome:
    """The outcome kept for an idempotency key: the request's hash and what became of its facts."""

    request_hash: str
    outcomes: list[Outcome]


def postgres_env(database_url: str) -> dict[str, str]:
    """eventsourcing's POSTGRES_* settings from one DATABASE_URL."""
    url = urlparse(database_url)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": url.path.lstrip("/") or "casetrack",
        "POSTGRES_HOST": url.hostname or "127.0.0.1",
        "POSTGRES_PORT": str(url.port or 5432),
        "POSTGRES_USER": unquote(url.username or "postgres"),
        "POSTGRES_PASSWORD": unquote(url.password or ""),
        "POSTGRES_POOL_SIZE": "10",
        "POSTGRES_CONNECT_TIMEOUT": "5",
        "CREATE_TABLE": "y",
        # The recorder that keeps idempotent outcomes and personal details in the events' transaction.
        "APPLICATION_RECORDER_TOPIC": "services.registration.adapters.recorder:RegistrationRecorder",
    }


class Registration(Application[UUID]):
    name = "registration"

    def __init__(self, env: Any = None, keyring: Keyring | None = None):
        """`keyring`: the master keys that wrap the citizens' keys; without one, personal details
        are neither kept nor read."""
        super().__init__(env)
        self.keyring = keyring if keyring is not None else Keyring()
        self.recent = RecentEvents()  # what this process stored lately, for its relay (recent.py)

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        for fact_type in FACT_TYPES:
            transcoder.register(FactAsDict(fact_type))

    def record(
        self,
        fact: FactBase,
        recorded_by: str,
        idempotency: IdempotencyKey | None = None,
        details: PersonalDetails | None = None,
    ) -> Receipt:
        """Records one fact as one event; raises the rejection when it breaks a rule."""
        [outcome] = self.record_batch([(fact, recorded_by)], idempotency, [details])
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def record_batch(
        self,
        facts: Sequence[tuple[FactBase, str]],
        idempotency: IdempotencyKey | None = None,
        details: Sequence[PersonalDetails | None] | None = None,
        imported: Sequence[Imported | None] | None = None,
        line_keys: Sequence[IdempotencyKey] | None = None,
    ) -> list[Outcome]:
        """Applies facts in order, each against the aggregates as the facts before it left them,
        then stores every accepted event in one transaction. A fact that breaks a rule is reported
        and records nothing; the others still count. With an idempotency key, the outcomes (event
        ids, positions, reason codes) are stored under it in the same transaction; when another
        request with the key got there first, `AlreadyAnswered` carries its stored outcome.
        `details[i]`: the personal details that came with facts[i] (a CitizenRegistered), sealed in
        the same transaction; an accepted CitizenErased deletes the citizen's key and details in it.
        `imported[i]`: facts[i] comes from another system's history; its event keeps the source and
        the source's recorded time (EventMessage.imported). `line_keys[i]`: facts[i]'s own key (an
        imported line's), under which its own outcome, a refusal too, is kept in the same
        transaction."""
        for attempt in range(SAVE_ATTEMPTS):
            touched: dict[UUID, Aggregate] = {}
            known = self._existing_of(facts)
            outcomes: list[Any] = []
            for n, (fact, recorded_by) in enumerate(facts):
                try:
                    aggregate = self._decide(fact, recorded_by, touched, known)
                except (RuleViolation, UnknownSubject) as rejection:
                    outcomes.append(rejection)
                    continue
                touched[aggregate.id] = aggregate
                if imported is not None and (origin := imported[n]) is not None:
                    _mark_imported(aggregate.pending_events[-1], origin)
                outcomes.append(aggregate.pending_events[-1])
            in_save_order = [e for a in touched.values() for e in a.pending_events]
            keep, erase = _personal_changes(facts, outcomes, details, self.keyring)

            def outcome(
                notification_ids: Sequence[int],
                in_save_order: list[Any] = in_save_order,
                outcomes: list[Any] = outcomes,
            ) -> list[Outcome]:
                """The outcomes, once the recorder knows the events' log positions (called within this attempt)."""
                positions = {id(e): n for e, n in zip(in_save_order, notification_ids, strict=True)}
                return [
                    o if isinstance(o, (RuleViolation, UnknownSubject)) else _receipt(o, positions[id(o)])
                    for o in outcomes
                ]

            try:
                recordings = self.save(
                    *touched.values(),
                    idempotency=idempotency,
                    outcome=outcome,
                    keep=keep,
                    erase=erase,
                    line_keys=line_keys,
                )
            except IntegrityError:
                # Another writer got to one of these aggregates first, or answered this key.
                if idempotency is not None and (stored := self.stored_outcome(idempotency)) is not None:
                    raise AlreadyAnswered(stored) from None
                if attempt == SAVE_ATTEMPTS - 1:
                    raise
                continue
            self.recent.remember((r.notification.id, r.domain_event) for r in recordings)
            by_event = {id(r.domain_event): r.notification.id for r in recordings}
            return [
                o if isinstance(o, (RuleViolation, UnknownSubject)) else _receipt(o, by_event[id(o)]) for o in outcomes
            ]
        raise AssertionError("unreachable")

    def stored_outcome(self, idempotency: IdempotencyKey) -> StoredOutcome | None:
        outcomes = getattr(self.recorder, "outcomes", None)  # none in the in-memory store of unit tests
        return None if outcomes is None else outcomes.stored(idempotency.client, idempotency.key)

    def keep_refusal(self, idempotency: IdempotencyKey, rejection: Rejection) -> None:
        """Keeps a refusal under the key, though nothing was stored (imports: submission.py)."""
        outcomes = getattr(self.recorder, "outcomes", None)
        if outcomes is not None:
            outcomes.insert_alone(idempotency, [rejection])

    def forget_answers(self, days: int) -> int:
        """Drops the outcomes kept for idempotency keys older than `days`; returns how many."""
        outcomes = getattr(self.recorder, "outcomes", None)
        return 0 if outcomes is None else outcomes.forget(days)

    def personal_details(self, citizen_id: str, municipality: str) -> PersonalDetails | None:
        """The citizen's details; None when none were given or they are erased (UnknownSubject
        when there is no such citizen)."""
        citizen = self._citizen(citizen_id, municipality)
        return self.recorder.personal.personal_details(citizen.id, self.keyring)  # type: ignore[attr-defined]

    def is_erased(self, citizen_id: str, municipality: str) -> bool:
        return self._citizen(citizen_id, municipality).erased

    def shred_inactive(self, before: datetime) -> int:
        return self.recorder.personal.shred_inactive(before)  # type: ignore[attr-defined]

    def rewrap_keys(self, bare_only: bool = False) -> Rewrapped:
        """Wraps the citizens' keys under the keyring's first master key (see personal.py)."""
        return self.recorder.personal.rewrap_keys(self.keyring, bare_only)  # type: ignore[attr-defined]

    def history(self, citizen_id: str, municipality: str) -> list[EventMessage]:
        citizen = self._citizen(citizen_id, municipality)
        return self._messages(citizen.id)

    def course_scopes(self, citizen_id: str, municipality: str) -> dict[str, CourseScope] | None:
        """Each course of the citizen with its team and support worker; None if no such citizen."""
        try:
            citizen = self._citizen(citizen_id, municipality)
        except UnknownSubject:
            return None
        return {c.course_id: CourseScope(c.team, c.support_worker) for c in citizen.courses.values()}

    def course_history(self, citizen_id: str, course_id: str, municipality: str) -> list[EventMessage]:
        citizen = self._citizen(citizen_id, municipality)
        if course_id not in citizen.courses:
            raise rules.course_not_found()
        return [m for m in self._messages(citizen.id) if getattr(m.fact, "course_id", None) == course_id]

    def team_history(self, team_id: str, municipality: str) -> list[EventMessage]:
        team = self._get(team_uuid(municipality, team_id), {}, rules.team_not_found)
        return self._messages(team.id)

    def worker_history(self, worker_id: str, municipality: str) -> list[EventMessage]:
        worker = self._get(worker_uuid(municipality, worker_id), {}, rules.worker_not_found)
        return self._messages(worker.id)

    def municipality_history(self, municipality: str) -> list[EventMessage]:
        figures = self._get(municipality_uuid(municipality), {}, rules.municipality_not_found)
        return self._messages(figures.id)

    def to_message(self, domain_event: Any, position: int | None) -> EventMessage:
        return EventMessage.model_construct(
            event_id=event_id(domain_event.originator_id, domain_event.originator_version),
            position=position,
            schema_version=getattr(type(domain_event), "class_version", 1),
            recorded_at=domain_event.timestamp,
            recorded_by=domain_event.recorded_by,
            fact=domain_event.fact,
            imported=imported_from(domain_event),
        )

    def _decide(
        self, fact: FactBase, recorded_by: str, touched: dict[UUID, Aggregate], known: dict[UUID, bool] | None = None
    ) -> Aggregate:
        """Finds (or creates) the aggregate the fact is about and lets it decide. `known`: whether
        aggregates this batch registers were already stored when it began (see `_existing_of`)."""
        municipality = fact.municipality
        known = {} if known is None else known
        if isinstance(fact, TeamRegistered):
            if self._known(team_uuid(municipality, fact.team_id), touched, known):
                raise RuleViolation(rules.TEAM_ALREADY_REGISTERED)
            return Team(fact, recorded_by)
        if isinstance(fact, WorkerRegistered):
            self._get(team_uuid(municipality, fact.team_id), touched, rules.team_not_found)
            if self._known(worker_uuid(municipality, fact.worker_id), touched, known):
                raise RuleViolation(rules.WORKER_ALREADY_REGISTERED)
            return Worker(fact, recorded_by)
        if isinstance(fact, (WorkerMovedTeam, WorkerLeft)):
            worker: Worker = self._get(worker_uuid(municipality, fact.worker_id), touched, rules.worker_not_found)
            if isinstance(fact, WorkerMovedTeam):
                self._get(team_uuid(municipality, fact.team_id), touched, rules.team_not_found)
            worker.record(fact, recorded_by)
            return worker
        if isinstance(fact, HousingStockReported):
            figures_id = municipality_uuid(municipality)
            if not self._known(figures_id, touched, known):
                return MunicipalityFigures(fact, recorded_by)
            figures: MunicipalityFigures = self._get(figures_id, touched, rules.municipality_not_found)
            figures.record(fact, recorded_by)
            return figures
        if isinstance(fact, (SurveyDefined, SurveyAnswered, PartnerMeetingHeld)):
            return self._decide_survey(fact, recorded_by, touched, known)
        citizen_id = getattr(fact, "citizen_id", None)
        if citizen_id is None:  # the edge turns a CPR number into the pseudonymous id
            raise rules.citizen_id_required()
        if isinstance(fact, CitizenRegistered):
            if self._known(citizen_uuid(municipality, citizen_id), touched, known):
                raise RuleViolation(rules.CITIZEN_ALREADY_REGISTERED)
            return Citizen(fact, recorded_by)
        citizen: Citizen = self._get(citizen_uuid(municipality, citizen_id), touched, rules.citizen_not_found)
        citizen.record(fact, recorded_by)
        return citizen

    def _decide_survey(
        self,
        fact: SurveyDefined | SurveyAnswered | PartnerMeetingHeld,
        recorded_by: str,
        touched: dict[UUID, Aggregate],
        known: dict[UUID, bool],
    ) -> Aggregate:
        """Surveys and partner meetings (domain/surveys.py, docs/surveys.md)."""
        municipality = fact.municipality
        if isinstance(fact, PartnerMeetingHeld):
            team: Team = self._get(team_uuid(municipality, fact.team), touched, rules.team_not_found)
            team.record(fact, recorded_by)
            return team
        if isinstance(fact, SurveyDefined):
            if shipped(fact.survey.id, fact.survey.version) is not None:
                raise RuleViolation(SURVEY_VERSION_EXISTS)
            if not self._known(definitions_uuid(municipality), touched, known):
                return MunicipalitySurveys(fact, recorded_by)
            own: MunicipalitySurveys = self._get(definitions_uuid(municipality), touched, survey_not_found)
            own.record(fact, recorded_by)
            return own
        definition = self.survey_definition(municipality, fact.survey, fact.version, touched)
        if definition is None:
            raise survey_not_found()
        check_answers(definition, fact)
        if fact.team is not None:
            self._get(team_uuid(municipality, fact.team), touched, rules.team_not_found)
        recorded_by = told_by(definition, recorded_by)
        if not self._known(round_uuid(fact), touched, known):
            return SurveyRound(fact, recorded_by)
        survey_round: SurveyRound = self._get(round_uuid(fact), touched, survey_not_found)
        survey_round.record(fact, recorded_by)
        return survey_round

    def survey_definition(
        self, municipality: str, survey: str, version: int, touched: dict[UUID, Aggregate] | None = None
    ) -> SurveyDefinition | None:
        """A shipped survey, or the municipality's own; None when there is no such version."""
        definition = shipped(survey, version)
        if definition is not None:
            return definition
        try:
            own: MunicipalitySurveys = self._get(definitions_uuid(municipality), touched or {}, survey_not_found)
        except UnknownSubject:
            return None
        return own.surveys.get((survey, version))

    def _get(self, aggregate_id: UUID, touched: dict[UUID, Aggregate], not_found: Callable[[], UnknownSubject]) -> Any:
        if aggregate_id in touched:
            return touched[aggregate_id]
        try:
            return self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            raise not_found() from None

    def _known(self, aggregate_id: UUID, touched: dict[UUID, Aggregate], known: dict[UUID, bool]) -> bool:
        if aggregate_id in touched:
            return True
        if aggregate_id in known:
            return known[aggregate_id]
        return bool(self.recorder.select_events(aggregate_id, desc=True, limit=1))

    def _existing_of(self, facts: Sequence[tuple[FactBase, str]]) -> dict[UUID, bool]:
        """Whether each aggregate the batch's facts register is already stored, asked in one query
        instead of one per fact. A writer that stores one of them after this is still caught: the
        save then conflicts on the aggregate's first version and the batch is decided again."""
        lookup = getattr(self.recorder, "existing_originators", None)
        if lookup is None:
            return {}
        ids = {registered for fact, _ in facts if (registered := _registers(fact)) is not None}
        existing = lookup(list(ids))
        return {i: i in existing for i in ids}

    def _citizen(self, citizen_id: str, municipality: str) -> Citizen:
        # The id includes the municipality: another municipality's citizen is simply not found.
        return self._get(citizen_uuid(municipality, citizen_id), {}, rules.citizen_not_found)

    def _messages(self, aggregate_id: UUID) -> list[EventMessage]:
        return [self.to_message(e, position=None) for e in self.events.get(aggregate_id)]


def _mark_imported(domain_event: Any, origin: Imported) -> None:
    """Keeps the source and its recorded time with the event: an attribute beside the fact, stored
    with the event's state (eventsourcing stores and restores the event's attributes as they are);
    events recorded without it simply have none."""
    object.__setattr__(domain_event, "imported", origin.model_dump(mode="json"))


def imported_from(domain_event: Any) -> Imported | None:
    origin = getattr(domain_event, "imported", None)
    return None if origin is None else Imported.model_validate(origin)


def _registers(fact: FactBase) -> UUID | None:
    """The aggregate a fact would create, whose existence `_decide` must know."""
    if isinstance(fact, TeamRegistered):
        return team_uuid(fact.municipality, fact.team_id)
    if isinstance(fact, WorkerRegistered):
        return worker_uuid(fact.municipality, fact.worker_id)
    if isinstance(fact, HousingStockReported):
        return municipality_uuid(fact.municipality)
    if isinstance(fact, SurveyDefined):
        return definitions_uuid(fact.municipality)
    if isinstance(fact, SurveyAnswered):
        return round_uuid(fact)
    if isinstance(fact, CitizenRegistered) and fact.citizen_id is not None:
        return citizen_uuid(fact.municipality, fact.citizen_id)
    return None


def _personal_changes(
    facts: Sequence[tuple[FactBase, str]],
    outcomes: list[Any],
    details: Sequence[PersonalDetails | None] | None,
    keyring: Keyring,
) -> tuple[list[ToKeep], list[ToErase]]:
    """What the accepted facts of a batch do to personal details: seal new ones, erase."""
    keep, erase = [], []
    for n, ((fact, _), outcome) in enumerate(zip(facts, outcomes, strict=True)):
        if isinstance(outcome, Exception):
            continue
        citizen_id = getattr(fact, "citizen_id", None)
        if citizen_id is None:
            continue
        given = details[n] if details is not None else None
        if isinstance(fact, CitizenRegistered) and given:
            keep.append(
                ToKeep.seal(keyring, citizen_uuid(fact.municipality, citizen_id), fact.municipality, citizen_id, given)
            )
        elif isinstance(fact, CitizenErased):
            erase.append(ToErase(citizen_uuid(fact.municipality, citizen_id)))
    return keep, erase


class AlreadyAnswered(Exception):
    """Another request with the same idempotency key stored its outcome first."""

    def __init__(self, stored: StoredOutcome):
        super().__init__("already answered")
        self.stored = stored


def _receipt(domain_event: Any, position: int) -> Receipt:
    return Receipt(
        event_id=event_id(domain_event.originator_id, domain_event.originator_version),
        position=position,
        type=domain_event.fact.type,
        recorded_at=domain_event.timestamp,
        citizen_id=getattr(domain_event.fact, "citizen_id", None),
    )
