"""Every fact type of the catalogue, recorded over HTTP and read back from its history endpoint with
its effective date, recorded time and who recorded it (one running registration service)."""

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from casetrack.cli import provision_streams
from casetrack.embedded import EmbeddedNats
from contracts.facts import FACT_TYPES
from services.registration.domain.citizen import citizen_uuid
from services.registration.domain.recorded import event_id
from tests.support import System, create_database

pytestmark = pytest.mark.integration

M = "101"
CITIZEN = {"municipality": M, "citizen_id": "c-all"}
CTI = CITIZEN | {"course_id": "k-cti"}
ICM = CITIZEN | {"course_id": "k-icm"}
OUTREACH = CITIZEN | {"course_id": "k-out"}
ORG = {"municipality": M}


def fact(base: dict[str, Any], fact_type: str, day: str, **fields: Any) -> dict[str, Any]:
    return base | {"type": fact_type, "effective_date": day, **fields}


# One plausible course of events touching every fact type; backdated, as case systems do.
FACTS: list[dict[str, Any]] = [
    fact(ORG, "TeamRegistered", "2026-01-01", team_id="t1", name="CTI-teamet", methods=["CTI"]),
    fact(ORG, "TeamRegistered", "2026-01-01", team_id="t2", name="ICM-teamet", methods=["ICM", "ACT"]),
    fact(
        ORG,
        "WorkerRegistered",
        "2026-01-02",
        worker_id="w1",
        team_id="t1",
        role="support_worker",
        email="w1@kommune.dk",
    ),
    fact(ORG, "WorkerRegistered", "2026-01-02", worker_id="w2", team_id="t1", role="team_leader"),
    fact(ORG, "WorkerMovedTeam", "2026-02-01", worker_id="w1", team_id="t2"),
    fact(ORG, "WorkerLeft", "2026-03-01", worker_id="w2"),
    fact(
        ORG,
        "HousingStockReported",
        "2026-03-31",
        period_start="2026-01-01",
        mean_wait_days_cheap=210,
        vacant_cheap_homes=[{"max_rent_dkk": 4000, "rooms": 1, "count": 12}],
        allocation_right_homes_vacant=3,
    ),
    fact(ORG, "PartnerMeetingHeld", "2026-03-10", team="t1", partners=["jobcentre", "psychiatry"]),
    fact(
        ORG,
        "SurveyDefined",
        "2026-03-11",
        survey={
            "id": "trivsel",
            "version": 1,
            "title_da": "Trivsel i teamet",
            "title_en": "Well-being in the team",
            "respondent": "worker",
            "anonymous": True,
            "dimensions": [{"id": "trivsel", "name_da": "Trivsel", "name_en": "Well-being"}],
            "items": [{"id": "glad", "dimension": "trivsel", "text_da": "Jeg trives.", "text_en": "I thrive."}],
        },
    ),
    fact(
        ORG,
        "SurveyAnswered",
        "2026-03-12",
        survey="staff",
        version=1,
        round="2026-H1",
        team="t1",
        answers=dict.fromkeys(("management_priority", "management_data", "method_training", "supervision"), 4)
        | dict.fromkeys(("cooperation_works", "cooperation_binding", "visitation_clear", "visitation_fit"), 2),
    ),
    fact(CITIZEN, "CitizenRegistered", "2026-01-02", birth_year=1990, gender="male", target_groups=["youth"]),
    fact(
        CITIZEN,
        "ReferralReceived",
        "2026-01-02",
        referral_id="h-1",
        source="caretaker",
        channel="phone",
        concern="isolation",
    ),
    fact(CITIZEN, "ReferralAssessed", "2026-01-03", referral_id="h-1", in_target_group=True),
    fact(CITIZEN, "HousingSituationRecorded", "2026-01-02", housing="street"),
    fact(CITIZEN, "HousingWaitingListRegistered", "2026-01-03", housing_type="almen"),
    fact(CITIZEN, "ShelterStayStarted", "2026-01-05", shelter="herberg-1"),
    fact(CITIZEN, "ShelterContactMade", "2026-01-08"),
    fact(CITIZEN, "UdredningStarted", "2026-01-08"),
    fact(CITIZEN, "ReleasePlanned", "2026-01-02", release_from="prison", planned_release_on="2026-02-15"),
    fact(CITIZEN, "ReleaseMeetingHeld", "2026-01-09", housing_agreed=True, support_agreed=True),
    fact(CITIZEN, "ReleaseCompleted", "2026-02-15", housing="almen"),
    fact(CITIZEN, "UdredningCompleted", "2026-01-19", recommended_housing="almen", recommended_support="ICM"),
    fact(CITIZEN, "AssessedReadyToMove", "2026-01-20"),
    fact(CITIZEN, "HandleplanOffered", "2026-01-21"),
    fact(CTI, "VisitationDecided", "2026-01-22", method="CTI", team="t1", assessment_done=True, fits_target_group=True),
    fact(CTI, "CourseStarted", "2026-01-25", support_worker="w1"),
    fact(CTI, "HandleplanCreated", "2026-01-26"),
    fact(CTI, "CtiPhaseStarted", "2026-01-25", phase="contact"),
    fact(CTI, "CtiPhaseStarted", "2026-02-05", phase="1"),
    fact(CTI, "CtiPhaseStartCorrected", "2026-02-04", phase="1"),
    fact(CTI, "CourseStartCorrected", "2026-01-24"),
    fact(CTI, "TimePlanned", "2026-02-04", cti_phase="1", expected_hours=30),
    fact(
        CTI, "ExpectedProgressionSet", "2026-02-04", instrument="WHO5", checkpoints=[{"on": "2026-05-04", "value": 52}]
    ),
    fact(CTI, "ContactRecorded", "2026-02-06", minutes=75, kind="face_to_face"),
    fact(CTI, "MeasurementRecorded", "2026-02-06", instrument="WHO5", answers=[2, 3, 2, 1, 2]),
    fact(CTI, "SupportWorkerChanged", "2026-02-07", support_worker="w3", reason="barsel"),
    fact(CITIZEN, "HomeOfferedViaAllocationRight", "2026-02-08", accepted=True),
    fact(CITIZEN, "ShelterStayEnded", "2026-02-10", discharge="planned", destination="almen"),
    fact(CITIZEN, "HousingGained", "2026-02-10", housing="almen"),
    fact(CITIZEN, "HandleplanRevised", "2026-03-01"),
    fact(CITIZEN, "HandleplanDeclined", "2026-03-02"),
    fact(CITIZEN, "IncomeTypeRecorded", "2026-03-03", income_type="kontanthjaelp"),
    fact(CITIZEN, "EmploymentStatusRecorded", "2026-03-03", status="unemployed", jobcentre_category="aktivitetsparat"),
    fact(CITIZEN, "SubstanceTreatmentStarted", "2026-03-04"),
    fact(CITIZEN, "SubstanceTreatmentEnded", "2026-03-20"),
    fact(CITIZEN, "ConsentGiven", "2026-03-05", scope="outcome_measurements"),
    fact(CITIZEN, "ConsentWithdrawn", "2026-03-06", scope="outcome_measurements"),
    fact(CITIZEN, "EvictionRiskRegistered", "2026-04-01", kind="second_rent_reminder"),
    fact(CITIZEN, "EvictionPrevented", "2026-04-10"),
    fact(CITIZEN, "EvictionRiskRegistered", "2026-05-01", kind="bailiff_case"),
    fact(CITIZEN, "EvictionCarriedOut", "2026-05-20"),
    fact(CITIZEN, "HousingLost", "2026-05-20", reason="eviction"),
    fact(
        CTI,
        "CourseEnded",
        "2026-05-01",
        reason="needs_other_support",
        revisitation_method="ICM",
        follow_on_offer="nogen",
    ),
    fact(ICM, "VisitationDecided", "2026-05-01", method="ICM", team="t2"),
    fact(ICM, "CourseStarted", "2026-06-02", support_worker="w1"),
    fact(ICM, "TimePlanned", "2026-06-02", month="2026-06-01", expected_hours=12),
    fact(CITIZEN, "ReferralReceived", "2026-06-01", referral_id="h-2", source="relative", channel="written"),
    fact(CITIZEN, "ReferralAssessed", "2026-06-03", referral_id="h-2", in_target_group=True),
    fact(CITIZEN, "VisitationRefused", "2026-06-04", referral_id="h-2", method="ACT", reason="needs_less"),
    fact(OUTREACH, "VisitationDecided", "2026-06-05", method="OUTREACH", team="t2"),
    fact(OUTREACH, "CourseStarted", "2026-06-05", support_worker="w1"),
    fact(OUTREACH, "OutreachPhaseStarted", "2026-06-05", phase="contact_making"),
    fact(OUTREACH, "OutreachPhaseStarted", "2026-07-01", phase="bridging"),
    fact(OUTREACH, "CourseHandedOver", "2026-08-01", offer="sel85", provider="Bostøtten Nord"),
    fact(CTI, "FollowUpRecorded", "2026-11-02", months_after_end=6, keeps_own_housing="no"),
    fact(CITIZEN, "CitizenErased", "2026-11-20"),
]


