"""The course page's forms in a real browser (Chromium, Playwright) against the whole system: a
support worker records the facts of their own course and sees the double bottom line change; a
409 shows the rule's Danish reason and keeps what was typed; a retry after a lost answer stores
once; another worker's course has no forms and the API refuses its facts (issue 16)."""

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.support import System, course_facts
from tests.test_dashboard_browser import PASSWORDS, USERS, Visit, chromium, dashboard_system

pytestmark = pytest.mark.integration

MINE = "k-mine"  # w-icm-1's (medarbejder-101's) ICM course in team-icm
OTHERS = "k-other"  # w-icm-2's course in the same team: its plan makes the team's median
MONTH = date.today().replace(day=1)


@pytest.fixture(scope="module")
def running(postgres_admin_url: str) -> Iterator[System]:
    with dashboard_system(postgres_admin_url, "casetrack-forms-", USERS, PASSWORDS) as system:
        start = (date.today() - timedelta(days=40)).isoformat()
        facts = course_facts("101", "c-mine", MINE, "ICM", start, team="team-icm")
        facts[-1]["support_worker"] = "w-icm-1"
        facts += course_facts("101", "c-other", OTHERS, "ICM", start, team="team-icm")
        facts[-1]["support_worker"] = "w-icm-2"
        about_other = {"municipality": "101", "citizen_id": "c-other", "course_id": OTHERS, "effective_date": start}
        facts.append(about_other | {"type": "TimePlanned", "month": MONTH.isoformat(), "expected_hours": 8})
        last = [system.submit(fact) for fact in facts][-1]
        system.wait_applied("projections", last["position"])
        yield system


@pytest.fixture(scope="module")
def browser(running: System) -> Iterator[object]:
    with chromium() as browser:
        yield browser


@pytest.fixture
def visit(browser: object, running: System) -> Iterator[Visit]:
    visit = Visit(browser, running)
    try:
        yield visit
        visit.assert_own_host_only()
    finally:
        visit.close()


def _history(system: System, course: str, citizen: str) -> list[dict[str, Any]]:
    with system.client("registration", "token-admin") as admin:
        response = admin.get(f"/v1/citizens/{citizen}/courses/{course}/history", params={"municipality": "101"})
    return response.json()["events"]


def _this_month_row(visit: Visit) -> list[str]:
    """The hours table's row of this month: period, expected, actual, cum. expected, cum. actual, share."""
    for row in visit.page.locator("#hours-table tbody tr").all():
        cells = [c.inner_text().strip() for c in row.locator("th, td").all()]
        if cells and str(MONTH.year) in cells[0]:
            return cells
    raise AssertionError("no row for this month")


def _face_to_face_this_month(system: System) -> int:
    """KPI P4's face-to-face contacts of team-icm this month, as the team leader's figure has it."""
    params = {"municipality": "101", "team": "team-icm", "from": MONTH.isoformat(), "to": date.today().isoformat()}
    with system.client("projections", "token-admin") as admin:
        series = admin.get("/v1/kpis/P4", params=params | {"period": "month"}).json()["series"]
    return series[-1]["values"]["face_to_face_contacts"]


def _saved(visit: Visit, form: str) -> None:
    """After a save the page is drawn again from the APIs: wait for it and for the saved message."""
    visit.page.evaluate("document.getElementById('status').textContent = ''")
    visit.page.locator(f"#{form}-submit").click()
    visit.page.locator("#status").filter(has_text="Gemt").wait_for()
    visit.page.wait_for_selector("main[data-ready='true'] #course-forms")


