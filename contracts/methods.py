"""The methods' norms and calendar, each defined once (docs/domain.md §9).

Registration's rules, the projections' fold and KPIs, the alert rules' defaults and the demo all
take their numbers from here. The constants are the defaults of docs/domain.md; the functions take
the norm as a parameter (defaulting to the constant), so a municipality's configured value can be
passed in instead, as the alert rules' configuration and the KPIs' `Params` do.
"""

import calendar
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from contracts.codes import ContactKind, CtiPhase, HousingSituation, Method

# --- Calendar ------------------------------------------------------------------------------------


def add_months(day: date, months: int) -> date:
    """The same day `months` later (earlier when negative). A day the target month lacks becomes
    its last day: 31 January + 1 month = 28 (or 29) February, 30 November + 3 months = 28 February.
    Past the calendar's end it is `date.max`, a day never reached (events stored before registration
    kept dates inside its window may carry dates near the end)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    if year > date.max.year:
        return date.max
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


# --- CTI: phases and their lengths (docs/domain.md §1) ---------------------------------------------

CTI_PHASE_ORDER: tuple[CtiPhase, ...] = (CtiPhase.CONTACT, CtiPhase.PHASE_1, CtiPhase.PHASE_2, CtiPhase.PHASE_3)
CTI_PHASES: tuple[CtiPhase, ...] = CTI_PHASE_ORDER[1:]  # the numbered phases; the contact phase comes before
CTI_PHASE_MONTHS = 3  # each numbered phase; also a phase's planned end when the case system sends none
CTI_MONTHS = CTI_PHASE_MONTHS * len(CTI_PHASES)  # 9, counted from phase 1's start
CTI_CONTACT_PHASE_WEEKS = 8  # the longest contact phase (kontaktskabelse) before phase 1


def planned_phase_end(start: date, planned_end: date | None = None, months: int = CTI_PHASE_MONTHS) -> date:
    """A CTI phase's planned end: the one recorded, else `months` after the phase started."""
    return planned_end if planned_end is not None else add_months(start, months)


def cti_planned_end(phase_1_start: date, months: int = CTI_MONTHS) -> date:
    """When a CTI course is planned to end: `months` after phase 1 started."""
    return add_months(phase_1_start, months)


# --- Contact cadence (docs/domain.md §1, §8) --------------------------------------------------------

# How often the method sees the citizen: a contact every N days, by method and CTI phase (the
# contact phase and §85 have no cadence of their own).
CONTACT_EVERY_DAYS: Mapping[tuple[Method, CtiPhase | None], int] = {
    (Method.CTI, CtiPhase.PHASE_1): 7,  # weekly
    (Method.CTI, CtiPhase.PHASE_2): 14,  # fortnightly
    (Method.CTI, CtiPhase.PHASE_3): 30,  # monthly
    (Method.ICM, None): 7,  # about weekly
    (Method.ACT, None): 3,  # at least twice a week
}
# The longest time without a face-to-face contact before `no_contact` raises an alert (its default):
# the cadence with room for a missed visit.
NO_CONTACT_DAYS: Mapping[tuple[Method, CtiPhase | None], int] = {
    (Method.CTI, CtiPhase.PHASE_1): 14,
    (Method.CTI, CtiPhase.PHASE_2): 21,
    (Method.CTI, CtiPhase.PHASE_3): 45,
    (Method.ICM, None): 14,
    (Method.ACT, None): 7,
}

# --- Caseload: citizens per support worker (docs/domain.md §1) --------------------------------------

CASELOAD_NORM: Mapping[Method, int] = {Method.CTI: 12, Method.ICM: 8, Method.ACT: 10, Method.SEL85: 50}


# --- §141 handleplan, follow-ups, §110 stays -------------------------------------------------------

