"""Outcome indicators: results for citizens (O1-O11)."""

from collections import Counter
from collections.abc import Iterable
from datetime import date, timedelta

from contracts.codes import EmploymentStatus, FollowUpAnswer, IncomeType
from contracts.instruments import LIKERT_DIMENSIONS, Instrument
from contracts.methods import (
    FOLLOW_UP_MONTHS,
    HOUSING_GROUPS,
    INACTIVE_AFTER_DAYS,
    OWN_HOME,
    SRS_CONCERN_BELOW,
    UCLA3_LONELY_THRESHOLD,
    WHO5_MEANINGFUL_CHANGE,
    WHO5_POOR,
    housing_group,
)
from services.projections.columns import Measurement
from services.projections.history import Citizen, Course, latest
from services.projections.kpis.common import Context, Figure, kpi, mean_or_none, ratio_figure, share
from services.projections.kpis.labels import HOUSING, INCOMES, LIKERT


@kpi(
    "O1",
    "Boligsituation ved start, nu og ved afslutning",
    "Housing situation at start, now and at end",
    "outcome",
    "share",
    definition_da="""
    Borgernes boligsituation (hjemløs, egen bolig, botilbud, institution eller ukendt) på tre
    tidspunkter: ved start for de forløb, der er startet i perioden, på periodens sidste dag for de
    forløb, der er aktive da, og ved afslutning for de forløb, der er afsluttet i perioden.
    Boligsituationen på en dag er den senest registrerede på eller før dagen. Nøgletallet er
    andelen i egen bolig blandt de forløb, der er aktive på periodens sidste dag.
    """,
    definition_en="""
    The citizens' housing situation (homeless, own home, supported accommodation, institution or
    unknown) at three moments: at the start for the courses started in the period, on the last
    day of the period for the courses active then, and at the end for the courses ended in the
    period. The situation on a day is the latest one recorded on or before it. The key figure is
    the share in an own home among the courses active on the last day of the period.
    """,
    labels={
        f"{moment}.{group}": (f"{moment_da}: {group_da}", f"{moment_en}: {group_en}", "courses")
        for moment, (moment_da, moment_en) in {
            "start": ("Ved start", "At the start"),
            "now": ("På periodens sidste dag", "On the last day of the period"),
            "end": ("Ved afslutning", "At the end"),
        }.items()
        for group, (group_da, group_en) in HOUSING.items()
    },
    computation="""
    The housing situation group (homeless, own_home, supported, institution, unknown; docs/domain.md §5) of
    each course's citizen on three dates: at course start for courses started in the period
    (`start.*`), on the period's last day for courses active then (`now.*`) and at course end for
    courses ended in the period (`end.*`). The situation on a date is the latest housing fact
    (situation recorded, housing gained/lost, §110 stay started/ended) effective on or before it.
    `value` = the share in own home among courses active on the period's last day.
    """,
)
def housing_distribution(ctx: Context) -> Figure:
    moments = {
        "start": [(c, c.started_on) for c in ctx.courses() if ctx.window.holds(c.started_on)],
        "now": [(c, ctx.window.end) for c in ctx.courses() if c.active_on(ctx.window.end)],
        "end": [(c, c.ended_on) for c in ctx.courses() if ctx.window.holds(c.ended_on)],
    }
    values: dict[str, int] = {}
    for moment, pairs in moments.items():
        groups = Counter(housing_group(ctx.history.citizens[c.citizen_id].housing_on(day)) for c, day in pairs)
        values.update({f"{moment}.{group}": groups[group] for group in HOUSING_GROUPS})
    now = len(moments["now"])
    citizens = {c.citizen_id for pairs in moments.values() for c, _ in pairs}
    return {"value": share(values["now.own_home"], now), "citizens": len(citizens), "values": values}


RETENTION = ("stably_housed", "gained_housing", "lost_and_regained", "lost_not_regained", "never_housed")


def retention(citizen: Citizen, course: Course) -> str:
    """The housing course of one citizen from course start to course end (docs/domain.md §7, O2)."""
    assert course.started_on is not None and course.ended_on is not None  # asked of ended courses only
    at_start = citizen.housing_on(course.started_on) in OWN_HOME
    housed, lost, ever = at_start, False, at_start
    for _, _, code, _how in citizen.housing_entries(course.started_on + timedelta(days=1), course.ended_on):
        now_housed = code in OWN_HOME
        lost = lost or (housed and not now_housed)
        housed, ever = now_housed, ever or now_housed
    if not ever:
        return "never_housed"
    if lost:
        return "lost_and_regained" if housed else "lost_not_regained"
    return "stably_housed" if at_start else "gained_housing"


