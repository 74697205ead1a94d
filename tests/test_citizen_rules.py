"""The rules of the methods (docs/domain.md §4) on the aggregates, through the registration application
on in-memory persistence (no I/O): each case records what it needs, then breaks one rule."""

from datetime import date
from typing import Any

import pytest

from contracts.facts import fact_adapter
from contracts.methods import add_months
from services.registration.application import Receipt, Registration
from services.registration.domain.rules import RuleViolation, UnknownSubject

M = "101"


def f(fact_type: str, day: str, citizen: str | None = "c1", **fields: Any) -> Any:
    base = {"municipality": M, "type": fact_type, "effective_date": day}
    if citizen is not None:
        base["citizen_id"] = citizen
    return fact_adapter.validate_python(base | fields)


REGISTERED = [f("CitizenRegistered", "2026-01-01")]


def course(method: str = "CTI", course_id: str = "k1", started: str | None = "2026-01-10") -> list[Any]:
    facts = [f("VisitationDecided", "2026-01-05", course_id=course_id, method=method, team="t")]
    if started:
        facts.append(f("CourseStarted", started, course_id=course_id, support_worker="w1"))
    return facts


CTI = REGISTERED + course("CTI")
CTI_PHASE_1 = CTI + [f("CtiPhaseStarted", "2026-01-10", course_id="k1", phase="1")]
ICM = REGISTERED + course("ICM")
OUTREACH = REGISTERED + course("OUTREACH")
REFERRED = REGISTERED + [f("ReferralReceived", "2026-01-02", referral_id="h1", source="gp", channel="phone")]
ASSESSED = REFERRED + [f("ReferralAssessed", "2026-01-04", referral_id="h1", in_target_group=True)]
ENDED = CTI + [f("CourseEnded", "2026-05-01", course_id="k1", reason="completed")]
HOUSED = REGISTERED + [f("HousingGained", "2026-01-20", housing="almen")]
IN_SHELTER = REGISTERED + [f("ShelterStayStarted", "2026-01-10", shelter="herberg-1")]
TEAM = [f("TeamRegistered", "2026-01-01", citizen=None, team_id="t1", name="CTI-team", methods=["CTI"])]
WORKER = TEAM + [f("WorkerRegistered", "2026-01-02", citizen=None, worker_id="w1", team_id="t1", role="support_worker")]
STOCK = [f("HousingStockReported", "2026-03-31", citizen=None, period_start="2026-01-01")]

