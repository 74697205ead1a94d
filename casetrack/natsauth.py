"""NATS users and their subject permissions: each service its own user, each case system its municipality.

All users live in one account and may use only the subjects listed for them here (README, "NATS
users and permissions", shows the same table; a test holds them equal); anonymous connections are
refused. JetStream is reached through its API subjects, so a service may read only its own durable
consumer and may create, update, purge or delete no stream at all: the streams are provisioned by
the operator (`admin`, runtime.bus.ensure_streams via `casetrack streams` or `casetrack run`), and
the services only look them up. Every user gets an inbox prefix of its own, `_INBOX.<user>`
(runtime.bus.inbox_prefix), and may subscribe only there: otherwise anyone allowed `_INBOX.>` could
read the events delivered to the consumers' pull requests.

The registration process signs in three times. Only `relay` (for its relay) publishes on
`casetrack.events.>`. `submissions` answers the requests on `casetrack.facts.submit` and may publish
nothing but those answers, into the requesting client's inbox, `_INBOX.client-<municipality>.>` (or
the operator's); `registration` writes and reads the audit trail. No user has `allow_responses`:
nats-server lets a responder publish to *any* reply subject a requester names, even one its deny
list forbids (tests/test_nats_identities.py shows it), and a stream would store a reply sent to
one of its subjects.

A case-system client (`client-<municipality>`) may request on `casetrack.facts.submit` (the service
checks its bearer token too) and subscribe to its municipality's alerts, `casetrack.alerts.<m>.>`,
as core NATS. It gets no JetStream API at all: a consumer's configuration is not covered by subject
permissions (nats-server 2.15 accepts a push consumer whose deliver subject its creator may neither
publish nor subscribe to), and reading the alerts stream would show every municipality. Missed
alerts are read back over HTTP (`GET /v1/alerts`).

Every service publishes the reads it serves to the audit trail under its own name only,
`casetrack.audit.<service>.>` (stream CASETRACK_AUDIT); registration also reads it back for the
administrator with an ephemeral ordered consumer.

Passwords are random and stored only as bcrypt hashes in the server configuration; the cleartext
reaches each service in its own `<SERVICE>_NATS_URL` (`RELAY_NATS_URL`, `SUBMISSIONS_NATS_URL`), the
operator's in `OPERATOR_NATS_URL` (a file of its own).

    python -m casetrack.natsauth --municipality 101 --municipality 147 \\
        --config deploy/nats-auth.conf --env deploy/nats-credentials.env \\
        --operator-env deploy/nats-operator.env
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
from contracts.submission import FACTS_SUBMIT_SUBJECT
from runtime.bus import inbox_prefix
from runtime.partitions import MAX_PARTITIONS, consumer_name, partition_subject

SERVICES = ("registration", "projections", "alerts")
RELAY = "relay"  # registration's relay: the only service identity that publishes events
SUBMISSIONS = "submissions"  # registration's answers to requests: may publish into the clients' inboxes only
REGISTRATION_USERS = (RELAY, SUBMISSIONS)  # the registration process's other connections
ADMIN = "admin"  # the operator: provisions the streams (`casetrack streams`), may do anything
# The passwords are 32 random bytes, so the work factor only has to keep a stolen hash from being
# a shortcut; the server pays it on every connect.
BCRYPT_ROUNDS = 10

# Refused to every user but the operator even where an allow would match: stream management, and
# (for all but the relay) the events. A second line behind the allow lists, which never name them.
STREAM_CHANGES = tuple(f"$JS.API.STREAM.{verb}.>" for verb in ("CREATE", "UPDATE", "DELETE", "PURGE", "MSG.DELETE"))

Permissions = dict[str, object]


def client_user(municipality: str) -> str:
    return f"client-{municipality}"


def _stream_info(stream: str) -> str:
    return f"$JS.API.STREAM.INFO.{stream}"


def _durable_consumer(stream: str, durable: str, filter_subject: str) -> list[str]:
    """What runtime.bus.OrderedConsumer needs: (re)create its durable pull consumer, fetch, ack."""
    return [
        _stream_info(stream),
        f"$JS.API.CONSUMER.INFO.{stream}.{durable}",
        f"$JS.API.CONSUMER.DELETE.{stream}.{durable}",
        # The filter is part of the subject (nats-server >= 2.9), so the server refuses any other.
        f"$JS.API.CONSUMER.CREATE.{stream}.{durable}.{filter_subject}",
        f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{durable}",
        f"$JS.ACK.{stream}.{durable}.>",
    ]


def _partition_consumers(service: str) -> list[str]:
    """The durable consumers of the events stream's partitions (runtime/partitions.py), one per
    partition, each filtered to its partition's subjects; as many as the stream may have."""
    return [
        subject
        for partition in range(MAX_PARTITIONS)
        for subject in _durable_consumer(
            EVENTS_STREAM, consumer_name(service, partition), partition_subject(partition)
        )[1:]  # the stream's info is in the list once
    ]