@kpi(
    "O2",
    "Boligfastholdelse pr. afsluttet forløb",
    "Housing retention per ended course",
    "outcome",
    "share",
    definition_da="""
    Hvert forløb, der er afsluttet i perioden, placeres i én kategori efter borgerens boligforløb
    fra start til afslutning: stabilt boende (i egen bolig ved start og mistede den ikke), fik
    bolig (ikke i egen bolig ved start, fik bolig og mistede den ikke), mistede bolig og fik en
    igen, mistede bolig uden at få en ny, eller fik aldrig bolig. Nøgletallet er andelen, der bor i
    egen bolig ved afslutningen (de tre første kategorier).
    """,
    definition_en="""
    Each course ended in the period is put in one category by the citizen's housing from start to
    end: stably housed (in an own home at the start and never lost it), gained housing (not in an
    own home at the start, gained one and did not lose it), lost housing and regained it, lost
    housing without regaining it, or never housed. The key figure is the share living in an own
    home at the end (the first three categories).
    """,
    labels={
        "stably_housed": ("Stabilt boende", "Stably housed", "courses"),
        "gained_housing": ("Fik bolig", "Gained housing", "courses"),
        "lost_and_regained": ("Mistede bolig og fik en igen", "Lost housing and regained it", "courses"),
        "lost_not_regained": ("Mistede bolig uden at få en ny", "Lost housing, not regained", "courses"),
        "never_housed": ("Fik aldrig bolig", "Never housed", "courses"),
    },
    computation="""
    Each course ended in the period is put in one category by the citizen's housing from course
    start to course end: stably_housed (in own home at start, never lost), gained_housing (not at
    start, gained, not lost), lost_and_regained, lost_not_regained, never_housed. `values` holds the
    counts; `value` = the share in own home at course end (stably + gained + lost_and_regained).
    """,
)
def housing_retention(ctx: Context) -> Figure:
    ended = [c for c in ctx.courses() if ctx.window.holds(c.ended_on) and c.started_on]
    counts = Counter(retention(ctx.history.citizens[c.citizen_id], c) for c in ended)
    housed = counts["stably_housed"] + counts["gained_housing"] + counts["lost_and_regained"]
    return ratio_figure(
        housed, len(ended), (c.citizen_id for c in ended), values={name: counts[name] for name in RETENTION}
    )


_MONTHS_DA = ", ".join(map(str, FOLLOW_UP_MONTHS[:-1])) + f" og {FOLLOW_UP_MONTHS[-1]}"
_MONTHS_EN = ", ".join(map(str, FOLLOW_UP_MONTHS[:-1])) + f" and {FOLLOW_UP_MONTHS[-1]}"


@kpi(
    "O3",
    f"Andel i egen bolig {_MONTHS_DA} måneder efter forløb",
    f"Share keeping own housing {_MONTHS_EN} months after the course",
    "outcome",
    "share",
    definition_da=f"""
    Af de opfølgninger, der er registreret i perioden med svaret ja eller nej, andelen hvor
    borgeren fortsat bor i egen bolig. Der følges op {_MONTHS_DA} måneder efter forløbets
    afslutning, og andelen vises også for hvert af disse tidspunkter. Opfølgninger med svaret "ved
    ikke" tæller ikke med. Er der registreret flere opfølgninger for samme forløb og tidspunkt,
    tæller den seneste.
    """,
    definition_en=f"""
    Of the follow-ups recorded in the period with the answer yes or no, the share where the citizen
    still lives in an own home. Follow-ups are made {_MONTHS_EN} months after the course ended, and
    the share is also shown for each of these. Follow-ups answered "don't know" do not count. When
    several follow-ups are recorded for the same course and month, the latest counts.
    """,
    labels={
        f"{months}_months": (f"{months} måneder efter forløbet", f"{months} months after the course", "share")
        for months in FOLLOW_UP_MONTHS
    },
    computation=f"""
    Of the follow-ups (FollowUpRecorded) effective in the period with answer yes or no (unknown is
    not followed up), the share that keep their own housing; `values` gives the share per follow-up
    month ({", ".join(map(str, FOLLOW_UP_MONTHS))}). The latest follow-up per course and month counts.
    """,
)
def housing_after_course(ctx: Context) -> Figure:
    latest: dict[tuple[str, int], tuple[str, FollowUpAnswer]] = {}
    for course in ctx.courses():
        for day, months, answer in course.follow_ups:
            if ctx.window.holds(day) and answer != FollowUpAnswer.UNKNOWN:
                latest[(course.course_id, months)] = (course.citizen_id, answer)
    values = {}
    for months in FOLLOW_UP_MONTHS:
        answers = [a for (_, m), (_, a) in latest.items() if m == months]
        values[f"{months}_months"] = share(sum(1 for a in answers if a == FollowUpAnswer.YES), len(answers))
    yes = sum(1 for _, a in latest.values() if a == FollowUpAnswer.YES)
    return ratio_figure(yes, len(latest), (c for c, _ in latest.values()), values=values)