def _withdrawing(facts: list[dict[str, Any]], fact_type: str) -> list[dict[str, Any]]:
    """The facts with a FactWithdrawn of the first `fact_type` right after it: its event id is the
    citizen's aggregate id and version (the citizen's how-manieth fact it is)."""
    at = next(n for n, f in enumerate(facts) if f["type"] == fact_type)
    original = facts[at]
    version = sum(1 for f in facts[: at + 1] if f.get("citizen_id") == original["citizen_id"])
    withdrawn = event_id(citizen_uuid(M, original["citizen_id"]), version)
    withdrawal = fact(
        {k: original[k] for k in ("municipality", "citizen_id", "course_id")},
        "FactWithdrawn",
        original["effective_date"],
        withdrawn_event_id=str(withdrawn),
        reason="registreret på den forkerte dag",
    )
    return [*facts[: at + 1], withdrawal, *facts[at + 1 :]]


FACTS = _withdrawing(FACTS, "ContactRecorded")


RULES = CITIZEN | {"citizen_id": "c-rules"}
# Facts that break a rule, name an unknown subject or are invalid, after one valid registration.
REFUSED: list[dict[str, Any]] = [
    fact(RULES, "CitizenRegistered", "2026-01-02"),
    fact(RULES, "ReferralAssessed", "2026-02-01", referral_id="h-0", in_target_group=False),
    fact(RULES, "ReferralReceived", "2026-02-01", referral_id="h-9", source="relative", channel="written"),
    fact(RULES, "ReferralReceived", "2026-02-02", referral_id="h-9", source="gp", channel="phone"),
    fact(RULES, "ReferralAssessed", "2026-01-31", referral_id="h-9", in_target_group=False),
    fact(
        RULES,
        "ReferralAssessed",
        "2026-02-03",
        referral_id="h-9",
        in_target_group=False,
        already_supported=False,
        referred_to="drop_in",
    ),
    fact(RULES, "ReferralAssessed", "2026-02-04", referral_id="h-9", in_target_group=True),
    fact(RULES, "HousingLost", "2026-02-01", reason="eviction"),
    fact(RULES, "UdredningStarted", "2026-02-01"),
    fact(RULES, "ShelterStayStarted", "2026-02-01", shelter="h"),
    fact(RULES, "ShelterStayStarted", "2026-02-02", shelter="h"),
    fact(RULES, "UdredningCompleted", "2026-02-02", recommended_housing="skaev"),
    fact(RULES, "ReleaseMeetingHeld", "2026-02-05", housing_agreed=True, support_agreed=False),
    fact(RULES, "ReleasePlanned", "2026-02-05", release_from="hospital", planned_release_on="2026-03-01"),
    fact(RULES, "ReleasePlanned", "2026-02-06", release_from="treatment", planned_release_on="2026-03-02"),
    fact(RULES, "ReleaseCompleted", "2026-02-04"),
    fact(RULES, "UdredningStarted", "2026-02-03"),
    fact(RULES, "UdredningStarted", "2026-02-04"),
    fact(RULES, "UdredningCompleted", "2026-02-02", recommended_housing="skaev"),
    fact(RULES, "VisitationRefused", "2026-02-05", referral_id="h-0", method="ICM", reason="no_capacity"),
    fact(RULES, "ReferralReceived", "2026-02-05", referral_id="h-8", source="gp", channel="phone"),
    fact(RULES, "VisitationRefused", "2026-02-06", referral_id="h-8", method="ICM", reason="no_capacity"),
    fact(RULES, "ReferralAssessed", "2026-02-07", referral_id="h-8", in_target_group=True),
    fact(RULES, "VisitationRefused", "2026-02-06", referral_id="h-8", method="ICM", reason="no_capacity"),
    fact(RULES, "VisitationRefused", "2026-02-08", referral_id="h-8", method="ICM", reason="no_capacity"),
    fact(RULES, "VisitationRefused", "2026-02-09", referral_id="h-8", method="ACT", reason="declined_by_citizen"),
    fact(RULES | {"course_id": "k-r"}, "VisitationDecided", "2026-02-05", method="ICM", team="t2"),
    fact(RULES | {"course_id": "k-r"}, "OutreachPhaseStarted", "2026-02-05", phase="contact_making"),
    fact(RULES | {"course_id": "k-r"}, "CourseHandedOver", "2026-02-05", offer="sel85"),
    fact(RULES | {"course_id": "k-r"}, "CourseStarted", "2026-02-06"),
    fact(RULES | {"course_id": "k-r"}, "CourseHandedOver", "2026-02-07", offer="sel85"),
    fact(RULES | {"course_id": "k-r"}, "CourseHandedOver", "2026-02-08", offer="treatment"),
    fact(RULES | {"course_id": "nope"}, "CourseStarted", "2026-02-01"),
    fact(CITIZEN | {"citizen_id": "nobody"}, "HousingGained", "2026-02-01", housing="almen"),
    fact(ORG, "WorkerRegistered", "2026-01-02", worker_id="w9", team_id="no-team", role="support_worker"),
    fact(CTI | {"citizen_id": "c-rules"}, "CtiPhaseStarted", "2026-02-01", phase="4"),
    fact(RULES, "HousingSituationRecorded", "2026-02-01", housing="castle"),
    fact(RULES | {"course_id": "k"}, "MeasurementRecorded", "2026-02-01", instrument="WHO5", answers=[5, 5, 6, 5, 5]),
    fact(RULES, "HousingSituationRecorded", "2099-01-01", housing="street"),
]
REFUSED_ANSWERS = [
    (201, None),
    (409, "referral_not_found"),
    (201, None),
    (409, "referral_already_exists"),
    (409, "referral_assessed_before_received"),
    (201, None),  # not in the target group: referred on to a drop-in centre
    (409, "referral_already_assessed"),
    (409, "not_housed"),
    (409, "no_open_shelter_stay"),  # Udredning og Plan only during a §110 stay
    (201, None),
    (409, "shelter_stay_already_open"),
    (409, "no_udredning_started"),
    (409, "no_release_planned"),
    (201, None),
    (409, "release_already_planned"),
    (409, "before_release_planned"),
    (201, None),
    (409, "udredning_already_started"),
    (409, "udredning_completed_before_started"),
    (409, "referral_not_found"),  # a visitation refused after a referral never received
    (201, None),
    (409, "referral_not_assessed"),
    (201, None),
    (409, "visitation_refused_before_assessed"),
    (201, None),  # refused: the need is met by less
    (409, "visitation_already_refused"),
    (201, None),
    (409, "not_an_outreach_course"),  # outreach phases only in an OUTREACH course
    (409, "course_not_started"),
    (201, None),
    (201, None),  # handed over to §85 home support
    (409, "course_already_handed_over"),
    (404, "course_not_found"),
    (404, "citizen_not_found"),
    (404, "team_not_found"),
    (422, "validation_error"),
    (422, "validation_error"),
    (422, "validation_error"),
    (422, "validation_error"),
]


