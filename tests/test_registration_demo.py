"""`casetrack demo` for one municipality over 24 months: a plausible history, accepted without
errors through the public API, with no CPR number stored anywhere."""

import statistics
from collections import Counter

import pytest

from casetrack import cli, demo
from tests.support import System
from tests.test_registration_privacy import scan_system_for_cprs

pytestmark = pytest.mark.integration

CITIZENS = 40


def test_demo_over_24_months_is_accepted_plausible_and_keeps_no_cpr(system: System) -> None:
    system.start()
    url = system.services["registration"].url
    args = [
        "demo",
        "--url",
        url,
        "--token",
        "token-101",
        "--municipality",
        "101",
        "--months",
        "24",
        "--citizens",
        str(CITIZENS),
        "--seed",
        "7",
    ]
    assert cli.main(args) == 0  # every fact accepted

    facts = demo.generate("101", citizens=CITIZENS, months=24, seed=7)  # what the command sent
    kinds = Counter(f["type"] for f in facts)
    assert kinds["CitizenRegistered"] == CITIZENS
    assert {
        "TeamRegistered",
        "WorkerRegistered",
        "WorkerMovedTeam",
        "WorkerLeft",
        "HousingStockReported",
        "ShelterStayStarted",
        "CtiPhaseStarted",
        "TimePlanned",
        "ContactRecorded",
        "MeasurementRecorded",
        "HousingGained",
        "CourseEnded",
        "FollowUpRecorded",
        "HandleplanCreated",
        "UdredningStarted",
        "UdredningCompleted",
        "ReleasePlanned",
        "ReleaseMeetingHeld",
        "ReleaseCompleted",
        "ReferralReceived",
        "ReferralAssessed",
        "OutreachPhaseStarted",
        "CourseHandedOver",
    } <= set(kinds)
    # Every method of issue 17: outreach courses (§99) with their phases and Recovery Star.
    outreach = {f["course_id"] for f in facts if f["type"] == "VisitationDecided" and f["method"] == "OUTREACH"}
    assert outreach and {f["course_id"] for f in facts if f["type"] == "OutreachPhaseStarted"} <= outreach
    assert any(f.get("instrument") == "RECOVERY_STAR" and f["course_id"] in outreach for f in facts)
    methods = Counter(f["method"] for f in facts if f["type"] == "VisitationDecided")
    courses = sum(methods.values())
    assert 0.3 <= methods["ICM"] / courses <= 0.75 and methods["ACT"] / courses <= 0.35 and methods["CTI"] > 0
    housed = {f.get("citizen_id") or f.get("cpr") for f in facts if f["type"] == "HousingGained"}
    assert 0.5 <= len(housed) / CITIZENS <= 0.95
    minutes = [f["minutes"] for f in facts if f["type"] == "ContactRecorded" and f["kind"] == "face_to_face"]
    assert 30 <= statistics.median(minutes) <= 120
    cprs = sorted({f["cpr"] for f in facts if "cpr" in f})
    assert len(cprs) >= 5  # a third of the citizens arrive with a CPR number

    with system.client("registration") as client:
        stock = client.get("/v1/municipalities/101/history", params={"municipality": "101"}).json()
        assert len(stock["events"]) == kinds["HousingStockReported"] >= 7
        # Loading again is recognised; retried batches would be stored once (idempotency keys).
        assert demo.loaded(url, "token-101", "101")
    scan_system_for_cprs(system, cprs, last_position=len(facts))  # one event per accepted fact
