"""Process indicators: is the effort delivered as planned (P1-P7)."""

from collections import defaultdict
from datetime import timedelta

from contracts.codes import ENDED_BY_CITIZEN, ContactKind, CourseEndReason, Method
from contracts.methods import CASELOAD_NORM, CTI_MONTHS, HANDLEPLAN_DAYS
from contracts.rule_config import CASELOAD_RULE, CTI_COURSE_RULE, caseload_norms, cti_course_months
from services.projections.kpis.common import Context, Figure, kpi, mean_or_none, ratio_figure, share
from services.projections.kpis.labels import METHODS

# Endings of an open-ended course that are not a planned close.
PREMATURE_REASONS = frozenset(CourseEndReason) - {
    CourseEndReason.COMPLETED,
    CourseEndReason.NO_LONGER_NEEDS_SUPPORT,
    CourseEndReason.DIED,
}


@kpi(
    "P1",
    "Aktive forløb pr. metode",
    "Active courses by method",
    "process",
    "courses",
    definition_da="""
    Antal aktive bostøtteforløb på periodens sidste dag, fordelt på metode (CTI, ICM, ACT og
    §85-støtte). Et forløb tæller som aktivt fra startdatoen, og indtil det er afsluttet. Nøgletallet
    er det samlede antal aktive forløb.
    """,
    definition_en="""
    The number of support courses active on the last day of the period, by method (CTI, ICM, ACT
    and §85 support). A course counts as active from its start date until it has ended. The key
    figure is the total number of active courses.
    """,
    labels={m: (da, en, "courses") for m, (da, en) in METHODS.items()},
    computation="""
    Number of courses of each method that are active on the date `on` (the period's last day): the
    course has started (CourseStarted, or its correction, effective on or before `on`) and has not
    ended (no CourseEnded effective on or before `on`). `values` by method, `value` = `total`.
    """,
    on_date=True,
)
def active_courses_by_method(ctx: Context) -> Figure:
    on = ctx.window.end
    active = [c for c in ctx.courses() if c.active_on(on)]
    counts = {method.value: 0 for method in Method}
    for course in active:
        counts[course.method.value] += 1
    total = sum(counts.values())
    return {
        "on": on.isoformat(),
        "values": counts,
        "total": total,
        "value": total,
        "citizens": len({c.citizen_id for c in active}),
    }


@kpi(
    "P2",
    f"Andel forløb med §141-handleplan inden for {HANDLEPLAN_DAYS} dage",
    f"Share of courses with a §141 handleplan within {HANDLEPLAN_DAYS} days of start",
    "process",
    "share",
    definition_da=f"""
    Af de forløb, der er startet i perioden, andelen hvor der foreligger en handleplan efter
    servicelovens § 141 senest {HANDLEPLAN_DAYS} dage efter forløbets start. En handleplan, der er
    udarbejdet før starten, tæller også med, for loven kræver, at der foreligger en plan. Er der
    ikke startet nogen forløb i perioden, vises der intet tal.
    """,
    definition_en=f"""
    Of the courses started in the period, the share where the citizen has an action plan under
    §141 of the Social Services Act (handleplan) no later than {HANDLEPLAN_DAYS} days after the
    course started. A plan made before the start also counts, as the law requires that a plan
    exists. When no course started in the period, no figure is shown.
    """,
    computation=f"""
    Of the courses that started in the period (CourseStarted effective date), the share whose
    citizen has a §141 handleplan created (HandleplanCreated effective date) no later than {HANDLEPLAN_DAYS} days
    after the course start. A plan created before the start counts: the law asks that a plan
    exists. `value` is numerator / denominator, or null when no course started in the period.
    """,
)
def handleplan_within_30_days(ctx: Context) -> Figure:
    started = [c for c in ctx.courses() if ctx.window.holds(c.started_on)]
    with_plan = [
        c
        for c in started
        if any(
            day <= c.started_on + timedelta(days=HANDLEPLAN_DAYS)
            for day in ctx.history.citizens[c.citizen_id].handleplans
        )
    ]
    return ratio_figure(len(with_plan), len(started), (c.citizen_id for c in started))


