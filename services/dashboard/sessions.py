"""The logged-in users, kept only in the dashboard's memory.

The browser's cookie holds a random session id and nothing else: it is no bearer token, so no
service accepts it, and logging out deletes the session here, which makes the cookie worthless at
once. For each call to an API the dashboard signs a token of its own for the session's user that
lives API_TOKEN_SECONDS; it goes to the service and never to the browser.
"""

import secrets
import time
from dataclasses import dataclass

from runtime.auth import Principal, SessionSigner

SESSION_SECONDS = 8 * 3600  # a login lasts a working day
# How long a token the dashboard signs for one API call lives: long enough for the call to reach the
# service (which checks it on arrival), short enough to be worthless if it ever leaked.
API_TOKEN_SECONDS = 60


@dataclass(frozen=True)
class Session:
    id: str
    principal: Principal
    expires_at: float  # time.monotonic()

    def api_token(self, signer: SessionSigner) -> str:
        return signer.issue(self.principal, API_TOKEN_SECONDS)


class Sessions:
    def __init__(self, lifetime_seconds: float = SESSION_SECONDS):
        self._lifetime = lifetime_seconds
        self._by_id: dict[str, Session] = {}

    def open(self, principal: Principal) -> Session:
        self._forget_expired()
        session = Session(secrets.token_urlsafe(32), principal, time.monotonic() + self._lifetime)
        self._by_id[session.id] = session
        return session

    def get(self, session_id: str) -> Session | None:
        session = self._by_id.get(session_id)
        if session is not None and time.monotonic() >= session.expires_at:
            self.close(session_id)
            return None
        return session

    def close(self, session_id: str) -> None:
        self._by_id.pop(session_id, None)

    def _forget_expired(self) -> None:
        now = time.monotonic()
        for session_id in [i for i, s in self._by_id.items() if now >= s.expires_at]:
            del self._by_id[session_id]
