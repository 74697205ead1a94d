"""Credentials: API tokens (hashed, expiring) and signed session tokens (forged, stale, and signed
but with claims no signer of casetrack would write)."""

import base64
import hashlib
import hmac
import time
from datetime import UTC, datetime, timedelta

import pytest

from runtime.auth import MAX_SESSION_SECONDS, Principal, SessionSigner, TokenExpired, TokenTable
from runtime.errors import ApiError
from runtime.passwords import hash_password, verify_password
from tests.support import System

KEY = b"k" * 32


def test_api_tokens_are_found_by_digest_and_expire() -> None:
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    table = TokenTable(
        {
            "good": {"name": "fag-101", "municipality": "101"},
            "old": {"name": "old-101", "municipality": "101", "expires": past},
        }
    )
    assert table.principal("good") == Principal("fag-101", "101", "client")
    assert table.principal("goo") is None
    with pytest.raises(TokenExpired):
        table.principal("old")


def test_token_table_refuses_incomplete_entries() -> None:
    with pytest.raises(ValueError):
        TokenTable({"t": {"name": "x", "role": "client"}})  # no municipality
    with pytest.raises(ValueError):
        TokenTable({"t": {"name": "x", "role": "team_leader", "municipality": "101"}})  # no team
    with pytest.raises(ValueError):
        TokenTable({"t": {"name": "x", "role": "superuser", "municipality": "101"}})


def test_session_tokens_round_trip_and_refuse_forgery_and_age() -> None:
    signer = SessionSigner(KEY)
    leader = Principal("anna", "101", "team_leader", team="team-cti")
    token = signer.issue(leader)
    assert signer.verify(token) == leader
    assert SessionSigner(b"x" * 32).verify(token) is None  # signed with another key
    body, signature = token[4:].split(".")
    forged_body = body[:-2] + ("AA" if body[-2:] != "AA" else "BB")
    assert signer.verify(f"ct1.{forged_body}.{signature}") is None
    assert signer.verify("ct1.garbage") is None
    stale = signer.issue(leader, lifetime_seconds=-1)
    with pytest.raises(TokenExpired):
        signer.verify(stale)


def test_scope_checks() -> None:
    client = Principal("fag-101", "101", "client")
    client.ensure_municipality("101")
    with pytest.raises(ApiError) as denied:
        client.ensure_municipality("147")
    assert denied.value.status == 403
    with pytest.raises(ApiError):
        client.ensure_role("manager")
    Principal("root", None, "admin").ensure_role("manager")


def test_passwords_are_salted_and_verified() -> None:
    first, second = hash_password("hemmelig"), hash_password("hemmelig")
    assert first != second and "hemmelig" not in first
    assert verify_password("hemmelig", first) and not verify_password("forkert", first)
    assert not verify_password("hemmelig", "md5$x$y")


def _signed(body: str, key: bytes = KEY) -> str:
    """A session token with these raw claims, signed with the key: what a holder of the key, or a
    bug in a signer, could send."""

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    encoded = b64(body.encode())
    return f"ct1.{encoded}.{b64(hmac.new(key, encoded.encode(), hashlib.sha256).digest())}"


SOON = int(time.time()) + 3600
MANAGER = '"name":"mette","role":"manager","municipality":"101"'
# Signed claims that are ill-typed, absurd or not claims at all: each is an invalid token, never a 500.
BAD_CLAIMS = {
    "exp Infinity": f'{{{MANAGER},"exp":Infinity}}',
    "exp -Infinity": f'{{{MANAGER},"exp":-Infinity}}',
    "exp NaN": f'{{{MANAGER},"exp":NaN}}',
    "exp 1e400": f'{{{MANAGER},"exp":1e400}}',
    "exp 10**30": f'{{{MANAGER},"exp":{10**30}}}',
    "exp beyond the longest session": f'{{{MANAGER},"exp":{SOON + MAX_SESSION_SECONDS}}}',
    "exp a float": f'{{{MANAGER},"exp":{SOON}.5}}',
    "exp true": f'{{{MANAGER},"exp":true}}',
    "exp a string": f'{{{MANAGER},"exp":"{SOON}"}}',
    "exp null": f'{{{MANAGER},"exp":null}}',
    "exp missing": f"{{{MANAGER}}}",
    "a list": f'[{{{MANAGER},"exp":{SOON}}}]',
    "a string": '"admin"',
    "a number": "5",
    "null": "null",
    "role a list": f'{{"name":"mette","role":["admin"],"municipality":"101","exp":{SOON}}}',
    "role unknown": f'{{"name":"mette","role":"root","municipality":"101","exp":{SOON}}}',
    "municipality a number": f'{{"name":"mette","role":"manager","municipality":101,"exp":{SOON}}}',
    "municipality an object": f'{{"name":"mette","role":"manager","municipality":{{"$ne":null}},"exp":{SOON}}}',
    "name missing": f'{{"role":"manager","municipality":"101","exp":{SOON}}}',
    "an unknown claim": f'{{{MANAGER},"exp":{SOON},"admin":true}}',
    "not JSON": "{mette",
    "deeply nested": "[" * 3000 + "]" * 3000,
    "a huge number": "1" * 5000,
}


@pytest.mark.parametrize("claims", BAD_CLAIMS.values(), ids=BAD_CLAIMS.keys())
def test_signed_tokens_with_bad_claims_are_invalid(claims: str) -> None:
    assert SessionSigner(KEY).verify(_signed(claims)) is None


def test_a_token_with_other_than_ascii_is_invalid_and_none_is_issued_beyond_the_longest_session() -> None:
    assert SessionSigner(KEY).verify("ct1.a.\u00e9") is None
    with pytest.raises(ValueError):
        SessionSigner(KEY).issue(Principal("x", "101", "manager"), lifetime_seconds=MAX_SESSION_SECONDS + 1)


@pytest.mark.integration
def test_a_service_answers_bad_signed_claims_with_401_token_invalid(system: System) -> None:
    """The attack as made: a signed token with `exp: Infinity` (and its kin) sent to a real service."""
    system.extra_env["CASETRACK_SIGNING_KEY"] = KEY.decode()
    system.__post_init__()
    system.start("projections")
    with system.client("projections", None) as client:
        honest = _signed(f'{{{MANAGER},"exp":{SOON}}}')
        assert client.get("/v1/kpis", headers={"Authorization": f"Bearer {honest}"}).status_code == 200
        answers = {}
        for name, claims in BAD_CLAIMS.items():
            response = client.get("/v1/kpis", headers={"Authorization": f"Bearer {_signed(claims)}"})
            answers[name] = (response.status_code, response.json()["error"]["reason"])
        response = client.get("/v1/kpis", headers={"Authorization": "Bearer ct1.a.\u00e9".encode("latin-1")})
        answers["not ASCII"] = (response.status_code, response.json()["error"]["reason"])
    assert answers == {name: (401, "token_invalid") for name in answers}