@kpi(
    "P3",
    "Andel forløb afsluttet før planlagt",
    "Share of courses ended before planned end",
    "process",
    "share",
    definition_da=f"""
    Af de forløb, der er afsluttet i perioden, andelen der sluttede før planlagt. Et CTI-forløb
    slutter før planlagt, når det afsluttes før den planlagte afslutning af fase 3, eller, hvis den
    ikke er planlagt, før der er gået {CTI_MONTHS} måneder fra start af fase 1 (eller det antal
    måneder, kommunen har valgt for advarslen "CTI-forløb overskredet"). Et forløb uden fast
    længde (ICM, ACT og §85-støtte) slutter før planlagt, når det afsluttes af en anden grund end
    at det er gennemført, at borgeren ikke længere har brug for støtte, eller at borgeren er død.
    De tidlige afslutninger fordeles på dem, der skyldes borgeren (ønsker ikke støtte, kontakten er
    mistet), og alle øvrige, som tilskrives kommunen.
    """,
    definition_en=f"""
    Of the courses that ended in the period, the share that ended before their planned end. A CTI
    course ends early when it ends before the planned end of phase 3 or, when that is not planned,
    before {CTI_MONTHS} months have passed since phase 1 started (or the months the municipality
    chose for the alert "CTI course overdue"). An open-ended course (ICM, ACT and §85 support)
    ends early when it ends for any reason other than completion, the citizen no longer needing
    support, or the citizen's death. The early endings are split into those caused by the citizen
    (does not want support, contact lost) and all others, attributed to the municipality.
    """,
    labels={
        "by_citizen": ("Afsluttet før planlagt af borgeren", "Ended early by the citizen", "courses"),
        "by_municipality": ("Afsluttet før planlagt af kommunen", "Ended early by the municipality", "courses"),
        "share_by_citizen": ("Andel afsluttet før planlagt af borgeren", "Share ended early by the citizen", "share"),
        "share_by_municipality": (
            "Andel afsluttet før planlagt af kommunen",
            "Share ended early by the municipality",
            "share",
        ),
    },
    computation=f"""
    Of the courses that ended in the period, the share that ended before their planned end: a CTI
    course ending before its planned end (phase 3's planned end, else {CTI_MONTHS} months after phase 1 start,
    or the months the municipality configured for the rule cti_course_overdue);
    an open-ended course (ICM, ACT, §85) ending for any reason other than completed, no longer needs
    support or died. Split in `values`: `by_citizen` (does not want support, contact lost) and
    `by_municipality` (every other premature ending).
    """,
)
def ended_before_planned(ctx: Context) -> Figure:
    ended = [c for c in ctx.courses() if ctx.window.holds(c.ended_on)]
    overrides = ctx.params.overrides(ctx.history.municipality, CTI_COURSE_RULE)
    premature = []
    for course in ended:
        planned_end = course.planned_end(cti_course_months(overrides, course.team))
        if course.method == Method.CTI:
            early = planned_end is not None and course.ended_on < planned_end
        else:
            early = course.end_reason in PREMATURE_REASONS
        if early:
            premature.append(course)
    by_citizen = sum(1 for c in premature if c.end_reason in ENDED_BY_CITIZEN)
    return ratio_figure(
        len(premature),
        len(ended),
        (c.citizen_id for c in ended),
        values={
            "by_citizen": by_citizen,
            "by_municipality": len(premature) - by_citizen,
            "share_by_citizen": share(by_citizen, len(ended)),
            "share_by_municipality": share(len(premature) - by_citizen, len(ended)),
        },
    )


