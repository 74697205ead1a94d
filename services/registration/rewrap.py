"""Wraps every citizen's key under the first master key of the keyring, now.

    python -m services.registration.rewrap [--database-url URL] [--master-key-file PATH]

(defaults: DATABASE_URL and CASETRACK_MASTER_KEY_FILE). Re-wraps the keys under the ring's other
master keys (rotation: run it once every registration replica has the new keyring) and wraps the
bare keys stored by versions before wrapping (registration does that on start too). Prints how
many keys each master key wraps afterwards: an older key that wraps none may be deleted from the
file. Exits 1 while some key is under a master key the file lacks. Safe while registration runs.
"""

import argparse
import os
import sys

from runtime.settings import ConfigError, secret
from services.registration.application import Registration, postgres_env
from services.registration.masterkeys import MASTER_KEY_FILE_ENV, Keyring


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.registration.rewrap", description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=secret("DATABASE_URL"))
    parser.add_argument("--master-key-file", default=os.environ.get(MASTER_KEY_FILE_ENV))
    args = parser.parse_args(argv)
    if not args.database_url or not args.master_key_file:
        parser.error(f"give --database-url and --master-key-file (or DATABASE_URL and {MASTER_KEY_FILE_ENV})")
    try:
        keyring = Keyring.from_file(args.master_key_file)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    registration = Registration(env=postgres_env(args.database_url), keyring=keyring)
    try:
        done = registration.rewrap_keys()
    finally:
        registration.close()
    print(
        f"wrapped {done.wrapped_bare} bare keys and re-wrapped {done.rewrapped} under master key {keyring.current_id!r}"
    )
    unknown = 0
    for key_id in keyring.ids:
        count = done.per_master_key.get(key_id, 0)
        note = (
            " (current)"
            if key_id == keyring.current_id
            else " (wraps none: may be deleted from the file)"
            if not count
            else ""
        )
        print(f"  {key_id}: {count} keys{note}")
    for stored_id, count in done.per_master_key.items():
        if stored_id not in keyring.ids:
            unknown += count
            what = (
                "still bare (stored while this ran)"
                if stored_id is None
                else f"under master key {stored_id!r}, not in the file"
            )
            print(f"  {count} keys {what}", file=sys.stderr)
    return 1 if unknown else 0


if __name__ == "__main__":
    sys.exit(main())
