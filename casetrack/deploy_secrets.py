"""Writes the secrets docker-compose.yml hands to the services as files (compose `secrets:`), so that
no password, key or token is in the compose file, in an environment variable or in `docker inspect`.
The services read them through the `*_FILE` variables (runtime.settings.secret).

    python -m casetrack.deploy_secrets --municipality 101 --municipality 147   # or: make secrets

writes, under deploy/secrets/ (git-ignored; the folder mode 0700, so only its owner on the host can
open the files inside; the files are world-readable so that the images' users can read their mount):

- `postgres_password`, `database_url` — PostgreSQL's password and the services' URL with it;
- `signing_key`, `pseudonym_key` — CASETRACK_SIGNING_KEY, CASETRACK_PSEUDONYM_KEY;
- `master_keys` — registration's keyring (README "Personal data"): back it up on its own;
- `tokens` — CASETRACK_TOKENS: a `client` token for each municipality's case system and an `admin`
  token (hand each to its holder);
- `users` — CASETRACK_USERS, the dashboard's logins: `{}` to begin with (README "Production");
- `<user>_nats_url` — each NATS user's URL with its password (registration, relay, submissions,
  projections, alerts, operator), and `nats_clients` the case systems' URLs to hand out;
- and, beside them, deploy/nats-auth.conf: the NATS users as bcrypt hashes, for nats-server.

A file that exists is kept: run it again after adding one by hand, or delete one to have it made
anew. The NATS users are written together (passwords and hashes must match): delete
deploy/nats-auth.conf to make them anew, e.g. to add a municipality.
"""

import argparse
import json
import secrets
import sys
from pathlib import Path

from casetrack import natsauth
from services.registration.masterkeys import new_key_line

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
NATS_URL = "nats://nats:4222"


def nats_files(passwords: dict[str, str]) -> dict[str, str]:
    """Each NATS URL the compose file hands out, by its secret's name."""
    env = natsauth.service_env(NATS_URL, passwords) | natsauth.operator_env(NATS_URL, passwords)
    return {key.lower(): url for key, url in env.items()}


def write(secrets_dir: Path, nats_config: Path, municipalities: list[str]) -> list[Path]:
    """Writes what is missing; returns the files written."""
    secrets_dir.mkdir(parents=True, exist_ok=True)
    secrets_dir.chmod(0o700)
    password = secrets.token_urlsafe(32)
    wanted = {
        "postgres_password": password,
        "database_url": f"postgresql://casetrack:{password}@postgres:5432/casetrack",
        "signing_key": secrets.token_urlsafe(48),
        "pseudonym_key": secrets.token_urlsafe(48),
        "master_keys": new_key_line("1") + "\n",
        "tokens": json.dumps(_tokens(municipalities), indent=2),
        "users": "{}",
    }
    if (secrets_dir / "postgres_password").exists() != (secrets_dir / "database_url").exists():
        raise SystemExit("error: delete both postgres_password and database_url, or neither: they share a password")
    written = [path for name, text in wanted.items() if (path := _keep_or_write(secrets_dir / name, text))]
    if not nats_config.exists():
        users = natsauth.users_for(municipalities)
        passwords = natsauth.new_passwords(users)
        files = nats_files(passwords)
        files["nats_clients"] = "".join(
            f"{user}: {natsauth.user_url(NATS_URL, user, passwords[user])}\n"
            for user in users
            if user.startswith("client-")
        )
        written += [_write(secrets_dir / name, text) for name, text in files.items()]
        hashes = {user: natsauth.hash_password(secret) for user, secret in passwords.items()}
        nats_config.write_text(
            "# Written by `python -m casetrack.deploy_secrets`; bcrypt hashes only.\n"
            + natsauth.authorization_config(hashes)
        )
        written.append(nats_config)
    return written


def _tokens(municipalities: list[str]) -> dict[str, dict[str, str]]:
    table = {
        secrets.token_urlsafe(32): {"name": f"fagsystem-{m}", "municipality": m, "role": "client"}
        for m in municipalities
    }
    return table | {secrets.token_urlsafe(32): {"name": "admin", "role": "admin"}}


def _keep_or_write(path: Path, text: str) -> Path | None:
    return None if path.exists() else _write(path, text)


def _write(path: Path, text: str) -> Path:
    path.unlink(missing_ok=True)
    path.write_text(text)
    path.chmod(0o444)  # the folder (0700) keeps it from others on the host; the container user reads it
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m casetrack.deploy_secrets", description=__doc__.split("\n")[0])
    parser.add_argument("--municipality", action="append", default=[], help="a case system's municipality (repeat)")
    parser.add_argument("--dir", type=Path, default=DEPLOY / "secrets", help="default: deploy/secrets")
    parser.add_argument("--nats-config", type=Path, default=DEPLOY / "nats-auth.conf", help="default: deploy/")
    args = parser.parse_args(argv)
    try:
        for municipality in args.municipality:
            natsauth.permissions_for(natsauth.client_user(municipality), args.municipality, admin=True)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    written = write(args.dir, args.nats_config, args.municipality)
    print("\n".join(f"wrote {path}" for path in written) or "nothing to write: every secret is there", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
