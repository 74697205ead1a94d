"""`casetrack run`: the whole system on one machine, with embedded servers unless told otherwise.

With NATS_URL / DATABASE_URL unset it starts a real nats-server (JetStream) and a real PostgreSQL
under the data folder, provisions the streams as the operator, then starts the three services, loads
demo data through the public API and prints the URLs. It restarts a service that exits
(casetrack.processes.Supervisor). Ctrl-C, SIGTERM and SIGHUP (its terminal closed) stop everything it
started, services first. `casetrack streams --url <operator's NATS URL>` provisions the streams of an
installation.
"""

import argparse
import asyncio
import concurrent.futures
import json
import os
import secrets
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from casetrack import demo
from casetrack.processes import BACKENDS, SERVICES, ServiceProcess, Supervisor, say
from runtime.settings import secret

if TYPE_CHECKING:
    from casetrack.embedded import EmbeddedNats

DEMO_MUNICIPALITIES = ("101", "751")
NATS_PASSWORDS_FILE = "nats-users.json"


def _tokens(data_dir: Path) -> dict[str, dict[str, str]]:
    """Demo tokens, made once per data folder and kept so a restart keeps them."""
    path = data_dir / "tokens.json"
    if path.exists():
        return json.loads(path.read_text())
    tokens = {
        secrets.token_urlsafe(24): {"name": f"demo-{m}", "municipality": m, "role": "client"}
        for m in DEMO_MUNICIPALITIES
    }
    for m in DEMO_MUNICIPALITIES:  # one person of each role, in the demo's ICM team
        tokens[secrets.token_urlsafe(24)] = {"name": f"demo-manager-{m}", "municipality": m, "role": "manager"}
        tokens[secrets.token_urlsafe(24)] = {
            "name": f"demo-leader-{m}",
            "municipality": m,
            "role": "team_leader",
            "team": "team-icm",
            "worker": "leder-icm",
        }
        tokens[secrets.token_urlsafe(24)] = {
            "name": f"demo-worker-{m}",
            "municipality": m,
            "role": "support_worker",
            "team": "team-icm",
            "worker": "w-icm-1",
        }
    tokens[secrets.token_urlsafe(24)] = {"name": "demo-admin", "role": "admin"}
    path.write_text(json.dumps(tokens, indent=2))
    path.chmod(0o600)
    return tokens


def _demo_users(data_dir: Path) -> dict[str, dict[str, str]]:
    """Demo logins for the dashboard, made once per data folder: per demo municipality a team
    leader (of the ICM team), a manager and a support worker (w-icm-1 of the ICM team). Kept with
    their passwords so they can be printed."""
    path = data_dir / "users.json"
    if path.exists():
        return json.loads(path.read_text())
    users = {}
    for m in DEMO_MUNICIPALITIES:
        users[f"leder-{m}"] = {
            "password": secrets.token_urlsafe(9),
            "role": "team_leader",
            "municipality": m,
            "team": "team-icm",
        }
        users[f"chef-{m}"] = {"password": secrets.token_urlsafe(9), "role": "manager", "municipality": m}
        users[f"medarbejder-{m}"] = {
            "password": secrets.token_urlsafe(9),
            "role": "support_worker",
            "municipality": m,
            "team": "team-icm",
            "worker": "w-icm-1",
        }
    path.write_text(json.dumps(users, indent=2))
    path.chmod(0o600)
    return users


def _users_env(users: dict[str, dict[str, str]]) -> str:
    """CASETRACK_USERS for the dashboard: the same users with scrypt hashes instead of passwords."""
    from runtime.passwords import hash_password

    return json.dumps(
        {
            name: {k: v for k, v in user.items() if k != "password"}
            | {"password_hash": hash_password(user["password"])}
            for name, user in users.items()
        }
    )


