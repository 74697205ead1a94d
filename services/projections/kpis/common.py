"""What every KPI shares: its description, the window it is computed over, filters, prices."""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from statistics import mean, median
from typing import Any, Literal

from contracts.codes import CitizenMethod, Gender, Method
from contracts.methods import UCLA3_LONELY_THRESHOLD, age_band
from contracts.rule_config import Overrides
from services.projections.history import Citizen, History
from services.projections.kpis.labels import UNITS, Label, Labels, Lang, unit_text

Kind = Literal["process", "outcome", "economy", "structure"]
Figure = dict[str, Any]


@dataclass(frozen=True)
class Window:
    """The days [start, end]; figures "on a date" are taken on `end`."""

    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def holds(self, day: date | None) -> bool:
        return day is not None and self.start <= day <= self.end


@dataclass(frozen=True)
class Filters:
    """Which courses and citizens a figure counts: a team's, a method's, and the breakdowns by the
    citizen (age band on the window's last day, gender, target group of CitizenRegistered).

    `method` is a course method (Method: the courses of that method, and the citizens who have one)
    or a citizen method (CitizenMethod: Udredning og Plan, Køreplan, which are facts about the
    citizen, not courses: the citizens who followed it on a day of the window, and their courses)."""

    team: str | None = None
    method: Method | CitizenMethod | None = None
    age_band: str | None = None
    gender: Gender | None = None
    target_group: str | None = None

    def __post_init__(self) -> None:
        """A method given by its code ("ICM", "UDREDNING") is taken as its enum."""
        method = self.method
        if method is not None and not isinstance(method, Method | CitizenMethod):
            known = Method(method) if method in Method.__members__.values() else CitizenMethod(method)
            object.__setattr__(self, "method", known)

    @property
    def breakdown(self) -> bool:
        """A cell of a breakdown by citizen: shown only when built on 5 citizens or more."""
        return self.age_band is not None or self.gender is not None or self.target_group is not None

    def admits(self, citizen: Citizen | None, day: date) -> bool:
        """Whether the citizen falls in the breakdown's cell (every citizen without one)."""
        if not self.breakdown:
            return True
        if citizen is None:
            return False
        return (
            (self.age_band is None or age_band(citizen.birth_year, day.year) == self.age_band)
            and (self.gender is None or citizen.gender == self.gender)
            and (self.target_group is None or self.target_group in citizen.target_groups)
        )


@dataclass(frozen=True)
class Params:
    """Configurable thresholds and unit prices: the norms of contracts/methods.py and the prices of
    docs/domain.md §1 (SØM) as defaults."""

    ucla3_lonely_at: int = UCLA3_LONELY_THRESHOLD
    shelter_day_rate_dkk: float = 1057.0
    hourly_rate_dkk: float = 287.2
    eviction_cost_dkk: float = 150_000.0
    success_rate: float = 0.63
    success_rate_low: float = 0.10
    # municipality -> rule -> its configured overrides, as the alerts service published them
    # (contracts/rule_config.py): P3 and P7 use the norms the alert rules use.
    rule_config: Mapping[str, Mapping[str, Overrides]] = field(default_factory=dict)

    def overrides(self, municipality: str, rule: str) -> Overrides:
        return self.rule_config.get(municipality, {}).get(rule, {})


@dataclass(frozen=True)
class Context:
    history: History
    window: Window
    filters: Filters = field(default_factory=Filters)
    params: Params = field(default_factory=Params)

    @property
    def course_method(self) -> Method | None:
        return self.filters.method if isinstance(self.filters.method, Method) else None

    def _follows(self, citizen: Citizen | None) -> bool:
        """Whether the citizen followed the filter's citizen method in the window (always without one)."""
        method = self.filters.method
        if not isinstance(method, CitizenMethod):
            return True
        return citizen is not None and citizen.follows(method, self.window.start, self.window.end)

    def courses(self):  # noqa: ANN201
        courses = self.history.courses_for(self.filters.team, self.course_method)
        if not self.filters.breakdown and not isinstance(self.filters.method, CitizenMethod):
            return courses
        citizens = self.history.citizens
        return [
            c
            for c in courses
            if self._follows(citizens.get(c.citizen_id))
            and self.filters.admits(citizens.get(c.citizen_id), self.window.end)
        ]

    def citizens(self):  # noqa: ANN201
        citizens = self.history.citizens_for(self.filters.team, self.course_method)
        return [c for c in citizens if self._follows(c) and self.filters.admits(c, self.window.end)]


Compute = Callable[[Context], Figure]


@dataclass(frozen=True)
class Kpi:
    """A KPI as its readers see it (names, unit, definitions in Danish and English, the labels of
    its breakdown keys) and as it is computed (`computation`: the exact rule, in terms of the facts)."""

    id: str
    name_da: str
    name_en: str
    kind: Kind
    unit: str
    definition_da: str
    definition_en: str
    computation: str
    labels: Labels
    compute: Compute
    on_date: bool = False  # a stock taken on the window's last day, rather than a flow over it

    def name(self, lang: Lang) -> str:
        return self.name_da if lang == "da" else self.name_en

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name_da": self.name_da,
            "name_en": self.name_en,
            "kind": self.kind,
            "unit": self.unit,
            "unit_da": unit_text(self.unit, "da"),
            "unit_en": unit_text(self.unit, "en"),
            "definition_da": self.definition_da,
            "definition_en": self.definition_en,
            "definition": self.definition_en,  # before definition_da/_en: kept for older readers
            "computation": self.computation,
            "value_labels": self.labels.describe(),
            "on_date": self.on_date,
        }


CATALOGUE: dict[str, Kpi] = {}


def kpi(  # noqa: ANN201
    id: str,  # noqa: A002
    name_da: str,
    name_en: str,
    kind: Kind,
    unit: str,
    *,
    definition_da: str,
    definition_en: str,
    computation: str,
    labels: Mapping[str, tuple[str, str, str]] | None = None,
    on_date: bool = False,
):
    """Registers a KPI. `labels`: each key its `values` can hold -> (Danish, English, unit of UNITS);
    a key with `{name}` placeholders stands for a family of keys (labels.py)."""
    assert unit in UNITS, f"{id}: unknown unit {unit!r}"

    def register(compute: Compute) -> Compute:
        assert id not in CATALOGUE, id
        CATALOGUE[id] = Kpi(
            id,
            name_da,
            name_en,
            kind,
            unit,
            _text(definition_da),
            _text(definition_en),
            _text(computation),
            Labels({str(key): Label(*label) for key, label in (labels or {}).items()}),
            compute,
            on_date,
        )
        return compute

    return register


def _text(text: str) -> str:
    return " ".join(text.split())


def share(numerator: float, denominator: float) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def ratio_figure(numerator: int, denominator: int, citizens: Iterable[str], **extra: Any) -> Figure:
    return {
        "numerator": numerator,
        "denominator": denominator,
        "value": share(numerator, denominator),
        "citizens": len(set(citizens)),
        **extra,
    }


def mean_or_none(values: list[float]) -> float | None:
    return round(mean(values), 4) if values else None


def median_or_none(values: list[float]) -> float | None:
    return round(float(median(values)), 4) if values else None
