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
from services.projections.history import Citizen, Course, Measurement, latest
from services.projections.kpis.common import Context, Figure, kpi, mean_or_none, ratio_figure, share


@kpi(
    "O1",
    "Boligsituation ved start, nu og ved afslutning",
    "Housing situation at start, now and at end",
    "outcome",
    "share",
    """
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
    """
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
    f"""
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
    """
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
    """
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
    f"""
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
    f"""
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
    """
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
    for dimension in LIKERT_DIMENSIONS:
        answered = [[m.scores[dimension] for m in ms if dimension in m.answers] for ms in series.values()]
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
    """
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
    """
    Citizens in substance-abuse treatment on the period's last day: the latest of
    SubstanceTreatmentStarted/Ended effective on or before that day is a start.
    """,
    on_date=True,
)
def in_treatment(ctx: Context) -> Figure:
    treated = [c.citizen_id for c in ctx.citizens() if c.in_treatment_on(ctx.window.end)]
    return {"value": len(treated), "citizens": len(treated)}


def _active_homeless(citizen: Citizen, day: date) -> bool:
    return housing_group(citizen.housing_on(day)) == "homeless" and citizen.active_on(day, INACTIVE_AFTER_DAYS)


@kpi(
    "O11",
    "Hjemløshedsflow (by-name-liste)",
    "Homelessness flow (by-name list)",
    "outcome",
    "citizens",
    f"""
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
        was, now = _active_homeless(citizen, before), _active_homeless(citizen, end)
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
