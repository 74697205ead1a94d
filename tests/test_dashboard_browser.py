"""The dashboard in a real browser (Chromium driven by Playwright) against the whole system: four
real services, NATS and PostgreSQL, with demo data. One system for the module; each test its own
browser context. Screenshots of each page go to test-artifacts/dashboard/.

Chromium comes from Debian (`/usr/bin/chromium`); the fixture installs it with apt-get when it is
missing (tests/debian_packages.py). Playwright's own browser download does not work here, only its driver from the wheel.
"""

import json
import re
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import openpyxl
import pytest

from casetrack import demo
from runtime.auth import SessionSigner, principal_from
from runtime.passwords import hash_password
from tests.debian_packages import ensure_package
from tests.support import SecuredNats, System, course_facts, create_database

pytestmark = pytest.mark.integration

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "dashboard"
SIGNING_KEY = "dashboard-test-signing-key-of-at-least-32-bytes"
PASSWORDS = {"leder-101": "leder-kode-1", "chef-101": "chef-kode-1", "medarbejder-101": "medarbejder-kode-1"}
USERS = {
    "leder-101": {"role": "team_leader", "municipality": "101", "team": "team-icm", "worker": "leder-icm"},
    "chef-101": {"role": "manager", "municipality": "101"},
    "medarbejder-101": {"role": "support_worker", "municipality": "101", "team": "team-icm", "worker": "w-icm-1"},
}
# A course of the team leader's team started 60 days ago with no contact since: open alerts at once.
QUIET_COURSE = "course-quiet-1"


def ensure_chromium() -> None:
    ensure_package("chromium", str(CHROMIUM))


@contextmanager
def dashboard_system(
    postgres_admin_url: str, prefix: str, users: dict[str, dict[str, str]], passwords: dict[str, str]
) -> Iterator[System]:
    """The whole system with the dashboard, started; the users sign in with their passwords."""
    work = Path(tempfile.mkdtemp(prefix=prefix))
    nats = SecuredNats(work / "nats")
    nats.start()
    hashed = {name: user | {"password_hash": hash_password(passwords[name])} for name, user in users.items()}
    system = System(
        database_url=create_database(postgres_admin_url),
        nats_url=nats.url,
        work_dir=work / "logs",
        nats_env=nats.service_env(),
        with_dashboard=True,
        extra_env={"CASETRACK_SIGNING_KEY": SIGNING_KEY, "CASETRACK_USERS": json.dumps(hashed)},
    )
    try:
        system.start()
        yield system
    finally:
        system.stop()
        nats.stop()
        shutil.rmtree(work, ignore_errors=True)


@contextmanager
def chromium() -> Iterator[object]:
    """Debian's Chromium, headless, driven by Playwright."""
    ensure_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def running(postgres_admin_url: str) -> Iterator[System]:
    with dashboard_system(postgres_admin_url, "casetrack-dashboard-", USERS, PASSWORDS) as system:
        registration = system.services["registration"].url
        for municipality, citizens in (("101", 14), ("147", 2)):
            facts = demo.generate(municipality, citizens=citizens, months=12, seed=7)
            accepted, rejected = demo.load(registration, f"token-{municipality}", facts)
            assert accepted and not rejected, rejected[:3]
        start = (date.today() - timedelta(days=60)).isoformat()
        for fact in course_facts("101", "c-quiet-1", QUIET_COURSE, "ICM", start, team="team-icm"):
            last = system.submit(fact)
        system.wait_applied("projections", last["position"])
        system.wait_applied("alerts", last["position"])
        yield system


@pytest.fixture(scope="module")
def browser(running: System) -> Iterator[object]:
    with chromium() as browser:
        yield browser


class Visit:
    """One browser context: a page, every request it made, its downloads."""

    passwords = PASSWORDS  # the login form's, by username

    def __init__(self, browser: object, system: System):
        self.base = system.services["dashboard"].url
        self.context = browser.new_context(
            base_url=self.base,
            accept_downloads=True,  # type: ignore[attr-defined]
            viewport={"width": 1280, "height": 900},
            locale="da-DK",
        )
        self.page = self.context.new_page()
        self.requests: list[str] = []
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.set_default_timeout(60_000)

    def login(self, username: str) -> None:
        self.page.goto("/login")
        self.page.get_by_label("Brugernavn").fill(username)
        self.page.get_by_label("Adgangskode").fill(self.passwords[username])
        self.page.get_by_role("button", name="Log ind").click()
        self.page.wait_for_url(f"{self.base}/")

    def open(self, hash_route: str) -> None:
        self.page.goto(f"/{hash_route}")
        self.page.wait_for_selector("main[data-ready='true']")

    def screenshot(self, name: str) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

    def assert_accessible(self) -> None:
        """Every form field has a label, every chart a name; the page does not scroll sideways."""
        unlabelled = self.page.evaluate(
            "[...document.querySelectorAll('input, select, textarea')].filter(e => !e.labels.length).map(e => e.id || e.name)"
        )
        assert not unlabelled, f"fields without a label: {unlabelled}"
        unnamed = self.page.evaluate(
            "[...document.querySelectorAll('svg')].filter(s => s.getAttribute('role') !== 'img' || !s.getAttribute('aria-label')).length"
        )
        assert unnamed == 0
        assert self.page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")

    def assert_own_host_only(self) -> None:
        own = urlsplit(self.base).netloc
        assert self.requests, "the page made no requests at all"
        foreign = [
            url
            for url in self.requests
            if urlsplit(url).scheme in ("http", "https", "ws", "wss") and urlsplit(url).netloc != own
        ]
        assert not foreign, f"requests to other hosts: {foreign}"

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def visit(browser: object, running: System) -> Iterator[Visit]:
    visit = Visit(browser, running)
    try:
        yield visit
        visit.assert_own_host_only()
    finally:
        visit.close()


