"""Structure indicators: the housing stock and other preconditions (S1-S3)."""

from contracts.methods import housing_group
from services.projections.history import HousingStock
from services.projections.kpis.common import Context, Figure, kpi, mean_or_none, median_or_none, share


def latest_report(ctx: Context) -> HousingStock | None:
    """The report whose period ends last within the period (the later report wins a tie)."""
    reports = [r for r in ctx.history.stock if ctx.window.holds(r.period_end)]
    return max(reports, key=lambda r: r.period_end) if reports else None


@kpi(
    "S1",
    "Ledige billige boliger efter pris og størrelse",
    "Vacant cheap homes by price and size",
    "structure",
    "homes",
    definition_da="""
    Ledige billige boliger efter husleje og størrelse, fra kommunens seneste indberetning om
    boligmassen, hvis periode slutter i perioden. Nøgletallet er det samlede antal. Tallet
    indberettes af kommunen og opgøres ikke pr. borger, så det skjules aldrig i sammenligninger.
    """,
    definition_en="""
    Vacant cheap homes by rent and size, from the municipality's latest report on its housing
    stock whose period ends in the period. The key figure is their total. The municipality reports
    the figure; it is not counted per citizen, so it is never hidden in comparisons.
    """,
    labels={
        "rent_le_{rent}.rooms_{rooms}": (
            "Husleje højst {rent} kr., {rooms} vær.",
            "Rent at most DKK {rent}, {rooms} room(s)",
            "homes",
        )
    },
    computation="""
    From the latest HousingStockReported whose period ends within the period: the vacant cheap
    homes per rent band and size (`values` keyed `rent_le_<DKK>.rooms_<n>`); `value` = their total.
    Reported by the municipality, not counted per citizen, so never suppressed.
    """,
)
def vacant_cheap_homes(ctx: Context) -> Figure:
    report = latest_report(ctx)
    homes = report.report.vacant_cheap_homes if report else ()
    values = {f"rent_le_{h.max_rent_dkk}.rooms_{h.rooms}": h.count for h in homes}
    return {
        "value": sum(values.values()) if report else None,
        "citizens": None,
        "values": values,
        "reported_period": [report.period_start.isoformat(), report.period_end.isoformat()] if report else None,
    }


@kpi(
    "S2",
    "Gennemsnitlig ventetid på bolig",
    "Mean waiting time for housing",
    "structure",
    "days",
    definition_da="""
    For hvert forløb, hvor borgeren var hjemløs, da der blev truffet afgørelse om visitation, og
    hvor borgeren fik bolig i perioden: antal dage fra visitationen til indflytningen. Nøgletallet
    er gennemsnittet. Desuden vises medianen, antallet af borgere, der fik bolig, og de
    gennemsnitlige ventetider på billige boliger og akutboliger, som kommunen har indberettet
    (seneste indberetning i perioden).
    """,
    definition_en="""
    For each course whose citizen was homeless when the visitation was decided and who gained
    housing in the period: the days from the visitation to moving in. The key figure is their mean.
    Also shown: the median, the number of citizens housed, and the mean waiting times for cheap
    and emergency homes the municipality reported (latest report in the period).
    """,
    labels={
        "median_days": ("Median", "Median", "days"),
        "housed": ("Fik bolig", "Housed", "citizens"),
        "reported_mean_days_cheap": (
            "Indberettet ventetid på billige boliger",
            "Reported waiting time for cheap homes",
            "days",
        ),
        "reported_mean_days_emergency": (
            "Indberettet ventetid på akutboliger",
            "Reported waiting time for emergency homes",
            "days",
        ),
    },
    computation="""
    For each course whose citizen was homeless when the visitation was decided and gained housing
    (first HousingGained on or after the decision) within the period: the days from the visitation
    decision to the move-in. `value` = the mean; `values` the median, the count and the mean waiting
    times the municipality reported for cheap and emergency homes (latest report in the period).
    """,
)
def waiting_time_for_housing(ctx: Context) -> Figure:
    waits, citizens = [], set()
    for course in ctx.courses():
        citizen = ctx.history.citizens[course.citizen_id]
        if housing_group(citizen.housing_on(course.decided_on)) != "homeless":
            continue
        gained = min(
            (d for d, _, _, how in citizen.housing if how == "gained" and d >= course.decided_on), default=None
        )
        if ctx.window.holds(gained):
            waits.append((gained - course.decided_on).days)
            citizens.add(course.citizen_id)
    report = latest_report(ctx)
    return {
        "value": mean_or_none(waits),
        "citizens": len(citizens),
        "values": {
            "median_days": median_or_none(waits),
            "housed": len(waits),
            "reported_mean_days_cheap": report.report.mean_wait_days_cheap if report else None,
            "reported_mean_days_emergency": report.report.mean_wait_days_emergency if report else None,
        },
    }


@kpi(
    "S3",
    "Boliger anvist via anvisningsretten",
    "Homes allocated via the allocation right",
    "structure",
    "homes",
    definition_da="""
    Antal boliger, der er tilbudt via kommunens anvisningsret i perioden, og som borgeren har
    takket ja til. Desuden vises antal tilbud, andelen der blev takket ja til, antal ledige
    anvisningsboliger i periodens seneste indberetning og den tomgangsleje, kommunen har betalt,
    lagt sammen for de indberetninger, hvis periode slutter i perioden.
    """,
    definition_en="""
    The homes offered via the municipality's allocation right in the period and accepted by the
    citizen. Also shown: the offers, the share accepted, the vacant allocation-right homes in the
    latest report of the period, and the vacancy rent (tomgangsleje) the municipality paid, added
    up over the reports whose period ends in the period.
    """,
    labels={
        "offered": ("Tilbud", "Offers", "offers"),
        "accepted_share": ("Andel takket ja til", "Share accepted", "share"),
        "vacant_allocation_right_homes": (
            "Ledige anvisningsboliger",
            "Vacant allocation-right homes",
            "homes",
        ),
        "vacancy_rent_paid_dkk": ("Betalt tomgangsleje", "Vacancy rent paid", "DKK"),
    },
    computation="""
    `value` = homes offered via the municipal allocation right (HomeOfferedViaAllocationRight) in
    the period and accepted. `values`: offers, acceptance share, vacant allocation-right homes in the
    latest report of the period and the vacancy rent paid (tomgangsleje) summed over the reports
    whose period ends within the period.
    """,
)
def allocation_right_homes(ctx: Context) -> Figure:
    offers = [
        (c.citizen_id, accepted) for c in ctx.citizens() for d, accepted in c.allocation_offers if ctx.window.holds(d)
    ]
    accepted = sum(1 for _, a in offers if a)
    reports = [r for r in ctx.history.stock if ctx.window.holds(r.period_end)]
    report = latest_report(ctx)
    paid = [
        r.report.allocation_right_vacancy_paid_dkk
        for r in reports
        if r.report.allocation_right_vacancy_paid_dkk is not None
    ]
    return {
        "value": accepted,
        "citizens": len({c for c, _ in offers}),
        "values": {
            "offered": len(offers),
            "accepted_share": share(accepted, len(offers)),
            "vacant_allocation_right_homes": report.report.allocation_right_homes_vacant if report else None,
            "vacancy_rent_paid_dkk": round(sum(paid), 2) if paid else None,
        },
    }
