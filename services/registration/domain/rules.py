"""The rules of the methods, as reason codes with a Danish and an English message (409)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    reason: str
    message_da: str
    message_en: str


class RuleViolation(Exception):
    """A fact that would break a rule of the methods; nothing is recorded."""

    def __init__(self, rule: Rule):
        super().__init__(rule.message_en)
        self.rule = rule


class UnknownSubject(Exception):
    """The citizen or course does not exist (for this municipality)."""

    def __init__(self, reason: str, message_da: str, message_en: str):
        super().__init__(message_en)
        self.reason, self.message_da, self.message_en = reason, message_da, message_en


CITIZEN_ALREADY_REGISTERED = Rule(
    "citizen_already_registered", "Borgeren er allerede registreret.", "The citizen is already registered."
)
COURSE_ALREADY_EXISTS = Rule(
    "course_already_exists", "Forløbet findes allerede.", "A course with this id already exists."
)
ACTIVE_COURSE_FOR_METHOD = Rule(
    "active_course_for_method",
    "Borgeren har allerede et aktivt forløb med denne metode.",
    "The citizen already has an active course with this method.",
)
COURSE_ALREADY_STARTED = Rule(
    "course_already_started", "Forløbet er allerede startet.", "The course has already started."
)
COURSE_NOT_STARTED = Rule("course_not_started", "Forløbet er ikke startet endnu.", "The course has not started yet.")
COURSE_ENDED = Rule(
    "course_ended",
    "Forløbet er afsluttet; der kan kun registreres rettelser.",
    "The course has ended; only corrections can be recorded.",
)
COURSE_STARTS_BEFORE_VISITATION = Rule(
    "course_starts_before_visitation",
    "Forløbet kan ikke starte før visitationen.",
    "A course cannot start before its visitation decision.",
)
COURSE_ENDS_BEFORE_START = Rule(
    "course_ends_before_start",
    "Forløbet kan ikke slutte før det startede.",
    "A course cannot end before it started.",
)
NOT_A_CTI_COURSE = Rule("not_a_cti_course", "Faser findes kun i CTI-forløb.", "Phases exist only in CTI courses.")
CTI_PHASE_NOT_FORWARD = Rule(
    "cti_phase_not_forward",
    "CTI-faser kan kun gå fremad.",
    "CTI phases only move forward.",
)
PHASE_STARTS_BEFORE_PREVIOUS = Rule(
    "phase_starts_before_previous",
    "Fasen kan ikke starte før den forrige fase eller forløbets start.",
    "A phase cannot start before the previous phase or the course start.",
)
PLANNED_END_BEFORE_START = Rule(
    "planned_end_before_start",
    "Planlagt afslutning ligger før fasens start.",
    "The planned end lies before the phase start.",
)
NOT_HOUSED = Rule(
    "not_housed",
    "Bolig kan kun mistes, mens borgeren har egen bolig.",
    "Housing can be lost only while the citizen is housed.",
)


def citizen_not_found() -> UnknownSubject:
    return UnknownSubject("citizen_not_found", "Borgeren findes ikke.", "Unknown citizen.")


def course_not_found() -> UnknownSubject:
    return UnknownSubject("course_not_found", "Forløbet findes ikke.", "Unknown course.")


# --- Citizen rules ------------------------------------------------------------------------------

CITIZEN_ERASED = Rule(
    "citizen_erased",
    "Borgeren er slettet; der kan ikke registreres mere.",
    "The citizen has been erased; nothing more can be recorded.",
)
SHELTER_STAY_ALREADY_OPEN = Rule(
    "shelter_stay_already_open",
    "Borgeren har allerede et åbent §110-ophold.",
    "The citizen already has an open §110 stay.",
)
NO_OPEN_SHELTER_STAY = Rule(
    "no_open_shelter_stay",
    "Borgeren har intet åbent §110-ophold.",
    "The citizen has no open §110 stay.",
)
BEFORE_SHELTER_STAY = Rule(
    "before_shelter_stay",
    "Datoen ligger før §110-opholdet begyndte.",
    "The date lies before the §110 stay started.",
)
EVICTION_RISK_NOT_HOUSED = Rule(
    "eviction_risk_not_housed",
    "Der kan kun være risiko for udsættelse, mens borgeren har egen bolig.",
    "An eviction risk can exist only while the citizen is housed.",
)
NO_OPEN_EVICTION_RISK = Rule(
    "no_open_eviction_risk",
    "Der er ingen registreret risiko for udsættelse.",
    "There is no registered eviction risk.",
)
TREATMENT_ALREADY_STARTED = Rule(
    "treatment_already_started",
    "Borgeren er allerede i misbrugsbehandling.",
    "The citizen is already in substance-abuse treatment.",
)
NO_OPEN_TREATMENT = Rule(
    "no_open_treatment",
    "Borgeren er ikke i misbrugsbehandling.",
    "The citizen is not in substance-abuse treatment.",
)
NO_CONSENT_TO_WITHDRAW = Rule(
    "no_consent_to_withdraw",
    "Der er intet samtykke at trække tilbage for dette formål.",
    "There is no consent to withdraw for this scope.",
)
UDREDNING_ALREADY_STARTED = Rule(
    "udredning_already_started",
    "Udredning og Plan er allerede påbegyndt under dette ophold.",
    "Udredning og Plan has already started during this stay.",
)
NO_UDREDNING_STARTED = Rule(
    "no_udredning_started",
    "Der er ingen påbegyndt Udredning og Plan at afslutte.",
    "There is no Udredning og Plan in progress to complete.",
)
UDREDNING_COMPLETED_BEFORE_STARTED = Rule(
    "udredning_completed_before_started",
    "Udredning og Plan kan ikke afsluttes før den blev påbegyndt.",
    "Udredning og Plan cannot be completed before it started.",
)
RELEASE_ALREADY_PLANNED = Rule(
    "release_already_planned",
    "Borgeren har allerede en åben køreplan for løsladelse eller udskrivning.",
    "The citizen already has an open Køreplan for release or discharge.",
)
NO_RELEASE_PLANNED = Rule(
    "no_release_planned",
    "Borgeren har ingen åben køreplan for løsladelse eller udskrivning.",
    "The citizen has no open Køreplan for release or discharge.",
)
BEFORE_RELEASE_PLANNED = Rule(
    "before_release_planned",
    "Datoen ligger før køreplanen blev lagt.",
    "The date lies before the Køreplan was made.",
)
REFERRAL_ALREADY_EXISTS = Rule(
    "referral_already_exists",
    "Henvendelsen er allerede registreret.",
    "A referral with this id is already recorded.",
)
REFERRAL_NOT_FOUND = Rule(
    "referral_not_found",
    "Borgeren har ingen henvendelse med dette id.",
    "The citizen has no referral with this id.",
)
REFERRAL_ALREADY_ASSESSED = Rule(
    "referral_already_assessed",
    "Henvendelsen er allerede vurderet.",
    "The referral has already been assessed.",
)
REFERRAL_ASSESSED_BEFORE_RECEIVED = Rule(
    "referral_assessed_before_received",
    "Henvendelsen kan ikke vurderes før den blev modtaget.",
    "A referral cannot be assessed before it was received.",
)
REFERRAL_NOT_ASSESSED = Rule(
    "referral_not_assessed",
    "Henvendelsen er ikke vurderet endnu; visitationen kan først afslås efter vurderingen.",
    "The referral has not been assessed yet; a visitation can be refused only after the assessment.",
)
VISITATION_ALREADY_REFUSED = Rule(
    "visitation_already_refused",
    "Visitationen efter denne henvendelse er allerede afslået.",
    "The visitation after this referral has already been refused.",
)
VISITATION_REFUSED_BEFORE_ASSESSED = Rule(
    "visitation_refused_before_assessed",
    "Visitationen kan ikke afslås før henvendelsen blev vurderet.",
    "A visitation cannot be refused before the referral was assessed.",
)
NO_HANDLEPLAN_TO_REVISE = Rule(
    "no_handleplan_to_revise",
    "Der er ingen handleplan at revidere.",
    "There is no handleplan to revise.",
)

# --- Course rules -------------------------------------------------------------------------------

BEFORE_VISITATION = Rule(
    "before_visitation",
    "Datoen ligger før visitationen til forløbet.",
    "The date lies before the course's visitation decision.",
)
SUPPORT_WORKER_UNCHANGED = Rule(
    "support_worker_unchanged",
    "Borgeren har allerede denne bostøttemedarbejder.",
    "The course already has this support worker.",
)
OUTREACH_PHASE_UNCHANGED = Rule(
    "outreach_phase_unchanged",
    "Forløbet er allerede i denne fase.",
    "The course is already in this outreach phase.",
)
NOT_AN_OUTREACH_COURSE = Rule(
    "not_an_outreach_course",
    "Opsøgende faser findes kun i opsøgende forløb (§99, metode OUTREACH).",
    "Outreach phases exist only in outreach courses (§99, method OUTREACH).",
)
COURSE_ALREADY_HANDED_OVER = Rule(
    "course_already_handed_over",
    "Forløbet er allerede overdraget til et tilbud.",
    "The course has already been handed over to a follow-on offer.",
)
CTI_TIME_PLANNED_PER_PHASE = Rule(
    "cti_time_planned_per_phase",
    "Tid i CTI-forløb planlægges pr. fase, ikke pr. måned.",
    "Time in a CTI course is planned per phase, not per month.",
)
REVISITATION_METHOD_REQUIRED = Rule(
    "revisitation_method_required",
    "Ved behov for anden støtte skal den nye metode angives (revisitation).",
    "With reason needs_other_support, send the method the citizen moves to (revisitation_method).",
)
REVISITATION_METHOD_WITHOUT_REVISITATION = Rule(
    "revisitation_method_without_revisitation",
    "En ny metode kan kun angives, når årsagen er behov for anden støtte.",
    "revisitation_method goes only with reason needs_other_support.",
)
REVISITATION_TO_SAME_METHOD = Rule(
    "revisitation_to_same_method",
    "Revisitation skal være til en anden metode end forløbets.",
    "A revisitation must be to another method than the course's.",
)
COURSE_NOT_ENDED = Rule(
    "course_not_ended",
    "Opfølgning registreres først efter forløbets afslutning.",
    "A follow-up can be recorded only after the course has ended.",
)
FOLLOW_UP_BEFORE_DUE = Rule(
    "follow_up_before_due",
    "Opfølgningen ligger før det antal måneder efter afslutningen, den gælder.",
    "The follow-up lies before the months after the course end it is for.",
)
FOLLOW_UP_ALREADY_RECORDED = Rule(
    "follow_up_already_recorded",
    "Denne opfølgning er allerede registreret.",
    "This follow-up has already been recorded.",
)
COURSE_START_AFTER_END = Rule(
    "course_start_after_end",
    "Forløbet kan ikke starte efter det sluttede.",
    "A course cannot start after it ended.",
)
COURSE_START_AFTER_CTI_PHASE = Rule(
    "course_start_after_cti_phase",
    "Forløbet kan ikke starte efter dets første CTI-fase.",
    "A course cannot start after its first CTI phase.",
)
NOT_CURRENT_CTI_PHASE = Rule(
    "not_current_cti_phase",
    "Kun den aktuelle CTI-fases start kan rettes.",
    "Only the current CTI phase's start can be corrected.",
)
PHASE_STARTS_AFTER_COURSE_END = Rule(
    "phase_starts_after_course_end",
    "Fasen kan ikke starte efter forløbets afslutning.",
    "A phase cannot start after the course ended.",
)

# --- Organisation and municipality rules --------------------------------------------------------

TEAM_ALREADY_REGISTERED = Rule(
    "team_already_registered", "Teamet er allerede registreret.", "The team is already registered."
)
WORKER_ALREADY_REGISTERED = Rule(
    "worker_already_registered",
    "Medarbejderen er allerede registreret.",
    "The worker is already registered.",
)
WORKER_LEFT = Rule(
    "worker_left",
    "Medarbejderen er fratrådt; der kan ikke registreres mere.",
    "The worker has left; nothing more can be recorded.",
)
WORKER_ALREADY_IN_TEAM = Rule(
    "worker_already_in_team",
    "Medarbejderen er allerede i dette team.",
    "The worker already belongs to this team.",
)
BEFORE_WORKER_REGISTERED = Rule(
    "before_worker_registered",
    "Datoen ligger før medarbejderen blev registreret.",
    "The date lies before the worker was registered.",
)
HOUSING_STOCK_PERIOD_OVERLAPS = Rule(
    "housing_stock_period_overlaps",
    "Perioden overlapper en tidligere indberettet periode (samme periode kan indberettes igen).",
    "The period overlaps an earlier reported period (the same period may be reported again).",
)
FACT_NOT_WITHDRAWABLE = Rule(
    "fact_not_withdrawable",
    "Registreringen findes ikke i dette forløb eller kan ikke trækkes tilbage "
    "(kun kontakter, tidsplaner, forventet progression, målinger og opfølgninger).",
    "No such fact in this course, or it cannot be withdrawn "
    "(only contacts, time plans, expected progression, measurements and follow-ups).",
)
FACT_ALREADY_WITHDRAWN = Rule(
    "fact_already_withdrawn",
    "Registreringen er allerede trukket tilbage.",
    "The fact has already been withdrawn.",
)


def team_not_found() -> UnknownSubject:
    return UnknownSubject("team_not_found", "Teamet findes ikke.", "Unknown team.")


def worker_not_found() -> UnknownSubject:
    return UnknownSubject("worker_not_found", "Medarbejderen findes ikke.", "Unknown worker.")


def municipality_not_found() -> UnknownSubject:
    return UnknownSubject(
        "municipality_figures_not_found",
        "Kommunen har ikke indberettet tal.",
        "The municipality has reported no figures.",
    )


def citizen_id_required() -> UnknownSubject:
    return UnknownSubject(
        "citizen_id_required",
        "Send et pseudonymt citizen_id eller et CPR-nummer.",
        "Send a pseudonymous citizen_id or a CPR number.",
    )


# Every rule and every unknown subject by its reason code: a stored outcome keeps only the code.
RULES: dict[str, Rule] = {r.reason: r for r in list(globals().values()) if isinstance(r, Rule)}
UNKNOWN_SUBJECTS: dict[str, UnknownSubject] = {
    u.reason: u
    for u in (
        f()
        for f in (
            citizen_not_found,
            course_not_found,
            team_not_found,
            worker_not_found,
            municipality_not_found,
            citizen_id_required,
        )
    )
}
