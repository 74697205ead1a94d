"""Every aggregate here records facts: one event class per fact type, each carrying the fact.

The event classes are made from the fact catalogue, so that an event's topic is
`<module>:<Aggregate>.<FactType>` and its payload the validated fact unchanged. Applying an event
hands the fact to the aggregate's `apply_fact`, which runs both when a fact is recorded and when the
aggregate is loaded from its history.
"""

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from contracts.facts import FactBase
from services.registration.domain.uuids import uuid5


def event_id(originator_id: UUID, originator_version: int) -> UUID:
    """A stable identity for a stored event, the same every time it is read or published."""
    return uuid5(originator_id, str(originator_version))


class FactRecorded(Aggregate.Event):
    fact: FactBase
    recorded_by: str

    def apply(self, aggregate: Any) -> None:
        aggregate.apply_fact(self.fact)
        noted = getattr(aggregate, "note_event", None)  # aggregates that know their events by id
        if noted is not None:
            noted(event_id(self.originator_id, self.originator_version), self.fact)


def define_fact_events(aggregate: type[Aggregate], names: list[str], **versions: dict[str, Any]) -> None:
    """Adds `aggregate.<Name>` event classes; `versions[name]` adds class_version and upcasters."""
    base = aggregate.Recorded  # type: ignore[attr-defined]
    for name in names:
        namespace = {
            "__qualname__": f"{aggregate.__qualname__}.{name}",
            "__module__": aggregate.__module__,
            **versions.get(name, {}),
        }
        setattr(aggregate, name, type(base)(name, (base,), namespace))


def event_class(aggregate: Aggregate, fact: FactBase) -> type[FactRecorded]:
    return getattr(type(aggregate), fact.type)
