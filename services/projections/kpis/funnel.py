"""The referral funnel (P8, docs/domain.md §7): from a referral (henvendelse) received to the
handover at the end of the course it led to, each step counted among those that reached the step
before, with the conversion and the median waiting days per step.

Contact established is the course's first face-to-face or phone/digital ContactRecorded, not a fact
of its own: the same day starts the Recovery Star's baseline (kpis/recovery.py) and the alert
`recovery_star_baseline_missing`, so one definition serves all three and no second date can
disagree with the contacts recorded. It follows the course's start because a contact is recorded
on a course."""

from datetime import date

from contracts.methods import CONTACT_ESTABLISHED_KINDS
from services.projections.history import Course, Referral
from services.projections.kpis.common import Context, Figure, kpi, median_or_none, share

# The steps in order; each is reached on a day (None: not reached by the period's last day).
STEPS = (
    "received",
    "assessed",
    "in_target_group",
    "visitation",
    "visitation_decided",
    "course_started",
    "contact_established",
    "handed_over",
)
STEP_LABELS: dict[str, tuple[str, str]] = {
    "received": ("modtaget", "received"),
    "assessed": ("vurderet", "assessed"),
    "in_target_group": ("i målgruppen", "in the target group"),
    "visitation": ("visitation afgjort eller afslået", "visitation decided or refused"),
    "visitation_decided": ("visiteret", "visitation decided"),
    "course_started": ("forløb startet", "course started"),
    "contact_established": ("kontakt skabt", "contact established"),
    "handed_over": ("overdraget til tilbud efter forløbet", "handed over to a follow-on offer"),
}


def steps(referral: Referral, courses: list[Course], end: date) -> dict[str, date]:
    """The days on which the referral reached each step, up to `end`; a step counts only when the
    one before it was reached, and never before it."""
    reached: dict[str, date] = {"received": referral.received_on}
    if referral.assessed_on is None or referral.assessed_on > end:
        return reached
    reached["assessed"] = referral.assessed_on
    if not referral.in_target_group:
        return reached
    reached["in_target_group"] = referral.assessed_on
    decided = sorted((c for c in courses if referral.received_on <= c.decided_on <= end), key=lambda c: c.decided_on)
    refused = referral.refused_on if referral.refused_on is not None and referral.refused_on <= end else None
    course = decided[0] if decided else None
    if course is None and refused is None:
        return reached
    if course is None or (refused is not None and refused < course.decided_on):
        reached["visitation"] = max(refused or referral.assessed_on, referral.assessed_on)  # refused first
        return reached
    reached["visitation"] = reached["visitation_decided"] = max(course.decided_on, referral.assessed_on)
    if course.started_on is None or course.started_on > end:
        return reached
    reached["course_started"] = max(course.started_on, reached["visitation_decided"])
    contact = course.contacts.first_on(CONTACT_ESTABLISHED_KINDS, course.started_on, end)
    if contact is None:
        return reached
    reached["contact_established"] = contact
    if course.handed_over is not None and course.handed_over[0] <= end:
        reached["handed_over"] = max(course.handed_over[0], contact)
    return reached


@kpi(
    "P8",
    "Henvendelser: fra modtaget til kontakt",
    "Referrals: from received to contact",
    "process",
    "share",
    definition_da="""
    Henvendelser om borgere modtaget i perioden, fulgt trin for trin til periodens sidste dag:
    modtaget, vurderet, i målgruppen, visitation afgjort eller afslået, visiteret, forløb startet,
    kontakt skabt (første møde eller opkald i forløbet) og overdraget til et navngivet tilbud ved
    forløbets afslutning. Afslag på visitation vises særskilt med antallet. Hvert trin tæller kun
    de henvendelser, der nåede trinnet før, så tallene falder trin for trin. For hvert trin vises
    antallet, andelen af trinnet før og medianen af dage fra trinnet før. Nøgletallet er andelen
    af de modtagne henvendelser, der førte til et startet forløb.
    """,
    definition_en="""
    Referrals about citizens received in the period, followed step by step to the period's last
    day: received, assessed, in the target group, visitation decided or refused, visitation
    decided, course started, contact established (the first meeting or call in the course) and
    handed over to a named follow-on offer at the course's end. Refused visitations are shown as a
    count of their own. Each step counts only the referrals
    that reached the step before, so the numbers fall step by step. For each step: the number, the
    share of the step before and the median days from the step before. The key figure is the share
    of the referrals received that led to a started course.
    """,
    labels={
        **{step: (da.capitalize(), en.capitalize(), "referrals") for step, (da, en) in STEP_LABELS.items()},
        **{
            f"{step}.conversion": (
                f"{da.capitalize()}: andel af trinnet før",
                f"{en.capitalize()}: share of the step before",
                "share",
            )
            for step, (da, en) in STEP_LABELS.items()
            if step != "received"
        },
        **{
            f"{step}.median_days": (
                f"{da.capitalize()}: dage fra trinnet før (median)",
                f"{en.capitalize()}: days from the step before (median)",
                "days",
            )
            for step, (da, en) in STEP_LABELS.items()
            if step != "received"
        },
        "visitation_refused": ("Visitation afslået", "Visitation refused", "referrals"),
    },
    computation="""
    Each ReferralReceived effective in the period, followed to the period's last day: assessed on
    its ReferralAssessed; in_target_group when that says in_target_group = true (the same day);
    visitation on the earlier of its VisitationRefused and the first VisitationDecided of the
    citizen on or after the day received (not before the assessment); visitation_decided when that
    was the VisitationDecided (`visitation_refused` counts the others); course_started on that
    course's CourseStarted; contact_established on its first ContactRecorded of kind face_to_face or
    phone_digital from the start; handed_over on its CourseHandedOver. A step needs the step
    before. `values.<step>` = referrals reaching it, `<step>.conversion` = of the step before,
    `<step>.median_days` = median days from the step before; `value` = course_started /
    received; `citizens` = the citizens referred.
    """,
)
def referral_funnel(ctx: Context) -> Figure:
    end = ctx.window.end
    courses: dict[str, list[Course]] = {}
    for course in ctx.courses():
        courses.setdefault(course.citizen_id, []).append(course)
    reached: list[dict[str, date]] = []
    citizens = set()
    for citizen in ctx.citizens():
        for referral in citizen.referrals.values():
            if ctx.window.holds(referral.received_on):
                reached.append(steps(referral, courses.get(citizen.citizen_id, []), end))
                citizens.add(citizen.citizen_id)
    values: dict[str, float | int | None] = {}
    for before, step in zip(("", *STEPS), STEPS, strict=False):
        counted = [r for r in reached if step in r]
        values[step] = len(counted)
        if before:
            values[f"{step}.conversion"] = share(len(counted), values[before] or 0)
            values[f"{step}.median_days"] = median_or_none([float((r[step] - r[before]).days) for r in counted])
    values["visitation_refused"] = (values["visitation"] or 0) - (values["visitation_decided"] or 0)
    started, received = values["course_started"] or 0, values["received"] or 0
    return {
        "value": share(started, received),
        "numerator": started,
        "denominator": received,
        "citizens": len(citizens),
        "values": values,
    }
