"""Who is calling: bearer credentials, roles and scopes.

Two kinds of bearer credential:
- API tokens for systems (case systems, operators), from configuration (CASETRACK_TOKENS). Only
  their SHA-256 digests are kept, looked up by digest; an entry may carry an `expires` time.
- Session tokens for people, signed by casetrack (HMAC-SHA256 with CASETRACK_SIGNING_KEY) after a
  login; they carry the user's role and scope and an expiry, so a forged or stale one is refused.

A principal is bound to one municipality (the administrator to none); team leaders and support
workers also to a team, support workers to themselves.
"""

import base64
import hashlib
import hmac
import json
import time
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Literal

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from runtime.errors import ApiError

Role = Literal["client", "support_worker", "team_leader", "manager", "admin"]
ROLES: tuple[Role, ...] = ("client", "support_worker", "team_leader", "manager", "admin")


def _forbidden() -> ApiError:
    return ApiError(
        403,
        "forbidden",
        "Adgang nægtet.",
        "Forbidden.",
    )


@dataclass(frozen=True)
class Principal:
    name: str
    municipality: str | None  # None only for the administrator
    role: Role
    team: str | None = None
    worker: str | None = None

    def ensure_municipality(self, municipality: str) -> None:
        if self.role == "admin":
            return
        if municipality != self.municipality:
            raise ApiError(
                403,
                "municipality_forbidden",
                "Adgang nægtet: nøglen gælder ikke for denne kommune.",
                "Forbidden: the token is not valid for this municipality.",
            )

    def ensure_role(self, *roles: Role) -> None:
        if self.role != "admin" and self.role not in roles:
            raise _forbidden()

    def ensure_admin(self) -> None:
        if self.role != "admin":
            raise ApiError(403, "admin_required", "Kræver administrator.", "Administrator only.")


def principal_from(entry: dict[str, str], name: str | None = None) -> Principal:
    role = entry.get("role", "client")
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r} for {entry.get('name')!r}")
    municipality = entry.get("municipality")
    if role != "admin" and not municipality:
        raise ValueError(f"{entry.get('name')!r} needs a municipality")
    if role in ("support_worker", "team_leader") and not entry.get("team"):
        raise ValueError(f"{entry.get('name')!r} ({role}) needs a team")
    return Principal(
        name=name or entry.get("name", "unnamed"),
        municipality=municipality,
        role=role,
        team=entry.get("team"),
        worker=entry.get("worker"),
    )


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TokenExpired(Exception):
    pass


class TokenTable:
    """API tokens from configuration: {"<token>": {"name", "role", "municipality", "expires"?}}."""

    def __init__(self, table: dict[str, dict[str, str]]):
        self._by_digest: dict[str, tuple[Principal, float | None]] = {}
        for token, entry in table.items():
            expires = entry.get("expires")
            expires_at = datetime.fromisoformat(expires).timestamp() if expires else None
            self._by_digest[_digest(token)] = (principal_from(entry), expires_at)

    def principal(self, token: str) -> Principal | None:
        found = self._by_digest.get(_digest(token))
        if found is None:
            return None
        principal, expires_at = found
        if expires_at is not None and time.time() >= expires_at:
            raise TokenExpired()
        return principal


SESSION_PREFIX = "ct1."
# The longest a signed session token may live; one that claims to live longer is refused as invalid.
MAX_SESSION_SECONDS = 8 * 3600
_CLAIMS = {"name", "municipality", "role", "team", "worker", "exp"}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _session_claims(claims: object) -> tuple[Principal | None, int]:
    """The principal and expiry of signed claims, or (None, 0) if any claim is missing, unknown,
    ill-typed or absurd (an expiry that is not a whole number of seconds within
    MAX_SESSION_SECONDS from now: Infinity, NaN, 1e400, true, a year 9999)."""
    if not isinstance(claims, dict) or not set(claims) <= _CLAIMS:
        return None, 0
    expires_at = claims.get("exp")
    if type(expires_at) is not int or expires_at > time.time() + MAX_SESSION_SECONDS:
        return None, 0
    entry = {k: v for k, v in claims.items() if k != "exp"}
    if not all(type(v) is str for v in entry.values()) or "name" not in entry:
        return None, 0
    try:
        return principal_from(entry, name=entry["name"]), expires_at
    except ValueError:
        return None, 0


class SessionSigner:
    """Issues and checks signed session tokens: ct1.<claims>.<signature>."""

    def __init__(self, key: bytes):
        if len(key) < 32:
            raise ValueError("the signing key must be at least 32 bytes")
        self._key = key

    def issue(self, principal: Principal, lifetime_seconds: int = MAX_SESSION_SECONDS) -> str:
        if lifetime_seconds > MAX_SESSION_SECONDS:
            raise ValueError(f"a session token lives at most {MAX_SESSION_SECONDS} s")
        claims = {k: v for k, v in asdict(principal).items() if v is not None}
        claims["exp"] = int(time.time()) + lifetime_seconds
        body = _b64(json.dumps(claims, separators=(",", ":")).encode())
        return f"{SESSION_PREFIX}{body}.{self._sign(body)}"

    def verify(self, token: str) -> Principal | None:
        """The principal of a valid token; None if forged or malformed; TokenExpired if stale."""
        if not token.isascii():  # compare_digest refuses other text, and a token is base64 only
            return None
        try:
            body, signature = token[len(SESSION_PREFIX) :].split(".")
        except ValueError:
            return None
        if not hmac.compare_digest(signature, self._sign(body)):
            return None
        try:
            claims = json.loads(_unb64(body))
        except (ValueError, RecursionError):
            return None
        principal, expires_at = _session_claims(claims)
        if principal is None:
            return None
        if time.time() >= expires_at:
            raise TokenExpired()
        return principal

    def _sign(self, body: str) -> str:
        return _b64(hmac.new(self._key, body.encode(), hashlib.sha256).digest())


_bearer = HTTPBearer(auto_error=False)


def current_principal(
    request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)
) -> Principal:
    if credentials is None:
        raise ApiError(401, "token_missing", "Mangler Authorization: Bearer <token>.", "Missing bearer token.")
    token = credentials.credentials
    try:
        if token.startswith(SESSION_PREFIX) and request.app.state.signer is not None:
            principal = request.app.state.signer.verify(token)
        else:
            principal = request.app.state.tokens.principal(token)
    except TokenExpired:
        raise ApiError(401, "token_expired", "Nøglen er udløbet.", "The token has expired.") from None
    if principal is None:
        raise ApiError(401, "token_invalid", "Ugyldig nøgle.", "Invalid token.")
    return principal
