"""Configuration by environment, read once at start-up."""

import json
import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from contracts import municipalities as municipality_codes
from contracts.dates import DEFAULT_YEARS_AHEAD, OLDEST_DATE, DateWindow
from contracts.facts import Admission


class ConfigError(RuntimeError):
    pass


DEFAULT_SNOOZE_MAX_DAYS = 90


def secret(name: str) -> str | None:
    """A secret setting: read from the file `<name>_FILE` names (e.g. a compose secret under
    /run/secrets/), else from the variable `<name>` itself. A file is read whole, less the line end it
    ends with; one that is named but cannot be read stops the service."""
    path = os.environ.get(name + "_FILE")
    if path:
        try:
            return Path(path).read_text(encoding="utf-8").rstrip("\r\n") or None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{name}_FILE: cannot read {path}: {exc}") from None
    return os.environ.get(name) or None


def required(name: str) -> str:
    value = secret(name)
    if not value:
        raise ConfigError(f"environment variable {name} (or {name}_FILE) is required")
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
    # Dates facts and queries may carry (CASETRACK_EARLIEST_DATE, CASETRACK_YEARS_AHEAD).
    date_window: DateWindow = field(default_factory=DateWindow)
    # Municipalities facts may be about: the Danish ones and CASETRACK_MUNICIPALITIES.
    municipalities: dict[str, str] = field(default_factory=municipality_codes.known)
    snooze_max_days: int = DEFAULT_SNOOZE_MAX_DAYS  # CASETRACK_SNOOZE_MAX_DAYS
    extra: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, service: str, default_port: int) -> "Settings":
        prefix = service.upper() + "_"
        return cls(
            service=service,
            database_url=required("DATABASE_URL"),
            # Each service connects as its own NATS user: <SERVICE>_NATS_URL carries its credentials.
            nats_url=secret(prefix + "NATS_URL") or required("NATS_URL"),
            host=os.environ.get(prefix + "HOST", os.environ.get("HOST", "127.0.0.1")),
            port=int(os.environ.get(prefix + "PORT", default_port)),
            log_level=os.environ.get("LOG_LEVEL", "INFO"),
            tokens_json=secret("CASETRACK_TOKENS") or "{}",
            adjustable_clock=os.environ.get("CASETRACK_CLOCK", "system") == "adjustable",
            signing_key=_bytes(secret("CASETRACK_SIGNING_KEY")),
            date_window=_date_window(),
            municipalities=_municipalities(),
            snooze_max_days=_int("CASETRACK_SNOOZE_MAX_DAYS", DEFAULT_SNOOZE_MAX_DAYS, 1, 3650),
            extra={k: v for k, v in os.environ.items() if k.startswith("CASETRACK_")},
        )

    def admission(self) -> Admission:
        """What registration checks a fact against beyond its shape."""
        return Admission(frozenset(self.municipalities), self.date_window)

    def tokens(self) -> dict[str, dict[str, str]]:
        try:
            table = json.loads(self.tokens_json)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"CASETRACK_TOKENS is not valid JSON: {exc}") from exc
        if not isinstance(table, dict):
            raise ConfigError("CASETRACK_TOKENS must be a JSON object")
        return table


def _bytes(value: str | None) -> bytes | None:
    return value.encode() if value else None


def _int(name: str, default: int, low: int, high: int) -> int:
    raw = os.environ.get(name)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low} and {high}, got {value}")
    return value


def _date_window() -> DateWindow:
    raw = os.environ.get("CASETRACK_EARLIEST_DATE")
    try:
        earliest = date.fromisoformat(raw) if raw else OLDEST_DATE
        return DateWindow(earliest, _int("CASETRACK_YEARS_AHEAD", DEFAULT_YEARS_AHEAD, 1, 10_000))
    except ValueError as exc:
        raise ConfigError(f"CASETRACK_EARLIEST_DATE / CASETRACK_YEARS_AHEAD: {exc}") from None


def _municipalities() -> dict[str, str]:
    try:
        return municipality_codes.known(municipality_codes.parse_extra(os.environ.get("CASETRACK_MUNICIPALITIES")))
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
