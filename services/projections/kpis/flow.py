"""Flow measures (O12-O15): how long citizens are homeless, how many return after being housed,
how many are homeless for the first time, and young people at §110 shelters (docs/domain.md §7).

All read the citizen's housing entries (HousingSituationRecorded, HousingGained, HousingLost, the
shelter stays), never only follow-up answers."""

from datetime import date, timedelta

from contracts.methods import (
    FIRST_TIME_HOMELESS_MONTHS,
    HOMELESS,
    OWN_HOME,
    RETURN_MONTHS,
    YOUNG_AGE_BAND,
    add_months,
    age_band,
)
from services.projections.history import Citizen
from services.projections.kpis.common import Context, Figure, kpi, mean_or_none, median_or_none, share


def housings(citizen: Citizen) -> list[tuple[date, date]]:
    """Each time the citizen was housed: (the first day of the homeless spell, the day housed).
    A spell is the run of homeless entries since the last entry in any other known situation;
    an own home entered after it ends the spell (unknown entries neither start nor end one)."""
    found: list[tuple[date, date]] = []
    spell_start: date | None = None
    for day, _, code, how in sorted(citizen.housing):
        if code in HOMELESS and how != "lost":
            spell_start = spell_start or day
        elif code in OWN_HOME and spell_start is not None:
            found.append((spell_start, day))
            spell_start = None
        elif how != "lost" and code not in HOMELESS and code.value != "unknown":
            spell_start = None
    return found


def returned(citizen: Citizen, housed: date, until: date) -> bool:
    """Homeless again (a homeless situation, or the home lost) after `housed`, up to `until`."""
    return any(housed < day <= until and (code in HOMELESS or how == "lost") for day, _, code, how in citizen.housing)


def homeless_between(citizen: Citizen, start: date, end: date) -> bool:
    """Homeless on any day of [start, end]: in a homeless situation on `start` or entering one after."""
    if citizen.housing_on(start) in HOMELESS:
        return True
    return any(start < day <= end and code in HOMELESS for day, _, code, _ in citizen.housing)


@kpi(
    "O12",
    "Tid som hjemløs",
    "Length of time homeless",
    "outcome",
    "days",
    definition_da="""
    For hver borger, der fik egen bolig i perioden efter at have været hjemløs: antal dage fra
    første dag som hjemløs i den sammenhængende periode til dagen, borgeren fik bolig. Nøgletallet
    er medianen; gennemsnittet og antallet af borgere vises ved siden af.
    """,
    definition_en="""
    For each citizen who moved into an own home in the period after being homeless: the days from
    the first day homeless in that unbroken spell to the day housed. The key figure is their
    median; the mean and the number of citizens are shown beside it.
    """,
    labels={
        "mean_days": ("Gennemsnit", "Mean", "days"),
        "housed": ("Fik bolig efter hjemløshed", "Housed after homelessness", "citizens"),
    },
    computation="""
    Per citizen, the housing entries by date: a spell starts at the first homeless entry (VIVE
    categories 1-9, incl. ShelterStayStarted) after an entry in another known situation; an own-home
    entry (HousingGained or HousingSituationRecorded) ends it. Each housing whose day lies in the
    period gives housed day - spell start in days; `value` = their median, `values.mean_days` their
    mean, `values.housed` the citizens housed. HousingLost and unknown entries neither start nor end
    a spell.
    """,
)
def time_homeless(ctx: Context) -> Figure:
    days = [
        float((housed - start).days)
        for citizen in ctx.citizens()
        for start, housed in housings(citizen)
        if ctx.window.holds(housed)
    ]
    citizens = [c.citizen_id for c in ctx.citizens() if any(ctx.window.holds(h) for _, h in housings(c))]
    return {
        "value": median_or_none(days),
        "citizens": len(citizens),
        "values": {"mean_days": mean_or_none(days), "housed": len(citizens)},
    }