# (what is there, the fact that breaks a rule, the reason code)
VIOLATIONS: list[tuple[str, list[Any], Any, str]] = [
    ("citizen registered twice", REGISTERED, f("CitizenRegistered", "2026-02-01"), "citizen_already_registered"),
    (
        "course id reused",
        ICM,
        f("VisitationDecided", "2026-02-01", course_id="k1", method="CTI", team="t"),
        "course_already_exists",
    ),
    (
        "one active course per method",
        ICM,
        f("VisitationDecided", "2026-02-01", course_id="k2", method="ICM", team="t"),
        "active_course_for_method",
    ),
    ("course started twice", CTI, f("CourseStarted", "2026-01-11", course_id="k1"), "course_already_started"),
    (
        "course starts before visitation",
        REGISTERED + course(started=None),
        f("CourseStarted", "2026-01-04", course_id="k1"),
        "course_starts_before_visitation",
    ),
    (
        "phase before course start",
        REGISTERED + course(started=None),
        f("CtiPhaseStarted", "2026-01-06", course_id="k1", phase="1"),
        "course_not_started",
    ),
    (
        "cti phases only forward",
        CTI_PHASE_1,
        f("CtiPhaseStarted", "2026-02-01", course_id="k1", phase="contact"),
        "cti_phase_not_forward",
    ),
    (
        "cti phase not repeated",
        CTI_PHASE_1,
        f("CtiPhaseStarted", "2026-02-01", course_id="k1", phase="1"),
        "cti_phase_not_forward",
    ),
    (
        "phase before previous phase",
        CTI_PHASE_1,
        f("CtiPhaseStarted", "2026-01-09", course_id="k1", phase="2"),
        "phase_starts_before_previous",
    ),
    (
        "planned end before start",
        CTI,
        f("CtiPhaseStarted", "2026-01-10", course_id="k1", phase="1", planned_end="2026-01-01"),
        "planned_end_before_start",
    ),
    ("phases only in CTI", ICM, f("CtiPhaseStarted", "2026-01-10", course_id="k1", phase="1"), "not_a_cti_course"),
    (
        "phase time plan only in CTI",
        ICM,
        f("TimePlanned", "2026-01-10", course_id="k1", cti_phase="1", expected_hours=20),
        "not_a_cti_course",
    ),
    (
        "CTI plans per phase",
        CTI,
        f("TimePlanned", "2026-01-10", course_id="k1", month="2026-01-01", expected_hours=20),
        "cti_time_planned_per_phase",
    ),
    (
        "nothing after the end: phase",
        ENDED,
        f("CtiPhaseStarted", "2026-05-02", course_id="k1", phase="1"),
        "course_ended",
    ),
    (
        "nothing after the end: contact",
        ENDED,
        f("ContactRecorded", "2026-05-02", course_id="k1", minutes=30, kind="face_to_face"),
        "course_ended",
    ),
    (
        "nothing after the end: ended again",
        ENDED,
        f("CourseEnded", "2026-05-03", course_id="k1", reason="completed"),
        "course_ended",
    ),
    ("nothing after the end: handleplan", ENDED, f("HandleplanCreated", "2026-05-03", course_id="k1"), "course_ended"),
    (
        "nothing after the end: measurement",
        ENDED,
        f("MeasurementRecorded", "2026-05-03", course_id="k1", instrument="WHO5", answers=[3, 3, 3, 3, 3]),
        "course_ended",
    ),
    (
        "course cannot end before it started",
        CTI,
        f("CourseEnded", "2026-01-09", course_id="k1", reason="completed"),
        "course_ends_before_start",
    ),
    (
        "contact before visitation",
        CTI,
        f("ContactRecorded", "2026-01-04", course_id="k1", minutes=30, kind="face_to_face"),
        "before_visitation",
    ),
    (
        "same support worker",
        CTI,
        f("SupportWorkerChanged", "2026-02-01", course_id="k1", support_worker="w1"),
        "support_worker_unchanged",
    ),
    (
        "same outreach phase",
        OUTREACH + [f("OutreachPhaseStarted", "2026-01-10", course_id="k1", phase="contact_making")],
        f("OutreachPhaseStarted", "2026-02-10", course_id="k1", phase="contact_making"),
        "outreach_phase_unchanged",
    ),
    (
        "outreach phase only in an outreach course",
        ICM,
        f("OutreachPhaseStarted", "2026-01-10", course_id="k1", phase="contact_making"),
        "not_an_outreach_course",
    ),
    (
        "visitation refused before the assessment",
        REFERRED,
        f("VisitationRefused", "2026-01-05", referral_id="h1", method="ICM", reason="no_capacity"),
        "referral_not_assessed",
    ),
    (
        "visitation refused on a day before the assessment",
        ASSESSED,
        f("VisitationRefused", "2026-01-03", referral_id="h1", method="ICM", reason="no_capacity"),
        "visitation_refused_before_assessed",
    ),
    (
        "visitation refused twice",
        ASSESSED + [f("VisitationRefused", "2026-01-05", referral_id="h1", method="ICM", reason="needs_more")],
        f("VisitationRefused", "2026-01-06", referral_id="h1", method="ACT", reason="needs_more"),
        "visitation_already_refused",
    ),
    (
        "visitation refused for an unknown referral",
        REGISTERED,
        f("VisitationRefused", "2026-01-06", referral_id="h9", method="ACT", reason="other"),
        "referral_not_found",
    ),
    (
        "handover before the course started",
        REGISTERED + course("OUTREACH", started=None),
        f("CourseHandedOver", "2026-01-06", course_id="k1", offer="sel85"),
        "course_not_started",
    ),
    (
        "handed over twice",
        OUTREACH + [f("CourseHandedOver", "2026-03-01", course_id="k1", offer="sel85")],
        f("CourseHandedOver", "2026-03-02", course_id="k1", offer="treatment"),
        "course_already_handed_over",
    ),
    (
        "handover after the course ended",
        OUTREACH + [f("CourseEnded", "2026-03-01", course_id="k1", reason="completed")],
        f("CourseHandedOver", "2026-03-02", course_id="k1", offer="sel85"),
        "course_ended",
    ),
    (
        "revisitation names the method",
        CTI,
        f("CourseEnded", "2026-03-01", course_id="k1", reason="needs_other_support"),
        "revisitation_method_required",
    ),
    (
        "revisitation method only on revisitation",
        CTI,
        f("CourseEnded", "2026-03-01", course_id="k1", reason="completed", revisitation_method="ICM"),
        "revisitation_method_without_revisitation",
    ),
    (
        "revisitation to another method",
        CTI,
        f("CourseEnded", "2026-03-01", course_id="k1", reason="needs_other_support", revisitation_method="CTI"),
        "revisitation_to_same_method",
    ),
    (
        "follow-up only after the end",
        CTI,
        f("FollowUpRecorded", "2026-09-01", course_id="k1", months_after_end=6, keeps_own_housing="yes"),
        "course_not_ended",
    ),
    (
        "follow-up not before it is due",
        ENDED,
        f("FollowUpRecorded", "2026-09-01", course_id="k1", months_after_end=6, keeps_own_housing="yes"),
        "follow_up_before_due",
    ),
    (
        "follow-up once",
        ENDED + [f("FollowUpRecorded", "2026-11-01", course_id="k1", months_after_end=6, keeps_own_housing="yes")],
        f("FollowUpRecorded", "2026-11-02", course_id="k1", months_after_end=6, keeps_own_housing="no"),
        "follow_up_already_recorded",
    ),
    ("housing lost only while housed", REGISTERED, f("HousingLost", "2026-02-01", reason="eviction"), "not_housed"),
    (
        "housing lost twice",
        HOUSED + [f("HousingLost", "2026-02-01", reason="eviction")],
        f("HousingLost", "2026-02-02", reason="left"),
        "not_housed",
    ),
    (
        "one open §110 stay",
        IN_SHELTER,
        f("ShelterStayStarted", "2026-02-01", shelter="herberg-2"),
        "shelter_stay_already_open",
    ),
    (
        "stay ends only when open",
        REGISTERED,
        f("ShelterStayEnded", "2026-02-01", discharge="planned"),
        "no_open_shelter_stay",
    ),
    ("shelter contact only during a stay", REGISTERED, f("ShelterContactMade", "2026-02-01"), "no_open_shelter_stay"),
    ("ready to move only during a stay", REGISTERED, f("AssessedReadyToMove", "2026-02-01"), "no_open_shelter_stay"),
    (
        "stay cannot end before it started",
        IN_SHELTER,
        f("ShelterStayEnded", "2026-01-09", discharge="planned"),
        "before_shelter_stay",
    ),
    (
        "eviction risk only while housed",
        REGISTERED,
        f("EvictionRiskRegistered", "2026-02-01", kind="bailiff_case"),
        "eviction_risk_not_housed",
    ),
    ("eviction prevented needs a risk", HOUSED, f("EvictionPrevented", "2026-02-01"), "no_open_eviction_risk"),
    ("eviction carried out needs a risk", HOUSED, f("EvictionCarriedOut", "2026-02-01"), "no_open_eviction_risk"),
    (
        "treatment started twice",
        REGISTERED + [f("SubstanceTreatmentStarted", "2026-02-01")],
        f("SubstanceTreatmentStarted", "2026-02-02"),
        "treatment_already_started",
    ),
    ("treatment ended without start", REGISTERED, f("SubstanceTreatmentEnded", "2026-02-01"), "no_open_treatment"),
    (
        "consent withdrawn without consent",
        REGISTERED,
        f("ConsentWithdrawn", "2026-02-01", scope="outcome_measurements"),
        "no_consent_to_withdraw",
    ),
    ("handleplan revised without a plan", REGISTERED, f("HandleplanRevised", "2026-02-01"), "no_handleplan_to_revise"),
    (
        "nothing after erasure",
        REGISTERED + [f("CitizenErased", "2026-02-01")],
        f("IncomeTypeRecorded", "2026-02-02", income_type="kontanthjaelp"),
        "citizen_erased",
    ),
    (
        "start correction needs a start",
        REGISTERED + course(started=None),
        f("CourseStartCorrected", "2026-01-06", course_id="k1"),
        "course_not_started",
    ),
    (
        "start correction not before visitation",
        CTI,
        f("CourseStartCorrected", "2026-01-04", course_id="k1"),
        "course_starts_before_visitation",
    ),
    (
        "start correction not after the end",
        ENDED,
        f("CourseStartCorrected", "2026-05-02", course_id="k1"),
        "course_start_after_end",
    ),
    (
        "start correction not after the first phase",
        CTI_PHASE_1,
        f("CourseStartCorrected", "2026-01-11", course_id="k1"),
        "course_start_after_cti_phase",
    ),
    (
        "phase correction of the current phase only",
        CTI_PHASE_1,
        f("CtiPhaseStartCorrected", "2026-01-12", course_id="k1", phase="2"),
        "not_current_cti_phase",
    ),
    (
        "phase correction not before the previous phase",
        CTI_PHASE_1 + [f("CtiPhaseStarted", "2026-04-10", course_id="k1", phase="2")],
        f("CtiPhaseStartCorrected", "2026-01-09", course_id="k1", phase="2"),
        "phase_starts_before_previous",
    ),
    (
        "phase correction only in CTI",
        ICM,
        f("CtiPhaseStartCorrected", "2026-01-12", course_id="k1", phase="1"),
        "not_a_cti_course",
    ),
    ("team registered twice", TEAM, TEAM[0], "team_already_registered"),
    ("worker registered twice", WORKER, WORKER[1], "worker_already_registered"),
    (
        "worker moves to the team it is in",
        WORKER,
        f("WorkerMovedTeam", "2026-02-01", citizen=None, worker_id="w1", team_id="t1"),
        "worker_already_in_team",
    ),
    (
        "nothing after a worker left",
        WORKER + [f("WorkerLeft", "2026-03-01", citizen=None, worker_id="w1")],
        f("WorkerLeft", "2026-03-02", citizen=None, worker_id="w1"),
        "worker_left",
    ),
    (
        "worker fact before registration",
        WORKER,
        f("WorkerLeft", "2026-01-01", citizen=None, worker_id="w1"),
        "before_worker_registered",
    ),
    (
        "housing stock periods do not overlap",
        STOCK,
        f("HousingStockReported", "2026-04-30", citizen=None, period_start="2026-03-01"),
        "housing_stock_period_overlaps",
    ),
]