def _permissions(publish: list[str], subscribe: list[str], deny: list[str]) -> Permissions:
    return {"publish": {"allow": publish, "deny": deny}, "subscribe": {"allow": subscribe}}


def _write_audit(service: str) -> list[str]:
    """A service records the reads it serves on the audit trail, under its own name only."""
    return [f"{AUDIT_SUBJECT_ROOT}.{service}.>", _stream_info(AUDIT_STREAM)]


def _read_audit() -> list[str]:
    """runtime.audit.AuditLog.entries: an ephemeral ordered consumer, with its flow control replies."""
    return [
        f"$JS.API.CONSUMER.CREATE.{AUDIT_STREAM}",
        f"$JS.API.CONSUMER.CREATE.{AUDIT_STREAM}.>",
        f"$JS.API.CONSUMER.DELETE.{AUDIT_STREAM}.>",
        "$JS.FC.>",
    ]


def _answers(municipalities: Iterable[str], admin: bool) -> list[str]:
    """Where registration may answer a request: the inboxes of the clients (and the operator)."""
    return [f"{inbox_prefix(client_user(m))}.>" for m in municipalities] + (
        [f"{inbox_prefix(ADMIN)}.>"] if admin else []
    )


def permissions_for(user: str, municipalities: Iterable[str] = (), *, admin: bool = True) -> Permissions:
    """The rights of `user`; `municipalities` (and `admin`): the clients registration answers."""
    events = f"{EVENTS_SUBJECT_ROOT}.>"
    inbox = f"{inbox_prefix(user)}.>"
    deny = [events, *STREAM_CHANGES]
    if user == RELAY:
        return _permissions(
            [events, _stream_info(EVENTS_STREAM), f"$JS.API.STREAM.MSG.GET.{EVENTS_STREAM}"],
            [inbox],
            list(STREAM_CHANGES),
        )
    if user == SUBMISSIONS:
        return _permissions(
            _answers(municipalities, admin), [FACTS_SUBMIT_SUBJECT, inbox], [*deny, f"{AUDIT_SUBJECT_ROOT}.>"]
        )
    if user == "registration":
        return _permissions([*_write_audit(user), *_read_audit()], [inbox], deny)
    if user == "projections":
        return _permissions(
            [
                *_durable_consumer(EVENTS_STREAM, user, events),
                *_partition_consumers(user),
                *_write_audit(user),
                f"$JS.API.DIRECT.GET.{RULE_CONFIG_STREAM}.{RULE_CONFIG_SUBJECT_ROOT}.>",
            ],
            [inbox],
            deny,
        )
    if user == "alerts":
        return _permissions(
            [
                *_durable_consumer(EVENTS_STREAM, user, events),
                *_partition_consumers(user),
                f"{ALERTS_SUBJECT_ROOT}.>",
                _stream_info(ALERTS_STREAM),
                f"{RULE_CONFIG_SUBJECT_ROOT}.>",
                _stream_info(RULE_CONFIG_STREAM),
                *_write_audit(user),
            ],
            [inbox],
            deny,
        )
    if user == ADMIN:
        return {"publish": {"allow": [">"]}, "subscribe": {"allow": [">"]}}
    if user.startswith("client-"):
        municipality = user.removeprefix("client-")
        if not municipality.isdigit():
            raise ValueError(f"a client user is client-<municipality code>, not {user!r}")
        return _permissions([FACTS_SUBMIT_SUBJECT], [f"{ALERTS_SUBJECT_ROOT}.{municipality}.>", inbox], deny)
    raise ValueError(f"unknown NATS user {user!r}")


