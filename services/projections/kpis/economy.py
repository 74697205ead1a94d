"""Economy indicators: resources used and the expected gain realised (E1-E4)."""

from collections import defaultdict
from datetime import date, timedelta

from contracts.codes import CtiPhase, Method
from contracts.methods import SHELTER_LONG_STAY_DAYS
from services.projections.double_bottom_line import begun_planned_hours, unit_label
from services.projections.kpis.common import Context, Figure, kpi, mean_or_none, median_or_none, share
from services.projections.kpis.labels import CTI_PHASES, METHODS
from services.projections.kpis.outcome import nights_in_course

_STATISTICS = {"mean": ("gennemsnit", "mean"), "median": ("median", "median")}


@kpi(
    "E1",
    "Timer pr. CTI-fase og pr. ICM/ACT-måned",
    "Hours per CTI phase and per ICM/ACT month",
    "economy",
    "hours",
    definition_da="""
    Den registrerede kontakttid i perioden i timer, lagt sammen for hvert forløb og hver enhed: for
    CTI den fase, kontakten faldt i, og for ICM, ACT og §85-støtte kalendermåneden. For hver metode
    og CTI-fase vises gennemsnit og median af timerne pr. enhed. Nøgletallet er gennemsnittet over
    alle enheder.
    """,
    definition_en="""
    The recorded contact time in the period in hours, added up for each course and unit: for CTI
    the phase the contact fell in, for ICM, ACT and §85 support the calendar month. For each method
    and CTI phase: the mean and median hours per unit. The key figure is the mean over all units.
    """,
    labels={
        **{
            f"CTI.{unit_label(phase)}.{stat}": (f"CTI, {da}: {stat_da}", f"CTI, {en}: {stat_en}", "hours")
            for phase, (da, en) in CTI_PHASES.items()
            for stat, (stat_da, stat_en) in _STATISTICS.items()
        },
        **{
            f"{m}.month.{stat}": (f"{da} pr. måned: {stat_da}", f"{en} per month: {stat_en}", "hours")
            for m, (da, en) in METHODS.items()
            if m != Method.CTI
            for stat, (stat_da, stat_en) in _STATISTICS.items()
        },
    },
    computation="""
    Contact time (ContactRecorded minutes / 60) effective in the period, summed per course and unit:
    the CTI phase the contact fell in, or the calendar month for ICM, ACT and §85. `values` gives
    the mean and median hours per unit, by method and CTI phase (`CTI.phase_1.mean`,
    `ICM.month.median`, ...); `value` is the mean over all units.
    """,
)
def hours_per_unit(ctx: Context) -> Figure:
    hours: dict[tuple[str, CtiPhase | date], float] = defaultdict(float)
    kinds: dict[tuple[str, CtiPhase | date], str] = {}
    citizens = set()
    for course in ctx.courses():
        for on, minutes in course.contacts.days_and_minutes(ctx.window.start, ctx.window.end):
            unit = course.time_unit(on)
            key = (course.course_id, unit)
            hours[key] += minutes / 60
            if key not in kinds:
                kinds[key] = (
                    f"CTI.{unit_label(unit)}" if course.method == Method.CTI else f"{course.method.value}.month"
                )
            citizens.add(course.citizen_id)
    groups: dict[str, list[float]] = defaultdict(list)
    for key, total in hours.items():
        groups[kinds[key]].append(total)
    values = {}
    for group in sorted(groups):
        values[f"{group}.mean"] = mean_or_none(groups[group])
        values[f"{group}.median"] = median_or_none(groups[group])
    return {"value": mean_or_none(list(hours.values())), "citizens": len(citizens), "values": values}