def test_a_support_worker_fills_the_forms_of_their_course_and_sees_the_double_bottom_line_change(
    visit: Visit, running: System
) -> None:
    visit.login("medarbejder-101")
    visit.open(f"#/course/{MINE}")
    page = visit.page
    assert page.locator("#course-forms").is_visible()
    visit.assert_accessible()

    # Time: prefilled with the team's median, k-other's 8 hours (the only ICM plan of team-icm).
    expect(page.locator("#plan-hours")).to_have_value("8")
    assert "Teamets median: 8" in page.locator("#plan-median").inner_text()
    _saved(visit, "plan-form")
    assert _this_month_row(visit)[1:3] == ["8", "0"]

    # A contact in three clicks: the kind (face to face is chosen already, clicked anyway), 30 minutes, save.
    assert _face_to_face_this_month(running) == 0
    page.locator("#contact-kind-face_to_face").click()
    page.locator("#contact-minutes-30").click()
    _saved(visit, "contact-form")
    assert _face_to_face_this_month(running) == 1  # P4 counts it: team-icm's first face-to-face contact
    # 30 minutes = 0.5 hours of the 8 set aside: 0.5 / 8 = 6.25 %, shown as 6,3 %.
    row = _this_month_row(visit)
    assert row[1:3] == ["8", "0,5"] and row[5].replace("\xa0", " ") == "6,3 %"

    # Expected progression for WHO-5, then a WHO-5 measurement: the score is worked out as typed.
    page.locator("#progression-instrument").select_option("WHO5")
    page.locator("#progression-on-1").fill((date.today() + timedelta(days=90)).isoformat())
    page.locator("#progression-value-1").fill("60")
    _saved(visit, "progression-form")
    page.locator("#measurement-instrument").select_option("WHO5")
    for item, answer in zip(range(1, 6), (3, 4, 2, 3, 3), strict=True):
        page.locator(f"#measurement-item-{item}").fill(str(answer))
    # Raw 3 + 4 + 2 + 3 + 3 = 15, index 15 x 4 = 60.
    assert page.locator("#measurement-score").inner_text() == "Råscore: 15 · Indeks: 60"
    page.locator("#measurement-item-2").fill("7")  # outside 0-5: the API's rule, in Danish, at once
    assert "Spørgsmål 2 = 7 ligger uden for 0-5" in page.locator("#measurement-problems").inner_text()
    page.locator("#measurement-item-2").fill("4")
    _saved(visit, "measurement-form")
    progression = page.locator("#double-bottom-line").inner_text()
    assert "Progression: WHO-5 (trivsel)" in progression and "60" in progression

    # The facts are stored once each, recorded by the support worker.
    stored = [e for e in _history(running, MINE, "c-mine") if e["recorded_by"] == "medarbejder-101"]
    assert sorted(e["fact"]["type"] for e in stored) == [
        "ContactRecorded",
        "ExpectedProgressionSet",
        "MeasurementRecorded",
        "TimePlanned",
    ]
    visit.screenshot("course-forms")


def test_a_refusal_shows_the_rules_danish_reason_or_the_field_and_keeps_what_was_typed(visit: Visit) -> None:
    visit.login("medarbejder-101")
    visit.open(f"#/course/{MINE}")
    page = visit.page
    # A follow-up before the course has ended: the rule's 409, in Danish.
    page.locator("#follow-up-months-9").click()
    page.locator("#follow-up-answer-yes").click()
    page.locator("#follow-up-form-submit").click()
    message = page.locator("#follow-up-form-message")
    message.filter(has_text="Afvist").wait_for()
    assert message.inner_text() == "Afvist: Opfølgning registreres først efter forløbets afslutning."
    assert message.get_attribute("data-reason") == "course_not_ended"
    assert page.locator("#follow-up-months-9").is_checked() and page.locator("#follow-up-answer-yes").is_checked()

    # 5,000 minutes in a contact: the API's 422 marks the field; the number stays as typed.
    page.locator("#contact-other-minutes").fill("5000")
    page.locator("#contact-form-submit").click()
    page.locator("#contact-other-minutes[aria-invalid='true']").wait_for()
    assert page.locator("#contact-other-minutes").input_value() == "5000"
    assert page.locator("#contact-form-message").inner_text() == "Ugyldige data: se felterne."


def test_a_retried_submit_stores_once(visit: Visit, running: System) -> None:
    visit.login("medarbejder-101")
    visit.open(f"#/course/{MINE}")
    page = visit.page
    before = len([e for e in _history(running, MINE, "c-mine") if e["fact"]["type"] == "ContactRecorded"])
    keys: list[str] = []

    def lost_answer(route: Any) -> None:
        """The fact reaches registration and is stored, but its answer never reaches the browser."""
        keys.append(route.request.headers["idempotency-key"])
        route.fetch()
        route.abort()

    page.route("**/api/registration/v1/facts", lost_answer)
    page.locator("#contact-minutes-45").click()
    page.locator("#contact-form-submit").click()
    page.locator("#contact-form-message").filter(has_text="Intet svar").wait_for()
    page.unroute("**/api/registration/v1/facts")
    with page.expect_response("**/api/registration/v1/facts") as answer:
        page.locator("#contact-form-submit").click()  # the same request again, with the same key
    assert answer.value.status == 201 and answer.value.headers.get("idempotent-replayed") == "true"
    assert answer.value.request.headers["idempotency-key"] == keys[0]
    after = [e for e in _history(running, MINE, "c-mine") if e["fact"]["type"] == "ContactRecorded"]
    assert len(after) == before + 1 and after[-1]["fact"]["minutes"] == 45


def test_a_worker_cannot_open_the_forms_of_another_workers_course_and_the_api_refuses(visit: Visit) -> None:
    visit.login("medarbejder-101")
    page = visit.page
    page.goto(f"/#/course/{OTHERS}")
    page.locator("main p.error").wait_for()  # the double bottom line is refused: the page stops there
    assert page.locator("#course-forms").count() == 0
    assert "Din rolle har ikke adgang til dette." in page.locator("main").inner_text()
    # The API refuses such a fact whoever sends it past the page: 403, and nothing stored.
    answer = page.evaluate(
        """async () => {
            const response = await fetch("/api/registration/v1/facts", {
                method: "POST", credentials: "same-origin",
                headers: {"content-type": "application/json", "idempotency-key": "sneak-1"},
                body: JSON.stringify({type: "ContactRecorded", municipality: "101", citizen_id: "c-other",
                    course_id: "k-other", effective_date: new Date().toISOString().slice(0, 10),
                    minutes: 30, kind: "face_to_face"}),
            });
            return {status: response.status, body: await response.json()};
        }"""
    )
    assert (answer["status"], answer["body"]["error"]["reason"]) == (403, "forbidden")


