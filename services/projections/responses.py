"""What projections' HTTP endpoints answer on success, as they document it (OpenAPI).

A KPI's figure has the fields every KPI has (value, citizens, the window, previous, target) and
the KPI's own (numerator and denominator of a share, a `values` breakdown, ...): these are listed
where known and are absent from the JSON where the KPI has none (the endpoints serialise with
`response_model_exclude_unset`), and a KPI may add further fields of its own (extra fields allowed)."""

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from contracts.codes import CitizenMethod, Method
from runtime.responses import Number, Timestamp

# The download formats of the KPI endpoints, with the media types they are served as.
CSV_TYPE = "text/csv"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def downloads(description: str) -> dict[int | str, dict[str, Any]]:
    """The `responses=` entry of a KPI endpoint that also answers as CSV or as an XLSX workbook."""
    return {
        200: {
            "description": description,
            "content": {
                CSV_TYPE: {"schema": {"type": "string"}},
                XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}},
            },
        }
    }


class Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TeamOut(Answer):
    team: str
    name: str = Field(description="the registered name; the id for a team no TeamRegistered named")
    methods: list[Method]


class TeamsOut(Answer):
    municipality: str
    teams: list[TeamOut]


class KpiDescription(BaseModel):
    """One KPI of the catalogue. Further descriptive fields (e.g. definitions per language) may be
    added without a new API version, so clients must ignore fields they do not know."""

    model_config = ConfigDict(extra="allow")

    id: str = Field(examples=["P1"])
    name_da: str
    name_en: str
    kind: Literal["process", "outcome", "economy", "structure"]
    unit: str
    definition: str
    on_date: bool = Field(description="a stock taken on the window's last day, rather than a flow over it")


class UnitWords(Answer):
    da: str
    en: str


class KpiCatalogueOut(Answer):
    kpis: list[KpiDescription]
    units: dict[str, UnitWords] = Field(description="every unit a KPI is counted in -> its Danish and English words")
    rules: dict[str, str] = Field(description="how the figures are queried: periods, as_of, filters, formats")


class PreviousOut(Answer):
    from_: date = Field(alias="from")
    to: date
    value: Number | None
    change: Number | None = Field(description="value minus the previous value")


class TargetOut(Answer):
    value: Number = Field(description="the target (måltal) that applied on as_of")
    difference: Number | None = Field(description="value minus the target")


class FigureOut(BaseModel):
    """A KPI's figure over one window (or one period of a series)."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    period: str | None = Field(default=None, description="in a series: the calendar period, e.g. 2026-Q1")
    from_: date = Field(alias="from")
    to: date
    value: Number | None = Field(description="the figure; null when there is nothing to compute it on")
    citizens: int | None = Field(description="how many citizens it is built on; null for a reported figure")
    numerator: Number | None = Field(default=None, description="of a share")
    denominator: Number | None = Field(default=None, description="of a share")
    values: dict[str, Any] | None = Field(default=None, description="the KPI's breakdown of its figure")
    suppressed: bool | None = Field(
        default=None,
        description="with age_band, gender or target_group: true when the cell counts fewer than 5 "
        "citizens (then value and citizens are null and nothing else is shown)",
    )
    on: date | None = Field(default=None, description="the day a stock is taken on")
    total: Number | None = None
    reported_period: Any = Field(default=None, description="the reporting period a reported figure is for")
    previous: PreviousOut = Field(description="the same figure for the period before")
    target: TargetOut | None = Field(description="null when no target is set")


class KpiHeader(Answer):
    kpi: str
    name_da: str
    name_en: str
    kind: Literal["process", "outcome", "economy", "structure"]
    unit: str
    municipality: str
    as_of: date | None = Field(description="the day the figure is known as of; null: now")
    team: str | None
    method: Method | CitizenMethod | None
    age_band: str | None = Field(default=None, description="the breakdown cell asked for, if any")
    gender: str | None = None
    target_group: str | None = None


class KpiFigureOut(KpiHeader, FigureOut):
    """One window (no `period` asked): the header and the figure."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


class KpiSeriesOut(KpiHeader):
    """A series of calendar periods (`period=month|quarter|year`)."""

    period: Literal["month", "quarter", "year"]
    series: list[FigureOut]


class BenchmarkRow(BaseModel):
    """One municipality's aggregate figure; one built on too few citizens is suppressed: then only
    the window, `suppressed` and a null value remain."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    municipality: str
    own: bool = Field(description="the caller's own municipality (always first)")
    from_: date = Field(alias="from")
    to: date
    suppressed: bool
    value: Number | None
    citizens: int | None = None
    numerator: Number | None = None
    denominator: Number | None = None
    on: date | None = None
    total: Number | None = None
    reported_period: Any = None


class BenchmarkOut(KpiHeader):
    suppress_below_citizens: int
    municipalities: list[BenchmarkRow]


class TargetSetOut(Answer):
    kpi: str
    municipality: str
    value: float
    set_by: str
    set_at: Timestamp


class TargetsOut(Answer):
    municipality: str
    targets: dict[str, float] = Field(description="KPI id -> its current target (måltal)")


class HoursRow(Answer):
    unit: str = Field(description="phase_<phase> for CTI, YYYY-MM for ICM and ACT", examples=["phase_transition"])
    start: date | None
    expected_hours: Number
    actual_hours: Number
    cumulative_expected_hours: Number
    cumulative_actual_hours: Number
    share_used: Number | None = Field(description="cumulative actual / cumulative expected")


class Checkpoint(Answer):
    on: date
    value: Number


class ProgressionLine(Answer):
    instrument: str
    expected: list[Checkpoint]
    actual: list[Checkpoint]


class TimePlanMedianOut(Answer):
    municipality: str
    team: str | None = Field(description="the team the courses are of; null: the whole municipality")
    method: Method
    phase: str | None = Field(description="the CTI phase; null for the methods planned by the month")
    median_hours: Number | None = Field(description="the median planned hours; null when no course has a plan")
    courses: int = Field(ge=0, description="the courses with such a plan the median is taken over")


class DoubleBottomLineOut(Answer):
    municipality: str
    as_of: date | None
    course: str
    citizen: str
    method: Method
    on: date = Field(description="the day the figures are taken on")
    hours: list[HoursRow]
    progression: list[ProgressionLine]