UNKNOWN: list[tuple[str, list[Any], Any, str]] = [
    ("unknown citizen", [], f("HousingGained", "2026-01-20", housing="almen"), "citizen_not_found"),
    ("unknown course", REGISTERED, f("CourseStarted", "2026-01-10", course_id="nope"), "course_not_found"),
    (
        "handleplan for an unknown course",
        REGISTERED,
        f("HandleplanCreated", "2026-01-10", course_id="nope"),
        "course_not_found",
    ),
    ("worker in an unknown team", [], WORKER[1], "team_not_found"),
    (
        "worker moves to an unknown team",
        WORKER,
        f("WorkerMovedTeam", "2026-02-01", citizen=None, worker_id="w1", team_id="t9"),
        "team_not_found",
    ),
    ("unknown worker", TEAM, f("WorkerLeft", "2026-02-01", citizen=None, worker_id="w9"), "worker_not_found"),
]


def app_with(facts: list[Any]) -> Registration:
    app = Registration(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    outcomes = app.record_batch([(fact, "test") for fact in facts])
    assert all(isinstance(o, Receipt) for o in outcomes), outcomes
    return app


@pytest.mark.parametrize(("setup", "breaking", "reason"), [c[1:] for c in VIOLATIONS], ids=[c[0] for c in VIOLATIONS])
def test_a_broken_rule_is_refused_with_its_reason(setup: list[Any], breaking: Any, reason: str) -> None:
    app = app_with(setup)
    before = app.recorder.max_notification_id()
    with pytest.raises(RuleViolation) as caught:
        app.record(breaking, "test")
    assert caught.value.rule.reason == reason
    assert caught.value.rule.message_da and caught.value.rule.message_en
    assert app.recorder.max_notification_id() == before  # nothing recorded


@pytest.mark.parametrize(("setup", "fact", "reason"), [c[1:] for c in UNKNOWN], ids=[c[0] for c in UNKNOWN])
def test_an_unknown_subject_is_not_found(setup: list[Any], fact: Any, reason: str) -> None:
    app = app_with(setup)
    with pytest.raises(UnknownSubject) as caught:
        app.record(fact, "test")
    assert caught.value.reason == reason


def test_revisitation_ends_one_course_and_allows_the_new_method() -> None:
    app = app_with(CTI_PHASE_1)
    app.record(
        f("CourseEnded", "2026-03-01", course_id="k1", reason="needs_other_support", revisitation_method="ICM"), "t"
    )
    app.record(f("VisitationDecided", "2026-03-01", course_id="k2", method="ICM", team="t"), "t")
    app.record(f("CourseStarted", "2026-03-02", course_id="k2"), "t")
    # ... and a new CTI course too, once the old one has ended.
    app.record(f("VisitationDecided", "2026-06-01", course_id="k3", method="CTI", team="t"), "t")


def test_corrections_are_allowed_on_an_ended_course_and_are_new_facts() -> None:
    app = app_with(ENDED)
    app.record(f("CourseStartCorrected", "2026-01-08", course_id="k1"), "t")
    types = [m.fact.type for m in app.history("c1", M)]
    assert types[-2:] == ["CourseEnded", "CourseStartCorrected"]
    assert [m.fact.effective_date for m in app.history("c1", M) if m.fact.type == "CourseStarted"] == [
        date(2026, 1, 10)
    ]


def test_cti_phase_planned_end_defaults_to_three_months() -> None:
    app = app_with(CTI_PHASE_1)
    [phase] = [m.fact for m in app.history("c1", M) if m.fact.type == "CtiPhaseStarted"]
    assert phase.planned_end == date(2026, 4, 10)


def test_housing_lost_records_which_home_was_lost() -> None:
    app = app_with(HOUSED + [f("HousingLost", "2026-02-01", reason="eviction")])
    lost = app.history("c1", M)[-1]
    assert (lost.schema_version, lost.fact.lost_housing) == (2, "almen")


def test_a_batch_decides_each_fact_against_the_ones_before_it() -> None:
    app = app_with([])
    outcomes = app.record_batch(
        [
            (fact, "t")
            for fact in HOUSED
            + [
                f("HousingLost", "2026-02-01", reason="eviction"),
                f("HousingLost", "2026-02-02", reason="eviction"),  # no longer housed
                f("HousingGained", "2026-03-01", housing="skaev"),
            ]
        ]
    )
    assert [type(o).__name__ for o in outcomes] == ["Receipt", "Receipt", "Receipt", "RuleViolation", "Receipt"]


def test_citizens_of_two_municipalities_may_share_an_id() -> None:
    app = app_with(REGISTERED)
    other = fact_adapter.validate_python(
        {"type": "CitizenRegistered", "municipality": "147", "citizen_id": "c1", "effective_date": "2026-01-01"}
    )
    app.record(other, "t")
    with pytest.raises(UnknownSubject):
        app.history("c1", "751")


def test_add_months_clamps_to_month_end() -> None:
    assert add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