MISSING = {
    "/v1/citizens/nobody/history": "citizen_not_found",
    "/v1/citizens/c-all/courses/nope/history": "course_not_found",
    "/v1/teams/nope/history": "team_not_found",
    "/v1/workers/nope/history": "worker_not_found",
    "/v1/municipalities/147/history": "municipality_forbidden",
}


# Survey definitions and answers have no history endpoint: an answer's set must not be read alone
# (docs/surveys.md §3); the definitions are served by projections' GET /v1/surveys.
UNREAD = {"SurveyAnswered", "SurveyDefined"}


def history_path(submitted: dict[str, Any]) -> str:
    kind = submitted["type"]
    if kind in UNREAD:
        return ""
    if kind in ("TeamRegistered", "PartnerMeetingHeld"):
        return f"/v1/teams/{submitted.get('team_id') or submitted['team']}/history"
    if kind == "TeamRegistered":
        return f"/v1/teams/{submitted['team_id']}/history"
    if kind.startswith("Worker"):
        return f"/v1/workers/{submitted['worker_id']}/history"
    if kind == "HousingStockReported":
        return f"/v1/municipalities/{M}/history"
    if submitted.get("course_id") and kind != "HandleplanCreated":
        return f"/v1/citizens/{submitted['citizen_id']}/courses/{submitted['course_id']}/history"
    return f"/v1/citizens/{submitted['citizen_id']}/history"


