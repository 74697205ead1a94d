"""The registration application: facts in, events stored (eventsourcing, PostgreSQL)."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import unquote, urlparse
from uuid import UUID, uuid5

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError, JSONTranscoder, Transcoding

from contracts.events import EventMessage
from contracts.facts import (
    FACT_TYPES,
    CitizenRegistered,
    CourseEnded,
    CourseStarted,
    CtiPhaseStarted,
    FactBase,
    HandleplanCreated,
    HousingGained,
    HousingLost,
    VisitationDecided,
)
from services.registration.domain import rules
from services.registration.domain.citizen import Citizen, citizen_uuid
from services.registration.domain.rules import RuleViolation, UnknownSubject

# What each fact asks of the citizen aggregate.
DECISIONS: dict[type[FactBase], Callable[[Citizen, Any, str], None]] = {
    VisitationDecided: Citizen.decide_visitation,
    CourseStarted: Citizen.start_course,
    CtiPhaseStarted: Citizen.start_cti_phase,
    CourseEnded: Citizen.end_course,
    HousingGained: Citizen.gain_housing,
    HousingLost: Citizen.lose_housing,
    HandleplanCreated: Citizen.create_handleplan,
}

SAVE_ATTEMPTS = 5
Rejection = RuleViolation | UnknownSubject


class FactAsDict(Transcoding):
    """Stores a fact as its JSON form, under a name per fact type."""

    def __init__(self, fact_type: type[FactBase]):
        self.type = fact_type
        self.name = f"fact:{fact_type.__name__}"

    def encode(self, obj: FactBase) -> dict[str, Any]:
        return obj.model_dump(mode="json")

    def decode(self, data: dict[str, Any]) -> FactBase:
        return self.type.model_validate(data)


def event_id(originator_id: UUID, originator_version: int) -> UUID:
    """A stable identity for a stored event, the same every time it is read or published."""
    return uuid5(originator_id, str(originator_version))


@dataclass(frozen=True)
class Receipt:
    event_id: UUID
    position: int
    type: str
    recorded_at: datetime


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
    }


class Registration(Application[UUID]):
    name = "registration"

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        for fact_type in FACT_TYPES:
            transcoder.register(FactAsDict(fact_type))

    def record(self, fact: FactBase, recorded_by: str) -> Receipt:
        """Records one fact as one event, retrying when another writer got to the citizen first."""
        for attempt in range(SAVE_ATTEMPTS):
            citizen = self._decide(fact, recorded_by)
            try:
                recordings = self.save(citizen)
            except IntegrityError:
                if attempt == SAVE_ATTEMPTS - 1:
                    raise
                continue
            return self._receipt(recordings[-1])
        raise AssertionError("unreachable")

    def record_batch(self, facts: Sequence[tuple[FactBase, str]]) -> list[Receipt | Rejection]:
        """Applies facts in order, each against the citizen as the facts before it left it, then
        stores every accepted event in one transaction. A fact that breaks a rule is reported and
        records nothing; the others still count."""
        for attempt in range(SAVE_ATTEMPTS):
            citizens: dict[UUID, Citizen] = {}
            outcomes: list[Any] = []
            for fact, recorded_by in facts:
                known = citizens.get(citizen_uuid(fact.citizen_id))
                try:
                    citizen = self._decide(fact, recorded_by, known)
                except (RuleViolation, UnknownSubject) as rejection:
                    outcomes.append(rejection)
                    continue
                citizens[citizen.id] = citizen
                outcomes.append(citizen.pending_events[-1])
            try:
                recordings = self.save(*citizens.values())
            except IntegrityError:
                if attempt == SAVE_ATTEMPTS - 1:
                    raise
                continue
            by_event = {id(r.domain_event): r for r in recordings}
            return [o if isinstance(o, Rejection) else self._receipt(by_event[id(o)]) for o in outcomes]
        raise AssertionError("unreachable")

    def history(self, citizen_id: str, municipality: str) -> list[EventMessage]:
        citizen = self._citizen(citizen_id, municipality)
        return [
            self.to_message(domain_event, position=None)
            for domain_event in self.events.get(citizen.id)
        ]

    def to_message(self, domain_event: Any, position: int | None) -> EventMessage:
        return EventMessage.model_construct(
            event_id=event_id(domain_event.originator_id, domain_event.originator_version),
            position=position,
            schema_version=getattr(type(domain_event), "class_version", 1),
            recorded_at=domain_event.timestamp,
            recorded_by=domain_event.recorded_by,
            fact=domain_event.fact,
        )

    def _decide(self, fact: FactBase, recorded_by: str, citizen: Citizen | None = None) -> Citizen:
        if not isinstance(fact, CitizenRegistered) and type(fact) not in DECISIONS:
            raise UnknownSubject(
                "fact_type_not_supported",
                "Denne faktatype kan endnu ikke registreres.",
                "This fact type cannot be recorded yet.",
            )
        if getattr(fact, "citizen_id", None) is None:
            raise UnknownSubject(
                "citizen_id_required",
                "Send et pseudonymt citizen_id.",
                "Send a pseudonymous citizen_id.",
            )
        if isinstance(fact, CitizenRegistered):
            if citizen is not None or self._exists(citizen_uuid(fact.citizen_id)):
                raise RuleViolation(rules.CITIZEN_ALREADY_REGISTERED)
            return Citizen(fact, recorded_by)
        if citizen is None:
            citizen = self._citizen(fact.citizen_id, fact.municipality)
        elif citizen.municipality != fact.municipality:
            raise rules.citizen_not_found()
        DECISIONS[type(fact)](citizen, fact, recorded_by)
        return citizen

    def _citizen(self, citizen_id: str, municipality: str) -> Citizen:
        try:
            citizen: Citizen = self.repository.get(citizen_uuid(citizen_id))
        except AggregateNotFoundError:
            raise rules.citizen_not_found() from None
        # Another municipality's citizen is reported as unknown: existence is not revealed.
        if citizen.municipality != municipality:
            raise rules.citizen_not_found()
        return citizen

    def _exists(self, aggregate_id: UUID) -> bool:
        return bool(self.recorder.select_events(aggregate_id, desc=True, limit=1))

    def _receipt(self, recording: Any) -> Receipt:
        domain_event = recording.domain_event
        return Receipt(
            event_id=event_id(domain_event.originator_id, domain_event.originator_version),
            position=recording.notification.id,
            type=domain_event.fact.type,
            recorded_at=domain_event.timestamp,
        )
