"""A SØM-grade investment calculation (docs/domain.md §1 "SØM"; docs/investment.md). Pure, no I/O.

SØM, the national social-economic investment model, sets what an effort costs against the economic
consequences of its effect over time: the consequences a successful citizen no longer has (bed-days
in a §110 shelter, psychiatric admissions, an eviction, ...), priced from a price book, for the
share of the target group the effort succeeds with (the success rate), split among those who pay
(municipality, region, state, others). Where the gain falls matters as much as its size: in the
2019-21 investment pool the net gain fell mostly to the state and to psychiatry (the region).

The calculation, for a target group of `citizens`, a horizon of 1-5 years and a scenario (success
rate, a factor on the cost and one on the consequences):

- cost in year y = citizens × cost per citizen in year y × cost factor, split by `cost_split`;
  the cost per citizen is measured hours × hourly rate × (1 + overhead) plus other costs;
- gain in year y from a consequence = citizens × success rate × units avoided per successful
  citizen per year × unit price × consequence factor, while y is within the price's effect years;
  split by the price's payer split;
- net = gain - cost, per payer and year, in total and per citizen.

Low, mid and high scenarios, and a sensitivity table (success rate, cost, consequences each moved
alone) come with every result, and so does every assumption it was made with.
"""

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Payer = Literal["municipality", "region", "state", "other"]
PAYERS: tuple[Payer, ...] = ("municipality", "region", "state", "other")
MAX_HORIZON_YEARS = 5


@dataclass(frozen=True)
class Price:
    """One consequence in a price book: what a unit costs the public, who pays, how long an effect lasts."""

    id: str
    name_da: str
    name_en: str
    unit: str  # "bed-day", "admission", "contact", "eviction", ...
    unit_price_dkk: float
    split: Mapping[Payer, float]  # shares of the price per payer, summing to 1
    effect_years: int  # years a successful citizen keeps avoiding it
    source: str

    def __post_init__(self) -> None:
        assert abs(sum(self.split.values()) - 1) < 1e-9, (self.id, self.split)
        assert 1 <= self.effect_years <= MAX_HORIZON_YEARS, self.id


@dataclass(frozen=True)
class PriceBook:
    """A municipality's prices, versioned like the KPI targets: a new version from a day on."""

    municipality: str
    version: str
    valid_from: str  # ISO date
    price_level: str  # e.g. "2014"
    prices: tuple[Price, ...]

    def price(self, price_id: str) -> Price:
        return next(p for p in self.prices if p.id == price_id)


@dataclass(frozen=True)
class Consequence:
    """Units of a price a successful citizen avoids per year; measured from events or assumed."""

    price_id: str
    units_per_year: float
    basis: Literal["measured", "assumed"]
    note: str = ""


@dataclass(frozen=True)
class Scenario:
    name: str
    success_rate: float  # 0-1: the share of the target group the effort succeeds with
    cost_factor: float = 1.0
    consequence_factor: float = 1.0


@dataclass(frozen=True)
class Effort:
    """The effort and its target group: what it costs per citizen, and who pays for it."""

    citizens: int
    hours_per_citizen_by_year: tuple[float, ...]  # measured (or planned) hours in year 1, 2, ...
    hourly_rate_dkk: float
    overhead: float = 0.0  # leadership, transport, premises: a share on top of the hours' cost
    other_cost_per_citizen_dkk: float = 0.0  # in year 1
    cost_split: Mapping[Payer, float] = field(default_factory=lambda: {"municipality": 1.0})

    def cost_per_citizen(self, year: int) -> float:
        hours = self.hours_per_citizen_by_year[year - 1] if year <= len(self.hours_per_citizen_by_year) else 0.0
        other = self.other_cost_per_citizen_dkk if year == 1 else 0.0
        return hours * self.hourly_rate_dkk * (1 + self.overhead) + other


def _by_payer() -> dict[Payer, float]:
    return dict.fromkeys(PAYERS, 0.0)