def municipalities_of(users: Iterable[str]) -> list[str]:
    return [user.removeprefix("client-") for user in users if user.startswith("client-")]


def users_for(municipalities: Iterable[str], *, admin: bool = True) -> list[str]:
    return [*SERVICES, *REGISTRATION_USERS, *(client_user(m) for m in municipalities), *([ADMIN] if admin else [])]


def new_passwords(users: Iterable[str]) -> dict[str, str]:
    return {user: secrets.token_urlsafe(32) for user in users}


def hash_password(password: str) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(BCRYPT_ROUNDS)).decode()


def authorization_config(hashes: Mapping[str, str]) -> str:
    """The `authorization` block for nats-server: every user with its bcrypt hash and permissions."""
    municipalities, admin = municipalities_of(hashes), ADMIN in hashes
    users = [
        {"user": user, "password": password_hash, "permissions": permissions_for(user, municipalities, admin=admin)}
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
    """`<SERVICE>_NATS_URL` for each service, with its own user (runtime.settings reads these), and
    `RELAY_NATS_URL`, `SUBMISSIONS_NATS_URL`: the users of registration's relay and request answers."""
    return {
        f"{user.upper()}_NATS_URL": user_url(url, user, passwords[user]) for user in (*SERVICES, *REGISTRATION_USERS)
    }


def operator_env(url: str, passwords: Mapping[str, str]) -> dict[str, str]:
    """`OPERATOR_NATS_URL`: the operator's user, for `casetrack streams` (runtime.bus.ensure_streams)."""
    return {"OPERATOR_NATS_URL": user_url(url, ADMIN, passwords[ADMIN])}


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
    parser.add_argument(
        "--operator-env",
        type=Path,
        help="the operator's OPERATOR_NATS_URL (mode 0600), for `casetrack streams`; "
        "default: nats-operator.env beside --env",
    )
    args = parser.parse_args(argv)
    try:
        users = users_for(args.municipality, admin=not args.no_admin)
        for user in users:
            permissions_for(user, args.municipality, admin=not args.no_admin)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    passwords = new_passwords(users)
    args.config.write_text(
        "# Written by `python -m casetrack.natsauth`; bcrypt hashes only.\n"
        + authorization_config({user: hash_password(password) for user, password in passwords.items()})
    )
    lines = [f"{key}={value}" for key, value in service_env(args.nats_url, passwords).items()]
    lines += [
        f"# {user}: {user_url(args.nats_url, user, passwords[user])}" for user in users if user.startswith("client-")
    ]
    _write_secret(args.env, lines)
    written = [args.config, args.env]
    if not args.no_admin:
        operator = args.operator_env or args.env.with_name("nats-operator.env")
        _write_secret(operator, [f"{key}={value}" for key, value in operator_env(args.nats_url, passwords).items()])
        written.append(operator)
    print(f"wrote {', '.join(map(str, written))}; keep all but {args.config} secret", file=sys.stderr)
    return 0


def _write_secret(path: Path, lines: list[str]) -> None:
    path.touch(mode=0o600)
    path.chmod(0o600)
    path.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    sys.exit(main())
