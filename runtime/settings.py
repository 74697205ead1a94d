"""Configuration by environment, read once at start-up."""

import json
import os
from dataclasses import dataclass, field


class ConfigError(RuntimeError):
    pass


def _required(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise ConfigError(f"environment variable {name} is required")
    return value


@dataclass(frozen=True)
class Settings:
    service: str
    database_url: str
    nats_url: str
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "INFO"
    # Token table: JSON {"<token>": {"name": ..., "municipality": "101", "role": "client"}}.
    tokens_json: str = "{}"
    adjustable_clock: bool = False
    # Key for signed session tokens (people, after login); none: only API tokens are accepted.
    signing_key: bytes | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, service: str, default_port: int) -> "Settings":
        prefix = service.upper() + "_"
        return cls(
            service=service,
            database_url=_required("DATABASE_URL"),
            # Each service connects as its own NATS user: <SERVICE>_NATS_URL carries its credentials.
            nats_url=os.environ.get(prefix + "NATS_URL") or _required("NATS_URL"),
            host=os.environ.get(prefix + "HOST", os.environ.get("HOST", "127.0.0.1")),
            port=int(os.environ.get(prefix + "PORT", default_port)),
            log_level=os.environ.get("LOG_LEVEL", "INFO"),
            tokens_json=os.environ.get("CASETRACK_TOKENS", "{}"),
            adjustable_clock=os.environ.get("CASETRACK_CLOCK", "system") == "adjustable",
            signing_key=os.environ["CASETRACK_SIGNING_KEY"].encode()
            if os.environ.get("CASETRACK_SIGNING_KEY")
            else None,
            extra={k: v for k, v in os.environ.items() if k.startswith("CASETRACK_")},
        )

    def tokens(self) -> dict[str, dict[str, str]]:
        try:
            table = json.loads(self.tokens_json)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"CASETRACK_TOKENS is not valid JSON: {exc}") from exc
        if not isinstance(table, dict):
            raise ConfigError("CASETRACK_TOKENS must be a JSON object")
        return table