def nights_in_course(citizen: Citizen, courses: list[Course], start: date, end: date) -> int:
    """Bed-days of the citizen within [start, end] on which one of the courses was active."""
    active = merged(span for c in courses if (span := c.active_span(start, end)))
    nights = 0
    for stay in citizen.stays:
        first, last = max(start, stay.start), min(end, stay.end - timedelta(days=1)) if stay.end else end
        for active_first, active_last in active:
            overlap = (min(last, active_last) - max(first, active_first)).days + 1
            nights += max(0, overlap)
    return nights


def merged(spans: Iterable[tuple[date, date]]) -> list[tuple[date, date]]:
    """Day spans [first, last] joined where they overlap or touch."""
    out: list[tuple[date, date]] = []
    for first, last in sorted(spans):
        if out and first <= out[-1][1] + timedelta(days=1):
            out[-1] = (out[-1][0], max(out[-1][1], last))
        else:
            out.append((first, last))
    return out


@kpi(
    "O4",
    "§110-overnatninger i perioden",
    "§110 bed-days in the period",
    "outcome",
    "bed-days",
    definition_da="""
    Antal overnatninger på et §110-tilbud (herberg eller forsorgshjem) i perioden. Hver nat tælles
    på den aften, den begynder, og et ophold, der ikke er afsluttet, tæller med til periodens
    slutning. Desuden vises de overnatninger, hvor borgeren samtidig havde et aktivt
    bostøtteforløb.
    """,
    definition_en="""
    The nights spent at a §110 shelter (herberg or forsorgshjem) in the period. Each night counts
    on the evening it begins, and a stay that has not ended counts up to the end of the period.
    Also shown: the nights on which the citizen also had an active support course.
    """,
    labels={
        "total": ("Overnatninger i alt", "Bed-days in all", "bed-days"),
        "in_active_course": ("Overnatninger under et aktivt forløb", "Bed-days during an active course", "bed-days"),
    },
    computation="""
    Nights spent in a §110 shelter within the period (a stay from ShelterStayStarted to
    ShelterStayEnded, each night counted on its evening; an open stay runs to the period end).
    `values.in_active_course` counts only the nights on which the citizen had an active course.
    """,
)
def shelter_bed_days(ctx: Context) -> Figure:
    start, end = ctx.window.start, ctx.window.end
    courses = ctx.courses()
    total = in_course = 0
    citizens = set()
    for citizen in ctx.citizens():
        nights = sum(stay.nights(start, end) for stay in citizen.stays)
        if nights:
            citizens.add(citizen.citizen_id)
            total += nights
            own = [c for c in courses if c.citizen_id == citizen.citizen_id]
            in_course += nights_in_course(citizen, own, start, end)
    return {"value": total, "citizens": len(citizens), "values": {"total": total, "in_active_course": in_course}}


