"""Alert rules (domain.md §8): what raises an alert and when. Pure functions, no I/O."""

from dataclasses import dataclass
from datetime import date, timedelta

from contracts.facts import CtiPhaseStarted


@dataclass(frozen=True)
class RuleInfo:
    id: str
    name_da: str
    name_en: str
    severity: str


CTI_PHASE_OVERDUE = RuleInfo(
    "cti_phase_overdue",
    "CTI-fase overskredet",
    "CTI phase overdue",
    "warning",
)

RULES = {rule.id: rule for rule in (CTI_PHASE_OVERDUE,)}

CTI_PHASE_GRACE_DAYS = 14


def cti_phase_due_on(fact: CtiPhaseStarted, grace_days: int = CTI_PHASE_GRACE_DAYS) -> date:
    """The last day a phase may still be active: its planned end plus the grace period.
    The alert is due the day after."""
    assert fact.planned_end is not None, "registration fills in the planned end"
    return fact.planned_end + timedelta(days=grace_days)


def is_overdue(due_on: date, today: date) -> bool:
    return today > due_on
