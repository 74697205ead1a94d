"""A whole casetrack system of real processes for integration tests."""

import functools
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg

from casetrack import natsauth
from casetrack.cli import provision_streams
from casetrack.embedded import EmbeddedNats
from casetrack.processes import BACKENDS, SERVICES, ServiceProcess

TOKENS = {
    "token-101": {"name": "fagsystem-101", "municipality": "101", "role": "client"},
    "token-147": {"name": "fagsystem-147", "municipality": "147", "role": "client"},
    "token-admin": {"name": "admin", "role": "admin"},
    "token-worker-101": {
        "name": "anna",
        "municipality": "101",
        "role": "support_worker",
        "team": "team-a",
        "worker": "w-anna",
    },
    "token-leader-101": {
        "name": "lise",
        "municipality": "101",
        "role": "team_leader",
        "team": "team-a",
        "worker": "leader-a",
    },
    "token-manager-101": {"name": "mads", "municipality": "101", "role": "manager"},
    "token-leader-147": {"name": "lars", "municipality": "147", "role": "team_leader", "team": "team-a"},
    "token-manager-147": {"name": "mette", "municipality": "147", "role": "manager"},
    "token-expired-101": {
        "name": "old-system",
        "municipality": "101",
        "role": "client",
        "expires": "2020-01-01T00:00:00+00:00",
    },
}


NATS_MUNICIPALITIES = ("101", "147")
# The keyring registration wraps the citizens' keys with (services/registration/masterkeys.py).
TEST_MASTER_KEYS = "test-1 dGVzdC1tYXN0ZXIta2V5LW9mLTMyLWJ5dGVzLi4uLi4=\n"


@functools.cache
def nats_passwords() -> dict[str, str]:
    """One set of NATS users for the whole session: bcrypt hashing costs ~0.1 s a user."""
    return natsauth.new_passwords(natsauth.users_for(NATS_MUNICIPALITIES))


@functools.cache
def _nats_hashes() -> dict[str, str]:
    return {user: natsauth.hash_password(password) for user, password in nats_passwords().items()}


class SecuredNats(EmbeddedNats):
    """The test nats-server with casetrack's users and permissions (casetrack.natsauth).

    `url` is the admin user's, for tests that inspect streams; the services get their own users
    from `service_env()`, and `url_for(user)` connects as anyone else.
    """

    def __init__(self, data_dir: Path):
        data_dir.mkdir(parents=True, exist_ok=True)
        config = data_dir / "nats.conf"
        config.write_text(natsauth.server_config(_nats_hashes()))
        super().__init__(data_dir, config_file=config)

    def start(self, timeout: float = 15.0) -> str:
        """Starts the server and, as `casetrack run` does, provisions the streams as the operator."""
        url = super().start(timeout)
        provision_streams(self.url)
        return url

    @property
    def anonymous_url(self) -> str:
        return super().url

    @property
    def url(self) -> str:
        return self.url_for(natsauth.ADMIN)

    def url_for(self, user: str, password: str | None = None) -> str:
        return natsauth.user_url(self.anonymous_url, user, password or nats_passwords()[user])

    def service_env(self) -> dict[str, str]:
        # NATS_URL without a user: a service that missed its own URL is refused, not let in as admin.
        return {"NATS_URL": self.anonymous_url} | natsauth.service_env(self.anonymous_url, nats_passwords())


def requester_user(headers: dict[str, str]) -> str:
    """The NATS user a request with these headers comes from: the case system of the bearer token's
    municipality (client-101 for an unknown token), or the operator for the administrator's token."""
    token = headers.get("Authorization", "").partition(" ")[2]
    entry = TOKENS.get(token, {"municipality": "101"})
    return natsauth.ADMIN if entry.get("role") == "admin" else natsauth.client_user(entry["municipality"])


def create_database(admin_url: str) -> str:
    """A fresh database on the test server; returns its URL."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return admin_url.rsplit("/", 1)[0] + "/" + name


@dataclass
class System:
    database_url: str
    nats_url: str
    work_dir: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    nats_env: dict[str, str] = field(default_factory=dict)  # <SERVICE>_NATS_URL: each its own user
    services: dict[str, ServiceProcess] = field(default_factory=dict)
    with_dashboard: bool = False  # the dashboard as a fourth service, in front of the three

    def __post_init__(self) -> None:
        import json

        from casetrack.embedded import free_port

        self.work_dir.mkdir(parents=True, exist_ok=True)
        (master_keys := self.work_dir / "master.keys").write_text(TEST_MASTER_KEYS)
        env = (
            {
                "DATABASE_URL": self.database_url,
                "NATS_URL": self.nats_url,
                "CASETRACK_TOKENS": json.dumps(TOKENS),
                "CASETRACK_CLOCK": "adjustable",
                "CASETRACK_ALERTS_POLL_SECONDS": "0.5",
                "LOG_LEVEL": "INFO",
                "CASETRACK_PSEUDONYM_KEY": "test-pseudonym-key",
                "CASETRACK_MASTER_KEY_FILE": str(master_keys),
            }
            | self.nats_env
            | self.extra_env
        )
        names = [name for name in SERVICES if name in BACKENDS or self.with_dashboard]
        ports = {name: free_port() for name in names}
        env |= {f"CASETRACK_{name.upper()}_URL": f"http://127.0.0.1:{ports[name]}" for name in BACKENDS}
        for name in names:
            self.services[name] = ServiceProcess(
                name=name, port=ports[name], env=env, log_path=self.work_dir / f"{name}.log"
            )

    def start(self, *names: str) -> "System":
        for name in names or tuple(self.services):
            self.services[name].start()
        return self

    def stop(self) -> None:
        for service in self.services.values():
            service.stop()

    def client(self, service: str, token: str | None = "token-101") -> httpx.Client:
        return httpx.Client(
            base_url=self.services[service].url,
            headers={"Authorization": f"Bearer {token}"} if token else {},
            timeout=30.0,
        )

    def submit(self, fact: dict[str, Any], token: str = "token-101") -> dict[str, Any]:
        with self.client("registration", token) as client:
            response = client.post("/v1/facts", json=fact)
        assert response.status_code == 201, response.text
        return response.json()

    def wait_applied(self, service: str, position: int, timeout: float = 30.0) -> None:
        """Waits until the service has applied the registration log up to `position`."""
        deadline = time.monotonic() + timeout
        with self.client(service, "token-admin") as client:
            while time.monotonic() < deadline:
                response = client.get("/v1/position")
                if response.status_code == 200 and response.json()["position"] >= position:
                    return
                time.sleep(0.1)
        raise TimeoutError(f"{service} did not reach position {position}:\n{self.services[service].log_tail()}")


def course_facts(
    municipality: str, citizen: str, course: str, method: str, start: str, team: str = "team-a"
) -> list[dict[str, Any]]:
    """A citizen registered, visitated to a method and started on `start`."""
    base = {"municipality": municipality, "citizen_id": citizen}
    return [
        base | {"type": "CitizenRegistered", "effective_date": start, "birth_year": 1980, "gender": "male"},
        base
        | {"type": "VisitationDecided", "course_id": course, "effective_date": start, "method": method, "team": team},
        base | {"type": "CourseStarted", "course_id": course, "effective_date": start},
    ]