@kpi(
    "O5",
    "Andel i beskæftigelse eller uddannelse",
    "Share in employment or education",
    "outcome",
    "share",
    definition_da="""
    Af de borgere, hvis beskæftigelsessituation er kendt på periodens sidste dag (den senest
    registrerede), andelen der er i beskæftigelse eller uddannelse. Desuden vises, hvordan
    borgerne fordeler sig på indkomsttype (den senest registrerede).
    """,
    definition_en="""
    Of the citizens whose employment status is known on the last day of the period (the latest
    one recorded), the share in employment or education. Also shown: how the citizens are
    distributed over income types (the latest one recorded).
    """,
    labels={f"income.{t}": (f"Indkomst: {da}", f"Income: {en}", "citizens") for t, (da, en) in INCOMES.items()},
    computation="""
    Of the citizens whose employment status is known (latest EmploymentStatusRecorded on or before
    the period's last day, other than unknown), the share employed or in education. `values` also
    gives the distribution of the latest income type (IncomeTypeRecorded) over the citizens.
    """,
    on_date=True,
)
def employment_or_education(ctx: Context) -> Figure:
    on = ctx.window.end
    statuses = {c.citizen_id: latest(c.employment, on) for c in ctx.citizens()}
    known = {k: s for k, s in statuses.items() if s not in (None, EmploymentStatus.UNKNOWN)}
    working = sum(1 for s in known.values() if s in (EmploymentStatus.EMPLOYED, EmploymentStatus.EDUCATION))
    incomes = Counter(latest(c.incomes, on) for c in ctx.citizens())
    values = {f"income.{t.value}": incomes[t] for t in IncomeType}
    citizens = set(known) | {c.citizen_id for c in ctx.citizens() if latest(c.incomes, on)}
    return ratio_figure(working, len(known), citizens, values=values)


# Outcome measurements (WHO-5, UCLA-3, SRS, Likert) are health data: a citizen counts in O6-O8 only
# while their consent with this scope stands on the period's last day.
OUTCOME_CONSENT = "outcome_measurements"


def measurements_by_citizen(ctx: Context, instrument: Instrument) -> dict[str, list[Measurement]]:
    """Each consenting citizen's measurements of an instrument up to the period's last day, oldest first."""
    result: dict[str, list[Measurement]] = {}
    for course in ctx.courses():
        citizen = ctx.history.citizens.get(course.citizen_id)
        if citizen is None or not citizen.consents_on(OUTCOME_CONSENT, ctx.window.end):
            continue
        found = [m for m in course.measurements if m.instrument == instrument and m.on <= ctx.window.end]
        if found:
            result.setdefault(course.citizen_id, []).extend(found)
    return {k: sorted(v, key=lambda m: m.on) for k, v in result.items()}


@kpi(
    "O6",
    "Andel med lav trivsel (WHO-5)",
    "Share with poor well-being (WHO-5)",
    "outcome",
    "share",
    definition_da=f"""
    Af de borgere, der har en WHO-5-måling på eller før periodens sidste dag og har givet samtykke
    til, at deres målinger indgår, andelen hvis seneste trivselsindeks (0-100) er {WHO5_POOR} eller
    derunder. Desuden vises, af de borgere der er målt mindst to gange, hvor mange og hvor stor en
    andel der har et seneste indeks mindst {WHO5_MEANINGFUL_CHANGE} point over den første måling.
    """,
    definition_en=f"""
    Of the citizens with a WHO-5 measurement on or before the last day of the period who have
    consented to their measurements being used, the share whose latest well-being index (0-100) is
    {WHO5_POOR} or below. Also shown, of the citizens measured at least twice: how many, and what
    share, have a latest index at least {WHO5_MEANINGFUL_CHANGE} points above their first measurement.
    """,
    labels={
        "improved": ("Forbedret trivsel", "Improved well-being", "citizens"),
        "with_baseline_and_later": ("Målt mindst to gange", "Measured at least twice", "citizens"),
        "improved_share": ("Andel med forbedret trivsel", "Share with improved well-being", "share"),
    },
    computation=f"""
    Of the citizens with a WHO-5 measurement on or before the period's last day (and consent
    `outcome_measurements` standing on it), the share whose
    latest index (raw × 4) is {WHO5_POOR} or below. `values.improved_share`: of those with at least two
    measurements, the share whose latest index is at least {WHO5_MEANINGFUL_CHANGE} points above their first (baseline).
    """,
    on_date=True,
)
def poor_wellbeing(ctx: Context) -> Figure:
    series = measurements_by_citizen(ctx, Instrument.WHO5)
    poor = sum(1 for ms in series.values() if ms[-1].value <= WHO5_POOR)
    repeated = [ms for ms in series.values() if len(ms) >= 2]
    improved = sum(1 for ms in repeated if ms[-1].value - ms[0].value >= WHO5_MEANINGFUL_CHANGE)
    return ratio_figure(
        poor,
        len(series),
        series,
        values={
            "improved": improved,
            "with_baseline_and_later": len(repeated),
            "improved_share": share(improved, len(repeated)),
        },
    )


