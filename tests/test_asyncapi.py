"""The AsyncAPI document of the bus (contracts/asyncapi.yaml): it is the one the contracts make, the
AsyncAPI CLI finds it valid, and a real message of every channel, captured off a running system,
fits the schema the document gives it (payload and headers)."""

import asyncio
import copy
import json
import re
import shutil
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import nats
import pytest
import yaml
from jsonschema import Draft202012Validator

from casetrack import asyncapi_cli
from contracts.asyncapi import DOCUMENT, payload_schema, render
from contracts.submission import FACTS_SUBMIT_SUBJECT
from tests.support import SecuredNats, System, course_facts

MESSAGES = ("factSubmission", "submitReply", "event", "alert", "auditEntry", "ruleConfig")


def load() -> dict[str, Any]:
    return yaml.safe_load(DOCUMENT.read_text(encoding="utf-8"))


def validator(doc: dict[str, Any], message: str, part: str = "payload") -> Draft202012Validator:
    return Draft202012Validator(payload_schema(doc, message, part), format_checker=Draft202012Validator.FORMAT_CHECKER)


def test_the_committed_document_is_the_generated_one() -> None:
    assert DOCUMENT.read_text(encoding="utf-8") == render(), "run `python -m contracts.asyncapi`"


def test_every_channel_has_a_message_with_a_schema_that_is_not_anything() -> None:
    doc = load()
    addresses = {name: channel["address"] for name, channel in doc["channels"].items()}
    assert addresses == {
        "submitFacts": "casetrack.facts.submit",
        "submitFactsReply": None,
        "events": "casetrack.events.{municipality}.{type}",
        "alerts": "casetrack.alerts.{municipality}.{team}",
        "audit": "casetrack.audit.{service}.{municipality}.{subjectType}.{subjectId}",
        "ruleConfig": "casetrack.ruleconfig.{municipality}.{rule}",
    }
    assert set(doc["components"]["messages"]) == set(MESSAGES)
    for message in MESSAGES:
        check = validator(doc, message)
        assert not check.is_valid({}), f"{message}: an empty object passes its payload schema"
        assert not check.is_valid("anything"), message
    submit_headers = validator(doc, "factSubmission", "headers")
    assert submit_headers.is_valid({"Authorization": "Bearer t", "Idempotency-Key": "k-1"})
    assert not submit_headers.is_valid({"Idempotency-Key": "k-1"})  # Authorization is required
    assert doc["operations"]["submitFacts"]["reply"]["channel"] == {"$ref": "#/channels/submitFactsReply"}


def test_the_asyncapi_cli_finds_the_document_valid_and_a_broken_one_not(tmp_path: Path) -> None:
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed: no AsyncAPI CLI")
    result = asyncapi_cli.validate(DOCUMENT)
    assert result.returncode == 0, result.stdout + result.stderr
    broken = load()
    broken["operations"]["publishEvents"]["action"] = "publish"  # AsyncAPI 2's word, not 3's
    (broken_file := tmp_path / "broken.yaml").write_text(yaml.safe_dump(broken))
    assert asyncapi_cli.validate(broken_file).returncode != 0


# --- real messages --------------------------------------------------------------------------------


class Captured:
    """Every message the operator's connection hears on the bus, by subject."""

    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handler(self, message: Any) -> None:
        self.messages.append(message)

    def matching(self, pattern: str) -> list[Any]:
        return [m for m in self.messages if re.fullmatch(pattern, m.subject)]