@kpi(
    "E2",
    "Forbrugt andel af forventede timer (dobbelt bundlinje)",
    "Share of expected hours used (double bottom line)",
    "economy",
    "share",
    definition_da="""
    For de forløb, der er aktive i perioden og har planlagt tid: de enheder (CTI-faser eller
    måneder), der er begyndt senest på periodens sidste dag. De forventede timer er de planlagte
    timer for disse enheder, og de faktiske timer er den registrerede kontakttid i enhederne frem
    til samme dag. Nøgletallet er de faktiske timer i forhold til de forventede for alle forløbene
    tilsammen. Andelen vises også for hvert forløb.
    """,
    definition_en="""
    For the courses active in the period with planned time: the units (CTI phases or months) that
    had begun by the last day of the period. The expected hours are the hours planned for these
    units, the actual hours the contact time recorded in them up to that day. The key figure is the
    actual hours against the expected hours for all these courses together. The share is also shown
    for each course.
    """,
    labels={"{course}": ("Forløb {course}", "Course {course}", "share")},
    computation="""
    For the courses active in the period with planned time (TimePlanned): the units (CTI phases or
    months) that had begun by the period's last day; expected hours = their planned hours, actual
    hours = the contact minutes / 60 in those units up to that day. `value` = actual / expected over
    all these courses; `values` gives the share per course.
    """,
)
def expected_hours_used(ctx: Context) -> Figure:
    expected = actual = 0.0
    values, citizens = {}, set()
    for course in ctx.courses():
        if not course.plans or not course.active_days(ctx.window.start, ctx.window.end):
            continue
        course_expected, course_actual = begun_planned_hours(course, ctx.window.end)
        if course_expected:
            values[course.course_id] = share(course_actual, course_expected)
            expected += course_expected
            actual += course_actual
            citizens.add(course.citizen_id)
    return {
        "numerator": round(actual, 4),
        "denominator": round(expected, 4),
        "value": share(actual, expected),
        "citizens": len(citizens),
        "values": values,
    }


@kpi(
    "E3",
    "§110-ophold: længde, kontakt og udgift",
    "§110 stays: length, contact and cost",
    "economy",
    "days",
    definition_da=f"""
    De §110-ophold, der helt eller delvist ligger i perioden. Nøgletallet er opholdenes
    gennemsnitlige længde i dage (til opholdets slutning, eller til periodens sidste dag, hvis
    opholdet ikke er afsluttet). Desuden vises antal borgere med et ophold, opholdenes
    medianlængde, antal ophold på {SHELTER_LONG_STAY_DAYS} dage eller mere, det gennemsnitlige antal dage fra
    opholdets start til kommunens første kontakt (for ophold med en kontakt), antal overnatninger i
    perioden og udgiften til dem med den valgte døgntakst.
    """,
    definition_en=f"""
    The §110 stays lying wholly or partly in the period. The key figure is their mean length in
    days (to the end of the stay, or to the last day of the period while it is open). Also shown:
    the citizens with a stay, the median length, the stays of {SHELTER_LONG_STAY_DAYS} days or more, the mean days
    from the start of a stay to the municipality's first contact (stays with a contact), the
    bed-days in the period and their cost at the chosen day rate.
    """,
    labels={
        "citizens_with_stay": ("Borgere med ophold", "Citizens with a stay", "citizens"),
        "median_length_days": ("Opholdenes medianlængde", "Median length of the stays", "days"),
        "stays_120_days_or_more": (
            f"Ophold på {SHELTER_LONG_STAY_DAYS} dage eller mere",
            f"Stays of {SHELTER_LONG_STAY_DAYS} days or more",
            "stays",
        ),
        "mean_days_to_contact": (
            "Gennemsnitligt antal dage til kommunens første kontakt",
            "Mean days to the municipality's first contact",
            "days",
        ),
        "bed_days": ("Overnatninger i perioden", "Bed-days in the period", "bed-days"),
        "bed_days_cost_dkk": ("Udgift til overnatningerne", "Cost of the bed-days", "DKK"),
    },
    computation=f"""
    The §110 stays overlapping the period. `value` = mean stay length in days (to the stay's end,
    or to the period's last day while it is open). `values`: citizens with a stay, median length,
    stays of {SHELTER_LONG_STAY_DAYS} days or more (`stays_120_days_or_more`), mean days from stay start
    to the municipality's first contact (stays with a contact), bed-days in the period and their cost
    at the configured day rate.
    """,
)
def shelter_stays(ctx: Context) -> Figure:
    start, end = ctx.window.start, ctx.window.end
    lengths, to_contact, nights, citizens = [], [], 0, set()
    for citizen in ctx.citizens():
        for stay in citizen.stays:
            if stay.start > end or (stay.end is not None and stay.end < start):
                continue
            citizens.add(citizen.citizen_id)
            lengths.append(((min(stay.end, end) if stay.end else end) - stay.start).days)
            if stay.contact_on is not None:
                to_contact.append((stay.contact_on - stay.start).days)
            nights += stay.nights(start, end)
    return {
        "value": mean_or_none(lengths),
        "citizens": len(citizens),
        "values": {
            "citizens_with_stay": len(citizens),
            "median_length_days": median_or_none(lengths),
            "stays_120_days_or_more": sum(1 for n in lengths if n >= SHELTER_LONG_STAY_DAYS),
            "mean_days_to_contact": mean_or_none(to_contact),
            "bed_days": nights,
            "bed_days_cost_dkk": round(nights * ctx.params.shelter_day_rate_dkk, 2),
        },
    }