@kpi(
    "P4",
    "Ansigt-til-ansigt-kontakter pr. borger pr. uge",
    "Face-to-face contacts per citizen per week",
    "process",
    "contacts per citizen-week",
    definition_da="""
    Antal ansigt-til-ansigt-kontakter i perioden divideret med antal borger-uger med støtte: de
    dage, hvert forløb var aktivt i perioden, lagt sammen og divideret med 7. Desuden vises, hvor
    stor en andel af den samlede registrerede kontakttid i perioden der foregik ansigt til ansigt.
    """,
    definition_en="""
    Face-to-face contacts in the period divided by the citizen-weeks of support: the days each
    course was active in the period, added up and divided by 7. Also shown: the share of all
    recorded contact time in the period that was face to face.
    """,
    labels={
        "face_to_face_contacts": ("Ansigt-til-ansigt-kontakter", "Face-to-face contacts", "contacts"),
        "citizen_weeks": ("Borger-uger med støtte", "Citizen-weeks of support", "citizen-weeks"),
        "face_to_face_time_share": (
            "Andel af kontakttiden ansigt til ansigt",
            "Share of contact time face to face",
            "share",
        ),
    },
    computation="""
    Face-to-face contacts (ContactRecorded, kind face_to_face) effective in the period, divided by
    the citizen-weeks of support: the days each course was active within the period, summed, / 7.
    `values.face_to_face_time_share` is the share of all recorded contact minutes in the period
    that were face to face.
    """,
)
def face_to_face_contacts(ctx: Context) -> Figure:
    courses = [c for c in ctx.courses() if c.active_days(ctx.window.start, ctx.window.end)]
    weeks = sum(c.active_days(ctx.window.start, ctx.window.end) for c in courses) / 7
    contacts = [x for c in courses for x in c.contacts_between(ctx.window.start, ctx.window.end)]
    face = [x for x in contacts if x.kind == ContactKind.FACE_TO_FACE]
    minutes = sum(x.minutes for x in contacts)
    return {
        "value": round(len(face) / weeks, 4) if weeks else None,
        "citizens": len({c.citizen_id for c in courses}),
        "values": {
            "face_to_face_contacts": len(face),
            "citizen_weeks": round(weeks, 4),
            "face_to_face_time_share": share(sum(x.minutes for x in face), minutes),
        },
    }


@kpi(
    "P5",
    "Andel aktive forløb med samme støttemedarbejder",
    "Share of active courses with the same support worker",
    "process",
    "share",
    definition_da="""
    Af de forløb, der er aktive på periodens sidste dag, andelen hvor borgeren stadig har den
    støttemedarbejder, forløbet startede med (der er ikke registreret skift af støttemedarbejder).
    """,
    definition_en="""
    Of the courses active on the last day of the period, the share where the citizen still has the
    support worker the course started with (no change of support worker recorded).
    """,
    computation="""
    Of the courses active on the period's last day, the share with no SupportWorkerChanged effective
    on or before that day: the citizen kept the support worker the course started with.
    """,
    on_date=True,
)
def same_support_worker(ctx: Context) -> Figure:
    on = ctx.window.end
    active = [c for c in ctx.courses() if c.active_on(on)]
    kept = [c for c in active if sum(1 for since, _ in c.workers if since <= on) <= 1]
    return ratio_figure(len(kept), len(active), (c.citizen_id for c in active))


@kpi(
    "P6",
    "Andel visitationer med udredning før start",
    "Share of visitations assessed before start",
    "process",
    "share",
    definition_da="""
    Af de visitationer, der er truffet afgørelse om i perioden, andelen hvor der er gennemført en
    udredning før start. Desuden vises, hvor mange og hvor stor en andel der passer til metodens
    målgruppe. Er spørgsmålet ikke besvaret, tæller visitationen som ikke udredt og ikke i
    målgruppen.
    """,
    definition_en="""
    Of the visitations decided in the period, the share where an assessment was done before the
    start. Also shown: how many, and what share, fit the method's target group. An unanswered
    question counts as not assessed and not in the target group.
    """,
    labels={
        "fits_target_group": ("I metodens målgruppe", "In the method's target group", "courses"),
        "fits_target_group_share": ("Andel i metodens målgruppe", "Share in the method's target group", "share"),
    },
    computation="""
    Of the visitations decided in the period (VisitationDecided effective date), the share where an
    assessment was done before start (assessment_done = true). `values.fits_target_group_share` is
    the share that fit the method's target group (fits_target_group = true); unanswered counts as
    not done / not fitting.
    """,
)
def assessed_before_start(ctx: Context) -> Figure:
    decided = [c for c in ctx.courses() if ctx.window.holds(c.decided_on)]
    assessed = sum(1 for c in decided if c.assessment_done)
    fits = sum(1 for c in decided if c.fits_target_group)
    return ratio_figure(
        assessed,
        len(decided),
        (c.citizen_id for c in decided),
        values={"fits_target_group": fits, "fits_target_group_share": share(fits, len(decided))},
    )


