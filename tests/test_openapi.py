"""Each service's OpenAPI document is valid (openapi-spec-validator) and describes every answer:
a schema for each success, the shared error body for each refusal, the real media types of the
downloads and of the live stream, and the request fields validation requires as required. That the
services answer as their documents say is checked against the running services in tests/test_fuzz.py."""

from typing import Any

import pytest
from fastapi import FastAPI
from openapi_spec_validator import validate
from pydantic import ValidationError

from contracts.facts import fact_adapter
from runtime.settings import Settings
from services.dashboard.config import Config
from services.dashboard.users import Users

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _settings(service: str) -> Settings:
    return Settings(service=service, database_url="postgresql://unused/unused", nats_url="nats://unused:4222")


def _app(service: str) -> FastAPI:
    # Building an app starts nothing: its lifespan (database, bus) runs only when it is served.
    if service == "registration":
        from services.registration.bootstrap import create_app as registration

        return registration(_settings(service))
    if service == "projections":
        from services.projections.bootstrap import create_app as projections

        return projections(_settings(service))
    if service == "alerts":
        from services.alerts.bootstrap import create_app as alerts

        return alerts(_settings(service))
    from services.dashboard.bootstrap import create_app as dashboard

    return dashboard(Config(settings=_settings(service), upstreams={}, users=Users.from_json("{}")))


SERVICES = ["registration", "projections", "alerts", "dashboard"]


@pytest.fixture(scope="module", params=SERVICES)
def document(request: pytest.FixtureRequest) -> dict[str, Any]:
    return _app(request.param).openapi()


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method.upper(), path, op) for path, item in document["paths"].items() for method, op in item.items()]


def test_the_document_is_valid_openapi(document: dict[str, Any]) -> None:
    validate(document)  # raises on an invalid document, e.g. a duplicate operationId


def test_every_success_has_a_schema_or_a_real_media_type(document: dict[str, Any]) -> None:
    for method, path, op in operations(document):
        successes = {code: r for code, r in op["responses"].items() if code.startswith("2")}
        assert successes or "default" in op["responses"], (method, path)
        for code, response in successes.items():
            for media_type, content in response.get("content", {}).items():
                if media_type == "application/json":
                    schema = content["schema"]
                    assert schema != {} and schema.get("additionalProperties") is not True, (method, path, code)


def test_every_refusal_is_the_shared_error_body(document: dict[str, Any]) -> None:
    assert "HTTPValidationError" not in document["components"]["schemas"]  # FastAPI's, which is not what 422 is
    for method, path, op in operations(document):
        refusals = {code: r for code, r in op["responses"].items() if code[0] in "45"}
        assert {"401", "503"} <= set(refusals), (method, path)
        for code, response in refusals.items():
            assert response["content"] == {
                "application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}
            }, (method, path, code)


def test_an_endpoint_with_input_declares_422() -> None:
    for service in SERVICES:
        for method, path, op in operations(_app(service).openapi()):
            if op.get("parameters") or op.get("requestBody"):
                assert "422" in op["responses"] or "default" in op["responses"], (service, method, path)


def test_downloads_and_the_live_stream_have_their_media_types() -> None:
    projections = _app("projections").openapi()["paths"]
    for path in ("/v1/kpis/export", "/v1/kpis/{kpi_id}"):
        assert {"text/csv", XLSX} <= set(projections[path]["get"]["responses"]["200"]["content"]), path
    assert set(projections["/v1/kpis/export"]["get"]["responses"]["200"]["content"]) == {"text/csv", XLSX}
    stream = _app("alerts").openapi()["paths"]["/v1/alerts/stream"]["get"]["responses"]["200"]["content"]
    assert set(stream) == {"text/event-stream"}
    data = stream["text/event-stream"]["schema"]["properties"]["data"]
    assert data["contentMediaType"] == "application/json" and "rule" in data["contentSchema"]["properties"]


def test_a_facts_required_fields_are_required_in_its_schema() -> None:
    components = _app("registration").openapi()["components"]["schemas"]

    def request_schema(name: str) -> dict[str, Any]:  # "-Input" where the answer's schema differs
        return components.get(f"{name}-Input") or components[name]

    for name in ("CitizenRegistered", "ContactRecorded", "TeamRegistered"):
        assert "type" in request_schema(name)["required"], name
    # The schema says what validation (the union POST /v1/facts takes) does: no `type`, no fact.
    fact = {"municipality": "101", "citizen_id": "c-1", "effective_date": "2026-03-01"}
    with pytest.raises(ValidationError) as refused:
        fact_adapter.validate_python(fact)
    assert refused.value.errors()[0]["type"] == "union_tag_not_found"
    # A citizen fact carries exactly one of citizen_id and cpr: both, or neither, is refused.
    identity = [alternative["required"] for alternative in request_schema("CitizenRegistered")["oneOf"]]
    assert identity == [["citizen_id"], ["cpr"]]
    for wrong in ({}, {"citizen_id": "c-1", "cpr": "010180-1234"}):
        with pytest.raises(ValidationError):
            fact_adapter.validate_python(
                {"type": "CitizenRegistered", "municipality": "101", "effective_date": "2026-03-01"} | wrong
            )
