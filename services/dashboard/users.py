"""The people who may log in to the dashboard (CASETRACK_USERS) and the check of their password.

`{"<username>": {"password_hash": "scrypt$...", "role": "team_leader", "municipality": "101",
"team": "team-icm", "name"?: "..."}}` — hashes from runtime.passwords.hash_password. A login becomes
the same Principal the APIs know from a token, so they enforce the user's scope themselves.
"""

import json
from dataclasses import dataclass

from runtime.auth import Principal, principal_from
from runtime.passwords import hash_password, verify_password

# Roles that work in the dashboard; case systems (client) and operators use the APIs.
PEOPLE_ROLES = ("support_worker", "team_leader", "manager")

# Checked when the username is unknown, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = hash_password("not a password")


@dataclass(frozen=True)
class User:
    username: str
    password_hash: str
    principal: Principal


class Users:
    def __init__(self, users: dict[str, User]):
        self._users = users

    @classmethod
    def from_json(cls, text: str) -> "Users":
        try:
            table = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"not valid JSON: {exc}") from exc
        if not isinstance(table, dict):
            raise ValueError("must be a JSON object of username -> user")
        users = {}
        for username, entry in table.items():
            if not isinstance(entry, dict) or not str(entry.get("password_hash", "")).startswith("scrypt$"):
                raise ValueError(f"{username!r} needs a password_hash made by runtime.passwords")
            if entry.get("role") not in PEOPLE_ROLES:
                raise ValueError(f"{username!r}: role must be one of {', '.join(PEOPLE_ROLES)}")
            principal = principal_from(entry, name=entry.get("name") or username)
            users[username] = User(username, entry["password_hash"], principal)
        return cls(users)

    def __len__(self) -> int:
        return len(self._users)

    def authenticate(self, username: str, password: str) -> Principal | None:
        user = self._users.get(username)
        if user is None:
            verify_password(password, _DUMMY_HASH)
            return None
        return user.principal if verify_password(password, user.password_hash) else None
