"""The Recovery Star as an outcome (O16, docs/domain.md §6 and §7): per life area the share
up, unchanged and down from the baseline to the latest measurement, the mean change, and the
ladder bands of the latest answers. The baseline is the first measurement on or after the day
contact was established, not the course's start."""

from datetime import date

from contracts.instruments import RECOVERY_STAR_AREAS, Instrument
from contracts.methods import CONTACT_ESTABLISHED_KINDS, RECOVERY_STAR_BANDS, recovery_star_band
from services.projections.columns import Measurement
from services.projections.history import Course
from services.projections.kpis.common import Context, Figure, kpi, mean_or_none, share
from services.projections.kpis.labels import RECOVERY_STAR, RECOVERY_STAR_LADDER
from services.projections.kpis.outcome import OUTCOME_CONSENT


def contact_established(course: Course) -> date | None:
    """The day of the course's first face-to-face or phone/digital contact."""
    return course.contacts.first_on(CONTACT_ESTABLISHED_KINDS)


def counted(course: Course, end: date) -> list[Measurement]:
    """The course's Recovery Star measurements from contact established up to `end`, oldest first."""
    since = contact_established(course)
    if since is None:
        return []
    found = [m for m in course.measurements if m.instrument == Instrument.RECOVERY_STAR and since <= m.on <= end]
    return sorted(found, key=lambda m: m.on)


@kpi(
    "O16",
    "Udvikling på Recovery-stjernen",
    "Progression on the Recovery Star",
    "outcome",
    "share",
    definition_da="""
    For hvert af de ti livsområder på Recovery-stjernen: andelen af forløb, hvor borgerens seneste
    trin er højere, det samme eller lavere end ved første måling, og den gennemsnitlige ændring.
    Første måling er den første efter, at der er skabt kontakt (første møde eller opkald med
    borgeren), ikke forløbets start. Desuden vises, hvor mange af de seneste svar der ligger på
    hvert trin af forandringstrappen: sidder fast, accepterer hjælp, håb og tro, læring og
    selvværd. Kun forløb med samtykke til, at målingerne indgår, og med en måling på eller før
    periodens sidste dag tæller med. Nøgletallet er andelen af livsområder, der er gået op.
    """,
    definition_en="""
    For each of the ten life areas of the Recovery Star: the share of courses where the citizen's
    latest step is higher than, the same as or lower than at the first measurement, and the mean
    change. The first measurement is the first one after contact was established (the first
    meeting or call with the citizen), not the course's start. Also shown: how many of the latest
    answers lie on each stage of the ladder of change: stuck, accepting help, believing, learning
    and self-reliance. Only courses with consent to the measurements being used and a measurement
    on or before the period's last day count. The key figure is the share of life areas that went
    up.
    """,
    labels={
        **{
            f"{area}.{key}": (f"{da.capitalize()}: {key_da}", f"{en.capitalize()}: {key_en}", unit)
            for area, (da, en) in RECOVERY_STAR.items()
            for key, (key_da, key_en, unit) in {
                "up": ("andel op", "share up", "share"),
                "unchanged": ("andel uændret", "share unchanged", "share"),
                "down": ("andel ned", "share down", "share"),
                "change": ("gennemsnitlig ændring", "mean change", "points"),
            }.items()
        },
        **{f"ladder.{band}": (da, en, "answers") for band, (da, en) in RECOVERY_STAR_LADDER.items()},
        "measured_twice": ("Forløb målt mindst to gange", "Courses measured at least twice", "courses"),
    },
    computation="""
    Per course with consent `outcome_measurements` standing on the period's last day: contact is
    established on its first ContactRecorded of kind face_to_face or phone_digital; its RECOVERY_STAR
    MeasurementRecorded on or after that day and on or before the period's last day count, the first
    being the baseline. Per area (courses measured at least twice): `<area>.up|unchanged|down` =
    the share whose latest step is above / equal to / below the baseline's, `<area>.change` = the mean
    latest - baseline. `ladder.<band>` counts the latest answers (one per area and course) in the
    bands 1-2, 3-4, 5-6, 7-8, 9-10. `value` = areas up / areas compared; `measured_twice` the
    courses compared; `citizens` the citizens of the courses with a counted measurement.
    """,
    on_date=True,
)
def recovery_star_progression(ctx: Context) -> Figure:
    end = ctx.window.end
    series = []
    for course in ctx.courses():
        citizen = ctx.history.citizens.get(course.citizen_id)
        if citizen is not None and citizen.consents_on(OUTCOME_CONSENT, end):
            found = counted(course, end)
            if found:
                series.append((course.citizen_id, found))
    twice = [found for _, found in series if len(found) >= 2]
    values: dict[str, float | int | None] = {}
    up_all = compared_all = 0
    first_and_latest = [(ms[0].scores, ms[-1].scores) for ms in twice]  # worked out once each
    for area in RECOVERY_STAR_AREAS:
        changes = [latest[area] - first[area] for first, latest in first_and_latest]
        up = sum(1 for c in changes if c > 0)
        up_all, compared_all = up_all + up, compared_all + len(changes)
        values[f"{area}.up"] = share(up, len(changes))
        values[f"{area}.unchanged"] = share(sum(1 for c in changes if c == 0), len(changes))
        values[f"{area}.down"] = share(sum(1 for c in changes if c < 0), len(changes))
        values[f"{area}.change"] = mean_or_none(changes)
    ladder = dict.fromkeys(RECOVERY_STAR_BANDS, 0)
    for _, found in series:
        latest = found[-1].scores
        for area in RECOVERY_STAR_AREAS:
            ladder[recovery_star_band(latest[area])] += 1
    values |= {f"ladder.{band}": count for band, count in ladder.items()}
    values["measured_twice"] = len(twice)
    return {
        "value": share(up_all, compared_all),
        "numerator": up_all,
        "denominator": compared_all,
        "citizens": len({citizen for citizen, _ in series}),
        "values": values,
    }