HANDLEPLAN_DAYS = 30  # a §141 handleplan within 30 days of course start (or of a §110 stay start)
MEASUREMENT_BASELINE_DAYS = 30  # a baseline measurement within 30 days of course start (measurement_missing)
FOLLOW_UP_MONTHS: tuple[int, ...] = (6, 9, 12)  # follow-ups this many months after a course ended
FOLLOW_UP_WINDOW_DAYS = 30  # a follow-up counts as on time up to this many days after it is due
SHELTER_READY_STAY_DAYS = 90  # the national goal: 3-4 months at most for citizens ready to move
UDREDNING_DAYS = 6 * 7  # Udredning og Plan at a §110 shelter: started at once, finished within 6 weeks
RELEASE_MEETING_MONTHS = 1  # Køreplan: the release meeting is held at least a month before a planned release
SHELTER_LONG_STAY_DAYS = 120  # the official indicator of a long §110 stay
BACKDATED_AFTER_DAYS = 30  # data quality: a fact recorded more than this many days after it happened
RECENT_HOUSING_DAYS = 90  # data quality: an active course's citizen has a housing situation this recent
INACTIVE_AFTER_DAYS = 90  # by-name list: a homeless citizen with no fact this long is inactive


# --- Status registrations: the data-quality cadence (docs/domain.md §8, `status_due`) -------------

# A status is one registration of each of these: the housing situation, the income type, the
# employment status and a measurement (the 2009-13 scheme's quarterly status).
STATUS_KINDS: tuple[str, ...] = ("housing", "income", "employment", "measurement")


@dataclass(frozen=True)
class StatusCadence:
    """How often a method asks for a status, and the window around each due day: due every
    `every_months` from the course start, on time from `window_weeks` before to `window_weeks` after.
    `final_measurement_months`: a measurement in the last months of the method's last phase (CTI
    phase 3); 0 for none."""

    every_months: int = 3
    window_weeks: int = 5
    final_measurement_months: int = 0


STATUS_CADENCE: Mapping[Method, StatusCadence] = {
    Method.CTI: StatusCadence(final_measurement_months=1),  # a measurement in phase 3's last month
    Method.ICM: StatusCadence(),
    Method.ACT: StatusCadence(),
    Method.SEL85: StatusCadence(),
}
DEFAULT_STATUS_CADENCE = StatusCadence()


def status_due_on(started_on: date, number: int, every_months: int = DEFAULT_STATUS_CADENCE.every_months) -> date:
    """The day the `number`th status (1, 2, ...) of a course falls due."""
    return add_months(started_on, every_months * number)


def follow_up_due(ended_on: date, months_after_end: int) -> date:
    """The day a follow-up `months_after_end` months after the course end falls due."""
    return add_months(ended_on, months_after_end)


# --- Instruments' thresholds (docs/domain.md §6) ----------------------------------------------------

WHO5_POOR = 50  # WHO-5 index at or below: poor well-being
WHO5_DEPRESSION = 28  # WHO-5 index at or below: likely depression
WHO5_MEANINGFUL_CHANGE = 10  # a change of at least this many index points is meaningful
UCLA3_LONELY_THRESHOLD = 7  # UCLA-3 sum at or above: moderate or severe loneliness
SRS_CONCERN_BELOW = 36  # SRS total below: alliance concern (at or above: feels heard and understood)

# --- Housing groups (docs/domain.md §5) ---------------------------------------------------------------