@kpi(
    "O7",
    "Andel ensomme (UCLA-3) og andel der føler sig hørt (SRS)",
    "Share lonely (UCLA-3) and share feeling heard (SRS)",
    "outcome",
    "share",
    definition_da=f"""
    Af de borgere, der har en UCLA-3-måling på eller før periodens sidste dag og har givet
    samtykke til, at deres målinger indgår, andelen hvis seneste score (3-9) er på eller over
    grænsen for ensomhed (som standard {UCLA3_LONELY_THRESHOLD}). Desuden vises, af de borgere der har en
    SRS-måling, hvor mange og hvor stor en andel der har en seneste SRS-score på {SRS_CONCERN_BELOW} eller
    mere, dvs. føler sig hørt og forstået.
    """,
    definition_en=f"""
    Of the citizens with a UCLA-3 measurement on or before the last day of the period who have
    consented to their measurements being used, the share whose latest score (3-9) is at or above
    the loneliness threshold ({UCLA3_LONELY_THRESHOLD} unless chosen otherwise). Also shown, of the citizens with an SRS
    measurement: how many, and what share, have a latest SRS score of {SRS_CONCERN_BELOW} or more, that is,
    feel heard and understood.
    """,
    labels={
        "heard": ("Føler sig hørt", "Feel heard", "citizens"),
        "with_srs": ("Med SRS-måling", "With an SRS measurement", "citizens"),
        "heard_share": ("Andel der føler sig hørt", "Share feeling heard", "share"),
    },
    computation=f"""
    Of the citizens with a UCLA-3 measurement on or before the period's last day (and consent
    `outcome_measurements` standing on it), the share whose
    latest sum is at or above the loneliness threshold (default {UCLA3_LONELY_THRESHOLD}). `values.heard_share`: of the
    citizens with an SRS measurement, the share whose latest SRS total is {SRS_CONCERN_BELOW} or more (no alliance
    concern: they feel heard and understood).
    """,
    on_date=True,
)
def lonely_and_heard(ctx: Context) -> Figure:
    ucla = measurements_by_citizen(ctx, Instrument.UCLA3)
    srs = measurements_by_citizen(ctx, Instrument.SRS)
    lonely = sum(1 for ms in ucla.values() if ms[-1].value >= ctx.params.ucla3_lonely_at)
    heard = sum(1 for ms in srs.values() if ms[-1].value >= SRS_CONCERN_BELOW)
    return ratio_figure(
        lonely,
        len(ucla),
        set(ucla) | set(srs),
        values={"heard": heard, "with_srs": len(srs), "heard_share": share(heard, len(srs))},
    )