@kpi(
    "E4",
    "Investeringsblik (SØM)",
    "Investment view (SØM-style)",
    "economy",
    "DKK",
    definition_da="""
    For de forløb, der er aktive i perioden: udgiften er kontakttimerne i perioden gange
    timeprisen. Gevinsten er de undgåede §110-overnatninger gange døgntaksten plus de forebyggede
    udsættelser i perioden gange udgiften ved en udsættelse. De undgåede overnatninger for et
    forløb er borgerens overnatninger i året før forløbets start, omregnet til forløbets aktive dage
    i perioden, minus overnatningerne i perioden, mens forløbet var aktivt (dog mindst 0).
    Nøgletallet er gevinsten gange succesraten minus udgiften. Resultatet vises også med den lave
    succesrate (følsomhedsberegning) sammen med de enkelte dele. Priser og succesrater kan vælges.
    """,
    definition_en="""
    For the courses active in the period: the cost is the contact hours in the period times the
    hourly rate. The gain is the avoided §110 bed-days times the day rate plus the evictions
    prevented in the period times the cost of an eviction. A course's avoided bed-days are the
    citizen's bed-days in the year before the course started, scaled to the course's active days in
    the period, minus the bed-days in the period while the course was active (at least 0). The key
    figure is the gain times the success rate minus the cost. The result is also shown at the low
    success rate (sensitivity analysis), with the parts. Prices and success rates can be chosen.
    """,
    labels={
        "hours": ("Kontakttimer", "Contact hours", "hours"),
        "cost_dkk": ("Udgift", "Cost", "DKK"),
        "avoided_bed_days": ("Undgåede overnatninger", "Avoided bed-days", "bed-days"),
        "evictions_prevented": ("Forebyggede udsættelser", "Evictions prevented", "evictions"),
        "gross_gain_dkk": ("Bruttogevinst", "Gross gain", "DKK"),
        "success_rate": ("Succesrate", "Success rate", "share"),
        "net_dkk": ("Nettogevinst", "Net gain", "DKK"),
        "success_rate_low": ("Lav succesrate", "Low success rate", "share"),
        "net_low_dkk": ("Nettogevinst ved lav succesrate", "Net gain at the low success rate", "DKK"),
    },
    computation="""
    For the courses active in the period: cost = contact hours in the period × hourly rate. Gain =
    avoided §110 bed-days × day rate + evictions prevented in the period × eviction cost. Avoided
    bed-days per course = the citizen's bed-days in the 365 days before course start, scaled to the
    course's active days in the period (× days / 365), minus the bed-days in the period while the
    course was active, at least 0. `value` = gain × success rate − cost; `values` also gives the net
    at the low success rate (sensitivity) and the parts. Prices and rates are query parameters.
    """,
)
def investment_view(ctx: Context) -> Figure:
    p, start, end = ctx.params, ctx.window.start, ctx.window.end
    hours = avoided = 0.0
    prevented, citizens = 0, set()
    for course in ctx.courses():
        days = course.active_days(start, end)
        if not days:
            continue
        citizen = ctx.history.citizens[course.citizen_id]
        citizens.add(course.citizen_id)
        hours += course.minutes_between(start, end) / 60
        before = sum(
            s.nights(course.started_on - timedelta(days=365), course.started_on - timedelta(days=1))
            for s in citizen.stays
        )
        during = nights_in_course(citizen, [course], start, end)
        avoided += max(0.0, before * days / 365 - during)
    for citizen_id in citizens:
        prevented += sum(1 for d in ctx.history.citizens[citizen_id].evictions_prevented if ctx.window.holds(d))
    cost = hours * p.hourly_rate_dkk
    gain = avoided * p.shelter_day_rate_dkk + prevented * p.eviction_cost_dkk
    return {
        "value": round(gain * p.success_rate - cost, 2),
        "citizens": len(citizens),
        "values": {
            "hours": round(hours, 4),
            "cost_dkk": round(cost, 2),
            "avoided_bed_days": round(avoided, 4),
            "evictions_prevented": prevented,
            "gross_gain_dkk": round(gain, 2),
            "success_rate": p.success_rate,
            "net_dkk": round(gain * p.success_rate - cost, 2),
            "success_rate_low": p.success_rate_low,
            "net_low_dkk": round(gain * p.success_rate_low - cost, 2),
        },
    }