def calculate(
    effort: Effort, book: PriceBook, consequences: tuple[Consequence, ...], scenario: Scenario, horizon_years: int
) -> dict[str, Any]:
    """Cost, gain and net per payer and year, totals, and per citizen, for one scenario."""
    if not 1 <= horizon_years <= MAX_HORIZON_YEARS:
        raise ValueError(f"the horizon is 1 to {MAX_HORIZON_YEARS} years")
    years = []
    totals = {"cost": _by_payer(), "gain": _by_payer(), "net": _by_payer()}
    successful = effort.citizens * scenario.success_rate
    for year in range(1, horizon_years + 1):
        cost, gain = _by_payer(), _by_payer()
        spent = effort.citizens * effort.cost_per_citizen(year) * scenario.cost_factor
        for payer, share in effort.cost_split.items():
            cost[payer] += spent * share
        for consequence in consequences:
            price = book.price(consequence.price_id)
            if year > price.effect_years:
                continue
            avoided = successful * consequence.units_per_year * price.unit_price_dkk * scenario.consequence_factor
            for payer, share in price.split.items():
                gain[payer] += avoided * share
        net = {payer: gain[payer] - cost[payer] for payer in PAYERS}
        for name, values in (("cost", cost), ("gain", gain), ("net", net)):
            for payer in PAYERS:
                totals[name][payer] += values[payer]
        years.append({"year": year, "cost": cost, "gain": gain, "net": net, "net_total": sum(net.values())})
    net_total = sum(totals["net"].values())
    return {
        "scenario": asdict(scenario),
        "horizon_years": horizon_years,
        "years": years,
        "totals": totals,
        "net_total": net_total,
        "net_per_citizen": net_total / effort.citizens if effort.citizens else None,
        "net_per_citizen_by_payer": {p: totals["net"][p] / effort.citizens for p in PAYERS}
        if effort.citizens
        else None,
    }


def standard_scenarios(success_rate: float, spread: float = 0.5) -> tuple[Scenario, Scenario, Scenario]:
    """Low, mid and high: the success rate `spread` lower and higher (relative), the low scenario
    with costs 20% higher and consequences 20% lower, the high one the other way round."""
    return (
        Scenario("low", max(0.0, success_rate * (1 - spread)), cost_factor=1.2, consequence_factor=0.8),
        Scenario("mid", success_rate),
        Scenario("high", min(1.0, success_rate * (1 + spread)), cost_factor=0.8, consequence_factor=1.2),
    )


def sensitivity(
    effort: Effort,
    book: PriceBook,
    consequences: tuple[Consequence, ...],
    base: Scenario,
    horizon_years: int,
    alternative_success_rate: float,
    change: float = 0.2,
) -> list[dict[str, Any]]:
    """The total net result with one assumption moved at a time: the success rate to the
    alternative (SØM's usual test, e.g. 10% against 63%), the cost and the consequences ±`change`."""
    rate, cost, effect = base.success_rate, base.cost_factor, base.consequence_factor
    moves = [
        ("success_rate", Scenario(base.name, alternative_success_rate, cost, effect)),
        ("cost_up", Scenario(base.name, rate, cost * (1 + change), effect)),
        ("cost_down", Scenario(base.name, rate, cost * (1 - change), effect)),
        ("consequences_up", Scenario(base.name, rate, cost, effect * (1 + change))),
        ("consequences_down", Scenario(base.name, rate, cost, effect * (1 - change))),
    ]
    baseline = calculate(effort, book, consequences, base, horizon_years)
    out = []
    for name, scenario in moves:
        result = calculate(effort, book, consequences, scenario, horizon_years)
        out.append(
            {
                "assumption": name,
                "scenario": asdict(scenario),
                "net_total": result["net_total"],
                "net_by_payer": result["totals"]["net"],
                "change_from_base": result["net_total"] - baseline["net_total"],
            }
        )
    return out


def assumptions(effort: Effort, book: PriceBook, consequences: tuple[Consequence, ...]) -> dict[str, Any]:
    """Every assumption a result was made with, to print beside it."""
    return {
        "effort": asdict(effort) | {"cost_split": dict(effort.cost_split)},
        "price_book": {"municipality": book.municipality, "version": book.version, "valid_from": book.valid_from,
                       "price_level": book.price_level},
        "consequences": [
            asdict(c) | {"price": asdict(book.price(c.price_id)) | {"split": dict(book.price(c.price_id).split)}}
            for c in consequences
        ],
    }  # fmt: skip


