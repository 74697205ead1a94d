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
COURSE_NOT_STARTED = Rule(
    "course_not_started", "Forløbet er ikke startet endnu.", "The course has not started yet."
)
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
NOT_A_CTI_COURSE = Rule(
    "not_a_cti_course", "Faser findes kun i CTI-forløb.", "Phases exist only in CTI courses."
)
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