HOMELESS: frozenset[HousingSituation] = frozenset(
    {  # VIVE categories 1-9
        HousingSituation.STREET,
        HousingSituation.NIGHT_SHELTER,
        HousingSituation.SHELTER_110,
        HousingSituation.HOTEL,
        HousingSituation.SOFA,
        HousingSituation.TRANSITIONAL,
        HousingSituation.PRISON_NO_HOUSING,
        HousingSituation.HOSPITAL_NO_HOUSING,
        HousingSituation.OTHER_HOMELESS,
    }
)
OWN_HOME: frozenset[HousingSituation] = frozenset(
    {  # "housed"
        HousingSituation.ALMEN,
        HousingSituation.PRIVATE_RENTAL,
        HousingSituation.OWNER,
        HousingSituation.SKAEV,
        HousingSituation.SHARED_SUPPORTED,
    }
)
SUPPORTED: frozenset[HousingSituation] = frozenset({HousingSituation.SEL107, HousingSituation.SEL108})
INSTITUTION: frozenset[HousingSituation] = frozenset(
    {HousingSituation.PRISON, HousingSituation.HOSPITAL, HousingSituation.TREATMENT}
)
HOUSING_GROUPS = ("homeless", "own_home", "supported", "institution", "unknown")

# --- Breakdowns and flow measures (docs/domain.md §7) ------------------------------------------------

# Age bands (first age, last age; None: no upper bound), as the strategy's young-people goal needs.
AGE_BANDS: dict[str, tuple[int, int | None]] = {
    "18-24": (18, 24),
    "25-29": (25, 29),
    "30-39": (30, 39),
    "40-49": (40, 49),
    "50-64": (50, 64),
    "65+": (65, None),
}
YOUNG_AGE_BAND = "18-24"
RETURN_MONTHS = (6, 12, 24)  # returns to homelessness within these months of being housed
FIRST_TIME_HOMELESS_MONTHS = 24  # first-time homeless: not homeless on any day of the months before

# --- Recovery Star (docs/domain.md §6) ---------------------------------------------------------------

# The ladder of change: each band's first and last step (1 lowest, 10: no longer needs help).
RECOVERY_STAR_BANDS: dict[str, tuple[int, int]] = {
    "stuck": (1, 2),
    "accepting_help": (3, 4),
    "believing": (5, 6),
    "learning": (7, 8),
    "self_reliance": (9, 10),
}


# Contact is established on the course's first contact of these kinds (not an attempt, a cancelled
# meeting or a call to partners): a Recovery Star baseline counts from that day, not from the start.
CONTACT_ESTABLISHED_KINDS = frozenset({ContactKind.FACE_TO_FACE, ContactKind.PHONE_DIGITAL})
# The Recovery Star baseline is due within this many days of contact established (the alert
# recovery_star_baseline_missing): a month, like a course's baseline measurement, as the first
# meetings of outreach are about the relationship, not about forms.
RECOVERY_STAR_BASELINE_DAYS = 30
# The methods whose courses measure with the Recovery Star: outreach (the outreach evaluation's
# outcome measure, docs/domain.md §10).
RECOVERY_STAR_METHODS = frozenset({Method.OUTREACH})


def recovery_star_band(step: float) -> str:
    """The ladder band of a step 1-10."""
    return next(band for band, (first, last) in RECOVERY_STAR_BANDS.items() if first <= step <= last)


def age_band(birth_year: int | None, year: int) -> str | None:
    """The band of the age reached in `year` (only the birth year is kept: age = year - birth year),
    None for an unknown birth year or an age under 18."""
    if birth_year is None:
        return None
    age = year - birth_year
    for band, (first, last) in AGE_BANDS.items():
        if first <= age and (last is None or age <= last):
            return band
    return None


def housing_group(situation: HousingSituation | None) -> str:
    if situation in HOMELESS:
        return "homeless"
    if situation in OWN_HOME:
        return "own_home"
    if situation in SUPPORTED:
        return "supported"
    if situation in INSTITUTION:
        return "institution"
    return "unknown"


# --- Surveys (docs/surveys.md) ------------------------------------------------------------------

# A survey round is a half-year ("2026-H2"); the fidelity rounds of the outreach evaluation were
# half-yearly. `fidelity_round_due` and the survey indicators count rounds in these months.
SURVEY_ROUND_MONTHS = 6
# A team's result of an anonymous survey is shown only when at least this many answered it.
SURVEY_MIN_RESPONDENTS = 5
