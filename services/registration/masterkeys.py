"""The master keys that wrap the citizens' keys, kept outside the database.

A citizen's personal details are sealed under a key of that citizen alone (personal.py). That key
is stored only wrapped: AES-256-GCM under a master key, with the citizen as associated data, so a
wrapped key cannot be moved to another citizen's row. The master keys are a file given to
registration (`CASETRACK_MASTER_KEY_FILE`), never the database: a dump of the database alone opens
nothing.

The file is a keyring, one key a line: `<id> <base64 of 32 random bytes>` (`#` starts a comment).
The first key wraps; the others only unwrap what they wrapped, so a master key is rotated without a
pause: put a new key first, restart registration, run `python -m services.registration.rewrap`,
then delete the old line. `python -m
services.registration.masterkeys <id>` prints a new line.

Without the file registration still runs, but refuses personal details (503), like CPR numbers
without the pseudonym key.
"""

import base64
import binascii
import os
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from runtime.errors import ApiError
from runtime.settings import ConfigError

MASTER_KEY_FILE_ENV = "CASETRACK_MASTER_KEY_FILE"
KEY_BYTES = 32
NONCE_BYTES = 12
KEY_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


@dataclass(frozen=True)
class Wrapped:
    """A citizen's key as stored: nonce and ciphertext under master key `master_key_id`."""

    master_key_id: str
    blob: bytes


def master_key_missing() -> ApiError:
    return ApiError(
        503,
        "master_key_missing",
        "Personoplysninger kan ikke gemmes eller læses: tjenesten mangler sin hovednøgle.",
        f"Personal details cannot be kept or read: the service has no master key ({MASTER_KEY_FILE_ENV}).",
    )


def master_key_unknown(master_key_id: str) -> ApiError:
    return ApiError(
        503,
        "master_key_unknown",
        "Personoplysningerne kan ikke læses: hovednøglen, de er beskyttet med, er ikke i tjenestens nøglering.",
        f"The personal details cannot be read: master key {master_key_id!r} that protects them is not "
        "in the service's keyring.",
    )


def _associated_data(citizen: UUID) -> bytes:
    return b"casetrack citizen key:" + citizen.bytes


class Keyring:
    """Master keys by id; the first wraps. An empty keyring wraps and unwraps nothing (503)."""

    def __init__(self, keys: Sequence[tuple[str, bytes]] = ()):
        for key_id, key in keys:
            if not KEY_ID.fullmatch(key_id):
                raise ConfigError(f"master key id {key_id!r}: use 1-64 letters, digits, '.', '_' or '-'")
            if len(key) != KEY_BYTES:
                raise ConfigError(f"master key {key_id!r} must be {KEY_BYTES} bytes, not {len(key)}")
        ids = [key_id for key_id, _ in keys]
        if len(set(ids)) != len(ids):
            raise ConfigError(f"master key ids must differ: {ids}")
        self._keys = {key_id: AESGCM(key) for key_id, key in keys}
        self.current_id: str | None = ids[0] if ids else None

    def __bool__(self) -> bool:
        return self.current_id is not None

    @property
    def ids(self) -> list[str]:
        return list(self._keys)

    @classmethod
    def parse(cls, text: str, source: str = "keyring") -> "Keyring":
        keys = []
        for number, line in enumerate(text.splitlines(), start=1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            parts = line.split()
            if len(parts) != 2:
                raise ConfigError(f"{source} line {number}: expected '<id> <base64 key>'")
            try:
                key = base64.b64decode(parts[1], validate=True)
            except binascii.Error:
                raise ConfigError(f"{source} line {number}: the key is not base64") from None
            keys.append((parts[0], key))
        if not keys:
            raise ConfigError(f"{source} holds no master key")
        return cls(keys)

    @classmethod
    def from_file(cls, path: str | Path) -> "Keyring":
        try:
            text = Path(path).read_text()
        except OSError as exc:
            raise ConfigError(f"{MASTER_KEY_FILE_ENV}: cannot read {path}: {exc.strerror}") from None
        return cls.parse(text, str(path))

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> "Keyring":
        """The keyring in the file `CASETRACK_MASTER_KEY_FILE` names; empty when it is unset. A
        file that is named but unreadable or malformed is a configuration error (refuse to start)."""
        path = env.get(MASTER_KEY_FILE_ENV)
        return cls.from_file(path) if path else cls()

    def wrap(self, citizen_key: bytes, citizen: UUID) -> Wrapped:
        if self.current_id is None:
            raise master_key_missing()
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._keys[self.current_id].encrypt(nonce, citizen_key, _associated_data(citizen))
        return Wrapped(self.current_id, nonce + sealed)

    def unwrap(self, wrapped: Wrapped, citizen: UUID) -> bytes:
        if self.current_id is None:
            raise master_key_missing()
        master = self._keys.get(wrapped.master_key_id)
        if master is None:
            raise master_key_unknown(wrapped.master_key_id)
        nonce, sealed = wrapped.blob[:NONCE_BYTES], wrapped.blob[NONCE_BYTES:]
        try:
            return master.decrypt(nonce, sealed, _associated_data(citizen))
        except InvalidTag:
            raise ValueError(
                f"the key of citizen {citizen} does not open under master key "
                f"{wrapped.master_key_id!r}: altered, or moved from another citizen"
            ) from None


def new_key_line(key_id: str) -> str:
    """A keyring line with a new random master key."""
    key = AESGCM.generate_key(bit_length=KEY_BYTES * 8)
    Keyring([(key_id, key)])  # the id is valid
    return f"{key_id} {base64.b64encode(key).decode()}"


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m services.registration.masterkeys <id>   (prints a new keyring line)")
    try:
        print(new_key_line(sys.argv[1]))
    except ConfigError as exc:
        sys.exit(str(exc))
