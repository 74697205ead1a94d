"""A municipality's periodic figures (housing stock for the structure KPIs).

Periods may not overlap, except that the same period may be reported again: a later report of the
same period supersedes the earlier one for the KPIs, and both stay in the history.
"""

from datetime import date
from uuid import NAMESPACE_URL, UUID

from eventsourcing.domain import Aggregate, event

from contracts.facts import FactBase, HousingStockReported
from services.registration.domain import rules
from services.registration.domain.recorded import FactRecorded, define_fact_events, event_class
from services.registration.domain.rules import RuleViolation
from services.registration.domain.uuids import uuid5

_MUNICIPALITY_NAMESPACE = uuid5(NAMESPACE_URL, "https://casetrack.dk/municipality-figures")


def municipality_uuid(municipality: str) -> UUID:
    return uuid5(_MUNICIPALITY_NAMESPACE, municipality)


class MunicipalityFigures(Aggregate):
    class Recorded(FactRecorded):
        pass

    @staticmethod
    def create_id(fact: HousingStockReported, recorded_by: str) -> UUID:
        return municipality_uuid(fact.municipality)

    # The first report creates the aggregate; its event carries the fact like every later one.
    @event("FirstHousingStockReported")
    def __init__(self, fact: HousingStockReported, recorded_by: str):
        self.municipality = fact.municipality
        self.periods: set[tuple[date, date]] = set()
        self.apply_fact(fact)

    def record(self, fact: HousingStockReported, recorded_by: str) -> None:
        period = (fact.period_start, fact.effective_date)
        if period not in self.periods and any(start <= period[1] and period[0] <= end for start, end in self.periods):
            raise RuleViolation(rules.HOUSING_STOCK_PERIOD_OVERLAPS)
        self.trigger_event(event_class(self, fact), fact=fact, recorded_by=recorded_by)

    def apply_fact(self, fact: FactBase) -> None:
        assert isinstance(fact, HousingStockReported)
        self.periods.add((fact.period_start, fact.effective_date))


define_fact_events(MunicipalityFigures, ["HousingStockReported"])
