"""NATS users and their subject permissions: each service its own user, each case system its municipality.

All users live in one account and may use only the subjects listed for them here; anonymous
connections are refused. JetStream is reached through its API subjects, so a service may manage or
read only its own streams and its own durable consumer. Every user gets an inbox prefix of its own,
`_INBOX.<user>` (runtime.bus.inbox_prefix), and may subscribe only there: otherwise anyone allowed
`_INBOX.>` could read the events delivered to the consumers' pull requests.

A case-system client (`client-<municipality>`) may request on `casetrack.facts.submit` (the service
checks its bearer token too) and subscribe to its municipality's alerts, `casetrack.alerts.<m>.>`,
as core NATS. It gets no JetStream API at all: a consumer's configuration is not covered by subject
permissions (nats-server 2.15 accepts a push consumer whose deliver subject its creator may neither
publish nor subscribe to), and reading the alerts stream would show every municipality. Missed
alerts are read back over HTTP (`GET /v1/alerts`).

Every service publishes the reads it serves to the audit trail (`casetrack.audit.>`, stream
CASETRACK_AUDIT, which each ensures); registration also reads it back for the administrator with an
ephemeral ordered consumer.

Passwords are random and stored only as bcrypt hashes in the server configuration; the cleartext
reaches each service in its own `<SERVICE>_NATS_URL`.

    python -m casetrack.natsauth --municipality 101 --municipality 147 \\
        --config deploy/nats-auth.conf --env deploy/nats-credentials.env
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import bcrypt

from contracts.alerts import ALERTS_STREAM, ALERTS_SUBJECT_ROOT
from contracts.audit import AUDIT_STREAM, AUDIT_SUBJECT_ROOT
from contracts.events import EVENTS_STREAM, EVENTS_SUBJECT_ROOT
from contracts.rule_config import RULE_CONFIG_STREAM, RULE_CONFIG_SUBJECT_ROOT
from runtime.bus import inbox_prefix

SERVICES = ("registration", "projections", "alerts")
ADMIN = "admin"
FACTS_SUBMIT_SUBJECT = "casetrack.facts.submit"
# The passwords are 32 random bytes, so the work factor only has to keep a stolen hash from being
# a shortcut; the server pays it on every connect.
BCRYPT_ROUNDS = 10

Permissions = dict[str, object]


def client_user(municipality: str) -> str:
    return f"client-{municipality}"


def _manage_stream(stream: str) -> list[str]:
    return [f"$JS.API.STREAM.{verb}.{stream}" for verb in ("INFO", "CREATE", "UPDATE")]


def _durable_consumer(stream: str, durable: str, filter_subject: str) -> list[str]:
    """What runtime.bus.OrderedConsumer needs: (re)create its durable pull consumer, fetch, ack."""
    return [
        f"$JS.API.STREAM.INFO.{stream}",
        f"$JS.API.CONSUMER.INFO.{stream}.{durable}",
        f"$JS.API.CONSUMER.DELETE.{stream}.{durable}",
        # The filter is part of the subject (nats-server >= 2.9), so the server refuses any other.
        f"$JS.API.CONSUMER.CREATE.{stream}.{durable}.{filter_subject}",
        f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{durable}",
        f"$JS.ACK.{stream}.{durable}.>",
    ]


def _permissions(publish: list[str], subscribe: list[str], *, responses: bool = False) -> Permissions:
    permissions: Permissions = {"publish": {"allow": publish}, "subscribe": {"allow": subscribe}}
    if responses:
        permissions["allow_responses"] = True  # may reply to the requests it received, nowhere else
    return permissions


def _write_audit() -> list[str]:
    """Every service records the reads it serves on the audit trail, and ensures its stream."""
    return [f"{AUDIT_SUBJECT_ROOT}.>", *_manage_stream(AUDIT_STREAM)]


def _read_audit() -> list[str]:
    """runtime.audit.AuditLog.entries: an ephemeral ordered consumer, with its flow control replies."""
    return [
        f"$JS.API.CONSUMER.CREATE.{AUDIT_STREAM}",
        f"$JS.API.CONSUMER.CREATE.{AUDIT_STREAM}.>",
        f"$JS.API.CONSUMER.DELETE.{AUDIT_STREAM}.>",
        "$JS.FC.>",
    ]


def permissions_for(user: str) -> Permissions:
    events = f"{EVENTS_SUBJECT_ROOT}.>"
    inbox = f"{inbox_prefix(user)}.>"
    if user == "registration":
        return _permissions(
            [events, *_manage_stream(EVENTS_STREAM), f"$JS.API.STREAM.MSG.GET.{EVENTS_STREAM}",
             *_write_audit(), *_read_audit()],
            [FACTS_SUBMIT_SUBJECT, inbox],
            responses=True,
        )
    if user == "projections":
        return _permissions(
            [*_durable_consumer(EVENTS_STREAM, "projections", events), *_write_audit(),
             f"$JS.API.DIRECT.GET.{RULE_CONFIG_STREAM}.{RULE_CONFIG_SUBJECT_ROOT}.>"],
            [inbox],
        )
    if user == "alerts":
        return _permissions(
            [
                *_durable_consumer(EVENTS_STREAM, "alerts", events),
                f"{ALERTS_SUBJECT_ROOT}.>",
                *_manage_stream(ALERTS_STREAM),
                f"{RULE_CONFIG_SUBJECT_ROOT}.>",
                *_manage_stream(RULE_CONFIG_STREAM),
                *_write_audit(),
            ],
            [inbox],
        )
    if user == ADMIN:
        return _permissions([">"], [">"])
    if user.startswith("client-"):
        municipality = user.removeprefix("client-")
        if not municipality.isdigit():
            raise ValueError(f"a client user is client-<municipality code>, not {user!r}")
        return _permissions([FACTS_SUBMIT_SUBJECT], [f"{ALERTS_SUBJECT_ROOT}.{municipality}.>", inbox])
    raise ValueError(f"unknown NATS user {user!r}")


def users_for(municipalities: Iterable[str], *, admin: bool = True) -> list[str]:
    return [*SERVICES, *(client_user(m) for m in municipalities), *([ADMIN] if admin else [])]


def new_passwords(users: Iterable[str]) -> dict[str, str]:
    return {user: secrets.token_urlsafe(32) for user in users}


def hash_password(password: str) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(BCRYPT_ROUNDS)).decode()


def authorization_config(hashes: Mapping[str, str]) -> str:
    """The `authorization` block for nats-server: every user with its bcrypt hash and permissions."""
    users = [
        {"user": user, "password": password_hash, "permissions": permissions_for(user)}
        for user, password_hash in hashes.items()
    ]
    # JSON is valid nats-server configuration; quoted strings are taken literally (no $variables).
    return "authorization " + json.dumps({"users": users}, indent=2) + "\n"


def server_config(hashes: Mapping[str, str]) -> str:
    """A whole configuration for the embedded server (address, port and store come as flags)."""
    return "# Written by casetrack; see casetrack/natsauth.py.\n" + authorization_config(hashes)


def user_url(url: str, user: str, password: str) -> str:
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    netloc = f"{quote(user, safe='')}:{quote(password, safe='')}@{host}"
    return urlunsplit(parts._replace(netloc=netloc))


def service_env(url: str, passwords: Mapping[str, str]) -> dict[str, str]:
    """`<SERVICE>_NATS_URL` for each service, with its own user (runtime.settings reads these)."""
    return {f"{service.upper()}_NATS_URL": user_url(url, service, passwords[service]) for service in SERVICES}


def load_or_create_passwords(path: Path, users: Iterable[str]) -> dict[str, str]:
    """Passwords kept in `path` (mode 0600); users not there yet get a new one."""
    passwords: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    missing = [user for user in users if user not in passwords]
    if missing or not path.exists():
        passwords |= new_passwords(missing)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.chmod(0o600)
        path.write_text(json.dumps(passwords, indent=2))
    return passwords


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m casetrack.natsauth",
        description="Write the NATS authorization block (bcrypt hashes) and the services' credentials.",
    )
    parser.add_argument("--municipality", action="append", default=[], help="a case-system client (repeat)")
    parser.add_argument("--no-admin", action="store_true", help="no all-subjects operator user")
    parser.add_argument("--nats-url", default="nats://nats:4222", help="how the services reach NATS")
    parser.add_argument("--config", type=Path, required=True, help="authorization block, included by nats.conf")
    parser.add_argument("--env", type=Path, required=True, help="credentials (mode 0600): KEY=VALUE lines")
    args = parser.parse_args(argv)
    try:
        users = users_for(args.municipality, admin=not args.no_admin)
        for user in users:
            permissions_for(user)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    passwords = new_passwords(users)
    args.config.write_text(
        "# Written by `python -m casetrack.natsauth`; bcrypt hashes only.\n"
        + authorization_config({user: hash_password(password) for user, password in passwords.items()})
    )
    args.env.touch(mode=0o600)
    args.env.chmod(0o600)
    lines = [f"{key}={value}" for key, value in service_env(args.nats_url, passwords).items()]
    lines += [f"# {user}: {user_url(args.nats_url, user, passwords[user])}" for user in users if user not in SERVICES]
    args.env.write_text("\n".join(lines) + "\n")
    print(f"wrote {args.config} and {args.env}; keep {args.env} secret", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