def wait_for(captured: Captured, pattern: str, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = captured.matching(pattern)
        if found:
            return found[0]
        time.sleep(0.1)
    raise TimeoutError(f"no message on {pattern}: {[m.subject for m in captured.messages]}")


def address_pattern(doc: dict[str, Any], channel: str) -> str:
    """The channel's address as a regular expression: each {parameter} one subject token."""
    return re.sub(r"\\\{[A-Za-z]+\\\}", r"[^.]+", re.escape(doc["channels"][channel]["address"]))


def assert_fits(doc: dict[str, Any], message_name: str, message: Any, with_headers: bool = True) -> None:
    payload = json.loads(message.data)
    errors = [e.message for e in validator(doc, message_name).iter_errors(payload)]
    assert errors == [], f"{message_name} on {message.subject}: {errors}\n{payload}"
    if with_headers:
        headers = dict(message.headers or {})
        errors = [e.message for e in validator(doc, message_name, "headers").iter_errors(headers)]
        assert errors == [], f"{message_name} headers on {message.subject}: {errors}\n{headers}"
    # The check can fail: the same message without one of its required fields does not fit.
    required = validator(doc, message_name).schema.get("required") or _first_required(doc, message_name)
    if required:
        broken = copy.deepcopy(payload)
        broken.pop(required[0], None)
        assert not validator(doc, message_name).is_valid(broken)


def _first_required(doc: dict[str, Any], message_name: str) -> list[str]:
    ref = doc["components"]["messages"][message_name]["payload"].get("$ref", "")
    return doc["components"]["schemas"].get(ref.rsplit("/", 1)[-1], {}).get("required", [])


@pytest.mark.integration
def test_a_real_message_of_every_channel_fits_its_schema(system: System, nats_server: SecuredNats) -> None:
    doc = load()
    captured = Captured()
    system.start()
    loop = asyncio.new_event_loop()
    operator = loop.run_until_complete(nats.connect(nats_server.url, inbox_prefix="_INBOX.admin"))
    client = loop.run_until_complete(nats.connect(nats_server.url_for("client-101"), inbox_prefix="_INBOX.client-101"))
    try:
        for subject in (FACTS_SUBMIT_SUBJECT, "_INBOX.client-101.>", "casetrack.>"):
            loop.run_until_complete(operator.subscribe(subject, cb=captured.handler))
        loop.run_until_complete(operator.flush())

        # A submission over NATS, answered with a receipt, and one answered with the error body.
        start = (date.today() - timedelta(days=60)).isoformat()
        fact = course_facts("101", "c-asyncapi", "k-asyncapi", "ICM", start)[0]
        headers = {"Authorization": "Bearer token-101", "Idempotency-Key": "asyncapi-1"}
        receipt = loop.run_until_complete(
            client.request(FACTS_SUBMIT_SUBJECT, json.dumps(fact).encode(), timeout=30, headers=headers)
        )
        assert json.loads(receipt.data)["status"] == 201, receipt.data
        refused = loop.run_until_complete(
            client.request(FACTS_SUBMIT_SUBJECT, b"{}", timeout=30, headers={"Authorization": "Bearer wrong"})
        )
        assert json.loads(refused.data)["body"]["error"]["reason"] == "token_invalid"

        # The rest of a course started 60 days ago with no handleplan: an alert is due at once.
        for later in course_facts("101", "c-asyncapi", "k-asyncapi", "ICM", start)[1:]:
            system.submit(later)
        with system.client("registration") as registration:  # a read of a citizen's history: audited
            history = registration.get("/v1/citizens/c-asyncapi/history", params={"municipality": "101"})
            assert history.status_code == 200, history.text
        with system.client("alerts", "token-manager-101") as alerts:  # a rule's configuration changes
            put = alerts.put(
                "/v1/rules/handleplan_missing/config", params={"municipality": "101"}, json={"params": {"days": 20}}
            )
            assert put.status_code == 200, put.text

        for pattern in (
            "casetrack\\.events\\..+",
            "casetrack\\.alerts\\..+",
            "casetrack\\.ruleconfig\\..+",
            "casetrack\\.audit\\..+",
        ):
            deadline = time.monotonic() + 60
            while not captured.matching(pattern) and time.monotonic() < deadline:
                loop.run_until_complete(asyncio.sleep(0.1))
        request = wait_for(captured, re.escape(FACTS_SUBMIT_SUBJECT))
        replies = captured.matching(r"_INBOX\.client-101\..+")
    finally:
        loop.run_until_complete(client.close())
        loop.run_until_complete(operator.close())
        loop.close()

    assert_fits(doc, "factSubmission", request)
    assert {json.loads(r.data)["status"] for r in replies} == {201, 401}
    for reply in replies:  # the receipt and the error body
        assert_fits(doc, "submitReply", reply, with_headers=False)
    for channel, message_name in (
        ("events", "event"),
        ("alerts", "alert"),
        ("audit", "auditEntry"),
        ("ruleConfig", "ruleConfig"),
    ):
        message = wait_for(captured, address_pattern(doc, channel), timeout=1)
        assert_fits(doc, message_name, message, with_headers="headers" in doc["components"]["messages"][message_name])
