"""Outreach under SEL §99 (E5, docs/domain.md §7): the hours spent in each outreach phase
(kontaktskabelse, relationsarbejde, brobygning og overdragelse), by staff and by leaders, as the
outreach evaluation's time sheet counted them."""

from collections import defaultdict

from contracts.codes import Method, OutreachPhase, WorkerRole
from contracts.labels import CODE_LABELS
from services.projections.kpis.common import Context, Figure, kpi, mean_or_none

# Who spent the time: the role (WorkerRegistered) of the course's worker on the contact's day.
ROLES: dict[str, tuple[str, str, WorkerRole | None]] = {
    "staff": ("medarbejdere", "staff", WorkerRole.SUPPORT_WORKER),
    "leader": ("ledere", "leaders", WorkerRole.TEAM_LEADER),
}
_PHASES = {phase.value: CODE_LABELS[OutreachPhase][phase.value] for phase in OutreachPhase}


@kpi(
    "E5",
    "Timer pr. opsøgende fase, medarbejdere og ledere",
    "Hours per outreach phase, staff and leaders",
    "economy",
    "hours",
    definition_da="""
    Den registrerede kontakttid i perioden i timer i de opsøgende forløb (§99), fordelt på den
    fase, forløbet var i på dagen for kontakten: kontaktskabelse, relationsarbejde og brobygning og
    overdragelse. Timerne er delt på medarbejdere og ledere efter rollen hos den, der havde
    forløbet den dag. For hver fase vises timerne i alt, medarbejdernes og ledernes timer og
    gennemsnittet pr. forløb med tid i fasen. Tid før forløbets første fase tæller ikke med.
    Nøgletallet er timerne i alt.
    """,
    definition_en="""
    The recorded contact time in the period in hours in the outreach courses (§99), split by the
    phase the course was in on the day of the contact: making contact, building the relationship,
    and bridging and handover. The hours are split between staff and leaders by the role of the
    worker who had the course that day. For each phase: the hours in all, the staff's and the
    leaders' hours, and the mean per course with time in the phase. Time before a course's first
    phase is left out. The key figure is the hours in all.
    """,
    labels={
        **{
            f"{phase}.{role}_hours": (f"{da}: timer, {role_da}", f"{en}: hours, {role_en}", "hours")
            for phase, (da, en) in _PHASES.items()
            for role, (role_da, role_en, _) in ROLES.items()
        },
        **{
            f"{phase}.hours": (f"{da}: timer i alt", f"{en}: hours in all", "hours")
            for phase, (da, en) in _PHASES.items()
        },
        **{
            f"{phase}.mean_per_course": (f"{da}: timer pr. forløb", f"{en}: hours per course", "hours")
            for phase, (da, en) in _PHASES.items()
        },
    },
    computation="""
    ContactRecorded minutes / 60 effective in the period, in courses of method OUTREACH, each
    counted in the outreach phase of the course's latest OutreachPhaseStarted on or before the
    contact's day (none before the first: not counted). `<phase>.staff_hours` and
    `<phase>.leader_hours`: by the WorkerRegistered role (support_worker, team_leader) of the
    course's worker on that day (CourseStarted/SupportWorkerChanged); `<phase>.hours` all the
    phase's hours (also of a worker with no known role); `<phase>.mean_per_course` the mean of the
    hours per course with time in the phase. `value` = the hours of all phases; `citizens` = the
    citizens of the courses counted.
    """,
)
def hours_per_outreach_phase(ctx: Context) -> Figure:
    hours: dict[tuple[str, str], float] = defaultdict(float)  # (phase, role or "") -> hours
    per_course: dict[tuple[str, str], float] = defaultdict(float)  # (phase, course) -> hours
    citizens = set()
    for course in ctx.courses():
        if course.method != Method.OUTREACH:
            continue
        for contact in course.contacts_between(ctx.window.start, ctx.window.end):
            phase = course.outreach_phase_on(contact.on)
            if phase is None:
                continue
            worker = course.worker_on(contact.on)
            role = ctx.history.worker_roles.get(worker) if worker else None
            spent = contact.minutes / 60
            hours[(phase.value, "")] += spent
            for name, (_, _, wanted) in ROLES.items():
                if role == wanted:
                    hours[(phase.value, name)] += spent
            per_course[(phase.value, course.course_id)] += spent
            citizens.add(course.citizen_id)
    values: dict[str, float | int | None] = {}
    for phase in _PHASES:
        values[f"{phase}.hours"] = round(hours[(phase, "")], 4)
        for name in ROLES:
            values[f"{phase}.{name}_hours"] = round(hours[(phase, name)], 4)
        values[f"{phase}.mean_per_course"] = mean_or_none([h for (p, _), h in per_course.items() if p == phase])
    return {
        "value": round(sum(h for (_, role), h in hours.items() if role == ""), 4),
        "citizens": len(citizens),
        "values": values,
    }