def api(system: System, service: str, path: str, user: str = "chef-101") -> httpx.Response:
    """The API asked directly, as the same user the dashboard acts for (a session token)."""
    token = SessionSigner(SIGNING_KEY.encode()).issue(principal_from(USERS[user], name=user))
    with system.client(service, token) as client:
        return client.get(path)


def test_login_refuses_a_wrong_password_in_danish(visit: Visit) -> None:
    visit.page.goto("/")
    assert visit.page.url.endswith("/login")
    visit.page.get_by_label("Brugernavn").fill("chef-101")
    visit.page.get_by_label("Adgangskode").fill("forkert")
    visit.page.get_by_role("button", name="Log ind").click()
    assert visit.page.get_by_role("alert").inner_text() == "Forkert brugernavn eller adgangskode."
    assert not [c for c in visit.context.cookies() if c["name"] == "casetrack_session"]
    visit.screenshot("login-refused")


def test_manager_sees_kpi_values_that_match_the_api(visit: Visit, running: System) -> None:
    visit.login("chef-101")
    visit.open("#/kpis")
    cookie = next(c for c in visit.context.cookies() if c["name"] == "casetrack_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    catalogue = api(running, "projections", "/v1/kpis").json()["kpis"]
    cards = visit.page.locator("article.kpi-card")
    assert cards.count() == len(catalogue)
    for kind in ("process", "outcome", "economy", "structure"):
        assert visit.page.locator(f"#kind-{kind} article.kpi-card").count() == sum(k["kind"] == kind for k in catalogue)
    compared = 0
    for card in cards.all():
        source = card.get_attribute("data-source")
        assert source.startswith(f"v1/kpis/{card.get_attribute('data-kpi')}?") and "municipality=101" in source
        series = api(running, "projections", "/" + source).json()["series"]
        shown = card.locator(".value").get_attribute("data-value")
        expected = series[-1]["value"]
        assert shown == ("" if expected is None else _js_number(expected)), card.get_attribute("data-kpi")
        compared += expected is not None
    assert compared >= 5  # the demo data gives real figures, not only blanks
    p1_source = visit.page.locator("article[data-kpi='P1']").get_attribute("data-source")
    p1 = api(running, "projections", "/" + p1_source).json()["series"][-1]["value"]
    assert visit.page.locator("article[data-kpi='P1'] .value").inner_text() == f"{p1:,}".replace(",", ".")
    assert visit.page.locator("article[data-kpi='P1'] svg.sparkline path").count() == 1
    visit.assert_accessible()
    visit.screenshot("kpi-overview")
    visit.page.set_viewport_size({"width": 768, "height": 1024})  # a tablet held upright
    visit.assert_accessible()
    visit.screenshot("kpi-overview-tablet")


def twelve_whole_months() -> tuple[date, date]:
    """The window the pages open on: the last complete month and the eleven before it."""
    last = date.today().replace(day=1) - timedelta(days=1)
    first = date(last.year - 1, last.month, 1) + timedelta(days=32)
    return first.replace(day=1), last


def _js_number(value: float) -> str:
    """How JavaScript writes a number into an attribute (String(0.5) == "0.5", String(3.0) == "3")."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def test_kpi_detail_shows_definition_series_breakdown_and_downloads_xlsx(
    visit: Visit, running: System, tmp_path: Path
) -> None:
    visit.login("chef-101")
    visit.open("#/kpi/P2")
    catalogue = {k["id"]: k for k in api(running, "projections", "/v1/kpis").json()["kpis"]}
    assert visit.page.locator("#kpi-definition").inner_text() == catalogue["P2"]["definition_da"]
    assert visit.page.locator("#series-table tbody tr").count() == 12
    assert visit.page.locator("svg.chart rect").count() >= 1
    visit.page.wait_for_function("document.querySelectorAll('#breakdown-table tbody tr').length >= 4")
    # By age band and gender too, each cell as the API gives it: a cell under 5 citizens hidden.
    for params, row in (({"age_band": "50-64"}, "Alder 50-64"), ({"gender": "female"}, "Køn: Kvinde")):
        cell = api(running, "projections", f"/v1/kpis/P2?municipality=101&{_q(params)}", "chef-101").json()
        shown = visit.page.locator("#breakdown-table tbody tr", has_text=row).locator("td").inner_text()
        assert (shown == "Skjult (færre end 5 borgere)") == bool(cell.get("suppressed")), (row, shown, cell)
    with visit.page.expect_download() as download_info:
        visit.page.locator("#export-xlsx").click()
    download = download_info.value
    assert download.suggested_filename == "P2-101.xlsx"
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    workbook = openpyxl.load_workbook(path)
    assert workbook.sheetnames == ["P2"]
    assert workbook["P2"].max_row > 12
    visit.screenshot("kpi-detail")


def test_team_leader_acknowledges_an_alert_and_it_leaves_the_open_list(visit: Visit, running: System) -> None:
    visit.login("leder-101")
    visit.open("#/alerts")
    rows = visit.page.locator("#alerts-table tbody tr")
    assert rows.count() >= 1
    open_alerts = api(
        running, "alerts", "/v1/alerts?municipality=101&state=open&team=team-icm&limit=20", "leder-101"
    ).json()["alerts"]
    assert sorted(r.get_attribute("data-alert") for r in rows.all()) == sorted(a["id"] for a in open_alerts)
    visit.screenshot("alerts-open")
    visit.assert_accessible()
    alert_id = rows.first.get_attribute("data-alert")
    rows.first.get_by_role("button", name="Kvittér").click()
    visit.page.wait_for_selector("[role=status]:has-text('Advarslen er kvitteret.')")
    visit.page.wait_for_selector("main[data-ready='true']")
    assert visit.page.locator(f"#alerts-table tr[data-alert='{alert_id}']").count() == 0
    alert = api(running, "alerts", f"/v1/alerts/{alert_id}", "leder-101").json()
    assert alert["state"] == "acknowledged"
    assert alert["history"][-1]["by"] == "leder-101"
    visit.page.select_option("#state-select", "acknowledged")
    visit.page.wait_for_selector(f"#alerts-table tr[data-alert='{alert_id}']")
    visit.screenshot("alerts-acknowledged")


def test_team_leader_snoozes_and_resolves_alerts(visit: Visit, running: System) -> None:
    visit.login("leder-101")
    visit.open("#/alerts")
    rows = visit.page.locator("#alerts-table tbody tr")
    assert rows.count() >= 2
    snoozed, resolved = rows.nth(0).get_attribute("data-alert"), rows.nth(1).get_attribute("data-alert")
    until = (date.today() + timedelta(days=14)).isoformat()
    row = visit.page.locator(f"tr[data-alert='{snoozed}']")
    row.get_by_label("Udsæt til").fill(until)
    row.get_by_role("button", name="Udsæt").click()
    visit.page.wait_for_selector("[role=status]:has-text('Advarslen er udsat.')")
    visit.page.wait_for_selector(f"tr[data-alert='{snoozed}']", state="detached")
    alert = api(running, "alerts", f"/v1/alerts/{snoozed}", "leder-101").json()
    assert (alert["state"], alert["snoozed_until"]) == ("snoozed", until)
    row = visit.page.locator(f"tr[data-alert='{resolved}']")
    row.get_by_role("button", name="Løs").click()  # no reason given: the browser keeps the form
    assert row.get_by_label("Begrundelse").evaluate("field => field.validity.valueMissing")
    assert api(running, "alerts", f"/v1/alerts/{resolved}", "leder-101").json()["state"] == "open"
    row.get_by_label("Begrundelse").fill("Borgeren er flyttet")
    row.get_by_role("button", name="Løs").click()
    visit.page.wait_for_selector("[role=status]:has-text('Advarslen er løst.')")
    visit.page.wait_for_selector(f"tr[data-alert='{resolved}']", state="detached")
    alert = api(running, "alerts", f"/v1/alerts/{resolved}", "leder-101").json()
    assert alert["state"] == "resolved" and alert["history"][-1]["note"] == "Borgeren er flyttet"


def test_course_page_draws_the_double_bottom_line_and_its_history(visit: Visit, running: System) -> None:
    # Course data is for the team's leader and the course's support worker, not for the manager.
    visit.login("leder-101")
    visit.open("#/alerts")
    course = _course_with_hours(running, "leder-101")
    visit.page.locator(f"a[href='#/course/{course}']").first.click()  # from the alert to its course
    visit.page.wait_for_url(f"**/#/course/{course}")
    visit.page.wait_for_selector("main[data-ready='true']")
    dbl = api(running, "projections", f"/v1/courses/{course}/double-bottom-line?municipality=101", "leder-101").json()
    bars = visit.page.locator("#double-bottom-line svg .dbl-bars rect")
    assert bars.count() == 2 * len(dbl["hours"])
    assert visit.page.locator("#hours-table tbody tr").count() == len(dbl["hours"])
    if dbl["progression"] and dbl["progression"][0]["expected"]:
        assert visit.page.locator("#double-bottom-line svg path.progression-expected").count() == 1
    history = api(
        running, "registration", f"/v1/citizens/{dbl['citizen']}/courses/{course}/history?municipality=101", "leder-101"
    ).json()["events"]
    visit.page.wait_for_selector("#history-table")
    assert visit.page.locator("#history-table tbody tr").count() == len(history)
    visit.assert_accessible()
    visit.screenshot("course-double-bottom-line")


def _course_with_hours(system: System, user: str) -> str:
    """A demo course with planned hours and contacts, found through the alerts about courses."""
    alerts = api(system, "alerts", "/v1/alerts?municipality=101&state=open", user).json()["alerts"]
    for course in sorted({a["subject_id"] for a in alerts if a["subject_type"] == "course"}):
        dbl = api(system, "projections", f"/v1/courses/{course}/double-bottom-line?municipality=101", user).json()
        if len(dbl.get("hours", [])) >= 2 and any(r["actual_hours"] for r in dbl["hours"]):
            return course
    pytest.fail("no demo course with planned hours")


def test_benchmark_hides_municipalities_with_few_citizens(visit: Visit, running: System) -> None:
    visit.login("chef-101")
    visit.open("#/benchmark/P1")
    rows = visit.page.locator("#benchmark-table tbody tr")
    first, last = twelve_whole_months()
    result = api(running, "projections", f"/v1/kpis/P1/benchmark?municipality=101&from={first}&to={last}").json()[
        "municipalities"
    ]
    assert [r.get_attribute("data-municipality") for r in rows.all()] == [m["municipality"] for m in result]
    assert rows.first.get_attribute("class") == "own"
    suppressed = [m["municipality"] for m in result if m["suppressed"]]
    assert "147" in suppressed
    assert (
        visit.page.locator("tr[data-municipality='147'] td.suppressed").inner_text() == "Skjult (færre end 5 borgere)"
    )
    visit.screenshot("benchmark")


def test_english_is_a_click_away(visit: Visit) -> None:
    visit.login("leder-101")
    visit.open("#/alerts")
    assert visit.page.locator("#nav-alerts").inner_text() == "Advarsler"
    visit.page.locator("#lang-toggle").click()
    visit.page.wait_for_selector("main[data-ready='true']")
    assert visit.page.locator("#nav-alerts").inner_text() == "Alerts"
    assert visit.page.locator("html").get_attribute("lang") == "en"
    visit.screenshot("alerts-english")
    visit.page.reload()  # the language is kept; the skip link comes first for keyboard users
    visit.page.wait_for_selector("main[data-ready='true']")
    assert visit.page.locator("#nav-alerts").inner_text() == "Alerts"
    visit.page.keyboard.press("Tab")
    assert visit.page.evaluate("document.activeElement.id") == "skip-link"
    visit.page.keyboard.press("Enter")
    assert visit.page.evaluate("document.activeElement.id") == "main"


def test_logout_makes_what_the_browser_held_worthless(visit: Visit, running: System) -> None:
    """The attack as made: log in, take the session cookie (from the browser, a shared machine, a
    backup of its profile), let the user log out, replay it. Nothing the browser held is a bearer
    token the services accept, and after logout the dashboard no longer acts for it."""
    dashboard = running.services["dashboard"].url
    visit.login("leder-101")
    visit.open("#/alerts")
    held = {c["name"]: c["value"] for c in visit.context.cookies()}
    session = held["casetrack_session"]

    def as_bearer_anywhere() -> set[int]:
        statuses = set()
        for value in held.values():
            for service, path in (
                ("projections", "/v1/kpis"),
                ("alerts", "/v1/rules"),
                ("registration", "/v1/teams/team-icm/history?municipality=101"),
            ):
                with running.client(service, value) as client:
                    statuses.add(client.get(path).status_code)
        return statuses

    assert as_bearer_anywhere() == {401}
    with httpx.Client(base_url=dashboard, cookies={"casetrack_session": session}, timeout=30) as thief:
        assert thief.get("/api/projections/v1/kpis").status_code == 200  # still logged in: it works
        with thief.stream("GET", "/api/alerts/v1/alerts/stream?municipality=101") as stream:
            assert stream.status_code == 200
            chunks = stream.iter_raw()
            assert next(chunks).startswith(b": connected")
            visit.page.get_by_role("button", name="Log ud").click()
            visit.page.wait_for_url(f"{dashboard}/login")
            # The live stream opened with the session ends with it (at the next keep-alive, ≤ 15 s).
            deadline = time.monotonic() + 30
            for _ in chunks:
                assert time.monotonic() < deadline, "the alert stream outlived the logout"
        replayed = thief.get("/api/projections/v1/kpis")
        assert (replayed.status_code, replayed.json()["error"]["reason"]) == (401, "login_required")
        assert thief.get("/api/session").status_code == 401
        assert thief.get("/").headers["location"] == "/login"
    assert as_bearer_anywhere() == {401}


def test_the_proxy_reaches_no_health_or_metrics_through_encoded_dot_segments(running: System) -> None:
    """The attack as made: `v1%2F..%2F..%2Fmetrics` passed the `v1/` check and reached /metrics."""
    with httpx.Client(base_url=running.services["dashboard"].url, timeout=30) as browser:
        assert (
            browser.post("/login", data={"username": "chef-101", "password": PASSWORDS["chef-101"]}).status_code == 303
        )
        assert browser.get("/api/projections/v1/kpis").status_code == 200
        for service in ("registration", "projections", "alerts"):
            for path in (
                "v1%2F..%2F..%2Fmetrics",
                "v1%2F..%2Fmetrics",
                "v1%2F..%2Fhealthz",
                "v1/..%2Fmetrics",
                "v1%2F.%2F..%2F..%2Fmetrics",
                "v1%2Fkpis%2F..%2F..%2F..%2Fdocs",
            ):
                response = browser.get(f"/api/{service}/{path}")
                assert "# TYPE" not in response.text, f"{path} reached {service}'s metrics"
                assert (response.status_code, response.json()["error"]["reason"]) == (404, "not_found"), (service, path)


# Words that showed through in Danish mode before (internal keys, English developer text), and
# Danish words that must not show in English mode. Matched as whole words.
NOT_DANISH = [
    "stably_housed", "gained_housing", "bed_days_cost_dkk", "course_start", "shelter_stay_start",
    "VisitationDecided", "CourseStarted", "ContactRecorded", "expected_hours", "actual_hours", "score 1-5 score",
    "expected", "actual", "since", "hours", "value", "values", "the", "and", "of", "Phase", "Course", "share",
    "target", "previous", "support worker", "team leader", "manager", "Alerts", "Key figures",
]  # fmt: skip
NOT_ENGLISH = [
    "og", "af", "Forløb", "Borger", "timer", "Måltal", "Fase", "Advarsler", "Nøgletal", "Hele kommunen",
    "Forventet", "Faktisk", "Periode", "Værdi", "teamleder", "leder", "Kvittér", "Udsæt",
]  # fmt: skip
# How many pages of one kind (a course, an alert page) to open: the others are drawn by the same code.
SAME_KIND_AT_MOST = {"#/course/": 3, "#/alerts": 4}


def _kind(route: str) -> str:
    return next((k for k in SAME_KIND_AT_MOST if route.startswith(k)), route)


def _words_shown(visit: Visit, words: list[str]) -> list[str]:
    text = visit.page.locator("body").inner_text()
    return [w for w in words if re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])", text)]


def _crawl(visit: Visit, lang_words: list[str]) -> dict[str, list[str]]:
    """Opens every page the navigation links to and every page those pages link to (a few of each
    kind); returns, per page, the API calls that answered 403 and the words that should not show."""
    refused: list[str] = []
    visit.page.on("response", lambda r: refused.append(r.url) if r.status == 403 else None)
    seen: set[str] = set()
    per_kind: dict[str, int] = {}
    queue = [a.get_attribute("href") for a in visit.page.locator("#nav a").all()]
    problems: dict[str, list[str]] = {}
    while queue:
        route = queue.pop(0)
        if route in seen or per_kind.get(_kind(route), 0) >= SAME_KIND_AT_MOST.get(_kind(route), 10**6):
            continue
        seen.add(route)
        per_kind[_kind(route)] = per_kind.get(_kind(route), 0) + 1
        refused.clear()
        visit.open(route)
        visit.page.wait_for_function("!document.querySelector('[aria-busy=true]')")
        found = [f"403 {url}" for url in refused]
        found += [f"error shown: {e}" for e in visit.page.locator("main .error").all_inner_texts()]
        found += [f"word: {w}" for w in _words_shown(visit, lang_words)]
        if found:
            problems[route] = found
        queue += [h for a in visit.page.locator("main a[href^='#/']").all() if (h := a.get_attribute("href"))]
    assert len(seen) >= 2
    return problems


@pytest.mark.parametrize("user", ["chef-101", "leder-101", "medarbejder-101"])
def test_each_role_opens_every_page_it_is_shown_in_danish_and_english(visit: Visit, user: str) -> None:
    """No link a role is shown answers 403 or shows an error, and no English shows in Danish mode."""
    visit.login(user)
    visit.page.wait_for_selector("main[data-ready='true']")
    assert _crawl(visit, NOT_DANISH) == {}
    visit.screenshot(f"pages-{user}")
    visit.page.locator("#lang-toggle").click()
    visit.page.wait_for_selector("main[data-ready='true']")
    english = visit.page.locator("#nav a").all_inner_texts()
    assert english and not _words_shown(visit, NOT_ENGLISH)
    # In English, one page of each route the navigation has (the words come from the same tables).
    for route in [a.get_attribute("href") for a in visit.page.locator("#nav a").all()]:
        visit.open(route)
        visit.page.wait_for_function("!document.querySelector('[aria-busy=true]')")
        assert _words_shown(visit, NOT_ENGLISH) == [], route


def test_the_navigation_of_each_role_is_its_pages(visit: Visit) -> None:
    expected = {
        "chef-101": [
            "Nøgletal",
            "Advarsler",
            "By-name-liste",
            "Datakvalitet",
            "Investering",
            "Sammenligning",
            "Organisation",
        ],
        "leder-101": [
            "Teamets forløb",
            "Nøgletal",
            "Advarsler",
            "Forløb",
            "By-name-liste",
            "Datakvalitet",
            "Organisation",
        ],
        "medarbejder-101": ["Mine borgere", "Forløb", "Organisation"],
    }
    for user, pages in expected.items():
        visit.login(user)
        visit.page.wait_for_selector("main[data-ready='true']")
        assert visit.page.locator("#nav a").all_inner_texts() == pages, user
        visit.page.get_by_role("button", name="Log ud").click()
        visit.page.wait_for_url("**/login")


def test_data_quality_shows_the_api_s_shares_for_a_manager_and_a_team_leader(visit: Visit, running: System) -> None:
    visit.login("chef-101")
    visit.open("#/quality")
    figures = api(running, "projections", "/v1/data-quality?municipality=101").json()
    rows = [r.get_attribute("data-row") for r in visit.page.locator("#quality-table tbody tr").all()]
    expected = ["overall"] + [f"team-{t['team']}" for t in figures["teams"]]
    assert rows == expected + [f"worker-{w['worker']}" for w in figures["workers"]]
    overall = visit.page.locator("#quality-table tbody tr[data-row='overall'] td")
    assert overall.nth(0).inner_text() == str(figures["overall"]["active_courses"])
    time_plan = figures["overall"]["no_time_plan"]
    assert overall.nth(1).get_attribute("title") == f"{time_plan['count']} / {time_plan['of']}"
    visit.assert_accessible()
    visit.screenshot("data-quality")
    visit.page.get_by_role("button", name="Log ud").click()
    visit.page.wait_for_url("**/login")
    visit.login("leder-101")
    visit.open("#/quality")
    team = api(running, "projections", "/v1/data-quality?municipality=101", "leder-101").json()
    shown = visit.page.locator("#quality-table tbody tr[data-row='overall'] td").nth(0).inner_text()
    assert shown == str(team["overall"]["active_courses"]) and team["team"] is not None


def test_the_manager_moves_the_investment_sliders_and_reads_the_api_s_net_result(visit: Visit, running: System) -> None:
    visit.login("chef-101")
    visit.open("#/investment")
    first = api(running, "projections", "/v1/investment?municipality=101&success_rate=0.63&horizon_years=5").json()
    assert visit.page.locator("#investment-table tbody tr[data-payer='state'] td").count() == 3  # low, mid, high
    visit.page.locator("#slider-success_rate").fill("0.1")
    visit.page.wait_for_function("location.hash.includes('success_rate=0.1')")
    visit.page.wait_for_selector("main[data-ready='true']")
    lower = api(running, "projections", "/v1/investment?municipality=101&success_rate=0.1&horizon_years=5").json()
    assert lower["scenarios"][1]["net_total"] <= first["scenarios"][1]["net_total"]
    shown = visit.page.locator("#investment-table tbody tr[data-payer='total'] td").nth(1).inner_text()
    assert re.sub(r"\D", "", shown) == str(abs(round(lower["scenarios"][1]["net_total"])))
    visit.assert_accessible()
    visit.screenshot("investment")


def test_the_manager_reads_every_teams_alerts_without_actions_and_pages_through_them(
    visit: Visit, running: System
) -> None:
    visit.login("chef-101")
    visit.open("#/alerts")
    every = api(running, "alerts", "/v1/alerts?municipality=101&state=open&limit=1000").json()
    assert visit.page.locator("#alerts-table tbody tr").count() == min(20, every["total"])
    assert visit.page.locator("#alerts-table button, #alerts-table form").count() == 0
    assert visit.page.locator("#alerts-table a[href^='#/course/']").count() == 0  # course pages are not theirs
    options = visit.page.locator("#team-select option").all_inner_texts()
    assert options == ["Hele kommunen", "ACT-teamet", "CTI-teamet", "ICM-teamet", "OUTREACH-teamet"]
    if every["total"] > 20:
        second_page = [a["id"] for a in every["alerts"][20:40]]
        visit.page.locator("#next-page").click()
        # The hashchange handler clears the first page's data-ready after the click returns: wait for the second page's row.
        visit.page.wait_for_selector(f"#alerts-table tbody tr[data-alert='{second_page[0]}']")
        visit.page.wait_for_selector("main[data-ready='true']")
        shown = [r.get_attribute("data-alert") for r in visit.page.locator("#alerts-table tbody tr").all()]
        assert shown == second_page


def test_the_overview_opens_on_the_last_complete_month_and_the_month_can_be_changed(visit: Visit) -> None:
    visit.login("chef-101")
    visit.open("#/kpis")
    first, last = twelve_whole_months()
    source = visit.page.locator("article[data-kpi='P1']").get_attribute("data-source")
    assert f"from={first}" in source and f"to={last}" in source
    assert visit.page.locator("#month-select").input_value() == last.isoformat()[:7]
    earlier = (first - timedelta(days=1)).isoformat()[:7]
    visit.page.locator("#month-select").fill(earlier)
    visit.page.locator("#month-select").dispatch_event("change")
    visit.page.wait_for_url(f"**month={earlier}**")
    visit.page.wait_for_selector("main[data-ready='true']")
    source = visit.page.locator("article[data-kpi='P1']").get_attribute("data-source")
    assert f"to={first - timedelta(days=1)}" in source


def test_alert_details_are_danish_and_current(visit: Visit, running: System) -> None:
    visit.login("leder-101")
    visit.open("#/alerts")
    details = visit.page.locator("#alerts-table .details").all_inner_texts()
    assert details and all("Tal pr." in d for d in details)
    assert not any(re.search(r"\d{4}-\d{2}-\d{2}|\d\.\d+ (timer|%)", d) for d in details), details


# --- caseloads: the roster and the by-name list -----------------------------------------------------


def _shown_courses(visit: Visit) -> list[str]:
    return [r.get_attribute("data-course") for r in visit.page.locator("#roster-table tbody tr").all()]


def _sort_to(visit: Visit, value: str) -> None:
    visit.page.select_option("#sort-select", value)
    visit.page.wait_for_url(f"**sort={value}**")
    visit.page.wait_for_selector("main[data-ready='true']")


def _open_first_course(visit: Visit, links: str) -> None:
    link = visit.page.locator(links).first
    course = link.get_attribute("href").removeprefix("#/course/")
    link.click()
    visit.page.wait_for_url(f"**/#/course/{course}")
    # The URL changes before the hashchange handler clears the last page's data-ready: wait for the course page itself.
    visit.page.wait_for_selector("#double-bottom-line")
    visit.page.wait_for_selector("main[data-ready='true']")
    assert visit.page.locator("#double-bottom-line").count() == 1
    assert visit.page.locator("#course-select").input_value() == course  # chosen in the course picker


def test_roster_and_by_name_list_counts_equal_p1_p7_o11_and_the_open_alerts(running: System) -> None:
    today = date.today()
    month = {"from": today.replace(day=1).isoformat(), "to": today.isoformat()}
    for user, query in (
        ("chef-101", {}),
        ("chef-101", {"team": "team-cti"}),
        ("chef-101", {"method": "ACT"}),
        ("leder-101", {}),  # the team leader's team: team-icm
    ):
        roster = api(running, "projections", f"/v1/courses?municipality=101&page_size=500&{_q(query)}", user).json()
        p1 = api(running, "projections", f"/v1/kpis/P1?municipality=101&on={today}&{_q(query)}", user).json()
        assert roster["total"] == p1["value"] and roster["total"] > 0, (user, query)
        # P7: the mean caseload per worker is the roster's active rows with a worker, counted per worker.
        assert roster["total"] == len(roster["rows"])  # one page holds the demo's courses
        per_worker = Counter(r["worker"] for r in roster["rows"] if r["worker"])
        p7 = api(running, "projections", f"/v1/kpis/P7?municipality=101&on={today}&{_q(query)}", user).json()
        assert p7["value"] == round(sum(per_worker.values()) / len(per_worker), 4), (user, query)
    for user, query in (("chef-101", {}), ("chef-101", {"team": "team-act"}), ("leder-101", {})):
        listed = api(running, "projections", f"/v1/homeless-list?municipality=101&{_q(query)}", user).json()
        o11 = api(running, "projections", f"/v1/kpis/O11?municipality=101&{_q(query | month)}", user).json()
        assert listed["total"] == o11["value"] == len(listed["citizens"]), (user, query)
        assert listed["inflow"]["new"] == o11["values"]["inflow.new"]
        assert (
            listed["inflow"]["returned"] == o11["values"]["inflow.from_housing"] + o11["values"]["inflow.from_inactive"]
        )
        assert listed["outflow"] == {
            "housed": o11["values"]["outflow.to_housing"],
            "other": o11["values"]["outflow.to_inactive"],
        }
    # The team's open alerts about courses are all about courses of its roster: the team page's
    # alert column (joined by course in app.js) adds up to the alert list's count.
    every = api(running, "projections", "/v1/courses?municipality=101&state=all&page_size=500", "leder-101").json()
    alerts = api(running, "alerts", "/v1/alerts?municipality=101&state=open&limit=1000", "leder-101").json()["alerts"]
    about_courses = [a["subject_id"] for a in alerts if a["subject_type"] == "course"]
    assert about_courses and set(about_courses) <= {r["course"] for r in every["rows"]}
    assert every["total"] == len(every["rows"])


def _q(params: dict[str, str]) -> str:
    return "&".join(f"{k}={v}" for k, v in params.items())


def test_a_support_worker_opens_their_citizens_sorts_them_and_opens_a_course(visit: Visit, running: System) -> None:
    visit.login("medarbejder-101")
    visit.page.wait_for_selector("main[data-ready='true']")
    assert visit.page.url.endswith("/") or "#/mine" in visit.page.url  # the first page of the role
    visit.open("#/mine")
    mine = api(running, "projections", "/v1/courses?municipality=101&state=active&sort=overdue&page_size=25", "medarbejder-101").json()  # fmt: skip
    assert mine["rows"] and {r["worker"] for r in mine["rows"]} == {"w-icm-1"}
    assert _shown_courses(visit) == [r["course"] for r in mine["rows"]]
    assert visit.page.locator("#roster-table caption").inner_text() == f"Antal: {mine['total']}"
    visit.assert_accessible()
    visit.screenshot("roster-mine")
    for sort in ("gap", "last_contact"):
        _sort_to(visit, sort)
        expected = api(running, "projections", f"/v1/courses?municipality=101&state=active&sort={sort}&page_size=25", "medarbejder-101").json()  # fmt: skip
        assert _shown_courses(visit) == [r["course"] for r in expected["rows"]], sort
    # The name is shown on demand only, as registration serves it to the citizen's support worker.
    first = visit.page.locator("#roster-table tbody tr").first
    assert first.locator(".citizen-name").count() == 0
    citizen = next(r["citizen"] for r in expected["rows"] if r["course"] == first.get_attribute("data-course"))
    first.get_by_role("button", name=f"Vis navnet på borger {citizen}").click()
    answer = api(running, "registration", f"/v1/citizens/{citizen}/personal-details?municipality=101", "medarbejder-101")  # fmt: skip
    if answer.status_code == 200:
        wanted = answer.json()["name"] or f"CPR {answer.json()['cpr']}"
    else:  # the demo's case system sent no personal details for this citizen
        assert answer.json()["error"]["reason"] == "personal_details_missing", answer.text
        wanted = "intet navn registreret"
    assert first.locator(".citizen-name").inner_text() == wanted
    _open_first_course(visit, "#roster-table a.course-link")
    visit.screenshot("roster-mine-course")


def test_a_team_leader_opens_the_teams_courses_with_alerts_sorts_them_and_opens_a_course(
    visit: Visit, running: System
) -> None:
    visit.login("leder-101")
    visit.open("#/team")
    team = api(running, "projections", "/v1/courses?municipality=101&state=active&sort=overdue&team=team-icm&page_size=25", "leder-101").json()  # fmt: skip
    assert team["total"] > 1 and {r["team"] for r in team["rows"]} == {"team-icm"}
    assert _shown_courses(visit) == [r["course"] for r in team["rows"]]
    _sort_to(visit, "gap")
    by_gap = api(running, "projections", "/v1/courses?municipality=101&state=active&sort=gap&team=team-icm&page_size=25", "leder-101").json()  # fmt: skip
    assert _shown_courses(visit) == [r["course"] for r in by_gap["rows"]]
    # Each row carries its course's open alerts (count and worst severity), as the alerts list has them.
    _sort_to(visit, "last_contact")
    alerts = api(running, "alerts", "/v1/alerts?municipality=101&state=open&team=team-icm&limit=1000", "leder-101")
    open_by_course = Counter(a["subject_id"] for a in alerts.json()["alerts"] if a["subject_type"] == "course")
    column = visit.page.locator("#roster-table thead th").all_inner_texts().index("Advarsler")
    assert any(open_by_course[course] for course in _shown_courses(visit))  # the long quiet ones have some
    for row in visit.page.locator("#roster-table tbody tr").all():
        shown = row.locator("td").nth(column).inner_text()
        count = open_by_course[row.get_attribute("data-course")]
        assert shown == "ingen" if not count else re.fullmatch(rf"{count} \((kritisk|advarsel|info)\)", shown), shown
    visit.assert_accessible()
    visit.screenshot("roster-team")
    _open_first_course(visit, "#roster-table a.course-link")


def test_the_by_name_list_for_a_manager_and_a_team_leader_sorted_and_a_course_opened(
    visit: Visit, running: System, tmp_path: Path
) -> None:
    visit.login("chef-101")
    visit.open("#/homeless")
    listed = api(running, "projections", "/v1/homeless-list?municipality=101").json()
    shown = [r.get_attribute("data-citizen") for r in visit.page.locator("#homeless-table tbody tr").all()]
    assert shown == [c["citizen"] for c in listed["citizens"]] and shown
    assert visit.page.locator("#inflow").inner_text() == (
        f"ny: {listed['inflow']['new']} · vendt tilbage: {listed['inflow']['returned']}"
    )
    assert visit.page.locator("#homeless-table a[href^='#/course/']").count() == 0  # course pages are not theirs
    _sort_to(visit, "ready_to_move")
    ready = api(running, "projections", "/v1/homeless-list?municipality=101&sort=ready_to_move").json()
    shown = [r.get_attribute("data-citizen") for r in visit.page.locator("#homeless-table tbody tr").all()]
    assert shown == [c["citizen"] for c in ready["citizens"]]
    with visit.page.expect_download() as download_info:
        visit.page.locator("#export-homeless").click()
    path = tmp_path / download_info.value.suggested_filename
    download_info.value.save_as(path)
    assert openpyxl.load_workbook(path)["By-name-liste"].max_row == listed["total"] + 1
    visit.assert_accessible()
    visit.screenshot("by-name-list")
    visit.page.get_by_role("button", name="Log ud").click()
    visit.page.wait_for_url("**/login")
    visit.login("leder-101")
    visit.open("#/homeless")
    team = api(running, "projections", "/v1/homeless-list?municipality=101", "leder-101").json()
    assert visit.page.locator("#homeless-table tbody tr").count() == team["total"]
    assert sum(bool(c["courses"]) for c in team["citizens"]) >= 1  # homeless citizens of the team's courses
    _open_first_course(visit, "#homeless-table a[href^='#/course/']")
