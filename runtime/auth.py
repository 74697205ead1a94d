"""Bearer tokens bound to one municipality (the full access model is a later issue).

Tokens come from configuration; only their SHA-256 digests are kept in memory, and the lookup is
by digest so that timing does not reveal how much of a token matched.
"""

import hashlib
from dataclasses import dataclass
from typing import Literal

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from runtime.errors import ApiError

Role = Literal["client", "admin"]


@dataclass(frozen=True)
class Principal:
    name: str
    municipality: str | None  # None only for the administrator
    role: Role

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

    def ensure_admin(self) -> None:
        if self.role != "admin":
            raise ApiError(403, "admin_required", "Kræver administrator.", "Administrator only.")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TokenTable:
    def __init__(self, table: dict[str, dict[str, str]]):
        self._by_digest: dict[str, Principal] = {}
        for token, entry in table.items():
            role = entry.get("role", "client")
            if role not in ("client", "admin"):
                raise ValueError(f"unknown role {role!r} for token {entry.get('name')!r}")
            municipality = entry.get("municipality")
            if role == "client" and not municipality:
                raise ValueError(f"token {entry.get('name')!r} needs a municipality")
            self._by_digest[_digest(token)] = Principal(
                name=entry.get("name", "unnamed"), municipality=municipality, role=role  # type: ignore[arg-type]
            )

    def principal(self, token: str) -> Principal | None:
        return self._by_digest.get(_digest(token))


_bearer = HTTPBearer(auto_error=False)


def current_principal(
    request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)
) -> Principal:
    if credentials is None:
        raise ApiError(
            401, "token_missing", "Mangler Authorization: Bearer <token>.", "Missing bearer token."
        )
    principal = request.app.state.tokens.principal(credentials.credentials)
    if principal is None:
        raise ApiError(401, "token_invalid", "Ugyldig nøgle.", "Invalid token.")
    return principal