def _actual_hours_this_month(system: System) -> float:
    with system.client("projections", "token-admin") as admin:
        line = admin.get(f"/v1/courses/{MINE}/double-bottom-line", params={"municipality": "101"}).json()
    return next(r["actual_hours"] for r in line["hours"] if r["unit"] == MONTH.strftime("%Y-%m"))


def test_a_wrong_contact_is_withdrawn_from_the_history_and_the_hours_follow(visit: Visit, running: System) -> None:
    visit.login("medarbejder-101")
    visit.open(f"#/course/{MINE}")
    page = visit.page
    before = _actual_hours_this_month(running)
    page.locator("#contact-other-minutes").fill("120")  # meant 12
    _saved(visit, "contact-form")
    assert _actual_hours_this_month(running) == before + 2  # 120 minutes = 2 hours more
    wrong = [e for e in _history(running, MINE, "c-mine") if e["fact"].get("minutes") == 120][-1]
    short = wrong["event_id"][:8]
    page.locator(f"#withdraw-{short}-open").click()
    page.locator(f"#withdraw-{short}-submit").click()  # no reason: refused on the page, nothing sent
    assert page.locator(f"#withdraw-{short}-message").inner_text() == "Skriv hvorfor."
    page.locator(f"#withdraw-{short}-reason").fill("120 i stedet for 12 minutter")
    _saved(visit, f"withdraw-{short}")
    assert _actual_hours_this_month(running) == before  # the 2 hours are gone again
    row = page.locator(f"#history-table tr[data-event='{wrong['event_id']}']")
    assert "trukket tilbage" in row.inner_text()
    withdrawal = [e for e in _history(running, MINE, "c-mine") if e["fact"]["type"] == "FactWithdrawn"][-1]
    assert withdrawal["fact"]["withdrawn_event_id"] == wrong["event_id"]
    assert (withdrawal["recorded_by"], withdrawal["fact"]["reason"]) == (
        "medarbejder-101",
        "120 i stedet for 12 minutter",
    )
    visit.screenshot("course-withdrawn")


def test_the_weeks_contacts_are_entered_on_one_screen_and_stored_as_one_batch(visit: Visit, running: System) -> None:
    visit.login("medarbejder-101")
    visit.open("#/mine")
    visit.page.locator("#week-link").click()
    visit.page.wait_for_selector("main[data-ready='true'] #week-table")
    visit.page.locator("#week-previous").click()  # last week: every day lies behind us
    page = visit.page
    monday = date.today() - timedelta(days=date.today().weekday() + 7)
    expect(page.locator("#week-shown")).to_contain_text(monday.strftime("%d.%m.%Y"))
    page.wait_for_selector("main[data-ready='true'] #week-table")
    wednesday, friday = monday + timedelta(days=2), monday + timedelta(days=4)
    assert page.locator("#week-table tbody tr").count() == 1  # Anna's own course only, not k-other
    page.locator(f"#week-{MINE}-kind").select_option("phone_digital")
    page.locator(f"#week-{MINE}-{monday.isoformat()}").fill("30")
    page.locator(f"#week-{MINE}-{wednesday.isoformat()}").fill("45")
    page.locator(f"#week-{MINE}-{friday.isoformat()}").fill("2000")  # more than a day: refused alone
    visit.assert_accessible()
    with page.expect_response("**/api/registration/v1/facts/batch") as answer:
        page.locator("#week-submit").click()
    assert answer.value.status == 200
    expect(page.locator("#week-message")).to_have_text("Gemt: 2 · Afvist: 1")  # drawn once the answer is read
    assert page.locator(f"#week-{MINE}-{monday.isoformat()}").is_disabled()  # stored: not sent again
    friday_cell = page.locator(f"#week-{MINE}-{friday.isoformat()}")
    assert friday_cell.get_attribute("aria-invalid") == "true" and friday_cell.input_value() == "2000"
    stored = {
        (e["fact"]["effective_date"], e["fact"]["minutes"], e["fact"]["kind"])
        for e in _history(running, MINE, "c-mine")
        if e["fact"]["type"] == "ContactRecorded"
    }
    assert {(monday.isoformat(), 30, "phone_digital"), (wednesday.isoformat(), 45, "phone_digital")} <= stored
    assert not any(day == friday.isoformat() for day, _, _ in stored)
    # The corrected Friday goes alone: the two stored ones are not sent again.
    friday_cell.fill("20")
    with page.expect_response("**/api/registration/v1/facts/batch") as again:
        page.locator("#week-submit").click()
    assert [r["status"] for r in again.value.json()["results"]] == [201]
    expect(page.locator("#week-message")).to_have_text("Gemt: 1 · Afvist: 0")
    visit.screenshot("week-contacts")
