"""The dashboard's login, session cookie and proxy guards, in process (no browser, no services):
the browser tests in test_dashboard_browser.py cover the pages against the real system."""

import json
from collections.abc import AsyncIterator

import httpx
import pytest

from casetrack import cli
from runtime.auth import SESSION_PREFIX, SessionSigner
from runtime.errors import ApiError
from runtime.passwords import hash_password, verify_password
from runtime.settings import Settings
from services.dashboard.bootstrap import COOKIE, create_app
from services.dashboard.config import Config
from services.dashboard.proxy import api_path
from services.dashboard.users import Users

KEY = b"k" * 32
HASHES = {"leder": hash_password("rigtig"), "chef": hash_password("hemmelig")}


def users_json(**changes: dict) -> str:
    table = {
        "leder": {"password_hash": HASHES["leder"], "role": "team_leader", "municipality": "101", "team": "team-icm"},
        "chef": {"password_hash": HASHES["chef"], "role": "manager", "municipality": "101", "name": "Chef Hansen"},
    }
    return json.dumps(table | changes)


def config(signing_key: bytes | None = KEY) -> Config:
    settings = Settings(service="dashboard", database_url="", nats_url="", signing_key=signing_key)
    return Config(settings=settings, upstreams={"alerts": "http://127.0.0.1:9"}, users=Users.from_json(users_json()))


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(config())), base_url="http://dash.test"
    ) as client:
        yield client


@pytest.mark.parametrize(
    "entry, problem",
    [
        ({"password_hash": "plain", "role": "manager", "municipality": "101"}, "password_hash"),
        ({"password_hash": HASHES["chef"], "role": "client", "municipality": "101"}, "role"),
        ({"password_hash": HASHES["chef"], "role": "admin"}, "role"),
        ({"password_hash": HASHES["chef"], "role": "team_leader", "municipality": "101"}, "team"),
        ({"password_hash": HASHES["chef"], "role": "manager"}, "municipality"),
    ],
)
def test_a_user_table_with_a_wrong_entry_is_refused(entry: dict, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        Users.from_json(users_json(bad=entry))


def test_users_log_in_as_the_principal_the_apis_know() -> None:
    users = Users.from_json(users_json())
    leader = users.authenticate("leder", "rigtig")
    assert (leader.role, leader.municipality, leader.team, leader.name) == ("team_leader", "101", "team-icm", "leder")
    assert users.authenticate("chef", "hemmelig").name == "Chef Hansen"
    assert users.authenticate("leder", "hemmelig") is None
    assert users.authenticate("nobody", "rigtig") is None


async def test_login_sets_an_httponly_cookie_that_is_no_bearer_token(client: httpx.AsyncClient) -> None:
    assert (await client.get("/")).headers["location"] == "/login"
    response = await client.post("/login", data={"username": "leder", "password": "rigtig"})
    assert response.status_code == 303 and response.headers["location"] == "/"
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
    # A random session id: nothing a service would take (tests/test_dashboard_browser.py replays it).
    assert not response.cookies[COOKIE].startswith(SESSION_PREFIX) and len(response.cookies[COOKIE]) >= 40
    session = (await client.get("/api/session")).json()
    assert session == {
        "name": "leder",
        "role": "team_leader",
        "municipality": "101",
        "team": "team-icm",
        "worker": None,
    }
    page = await client.get("/")
    assert page.status_code == 200 and '<script src="/static/app.js"' in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]


async def test_logout_forgets_the_session(client: httpx.AsyncClient) -> None:
    await client.post("/login", data={"username": "chef", "password": "hemmelig"})
    assert (await client.get("/api/session")).status_code == 200
    response = await client.post("/logout")
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert f'{COOKIE}=""' in response.headers["set-cookie"] and "Max-Age=0" in response.headers["set-cookie"]
    assert (await client.get("/api/session")).status_code == 401


