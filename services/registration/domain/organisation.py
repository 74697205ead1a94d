"""Teams and workers (organisation facts): a team is registered once; a worker belongs to a
registered team of the same municipality, may move to another, and records nothing after leaving.

Alerts are routed to a team's leaders and caseloads are counted per worker, so both need a history
of their own. Whether the team a worker joins exists is checked by the application, which can see
both aggregates; the aggregates check what they know themselves.
"""

from datetime import date
from typing import Any
from uuid import NAMESPACE_URL, UUID

from eventsourcing.domain import Aggregate, event

from contracts.facts import FactBase, PartnerMeetingHeld, TeamRegistered, WorkerLeft, WorkerMovedTeam, WorkerRegistered
from services.registration.domain import rules
from services.registration.domain.recorded import FactRecorded, define_fact_events, event_class
from services.registration.domain.rules import RuleViolation
from services.registration.domain.uuids import uuid5

_TEAM_NAMESPACE = uuid5(NAMESPACE_URL, "https://casetrack.dk/team")
_WORKER_NAMESPACE = uuid5(NAMESPACE_URL, "https://casetrack.dk/worker")


def team_uuid(municipality: str, team_id: str) -> UUID:
    return uuid5(_TEAM_NAMESPACE, f"{municipality}:{team_id}")


def worker_uuid(municipality: str, worker_id: str) -> UUID:
    return uuid5(_WORKER_NAMESPACE, f"{municipality}:{worker_id}")


class Team(Aggregate):
    class Recorded(FactRecorded):
        pass

    @staticmethod
    def create_id(fact: TeamRegistered, recorded_by: str) -> UUID:
        return team_uuid(fact.municipality, fact.team_id)

    @event("TeamRegistered")
    def __init__(self, fact: TeamRegistered, recorded_by: str):
        self.team_id = fact.team_id
        self.municipality = fact.municipality
        self.methods = tuple(fact.methods)

    def record(self, fact: PartnerMeetingHeld, recorded_by: str) -> None:
        self.trigger_event(event_class(self, fact), fact=fact, recorded_by=recorded_by)

    def apply_fact(self, fact: FactBase) -> None:
        pass


class Worker(Aggregate):
    class Recorded(FactRecorded):
        pass

    @staticmethod
    def create_id(fact: WorkerRegistered, recorded_by: str) -> UUID:
        return worker_uuid(fact.municipality, fact.worker_id)

    @event("WorkerRegistered")
    def __init__(self, fact: WorkerRegistered, recorded_by: str):
        self.worker_id = fact.worker_id
        self.municipality = fact.municipality
        self.team_id = fact.team_id
        self.registered_on: date = fact.effective_date
        self.left_on: date | None = None

    def record(self, fact: WorkerMovedTeam | WorkerLeft, recorded_by: str) -> None:
        if self.left_on is not None:
            raise RuleViolation(rules.WORKER_LEFT)
        if fact.effective_date < self.registered_on:
            raise RuleViolation(rules.BEFORE_WORKER_REGISTERED)
        if isinstance(fact, WorkerMovedTeam) and fact.team_id == self.team_id:
            raise RuleViolation(rules.WORKER_ALREADY_IN_TEAM)
        self.trigger_event(event_class(self, fact), fact=fact, recorded_by=recorded_by)

    def apply_fact(self, fact: Any) -> None:
        if isinstance(fact, WorkerMovedTeam):
            self.team_id = fact.team_id
        elif isinstance(fact, WorkerLeft):
            self.left_on = fact.effective_date


define_fact_events(Team, ["PartnerMeetingHeld"])
define_fact_events(Worker, ["WorkerMovedTeam", "WorkerLeft"])