@kpi(
    "O8",
    "Udvikling på de fem Likert-dimensioner",
    "Progression on the five Likert dimensions",
    "outcome",
    "score 1-5",
    definition_da="""
    For hver af de fem dimensioner (bokompetence, økonomi, stabil livsstil, mentale
    vanskeligheder og rusmiddelforbrug): gennemsnittet af borgernes seneste svar på en skala fra 1
    til 5 og den gennemsnitlige ændring fra borgerens første til seneste svar. Mentale
    vanskeligheder og rusmiddelforbrug er vendt, så et højere tal altid er bedre. Kun borgere med
    en måling på eller før periodens sidste dag, som har givet samtykke til, at deres målinger
    indgår, tæller med. Nøgletallet er gennemsnittet af de seneste svar på alle fem dimensioner.
    """,
    definition_en="""
    For each of the five dimensions (living skills, finances, stable lifestyle, mental
    difficulties and substance use): the mean of the citizens' latest answers on a scale from 1 to
    5, and the mean change from each citizen's first to latest answer. Mental difficulties and
    substance use are reversed, so a higher number is always better. Only citizens with a
    measurement on or before the last day of the period who have consented to their measurements
    being used count. The key figure is the mean of the latest answers on all five dimensions.
    """,
    labels={
        key: label
        for d, (da, en) in LIKERT.items()
        for key, label in {
            f"{d}.latest": (f"{da.capitalize()}: seneste svar", f"{en.capitalize()}: latest answer", "score 1-5"),
            f"{d}.change": (f"{da.capitalize()}: ændring", f"{en.capitalize()}: change", "points"),
        }.items()
    },
    computation="""
    For each Likert dimension (bokompetence, økonomi, stabil livsstil, mentale vanskeligheder and
    rusmiddelforbrug, the last two reverse-scored so higher is better): the mean latest answer over
    the citizens with a measurement on or before the period's last day and consent
    `outcome_measurements` standing on it (`<dimension>.latest`) and
    the mean change from each citizen's first to latest answer (`<dimension>.change`). `value` is
    the mean latest score over all five dimensions.
    """,
    on_date=True,
)
def likert_progression(ctx: Context) -> Figure:
    series = measurements_by_citizen(ctx, Instrument.LIKERT)
    values: dict[str, float | None] = {}
    latest_all: list[float] = []
    scored = [[m.scores for m in ms] for ms in series.values()]  # worked out once each
    for dimension in LIKERT_DIMENSIONS:
        answered = [[scores[dimension] for scores in ss if dimension in scores] for ss in scored]
        answered = [a for a in answered if a]
        latest_scores = [a[-1] for a in answered]
        latest_all += latest_scores
        values[f"{dimension}.latest"] = mean_or_none(latest_scores)
        values[f"{dimension}.change"] = mean_or_none([a[-1] - a[0] for a in answered])
    return {"value": mean_or_none(latest_all), "citizens": len(series), "values": values}


@kpi(
    "O9",
    "Forebyggede udsættelser",
    "Evictions prevented",
    "outcome",
    "evictions",
    definition_da="""
    Antal udsættelser, der er forebygget i perioden. Desuden vises, af de risici for udsættelse,
    der er registreret i perioden, hvor mange og hvor stor en andel der blev fulgt af en forebygget
    udsættelse, før en eventuel udsættelse blev gennemført.
    """,
    definition_en="""
    The number of evictions prevented in the period. Also shown, of the eviction risks registered
    in the period: how many, and what share, were followed by a prevented eviction before any
    eviction was carried out.
    """,
    labels={
        "risks": ("Registrerede risici for udsættelse", "Eviction risks registered", "risks"),
        "risks_prevented": (
            "Risici hvor udsættelsen blev forebygget",
            "Risks where the eviction was prevented",
            "risks",
        ),
        "prevented_share": ("Andel forebygget", "Share prevented", "share"),
    },
    computation="""
    `value` = the number of EvictionPrevented effective in the period. `values.prevented_share`:
    of the eviction risks registered in the period, the share followed by an EvictionPrevented
    (on or after the risk, known as of the query) before any EvictionCarriedOut.
    """,
)
def evictions_prevented(ctx: Context) -> Figure:
    prevented_count = risks = risks_prevented = 0
    citizens = set()
    for citizen in ctx.citizens():
        prevented_count += sum(1 for d in citizen.evictions_prevented if ctx.window.holds(d))
        for risk in (d for d in citizen.eviction_risks if ctx.window.holds(d)):
            risks += 1
            citizens.add(citizen.citizen_id)
            saved = min((d for d in citizen.evictions_prevented if d >= risk), default=None)
            evicted = min((d for d in citizen.evictions_carried_out if d >= risk), default=None)
            if saved and (evicted is None or saved <= evicted):
                risks_prevented += 1
        if any(ctx.window.holds(d) for d in citizen.evictions_prevented):
            citizens.add(citizen.citizen_id)
    return {
        "value": prevented_count,
        "citizens": len(citizens),
        "values": {
            "risks": risks,
            "risks_prevented": risks_prevented,
            "prevented_share": share(risks_prevented, risks),
        },
    }


@kpi(
    "O10",
    "Borgere i misbrugsbehandling",
    "Citizens in substance-abuse treatment",
    "outcome",
    "citizens",
    definition_da="""
    Antal borgere, der er i misbrugsbehandling på periodens sidste dag: det senest registrerede om
    behandlingen på eller før dagen er, at den er startet.
    """,
    definition_en="""
    The number of citizens in substance-abuse treatment on the last day of the period: the latest
    recorded on or before that day about their treatment is that it started.
    """,
    computation="""
    Citizens in substance-abuse treatment on the period's last day: the latest of
    SubstanceTreatmentStarted/Ended effective on or before that day is a start.
    """,
    on_date=True,
)
def in_treatment(ctx: Context) -> Figure:
    treated = [c.citizen_id for c in ctx.citizens() if c.in_treatment_on(ctx.window.end)]
    return {"value": len(treated), "citizens": len(treated)}