async def test_a_wrong_password_gets_401_in_danish_or_english(client: httpx.AsyncClient) -> None:
    response = await client.post("/login", data={"username": "leder", "password": "forkert"})
    assert response.status_code == 401 and "Forkert brugernavn eller adgangskode." in response.text
    assert COOKIE not in response.cookies
    client.cookies.set("casetrack_lang", "en")
    response = await client.post("/login", data={"username": "ingen", "password": "x"})
    assert response.status_code == 401 and "Wrong username or password." in response.text


async def test_the_api_needs_a_valid_session(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/alerts/v1/alerts?municipality=101")
    assert response.status_code == 401 and response.json()["error"]["reason"] == "login_required"
    forged = SessionSigner(b"x" * 32).issue(Users.from_json(users_json()).authenticate("chef", "hemmelig"))
    client.cookies.set(COOKIE, forged)
    assert (await client.get("/api/session")).status_code == 401


async def test_the_proxy_refuses_other_origins_services_and_paths(client: httpx.AsyncClient) -> None:
    await client.post("/login", data={"username": "leder", "password": "rigtig"})
    path = "/api/alerts/v1/alerts/8a0c3c5e-0000-4000-8000-000000000000/acknowledge"
    response = await client.post(path, json={}, headers={"origin": "http://evil.test"})
    assert response.status_code == 403 and response.json()["error"]["reason"] == "cross_origin_refused"
    response = await client.post(path, json={})  # no Origin at all
    assert response.status_code == 403
    assert (await client.get("/api/nowhere/v1/x")).json()["error"]["reason"] == "service_not_found"
    assert (await client.get("/api/alerts/healthz")).status_code == 404
    assert (await client.get("/static/..%2Fusers.py")).status_code == 404


@pytest.mark.parametrize(
    "path, sent",
    [
        ("v1/kpis/P1", "v1/kpis/P1"),
        ("v1/kpis/./P1", "v1/kpis/P1"),
        ("v1/kpis/../alerts", "v1/alerts"),
        ("v1/x%2e%2e/a b", "v1/x%252e%252e/a%20b"),
        ("v1/a?b#c", "v1/a%3Fb%23c"),
        ("v1/../../metrics", None),
        ("v1/../metrics", None),
        ("v1/..", None),
        ("./v1/../healthz", None),
        ("v1", None),
        ("metrics", None),
        ("..", None),
        ("v2/x", None),
        ("", None),
    ],
)
def test_the_proxy_checks_the_path_the_service_would_resolve(path: str, sent: str | None) -> None:
    if sent is None:
        with pytest.raises(ApiError) as refused:
            api_path(path)
        assert (refused.value.status, refused.value.reason) == (404, "not_found")
    else:
        assert api_path(path) == sent


async def test_logout_ends_the_session_on_the_server(client: httpx.AsyncClient) -> None:
    await client.post("/login", data={"username": "chef", "password": "hemmelig"})
    kept = client.cookies[COOKIE]  # what a thief, or the browser's cookie store, still holds
    await client.post("/logout")
    client.cookies.set(COOKIE, kept)
    assert (await client.get("/api/session")).status_code == 401
    assert (await client.get("/")).headers["location"] == "/login"


async def test_without_a_signing_key_login_is_unavailable() -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(config(signing_key=None))), base_url="http://dash.test"
    ) as client:
        response = await client.post("/login", data={"username": "leder", "password": "rigtig"})
    assert response.status_code == 503 and "CASETRACK_SIGNING_KEY" in response.text


def test_the_run_command_gives_the_dashboard_hashes_not_passwords(tmp_path) -> None:
    users = cli._demo_users(tmp_path)
    assert {u["role"] for u in users.values()} == {"team_leader", "manager", "support_worker"}
    assert cli._demo_users(tmp_path) == users  # kept for a restart
    table = json.loads(cli._users_env(users))
    for name, user in users.items():
        assert "password" not in table[name]
        assert verify_password(user["password"], table[name]["password_hash"])
    loaded = Users.from_json(cli._users_env(users))
    assert loaded.authenticate("leder-101", users["leder-101"]["password"]).team == "team-icm"