@pytest.fixture(scope="module")
def recorded(postgres_admin_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Submits every fact, one request each, then reads every history; one service for the module."""
    work = tmp_path_factory.mktemp("facts")
    nats_server = EmbeddedNats(Path(work) / "nats")
    nats_server.start()
    provision_streams(nats_server.url)  # the operator's work: the services only look the streams up
    system = System(database_url=create_database(postgres_admin_url), nats_url=nats_server.url, work_dir=work / "logs")
    try:
        system.start("registration")
        receipts = []
        with system.client("registration") as client:
            for submitted in FACTS:
                response = client.post("/v1/facts", json=submitted)
                assert response.status_code == 201, (submitted, response.text)
                receipts.append(response.json())
            refused = [client.post("/v1/facts", json=f) for f in REFUSED]
            missing = [client.get(path, params={"municipality": M}) for path in MISSING]
            histories = {
                path: client.get(path, params={"municipality": M}).json()
                for path in {history_path(s) for s in FACTS} - {""}
            }
        yield {"receipts": receipts, "histories": histories, "refused": refused, "missing": missing}
    finally:
        system.stop()
        nats_server.stop()


def test_the_facts_cover_the_whole_catalogue() -> None:
    assert {f["type"] for f in FACTS} == {t.__name__ for t in FACT_TYPES}
    assert len(FACT_TYPES) == 55


@pytest.mark.parametrize("fact_type", [t.__name__ for t in FACT_TYPES])
def test_each_fact_type_is_recorded_and_read_back(recorded: dict[str, Any], fact_type: str) -> None:
    for submitted, receipt in zip(FACTS, recorded["receipts"], strict=True):
        if submitted["type"] != fact_type:
            continue
        assert receipt["type"] == fact_type and receipt["position"] >= 1
        if fact_type in UNREAD:
            continue
        events = recorded["histories"][history_path(submitted)]["events"]
        [event] = [e for e in events if e["event_id"] == receipt["event_id"]]
        assert event["fact"]["type"] == fact_type
        assert event["fact"]["effective_date"] == submitted["effective_date"]
        assert datetime.fromisoformat(event["recorded_at"]) == datetime.fromisoformat(receipt["recorded_at"])
        assert event["recorded_by"] == "fagsystem-101"
        assert event["schema_version"] >= 1
        for name, value in submitted.items():
            if name not in ("vacant_cheap_homes", "checkpoints"):  # nested: compared as dumped
                assert event["fact"][name] == value, name


def test_broken_rules_unknown_subjects_and_invalid_input_over_http(recorded: dict[str, Any]) -> None:
    answers = recorded["refused"]
    assert [(a.status_code, a.json().get("error", {}).get("reason")) for a in answers] == REFUSED_ANSWERS
    not_housed = answers[REFUSED_ANSWERS.index((409, "not_housed"))].json()["error"]
    not_received = answers[REFUSED_ANSWERS.index((409, "referral_not_found"))].json()["error"]
    assert not_received["message_da"] == "Borgeren har ingen henvendelse med dette id."
    assert not_housed["message_da"].startswith("Bolig kan kun mistes")
    assert not_housed["message"] == "Housing can be lost only while the citizen is housed."
    fields = [[f["field"] for f in a.json()["error"]["fields"]] for a in answers[-4:]]
    assert fields == [
        ["CtiPhaseStarted.phase"],
        ["HousingSituationRecorded.housing"],
        ["MeasurementRecorded.answers"],
        ["HousingSituationRecorded.effective_date"],
    ]
    assert "item 3 = 6 is outside 0-5" in answers[-2].json()["error"]["fields"][0]["problem"]


def test_unknown_subjects_have_no_history(recorded: dict[str, Any]) -> None:
    reasons = [answer.json()["error"]["reason"] for answer in recorded["missing"]]
    assert reasons == list(MISSING.values())
    assert [a.status_code for a in recorded["missing"]] == [404, 404, 404, 404, 403]