def _secret(data_dir: Path, name: str) -> str:
    """A random secret kept in the data folder (mode 0600), made on first use."""
    path = data_dir / name
    if not path.exists():
        path.write_text(secrets.token_urlsafe(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _pseudonym_key(data_dir: Path) -> str:
    """The key for CPR pseudonyms, made once per data folder and kept: a new key would give every
    citizen sent by CPR number a new pseudonymous id."""
    path = data_dir / "pseudonym.key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _master_keys(data_dir: Path) -> Path:
    """The keyring that wraps the citizens' keys, made once per data folder and kept: without it
    the personal details stored so far cannot be read. (In production keep it apart from the
    database and its backups.)"""
    from services.registration.masterkeys import new_key_line

    path = data_dir / "master.keys"
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(new_key_line("demo-1") + "\n")
    return path


def _embedded_nats(data_dir: Path, municipalities: list[str]) -> tuple["EmbeddedNats", dict[str, str], dict[str, str]]:
    """A nats-server with casetrack's users and permissions (casetrack.natsauth).

    The passwords are made once per data folder and kept; the server's configuration holds only
    their bcrypt hashes. Returns the server, the services' environment (each service its own
    `<SERVICE>_NATS_URL`) and the passwords.
    """
    from casetrack import natsauth
    from casetrack.embedded import EmbeddedNats

    users = natsauth.users_for(municipalities)
    passwords = natsauth.load_or_create_passwords(data_dir / NATS_PASSWORDS_FILE, users)
    passwords = {user: passwords[user] for user in users}
    config = data_dir / "nats" / "nats.conf"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(natsauth.server_config({u: natsauth.hash_password(p) for u, p in passwords.items()}))
    server = EmbeddedNats(data_dir / "nats", config_file=config)
    url = server.start()
    return server, {"NATS_URL": url} | natsauth.service_env(url, passwords), passwords


def provision_streams(url: str, replicas: int | None = None, partitions: int | None = None) -> None:
    """Creates or updates casetrack's streams as the operator (whose user `url` carries): the
    services may only look them up (casetrack.natsauth). Safe to repeat. `replicas`: nodes per
    stream, default CASETRACK_STREAM_REPLICAS; `partitions` of the events stream, default
    CASETRACK_EVENT_PARTITIONS."""

    async def provision() -> None:
        import nats

        from casetrack.natsauth import ADMIN
        from runtime.bus import ensure_streams, inbox_prefix, servers_and_credentials

        nc = await nats.connect(
            **servers_and_credentials(url),
            name="casetrack-streams",
            inbox_prefix=inbox_prefix(ADMIN),
            allow_reconnect=False,
            connect_timeout=5,
        )
        try:
            for attempt in range(20):  # a server just started may not have JetStream ready yet
                try:
                    await ensure_streams(nc.jetstream(timeout=10), replicas=replicas, partitions=partitions)
                    return
                except (nats.errors.NoRespondersError, nats.js.errors.ServiceUnavailableError):
                    if attempt == 19:
                        raise
                    await asyncio.sleep(0.25)
        finally:
            await nc.close()

    # In a thread of its own: callers may be inside an event loop (tests) or not.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, provision()).result()


def streams_command(args: argparse.Namespace) -> int:
    """`casetrack streams`: provisions the streams with the operator's NATS user."""
    url = args.url or secret("OPERATOR_NATS_URL")
    if not url:
        print("error: give --url or OPERATOR_NATS_URL (the operator's NATS user)", file=sys.stderr)
        return 2
    try:
        provision_streams(url)
    except Exception as error:  # refused (not the operator's user: a timeout), unreachable, wrong password
        print(f"error: the streams could not be provisioned with that user: {error!r}", file=sys.stderr)
        return 1
    print("streams provisioned", flush=True)
    return 0


def run(args: argparse.Namespace) -> int:
    data_dir = Path(args.data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    started: list = []  # stopped in reverse order
    stop = threading.Event()
    # Explicit handlers: a shell that starts us in the background sets SIGINT to "ignore".
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())

    def hang_up(*_: object) -> None:
        # The terminal is gone: what is said from now on goes to a log, then everything stops.
        _detach_output(data_dir / "logs" / "run.log")
        stop.set()

    signal.signal(signal.SIGHUP, hang_up)
    supervisor: Supervisor | None = None
    try:
        env: dict[str, str] = {}
        if os.environ.get("CASETRACK_TOKENS"):
            tokens = json.loads(os.environ["CASETRACK_TOKENS"])
        else:
            tokens = _tokens(data_dir)
            env["CASETRACK_TOKENS"] = json.dumps(tokens)
        nats_passwords: dict[str, str] = {}
        if os.environ.get("NATS_URL"):
            env["NATS_URL"] = os.environ["NATS_URL"]
            if os.environ.get("OPERATOR_NATS_URL"):  # else the operator has provisioned the streams
                provision_streams(os.environ["OPERATOR_NATS_URL"])
        else:
            municipalities = sorted({e["municipality"] for e in tokens.values() if e.get("municipality")})
            nats_server, nats_env, nats_passwords = _embedded_nats(data_dir, municipalities)
            started.append(nats_server)
            env |= nats_env
            from casetrack.natsauth import ADMIN, user_url

            provision_streams(user_url(env["NATS_URL"], ADMIN, nats_passwords[ADMIN]))
            print(f"nats-server (JetStream, one user per service) started: {env['NATS_URL']}", flush=True)
        if os.environ.get("DATABASE_URL"):
            env["DATABASE_URL"] = os.environ["DATABASE_URL"]
        else:
            from casetrack.embedded import EmbeddedPostgres

            postgres = EmbeddedPostgres(data_dir / "postgres")
            env["DATABASE_URL"] = postgres.start()
            started.append(postgres)
            print(f"PostgreSQL started: {env['DATABASE_URL']}", flush=True)
        if not os.environ.get("CASETRACK_PSEUDONYM_KEY"):
            env["CASETRACK_PSEUDONYM_KEY"] = _pseudonym_key(data_dir)
        if not os.environ.get("CASETRACK_MASTER_KEY_FILE"):
            env["CASETRACK_MASTER_KEY_FILE"] = str(_master_keys(data_dir))
        if not os.environ.get("CASETRACK_SIGNING_KEY"):
            # Sessions of people logged in to the dashboard; every service must accept them.
            env["CASETRACK_SIGNING_KEY"] = _secret(data_dir, "signing.key")
        demo_users: dict[str, dict[str, str]] = {}
        if not os.environ.get("CASETRACK_USERS"):
            demo_users = _demo_users(data_dir)
            env["CASETRACK_USERS"] = _users_env(demo_users)
        ports = {name: int(os.environ.get(f"{name.upper()}_PORT", port)) for name, port in SERVICES.items()}
        env |= {f"CASETRACK_{name.upper()}_URL": f"http://127.0.0.1:{ports[name]}" for name in BACKENDS}
        services = []
        for name in (*BACKENDS, "dashboard"):
            if stop.is_set():  # stopped while starting
                return 0
            port = ports[name]
            service = ServiceProcess(name, port, env, data_dir / "logs" / f"{name}.log")
            service.start()
            started.append(service)
            services.append(service)
            print(f"{name:<13} {service.url}  (API docs: {service.url}/docs)", flush=True)
        if not args.no_demo:
            _load_demo(services[0].url, tokens, args.demo_citizens)
        print("\nTokens (Authorization: Bearer <token>):")
        for token, entry in tokens.items():
            print(
                f"  {entry.get('name')} ({entry.get('role', 'client')}): municipality "
                f"{entry.get('municipality', 'all')}: {token}"
            )
        if nats_passwords:
            from casetrack.natsauth import REGISTRATION_USERS, user_url
            from casetrack.natsauth import SERVICES as NATS_SERVICES

            print(f"\nNATS users (passwords kept in {data_dir / NATS_PASSWORDS_FILE}):")
            for nats_user, password in nats_passwords.items():
                if nats_user not in (*NATS_SERVICES, *REGISTRATION_USERS):
                    print(f"  {nats_user}: {user_url(env['NATS_URL'], nats_user, password)}")
        if demo_users:
            print("\nDashboard users (passwords kept in " + str(data_dir / "users.json") + "):")
            for username, user in demo_users.items():
                scope = f"municipality {user['municipality']}" + (f", {user['team']}" if user.get("team") else "")
                print(f"  {username} / {user['password']}  ({user['role']}, {scope})")
        print(f"\nDashboard: http://127.0.0.1:{ports['dashboard']}/  (log in with a user above)")
        print(
            f"Logs in {data_dir / 'logs'}. A service that exits is started again; restart one with "
            f"kill $(cat {data_dir / 'run'}/<service>.pid). Ctrl-C stops everything.",
            flush=True,
        )
        supervisor = Supervisor(services, data_dir / "run")
        supervisor.watch(stop)
        return 0
    except KeyboardInterrupt:
        return 0
    finally:
        say("stopping ...")
        for thing in reversed(started):
            thing.stop()
        if supervisor is not None:
            supervisor.close()


def _detach_output(log: Path) -> None:
    """Point stdout and stderr at a file (a closed terminal answers every write with an error)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(fd, sys.stdout.fileno())
    os.dup2(fd, sys.stderr.fileno())
    os.close(fd)


def _load_demo(registration_url: str, tokens: dict[str, dict[str, str]], citizens: int) -> None:
    for token, entry in tokens.items():
        municipality = entry.get("municipality")
        if municipality not in DEMO_MUNICIPALITIES or entry.get("role", "client") != "client":
            continue
        if demo.loaded(registration_url, token, municipality):
            print(f"demo data for {municipality}: already loaded", flush=True)
            continue
        facts = demo.generate(municipality, citizens=citizens, months=24, seed=2026)
        accepted, rejected = demo.load(registration_url, token, facts)
        note = "" if not rejected else f" ({len(rejected)} refused, e.g. {rejected[0]['error']['reason']})"
        print(f"demo data for {municipality}: {accepted} facts accepted{note}", flush=True)


def demo_command(args: argparse.Namespace) -> int:
    """`casetrack demo`: simulates municipalities over N months through the public API."""
    failed = 0
    for municipality in args.municipality:
        facts = demo.generate(municipality, citizens=args.citizens, months=args.months, seed=args.seed)
        accepted, rejected = demo.load(args.url, args.token, facts)
        print(
            f"demo data for {municipality}: {accepted} of {len(facts)} facts accepted over {args.months} months",
            flush=True,
        )
        for result in rejected[:10]:
            print(f"  refused {result['fact_type']}: {result['error']['reason']}", file=sys.stderr)
        failed += len(rejected)
    return 1 if failed else 0


def import_command(args: argparse.Namespace) -> int:
    """`casetrack import FILE`: another system's history, with its original times (docs/import.md)."""
    from casetrack import importer

    token = args.token or secret("CASETRACK_IMPORT_TOKEN")
    if not token:
        print("error: give --token or CASETRACK_IMPORT_TOKEN (the administrator's token)", file=sys.stderr)
        return 2
    path = Path(args.file)
    report = Path(args.report) if args.report else path.with_name(path.name + ".refused.jsonl")
    try:
        state = importer.run_import(
            path,
            args.url,
            token,
            source=args.source,
            report_path=report,
            state_path=Path(args.state) if args.state else None,
            batch_size=args.batch,
        )
    except OSError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except importer.ImportFailed as error:
        print(f"error: {error}; run the command again to go on where it stopped", file=sys.stderr)
        return 3
    print(importer.summary(state, report), flush=True)
    return 1 if state.refused else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="casetrack", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run_parser = commands.add_parser("run", help="run the whole system")
    run_parser.add_argument("--data-dir", default=".casetrack", help="where embedded servers keep data")
    run_parser.add_argument("--no-demo", action="store_true", help="do not load demo data")
    run_parser.add_argument("--demo-citizens", type=int, default=40)
    demo_parser = commands.add_parser("demo", help="simulate municipalities' Housing First work through the API")
    demo_parser.add_argument("--url", default="http://127.0.0.1:8001", help="the registration service")
    demo_parser.add_argument("--token", required=True, help="a token for the municipalities (or an admin token)")
    demo_parser.add_argument("--municipality", action="append", required=True, help="3-digit code; repeatable")
    demo_parser.add_argument("--months", type=int, default=24)
    demo_parser.add_argument("--citizens", type=int, default=60, help="citizens entering per municipality")
    demo_parser.add_argument("--seed", type=int, default=2026)
    streams_parser = commands.add_parser("streams", help="create or update the NATS streams (the operator's job)")
    streams_parser.add_argument("--url", help="NATS URL with the operator's user; default OPERATOR_NATS_URL")
    import_parser = commands.add_parser(
        "import", help="import another system's history with its original times (the administrator's)"
    )
    import_parser.add_argument("file", help="JSON lines: recorded_at, source, fact (docs/import.md)")
    import_parser.add_argument("--url", default="http://127.0.0.1:8001", help="the registration service")
    import_parser.add_argument("--token", help="the administrator's token; default CASETRACK_IMPORT_TOKEN")
    import_parser.add_argument("--source", help="the source system, for lines that do not name one")
    import_parser.add_argument("--report", help="the refused lines with reasons; default FILE.refused.jsonl")
    import_parser.add_argument("--state", help="where a run keeps how far it got; default FILE.import-state.json")
    import_parser.add_argument("--batch", type=int, default=200, help="lines per request (at most 1000)")
    args = parser.parse_args(argv)
    if args.command == "import":
        return import_command(args)
    if args.command == "streams":
        return streams_command(args)
    if args.command == "run":
        return run(args)
    if args.command == "demo":
        return demo_command(args)
    return 2


if __name__ == "__main__":
    sys.exit(main())
