"""The §110 stays file re-identified with CPR numbers: only inside registration, only for the
administrator, every citizen's re-identification audited, and no CPR number left in any table,
stream (events, alerts, audit) or log afterwards."""

import asyncio
import json

import pytest

from contracts.audit import AUDIT_STREAM
from tests.support import System
from tests.test_pipeline import stream_messages
from tests.test_registration_privacy import cpr_facts, cpr_findings, everything_stored

pytestmark = pytest.mark.integration

CPR = "020385-1234"
STAY = {
    "municipality": "101",
    "cpr": CPR,
    "type": "ShelterStayStarted",
    "effective_date": "2026-03-12",
    "shelter": "sh-1",
}


def test_only_the_administrator_reidentifies_the_stays_file_audited_and_nothing_keeps_the_cpr(system: System) -> None:
    system.start()
    with system.client("registration") as client:
        receipts = [client.post("/v1/facts", json=f).json() for f in [*cpr_facts(CPR, "k-1"), STAY]]
    pseudonym = receipts[0]["citizen_id"]
    assert pseudonym.startswith("p-")
    system.wait_applied("projections", max(r["position"] for r in receipts), timeout=60)
    with system.client("projections", "token-manager-101") as manager:
        stays = manager.get("/v1/exports/shelter-stays", params={"municipality": "101", "quarter": "2026-03-12"}).json()
    assert [r["citizen"] for r in stays["rows"]] == [pseudonym]  # the file is keyed by pseudonym
    body = {"version": stays["version"], "rows": stays["rows"]}
    path, params = "/v1/exports/shelter-stays/reidentify", {"municipality": "101"}

    # Every role but the administrator is refused, the case system included.
    for token in ("token-101", "token-worker-101", "token-leader-101", "token-manager-101"):
        with system.client("registration", token) as client:
            refused = client.post(path, params=params, json=body)
        assert refused.status_code == 403, token
        assert CPR not in refused.text

    with system.client("registration", "token-admin") as admin:
        answer = admin.post(path, params=params, json=body).json()
        csv_answer = admin.post(path, params=params | {"csv": "true"}, json=body)
        reads = admin.get("/v1/audit/reads", params={"municipality": "101"}).json()["reads"]
    # The rows come back with the CPR number beside the pseudonym, the rest unchanged.
    assert answer["rows"] == [stays["rows"][0] | {"cpr": CPR}]
    assert CPR in csv_answer.text and pseudonym in csv_answer.text
    # Each answer is on the audit trail: who, which citizen (by pseudonym), which file.
    audited = [r for r in reads if r["action"] == "reidentify_shelter_stays"]
    assert [(r["actor"], r["subject_type"], r["subject_id"]) for r in audited] == [("admin", "citizen", pseudonym)] * 2
    assert all(r["filter"] == {"version": "shelter-stays/1"} for r in audited)

    # Nothing kept the CPR number: the event store, every table, the streams (the audit trail's
    # too) and every service log.
    blobs = everything_stored(system)
    audit = asyncio.run(stream_messages(system.nats_url, AUDIT_STREAM))
    blobs[f"stream {AUDIT_STREAM}"] = b"\n".join(m.data + json.dumps(m.headers or {}).encode() for m in audit)
    assert blobs[f"stream {AUDIT_STREAM}"] and blobs["registration_events"]
    assert cpr_findings(blobs, [CPR]) == []