@kpi(
    "O13",
    "Tilbagefald til hjemløshed efter bolig",
    "Returns to homelessness after being housed",
    "outcome",
    "share",
    definition_da="""
    Andelen af borgere, der igen blev hjemløse eller mistede boligen inden for 6, 12 og 24 måneder
    efter at have fået egen bolig efter hjemløshed. For hver frist tælles de borgere, hvis frist
    udløb i perioden, så hele fristen kan ses. Nøgletallet er andelen inden for 12 måneder.
    """,
    definition_en="""
    The share of citizens who were homeless again or lost their home within 6, 12 and 24 months of
    moving into an own home after homelessness. For each horizon the citizens whose horizon ended
    in the period are counted, so the whole horizon is seen. The key figure is the 12-month share.
    """,
    labels={
        "returned_{months}m": (
            "Tilbage i hjemløshed inden for {months} mdr.",
            "Returned within {months} months",
            "citizens",
        ),
        "housed_{months}m": ("Fik bolig, {months} mdr. set", "Housed, {months} months seen", "citizens"),
        "share_{months}m": ("Andel tilbage inden for {months} mdr.", "Share returned within {months} months", "share"),
    },
    computation="""
    The housings of O12. For N in 6, 12, 24: the housings on days d with d + N months in the period
    (the latest per citizen); returned when a homeless entry or HousingLost follows on a day in
    (d, d + N months]. `values.housed_<N>m`, `values.returned_<N>m`, `values.share_<N>m` =
    returned / housed; `value` = `share_12m`, `citizens` = `housed_12m`.
    """,
)
def returns_to_homelessness(ctx: Context) -> Figure:
    values: dict[str, int | float | None] = {}
    for months in RETURN_MONTHS:
        cohort = {}
        for citizen in ctx.citizens():
            seen = [h for _, h in housings(citizen) if ctx.window.holds(add_months(h, months))]
            if seen:
                cohort[citizen.citizen_id] = returned(citizen, max(seen), add_months(max(seen), months))
        values[f"housed_{months}m"] = len(cohort)
        values[f"returned_{months}m"] = sum(cohort.values())
        values[f"share_{months}m"] = share(sum(cohort.values()), len(cohort))
    return {
        "value": values["share_12m"],
        "numerator": values["returned_12m"],
        "denominator": values["housed_12m"],
        "citizens": values["housed_12m"],
        "values": values,
    }


@kpi(
    "O14",
    "Hjemløse for første gang",
    "First-time homeless",
    "outcome",
    "citizens",
    definition_da="""
    Borgere, der blev hjemløse i perioden uden at have været hjemløse på nogen dag i de 24 måneder
    før. Antallet af borgere, der blev hjemløse i perioden, og andelen for første gang vises ved
    siden af.
    """,
    definition_en="""
    Citizens who became homeless in the period without having been homeless on any day of the 24
    months before. The number of citizens who became homeless in the period, and the first-time
    share, are shown beside it.
    """,
    labels={
        "became_homeless": ("Blev hjemløse", "Became homeless", "citizens"),
        "first_time_share": ("Andel for første gang", "First-time share", "share"),
    },
    computation="""
    A citizen became homeless on day d in the period when a homeless entry falls on d and the
    citizen was not homeless the day before (the first such d counts). First-time when not homeless
    on any day of [d - 24 months, d - 1]: no homeless situation on d - 24 months and no homeless
    entry after it before d. `value` = the first-time citizens, `values.became_homeless` all,
    `values.first_time_share` = first-time / became homeless.
    """,
)
def first_time_homeless(ctx: Context) -> Figure:
    became, first = 0, 0
    for citizen in ctx.citizens():
        starts = sorted(
            day
            for day, _, code, _ in citizen.housing
            if ctx.window.holds(day)
            and code in HOMELESS
            and citizen.housing_on(day - timedelta(days=1)) not in HOMELESS
        )
        if not starts:
            continue
        became += 1
        before = starts[0] - timedelta(days=1)
        if not homeless_between(citizen, add_months(starts[0], -FIRST_TIME_HOMELESS_MONTHS), before):
            first += 1
    return {
        "value": first,
        "citizens": became,
        "values": {"became_homeless": became, "first_time_share": share(first, became)},
    }


@kpi(
    "O15",
    "Unge på 18-24 år på forsorgshjem",
    "Young people aged 18-24 at shelters",
    "outcome",
    "citizens",
    definition_da="""
    Borgere, der fylder mellem 18 og 24 år i året for periodens sidste dag, og som havde et ophold
    på et forsorgshjem eller herberg efter servicelovens paragraf 110 i perioden, med antallet af
    ophold og overnatninger i perioden.
    """,
    definition_en="""
    Citizens turning between 18 and 24 in the year of the period's last day who had a stay at a
    shelter under section 110 of the Social Services Act in the period, with the number of stays and
    the bed-days in the period.
    """,
    labels={
        "stays": ("Ophold", "Stays", "stays"),
        "bed_days": ("Overnatninger", "Bed-days", "bed-days"),
    },
    computation="""
    Citizens whose birth year (CitizenRegistered) puts them in the 18-24 band in the year of the
    period's last day, with a ShelterStayStarted stay that has a night in the period: `value` = the
    citizens, `values.stays` their stays with a night in the period, `values.bed_days` those nights
    (each night counted on its evening, as O4).
    """,
)
def young_at_shelters(ctx: Context) -> Figure:
    start, end = ctx.window.start, ctx.window.end
    citizens, stays, nights = 0, 0, 0
    for citizen in ctx.citizens():
        if age_band(citizen.birth_year, end.year) != YOUNG_AGE_BAND:
            continue
        counted = [s.nights(start, end) for s in citizen.stays if s.nights(start, end) > 0]
        if counted:
            citizens, stays, nights = citizens + 1, stays + len(counted), nights + sum(counted)
    return {"value": citizens, "citizens": citizens, "values": {"stays": stays, "bed_days": nights}}
