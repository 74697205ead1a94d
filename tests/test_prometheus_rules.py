"""The operators' alert rules (deploy/prometheus-alerts.yml) do what they say: promtool runs the
cases of deploy/prometheus-alerts.test.yml, in which every rule fires at least once; and each
service's error series that a rule watches is there from the start, at 0, so the first burst of 503s
is an increase (backing_service_unavailable)."""

import subprocess
from pathlib import Path

import httpx
import pytest
import yaml

from tests.debian_packages import ensure_package
from tests.support import SecuredNats, System

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
RULES = DEPLOY / "prometheus-alerts.yml"
CASES = DEPLOY / "prometheus-alerts.test.yml"


@pytest.fixture(scope="module")
def promtool() -> str:
    return str(ensure_package("prometheus", "promtool"))


def test_the_rules_are_valid_and_their_cases_pass(promtool: str) -> None:
    checked = subprocess.run([promtool, "check", "rules", str(RULES)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = subprocess.run([promtool, "test", "rules", str(CASES)], capture_output=True, text=True, cwd=DEPLOY)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "SUCCESS" in tested.stdout + tested.stderr


def test_every_alert_rule_has_a_case_in_which_it_fires() -> None:
    rules = {r["alert"] for g in yaml.safe_load(RULES.read_text())["groups"] for r in g["rules"] if "alert" in r}
    firing = {
        case["alertname"]
        for test in yaml.safe_load(CASES.read_text())["tests"]
        for case in test.get("alert_rule_test", [])
        if case.get("exp_alerts")
    }
    assert rules and rules <= firing, f"no firing case for {sorted(rules - firing)}"


def test_promtool_catches_a_case_that_does_not_hold(promtool: str, tmp_path: Path) -> None:
    cases = yaml.safe_load(CASES.read_text())
    cases["rule_files"] = [str(RULES)]
    first = cases["tests"][0]["alert_rule_test"][0]  # backing_service_unavailable quiet before the burst
    first["eval_time"] = "4m"  # ...but it fires then
    (wrong := tmp_path / "wrong.test.yml").write_text(yaml.safe_dump(cases))
    assert subprocess.run([promtool, "test", "rules", str(wrong)], capture_output=True).returncode != 0


@pytest.mark.integration
def test_a_freshly_started_service_exports_its_unavailable_errors_at_zero(
    database_url: str, nats_server: SecuredNats, tmp_path: Path
) -> None:
    system = System(
        database_url=database_url,
        nats_url=nats_server.url,
        work_dir=tmp_path / "logs",
        nats_env=nats_server.service_env(),
        with_dashboard=True,
        extra_env={"CASETRACK_SIGNING_KEY": "metrics-test-signing-key-of-at-least-32-bytes"},
    )
    try:
        system.start()
        assert set(system.services) == {"registration", "projections", "alerts", "dashboard"}
        for name, service in system.services.items():
            lines = httpx.get(f"{service.url}/metrics", timeout=10).text.splitlines()
            line = f'casetrack_errors_total{{kind="unavailable",service="{name}"}} 0.0'
            assert line in lines, f"{name}: {[m for m in lines if 'errors_total' in m]}"
    finally:
        system.stop()


async def test_a_503_for_an_unreachable_backing_service_is_counted_and_one_for_configuration_not() -> None:
    from fastapi import FastAPI

    from runtime.audit import audit_unavailable
    from runtime.errors import install_error_handlers
    from runtime.metrics import ERRORS, UNAVAILABLE
    from services.registration.availability import unavailable
    from services.registration.masterkeys import master_key_missing

    app = FastAPI()
    install_error_handlers(app, "counting-test")
    refusals = {"/store": unavailable, "/audit": audit_unavailable, "/config": master_key_missing}

    @app.get("/{name}")
    async def refuse(name: str) -> None:
        raise refusals[f"/{name}"]()

    counter = ERRORS.labels("counting-test", UNAVAILABLE)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        before = counter._value.get()
        assert (await client.get("/store")).status_code == 503
        assert (await client.get("/audit")).status_code == 503
        assert counter._value.get() == before + 2
        assert (await client.get("/config")).status_code == 503
        assert counter._value.get() == before + 2