_NORMS = ", ".join(f"{'§85' if m == Method.SEL85 else m.value} {n}" for m, n in CASELOAD_NORM.items())


@kpi(
    "P7",
    "Sagsstamme pr. medarbejder mod normen",
    "Caseload per worker against the method's norm",
    "process",
    "courses per worker",
    definition_da=f"""
    På periodens sidste dag tælles hvert aktivt forløb hos den støttemedarbejder, der har forløbet.
    Nøgletallet er det gennemsnitlige antal forløb pr. medarbejder. For hver metode vises
    gennemsnittet, normen ({_NORMS} forløb pr. medarbejder, eller den norm kommunen har valgt for
    advarslen "Sagsstamme over norm") og antallet af medarbejdere, der har flere forløb med metoden
    end normen for deres team. Forløb uden en støttemedarbejder tælles ikke med.
    """,
    definition_en=f"""
    On the last day of the period, each active course is counted for the support worker who has
    it. The key figure is the mean number of courses per worker. For each method: the mean, the
    norm ({_NORMS} courses per worker, or the norm the municipality chose for the alert "Caseload
    over norm") and the number of workers with more courses of the method than their team's
    norm. Courses without a support worker are left out.
    """,
    labels={
        key: label
        for m, (da, en) in METHODS.items()
        for key, label in {
            f"{m}.mean": (f"{da}: gennemsnitlig sagsstamme", f"{en}: mean caseload", "courses per worker"),
            f"{m}.norm": (f"{da}: norm", f"{en}: norm", "courses per worker"),
            f"{m}.workers_over_norm": (f"{da}: medarbejdere over normen", f"{en}: workers over the norm", "workers"),
        }.items()
    },
    computation=f"""
    On the period's last day, each active course is counted for its current support worker (the
    latest CourseStarted/SupportWorkerChanged worker). `value` is the mean caseload per worker;
    `values` per method: mean caseload, the norm ({_NORMS}, or what the municipality configured for
    the rule caseload_over_norm, for the team filtered on) and the number of workers whose active
    courses of that method exceed the norm of their team (the team of most of their courses).
    Courses without a worker are left out.
    """,
    on_date=True,
)
def caseload_against_norm(ctx: Context) -> Figure:
    on = ctx.window.end
    loads: dict[Method, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    worker_teams: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    citizens = set()
    for course in ctx.courses():
        worker = course.worker_on(on) if course.active_on(on) else None
        if worker:
            loads[course.method][worker] += 1
            worker_teams[worker][course.team] += 1
            citizens.add(course.citizen_id)
    teams = {worker: max(counts, key=lambda team: (counts[team], team)) for worker, counts in worker_teams.items()}
    overrides = ctx.params.overrides(ctx.history.municipality, CASELOAD_RULE)
    norms = caseload_norms(overrides, ctx.filters.team)
    per_worker: dict[str, int] = defaultdict(int)
    values: dict[str, float | int | None] = {}
    for method in Method:
        by_worker = loads.get(method, {})
        for worker, n in by_worker.items():
            per_worker[worker] += n
        values[f"{method.value}.mean"] = mean_or_none(list(by_worker.values()))
        values[f"{method.value}.norm"] = norms.get(method)
        # Each worker against the norm of their team, as caseload_over_norm judges them; outreach
        # (§99) has no caseload norm.
        values[f"{method.value}.workers_over_norm"] = (
            sum(1 for worker, n in by_worker.items() if n > caseload_norms(overrides, teams[worker])[method])
            if method in norms
            else None
        )
    return {"value": mean_or_none(list(per_worker.values())), "citizens": len(citizens), "values": values}
