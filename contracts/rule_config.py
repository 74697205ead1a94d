"""A municipality's configuration of an alert rule, as the alerts service publishes it.

The alerts service owns the configuration (`PUT /v1/rules/{rule}/config`). Where a rule's
parameter is a norm of the methods (contracts/methods.py) that a KPI uses too, the KPI must use the
municipality's configured value, not the default: P7 and `caseload_over_norm` share the caseload
norms, P3 and `cti_course_overdue` the length of a CTI course. So every change is published on
stream CASETRACK_RULE_CONFIG, one subject per municipality and rule, the message holding the rule's
whole configuration in that municipality; the projections service reads the last one.
"""

from collections.abc import Mapping
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from contracts.codes import Method
from contracts.methods import CASELOAD_NORM, CTI_MONTHS

RULE_CONFIG_STREAM = "CASETRACK_RULE_CONFIG"
RULE_CONFIG_SUBJECT_ROOT = "casetrack.ruleconfig"

Overrides = Mapping[str, Mapping[str, float]]  # scope ("", "method:CTI", "team:<id>") -> parameter -> value

# The rules whose parameters are norms a KPI uses too, and those parameters.
CASELOAD_RULE = "caseload_over_norm"
CASELOAD_PARAM: Mapping[Method, str] = {Method.CTI: "cti", Method.ICM: "icm", Method.ACT: "act"}
CTI_COURSE_RULE = "cti_course_overdue"
CTI_COURSE_PARAM = "months"
SHARED_NORM_RULES = (CASELOAD_RULE, CTI_COURSE_RULE)


def rule_config_subject(municipality: str, rule: str) -> str:
    return f"{RULE_CONFIG_SUBJECT_ROOT}.{municipality}.{rule}"


class RuleConfigMessage(BaseModel):
    """The whole configuration of one rule in one municipality after a change ({} when none is left)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    municipality: str
    rule: str
    overrides: dict[str, dict[str, float]]
    changed_at: datetime
    changed_by: str


def effective(
    defaults: Mapping[str, float], overrides: Overrides, *, team: str | None = None, method: str | None = None
) -> dict[str, float]:
    """Defaults, then the municipality's overrides (scope ""), then the method's, then the team's."""
    params = dict(defaults)
    if not overrides:  # the common case, for every rule a subject is looked at with
        return params
    for scope in ("", f"method:{method}" if method else None, f"team:{team}" if team else None):
        if scope is not None:
            params |= overrides.get(scope, {})
    return params


def caseload_norms(overrides: Overrides, team: str | None = None) -> dict[Method, int]:
    """The caseload norm per method for a worker of `team` (or the municipality's, without one),
    configured or default. The rule is about a worker, who has no method, so scopes are the
    municipality's and the team's, as the alerts service applies them. §85 has no alert rule: its
    norm is always the default."""
    defaults = {param: float(CASELOAD_NORM[method]) for method, param in CASELOAD_PARAM.items()}
    configured = effective(defaults, overrides, team=team)
    return {
        method: int(configured[CASELOAD_PARAM[method]]) if method in CASELOAD_PARAM else norm
        for method, norm in CASELOAD_NORM.items()
    }


def cti_course_months(overrides: Overrides, team: str | None = None) -> int:
    """How long a CTI course runs from phase 1 in the municipality (or one team in it)."""
    defaults = {CTI_COURSE_PARAM: float(CTI_MONTHS)}
    return int(effective(defaults, overrides, team=team, method=Method.CTI.value)[CTI_COURSE_PARAM])
