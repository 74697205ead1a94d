"""Credentials: API tokens (hashed, expiring) and signed session tokens (forged, stale)."""

from datetime import datetime, timedelta, timezone

import pytest

from runtime.auth import Principal, SessionSigner, TokenExpired, TokenTable
from runtime.errors import ApiError
from runtime.passwords import hash_password, verify_password

KEY = b"k" * 32


def test_api_tokens_are_found_by_digest_and_expire() -> None:
    past = (datetime.now(timezone.utc) - timedelta(minutes=1)).isoformat()
    table = TokenTable({
        "good": {"name": "fag-101", "municipality": "101"},
        "old": {"name": "old-101", "municipality": "101", "expires": past},
    })
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
