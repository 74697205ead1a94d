"""Hostile input: every HTTP endpoint of the three services, fuzzed from its own OpenAPI document
(schemathesis, property-based), against the real service processes with valid tokens. Whatever is
sent, the answer is never a 5xx and never a hang. Short by default; CASETRACK_LONG=1 runs more
examples per endpoint."""

import os
from collections.abc import Iterator

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode

from tests.support import SecuredNats, System, create_database

pytestmark = pytest.mark.integration

EXAMPLES = 200 if os.environ.get("CASETRACK_LONG") == "1" else 15
TOKEN = {"registration": "token-101", "projections": "token-101", "alerts": "token-admin"}
HYPOTHESIS = settings(
    max_examples=EXAMPLES,
    deadline=None,  # a slow answer is measured by the request timeout below, not by hypothesis
    suppress_health_check=list(HealthCheck),
    derandomize=True,  # the same examples every run: a red CI is reproducible
    database=None,
)


@pytest.fixture(scope="module")
def fuzzed_system(postgres_admin_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    work = tmp_path_factory.mktemp("fuzz")
    nats_server = SecuredNats(work / "nats")
    nats_server.start()
    system = System(
        database_url=create_database(postgres_admin_url),
        nats_url=nats_server.url,
        work_dir=work / "logs",
        nats_env=nats_server.service_env(),
    )
    try:
        yield system.start()
    finally:
        system.stop()
        nats_server.stop()


def fuzz(system: System, service: str) -> None:
    """Every operation of `service`: valid-looking and invalid examples, each must get a non-5xx
    answer within the timeout. Failures are collected over all operations, then reported."""
    url = system.services[service].url
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        strategies = [operation.as_strategy(generation_mode=GenerationMode.POSITIVE)]
        try:
            strategies.append(operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))
        except Exception:  # an operation whose input cannot be made invalid (no parameters)
            pass

        streaming = operation.path.endswith("/stream")  # server-sent events: open by design

        @HYPOTHESIS
        @given(case=st.one_of(strategies))
        def examples(case) -> None:  # noqa: ANN001
            headers = {"Authorization": f"Bearer {TOKEN[service]}"}
            if streaming:  # the status and headers must come in time; the stream itself stays open
                with httpx.stream(
                    "GET",
                    url + case.formatted_path,
                    params=case.query,
                    headers={k: str(v) for k, v in (case.headers or {}).items()} | headers,
                    timeout=10,
                ) as response:
                    assert response.status_code < 500, (case.query, response.status_code)
                return
            response = case.call(base_url=url, headers=headers, timeout=10)  # a hang fails too
            case.validate_response(response, checks=[not_a_server_error])

        try:
            examples()
        except Exception as exc:
            failures.append(f"{operation.label}: {exc!s:.2000}")

    assert operations >= 3
    assert failures == [], "\n\n".join(failures)


@pytest.mark.parametrize("service", ["registration", "projections", "alerts"])
def test_endpoints_never_fail_or_hang_on_hostile_input(fuzzed_system: System, service: str) -> None:
    fuzz(fuzzed_system, service)


def test_batch_over_the_limit_is_refused_whole_with_413(fuzzed_system: System) -> None:
    import asyncio
    import json

    from services.registration.submission import MAX_BATCH
    from tests.test_registration_privacy import nats_request

    fact = {
        "type": "CitizenRegistered",
        "municipality": "101",
        "citizen_id": "too-many",
        "effective_date": "2026-03-01",
    }
    batch = {"facts": [fact] * (MAX_BATCH + 1)}
    with fuzzed_system.client("registration") as client:
        response = client.post("/v1/facts/batch", json=batch)
    assert response.status_code == 413
    assert response.json()["error"]["reason"] == "batch_too_large"

    answer = asyncio.run(
        nats_request(fuzzed_system.nats_url, json.dumps(batch).encode(), {"Authorization": "Bearer token-101"})
    )
    assert (answer["status"], answer["body"]["error"]["reason"]) == (413, "batch_too_large")
    with fuzzed_system.client("registration") as client:
        history = client.get("/v1/citizens/too-many/history", params={"municipality": "101"})
    assert history.status_code == 404  # nothing of either batch was stored


def test_found_by_fuzzing_a_clock_far_from_today_is_refused_not_a_500(fuzzed_system: System) -> None:
    with fuzzed_system.client("alerts", "token-admin") as client:
        response = client.put("/v1/clock", json={"now": "0001-01-01T00:00:01+01:16"})
        assert response.status_code == 422, response.text
        assert client.get("/v1/alerts", params={"municipality": "101"}).status_code == 200
