"""The dashboard's Organisation page in a real browser (docs/surveys.md): a support worker answers
a staff survey round through the form; the team's profile stays hidden until five have answered,
then shows the team's means; the team leader sees it beside the team's outcome figures."""

from collections.abc import Iterator
from datetime import date

import pytest

from contracts.surveys import STAFF
from runtime.auth import SessionSigner, principal_from
from tests.support import System
from tests.test_dashboard_browser import SIGNING_KEY, Visit, chromium, dashboard_system

pytestmark = pytest.mark.integration

TEAM = "team-org"
WORKERS = [f"medarbejder-{n}" for n in range(1, 6)]
USERS = {
    name: {"role": "support_worker", "municipality": "101", "team": TEAM, "worker": f"w-org-{n}"}
    for n, name in enumerate(WORKERS, 1)
} | {
    "leder-org": {"role": "team_leader", "municipality": "101", "team": TEAM, "worker": "leder-org"},
    "chef-org": {"role": "manager", "municipality": "101"},
}
PASSWORDS = {name: f"kode-{name}" for name in USERS}
ROUND = f"{date.today().year}-H{1 if date.today().month <= 6 else 2}"


@pytest.fixture(scope="module")
def running(postgres_admin_url: str) -> Iterator[System]:
    with dashboard_system(postgres_admin_url, "casetrack-organisation-", USERS, PASSWORDS) as system:
        receipt = system.submit(
            {
                "type": "TeamRegistered",
                "municipality": "101",
                "effective_date": "2026-01-05",
                "team_id": TEAM,
                "name": "Organisationsteamet",
                "methods": ["ICM"],
            }
        )
        system.wait_applied("projections", receipt["position"])
        yield system


class Person(Visit):
    passwords = PASSWORDS


@pytest.fixture(scope="module")
def browser(running: System) -> Iterator[object]:
    with chromium() as browser:
        yield browser


def _answer_by_api(system: System, user: str, value: int) -> int:
    token = SessionSigner(SIGNING_KEY.encode()).issue(principal_from(USERS[user], name=user))
    with system.client("registration", token) as client:
        response = client.post(
            "/v1/surveys/answers",
            json={
                "municipality": "101",
                "survey": "staff",
                "version": 1,
                "round": ROUND,
                "answers": {item.id: value for item in STAFF.items},
            },
        )
    assert response.status_code == 201, response.text
    return response.json()["position"]


def test_a_worker_answers_a_round_and_the_profile_appears_once_five_have(browser: object, running: System) -> None:
    worker = Person(browser, running)
    try:
        worker.login(WORKERS[0])
        worker.open("#/organisation")
        page = worker.page
        assert page.locator("#nav-organisation").get_attribute("aria-current") == "page"
        assert page.locator("#survey-select").input_value() == "staff:1"
        assert page.locator("#round-input").input_value() == ROUND
        for item in STAFF.items:
            page.check(f"fieldset[data-item='{item.id}'] input[value='4']")
        worker.assert_accessible()
        page.click("#answer-submit")
        page.locator("#answer-message.ok").wait_for()
        assert "gemt" in page.locator("#answer-message").inner_text()
        # One answer: the team's round is there, but hidden.
        page.wait_for_selector(f"p.suppressed[data-team='{TEAM}']")
        assert page.locator("table.profile").count() == 0
        worker.screenshot("organisation-one-answer")
        # Answering again is refused, with the reason in words.
        for item in STAFF.items:
            page.check(f"fieldset[data-item='{item.id}'] input[value='2']")
        page.click("#answer-submit")
        page.locator("#answer-message.error").wait_for()
        assert "allerede" in page.locator("#answer-message").inner_text()

        # Four colleagues answer: 5, 4, 2 and 3 to every item.
        last = max(_answer_by_api(running, user, value) for user, value in zip(WORKERS[1:], (5, 4, 2, 3), strict=True))
        running.wait_applied("projections", last)
        page.reload()
        page.wait_for_selector("main[data-ready='true']")
        table = page.locator(f"table.profile[data-team='{TEAM}'][data-round='{ROUND}']")
        table.wait_for()
        # (4 + 5 + 4 + 2 + 3) / 5 = 18 / 5 = 3.6 in every dimension; 4, 5 and 4 agree: 3 of 5 = 60 %.
        assert table.locator("tr.overall td.mean").inner_text() == "3,6"
        assert "60" in table.locator("tr.overall td").nth(1).inner_text()
        assert table.locator("caption").inner_text().endswith("Besvarelser: 5")
        worker.screenshot("organisation-five-answers")
    finally:
        worker.close()

    leader = Person(browser, running)
    try:
        leader.login("leder-org")
        leader.open("#/organisation")
        leader.page.locator(f"table.profile[data-team='{TEAM}']").wait_for()
        assert leader.page.locator("#outcome-figures dt").count() >= 1  # beside the team's outcome figures
        assert "null" not in leader.page.locator("main").inner_text()
        leader.assert_accessible()
        leader.screenshot("organisation-team-leader")
    finally:
        leader.close()


def test_the_manager_sees_every_team_and_answers_for_the_municipality(browser: object, running: System) -> None:
    manager = Person(browser, running)
    try:
        manager.login("chef-org")
        manager.page.goto("/#/organisation")
        manager.page.wait_for_selector("main[data-ready='true'], main .error")
        assert manager.page.locator("main .error").all_inner_texts() == []
        assert manager.page.locator("#survey-select").input_value() == "maturity:1"
        assert "null" not in manager.page.locator("main").inner_text()
    finally:
        manager.close()