def actively_homeless(citizen: Citizen, day: date) -> bool:
    return housing_group(citizen.housing_on(day)) == "homeless" and citizen.active_on(day, INACTIVE_AFTER_DAYS)


@kpi(
    "O11",
    "Hjemløshedsflow (by-name-liste)",
    "Homelessness flow (by-name list)",
    "outcome",
    "citizens",
    definition_da=f"""
    En borger er aktivt hjemløs på en dag, når den senest registrerede boligsituation er hjemløs,
    og der er registreret noget om borgeren inden for de seneste {INACTIVE_AFTER_DAYS} dage. Nøgletallet er
    antallet af aktivt hjemløse på periodens sidste dag. Tilgangen er de borgere, der er aktivt
    hjemløse ved periodens slutning, men ikke var det dagen før perioden: nye (kendt første gang i
    perioden), fra egen bolig eller tidligere inaktive. Afgangen er de borgere, der var aktivt
    hjemløse dagen før perioden, men ikke er det ved slutningen: til egen bolig eller inaktive.
    Opgøres bedst pr. måned.
    """,
    definition_en=f"""
    A citizen is actively homeless on a day when the latest recorded housing situation is homeless
    and something about the citizen was recorded within the {INACTIVE_AFTER_DAYS} days up to that day. The key
    figure is the number actively homeless on the last day of the period. The inflow is the
    citizens actively homeless at the end of the period but not on the day before it: new (first
    known in the period), from an own home, or previously inactive. The outflow is the citizens
    actively homeless on the day before the period but not at its end: to an own home or inactive.
    Best read by month.
    """,
    labels={
        "active": ("Aktivt hjemløse", "Actively homeless", "citizens"),
        "inflow.new": ("Tilgang: nye", "Inflow: new", "citizens"),
        "inflow.from_housing": ("Tilgang: fra egen bolig", "Inflow: from an own home", "citizens"),
        "inflow.from_inactive": ("Tilgang: tidligere inaktive", "Inflow: previously inactive", "citizens"),
        "outflow.to_housing": ("Afgang: til egen bolig", "Outflow: to an own home", "citizens"),
        "outflow.to_inactive": ("Afgang: inaktive", "Outflow: inactive", "citizens"),
    },
    computation=f"""
    A citizen is actively homeless on a day when the latest housing situation is in the homeless
    group and some fact about the citizen is effective within the {INACTIVE_AFTER_DAYS} days up to that day. `value`
    = actively homeless on the period's last day. Inflow = active at the end but not on the day
    before the period: `inflow.new` (first known in the period), `inflow.from_housing` (in own home
    the day before), `inflow.from_inactive` (otherwise). Outflow = active the day before but not at
    the end: `outflow.to_housing` (in own home at the end) or `outflow.to_inactive`. Use period=month.
    """,
)
def homelessness_flow(ctx: Context) -> Figure:
    before, end = ctx.window.start - timedelta(days=1), ctx.window.end
    values = dict.fromkeys(
        ("inflow.new", "inflow.from_housing", "inflow.from_inactive", "outflow.to_housing", "outflow.to_inactive"), 0
    )
    active_end, citizens = 0, set()
    for citizen in ctx.citizens():
        was, now = actively_homeless(citizen, before), actively_homeless(citizen, end)
        active_end += now
        if now and not was:
            if ctx.window.holds(citizen.first_seen):
                values["inflow.new"] += 1
            elif citizen.housing_on(before) in OWN_HOME:
                values["inflow.from_housing"] += 1
            else:
                values["inflow.from_inactive"] += 1
        elif was and not now:
            values["outflow.to_housing" if citizen.housing_on(end) in OWN_HOME else "outflow.to_inactive"] += 1
        if was or now:
            citizens.add(citizen.citizen_id)
    return {"value": active_end, "citizens": len(citizens), "values": {"active": active_end, **values}}
