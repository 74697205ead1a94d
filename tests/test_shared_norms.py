"""A norm a municipality configures for an alert rule is the norm its KPIs use (contracts/rule_config.py):
P7 and `caseload_over_norm` share the caseload norms, P3 and `cti_course_overdue` a CTI course's length.
Real services on a real nats-server and PostgreSQL."""

import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.support import System, course_facts

pytestmark = pytest.mark.integration

MANAGER, LEADER = "token-manager-101", "token-leader-101"


def _eventually(read: Callable[[], Any], expected: Any, timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if value == expected or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


def _p7(system: System) -> dict[str, Any]:
    with system.client("projections", MANAGER) as client:
        response = client.get("/v1/kpis/P7", params={"municipality": "101", "on": "2025-06-01"})
    assert response.status_code == 200, response.text
    values = response.json()["values"]
    return {"norm": values["ICM.norm"], "over": values["ICM.workers_over_norm"]}


def _p3(system: System) -> tuple[int, int]:
    with system.client("projections", MANAGER) as client:
        response = client.get("/v1/kpis/P3", params={"municipality": "101", "from": "2025-01-01", "to": "2025-12-31"})
    assert response.status_code == 200, response.text
    return response.json()["numerator"], response.json()["denominator"]


def _caseload_alerts(system: System) -> list[str]:
    with system.client("alerts", LEADER) as client:
        response = client.get("/v1/alerts", params={"municipality": "101", "rule": "caseload_over_norm"})
    assert response.status_code == 200, response.text
    return [alert["subject_id"] for alert in response.json()["alerts"]]


def _configure(system: System, rule: str, params: dict[str, float]) -> None:
    with system.client("alerts", MANAGER) as client:
        response = client.put(f"/v1/rules/{rule}/config", params={"municipality": "101"}, json={"params": params})
    assert response.status_code == 200, response.text


def test_a_configured_caseload_norm_is_the_norm_of_kpi_p7_and_of_the_alert(system: System) -> None:
    system.start()
    facts: list[dict[str, Any]] = []
    for n in range(3):  # three ICM courses for one worker: within the default norm of 8
        facts += course_facts("101", f"c{n}", f"k{n}", "ICM", "2025-03-01")
        facts[-1]["support_worker"] = "w-anna"
    positions = [system.submit(fact)["position"] for fact in facts]
    system.wait_applied("projections", positions[-1])
    system.wait_applied("alerts", positions[-1])
    assert _p7(system) == {"norm": 8, "over": 0}
    assert _caseload_alerts(system) == []

    _configure(system, "caseload_over_norm", {"icm": 2})

    assert _eventually(lambda: _p7(system), {"norm": 2, "over": 1}) == {"norm": 2, "over": 1}
    assert _eventually(lambda: _caseload_alerts(system), ["w-anna"]) == ["w-anna"]

    _configure(system, "caseload_over_norm", {})  # back to the default: both agree again
    assert _eventually(lambda: _p7(system), {"norm": 8, "over": 0}) == {"norm": 8, "over": 0}


def test_a_configured_cti_course_length_decides_kpi_p3_as_it_decides_the_alert(system: System) -> None:
    system.start()
    facts = course_facts("101", "c-cti", "k-cti", "CTI", "2025-01-06")
    base = {"municipality": "101", "citizen_id": "c-cti", "course_id": "k-cti"}
    facts += [
        base | {"type": "CtiPhaseStarted", "effective_date": "2025-01-06", "phase": "1"},
        base | {"type": "CourseEnded", "effective_date": "2025-08-04", "reason": "completed"},  # after 7 months
    ]
    positions = [system.submit(fact)["position"] for fact in facts]
    system.wait_applied("projections", positions[-1])
    assert _p3(system) == (1, 1)  # 7 months is before the default 9

    _configure(system, "cti_course_overdue", {"months": 6})

    assert _eventually(lambda: _p3(system), (0, 1)) == (0, 1)  # a 6-month course that ran 7 is not early
