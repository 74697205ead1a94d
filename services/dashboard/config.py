"""The dashboard's configuration by environment: where the three APIs are, who may log in, the key
that signs their sessions. The dashboard keeps no data of its own, so it needs no database or NATS."""

import os
from dataclasses import dataclass

from runtime.settings import ConfigError, Settings, secret
from services.dashboard.users import Users

DEFAULT_PORT = 8000
UPSTREAMS = {"registration": 8001, "projections": 8002, "alerts": 8003}


@dataclass(frozen=True)
class Config:
    settings: Settings
    upstreams: dict[str, str]  # service name -> base URL
    users: Users
    secure_cookie: bool = False  # set the cookie's Secure flag (behind HTTPS)


def upstream_url(name: str, default_port: int) -> str:
    """CASETRACK_<NAME>_URL, else the service's port on this host."""
    explicit = os.environ.get(f"CASETRACK_{name.upper()}_URL")
    if explicit:
        return explicit.rstrip("/")
    return f"http://127.0.0.1:{int(os.environ.get(f'{name.upper()}_PORT', default_port))}"


def load() -> Config:
    key = secret("CASETRACK_SIGNING_KEY")
    settings = Settings(
        service="dashboard",
        database_url="",
        nats_url="",
        host=os.environ.get("DASHBOARD_HOST", os.environ.get("HOST", "127.0.0.1")),
        port=int(os.environ.get("DASHBOARD_PORT", DEFAULT_PORT)),
        log_level=os.environ.get("LOG_LEVEL", "INFO"),
        signing_key=key.encode() if key else None,
    )
    try:
        users = Users.from_json(secret("CASETRACK_USERS") or "{}")
    except ValueError as exc:
        raise ConfigError(f"CASETRACK_USERS: {exc}") from exc
    return Config(
        settings=settings,
        upstreams={name: upstream_url(name, port) for name, port in UPSTREAMS.items()},
        users=users,
        secure_cookie=os.environ.get("CASETRACK_SECURE_COOKIE", "false").lower() == "true",
    )