def investment(
    effort: Effort,
    book: PriceBook,
    consequences: tuple[Consequence, ...],
    success_rate: float,
    horizon_years: int,
    alternative_success_rate: float,
) -> dict[str, Any]:
    """The whole answer: low, mid and high scenarios, the sensitivity around mid, the assumptions."""
    scenarios = standard_scenarios(success_rate)
    return {
        "scenarios": [calculate(effort, book, consequences, s, horizon_years) for s in scenarios],
        "sensitivity": sensitivity(effort, book, consequences, scenarios[1], horizon_years, alternative_success_rate),
        "assumptions": assumptions(effort, book, consequences),
    }


# --- An example price book: the Isolerede sindslidende evaluation's unit prices (2014 level) -------
# The prices are those of the evaluation of the method for isolated citizens with mental illness
# (*Isolerede sindslidende i egen bolig*, docs/domain.md §10: "Potentielle økonomiske gevinster" and
# the cost appendix). The payer splits are casetrack's reading of Danish financing, not the
# report's: §110 stays are paid by the municipality with a 50% state refund (serviceloven §177);
# psychiatry and hospital contacts by the region; §107/§108 accommodation, home support and
# activity offers by the municipality.

_MUNICIPALITY: Mapping[Payer, float] = {"municipality": 1.0}
_REGION: Mapping[Payer, float] = {"region": 1.0}
_SHELTER_SPLIT: Mapping[Payer, float] = {"municipality": 0.5, "state": 0.5}

EXAMPLE_PRICE_BOOK = PriceBook(
    municipality="example",
    version="isolerede-sindslidende-2014",
    valid_from="2014-12-31",
    price_level="2014",
    prices=(
        Price("shelter_bed_day", "Døgn på forsorgshjem/herberg (§110)", "Bed-day in a §110 shelter", "bed-day",
              1057.0, _SHELTER_SPLIT, 5, "Isolerede sindslidende: 1,057 kr. per døgn (31.12.2013); 70 days a year"),
        Price("psychiatric_admission", "Indlæggelse i psykiatrien", "Psychiatric admission", "admission",
              19 * 3459.0 + 9 * 1731.0, _REGION, 3,
              "Isolerede sindslidende: 19 days at 3,459 kr. + 9 outpatient visits at 1,731 kr. = 81,300 kr."),
        Price("psychiatric_outpatient", "Ambulant besøg i psykiatrien", "Psychiatric outpatient visit", "contact",
              1731.0, _REGION, 3, "Isolerede sindslidende: 1,731 kr. per contact; 6 a year"),
        Price("somatic_outpatient", "Ambulant somatisk henvendelse", "Somatic outpatient contact", "contact",
              2777.0, _REGION, 3, "Isolerede sindslidende: 2,777 kr. per henvendelse; 7 a year"),
        Price("temporary_accommodation_day", "Døgn i midlertidigt botilbud (§107)",
              "Day in temporary accommodation (§107)", "day", 1730.0, _MUNICIPALITY, 3,
              "Isolerede sindslidende: 1,730 kr. per døgn; 30 days on average"),
        Price("long_term_accommodation_day", "Døgn i længerevarende botilbud (§108)",
              "Day in long-term accommodation (§108)", "day", 1987.0, _MUNICIPALITY, 5,
              "Isolerede sindslidende: 1,987 kr. per døgn; 274 days on average"),
        Price("home_support_course", "Hjemmevejledning/bostøtte (forløb)", "Home support (course)", "course",
              40758.0, _MUNICIPALITY, 1, "Isolerede sindslidende: 40,758 kr. per borgerforløb (2014 prices)"),
        Price("activity_offer_course", "Aktivitets- og samværstilbud (forløb)", "Activity offer (course)", "course",
              66946.0, _MUNICIPALITY, 1, "Isolerede sindslidende: 66,946 kr. per course (429 kr. a day, 156 days)"),
        Price("eviction", "Udsættelse af bolig", "Eviction", "eviction", 150000.0, _MUNICIPALITY, 1,
              "docs/domain.md §1: 150,000 kr. per eviction (the KPI E4 default)"),
    ),
)  # fmt: skip
EXAMPLE_HOURLY_RATE_DKK = 287.2  # Isolerede sindslidende: kr. per hour for staff (jobgruppe 235)
