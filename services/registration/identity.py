"""Pseudonymous citizen ids from CPR numbers, at the edge (docs/domain.md §3).

A CPR number may arrive on a citizen or course fact; it is replaced here by a keyed hash
(HMAC-SHA256 with the secret `CASETRACK_PSEUDONYM_KEY`) before the fact goes any further, so it is
never stored, published or logged. The hash is keyed per municipality too, so two municipalities'
pseudonyms for one person cannot be linked. Without the key the service still runs, but refuses
facts that carry a CPR number.
"""

import hashlib
import hmac

from contracts.facts import FactBase
from runtime.errors import ApiError
from runtime.settings import secret

PSEUDONYM_KEY_ENV = "CASETRACK_PSEUDONYM_KEY"


class Pseudonyms:
    def __init__(self, key: str | None):
        self._key = key.encode() if key else None

    @classmethod
    def from_env(cls) -> "Pseudonyms":
        return cls(secret(PSEUDONYM_KEY_ENV))

    def citizen_id(self, municipality: str, cpr: str) -> str:
        if self._key is None:
            raise ApiError(
                503,
                "pseudonym_key_missing",
                "CPR-numre kan ikke modtages: tjenesten mangler sin pseudonymnøgle.",
                f"CPR numbers cannot be received: the service has no {PSEUDONYM_KEY_ENV}.",
            )
        digits = cpr.replace("-", "")
        digest = hmac.new(self._key, f"{municipality}:{digits}".encode(), hashlib.sha256).hexdigest()
        return f"p-{digest[:40]}"

    def identify(self, fact: FactBase) -> FactBase:
        """The fact with its CPR number (if any) replaced by the pseudonymous citizen id."""
        cpr = getattr(fact, "cpr", None)
        if cpr is None:
            return fact
        return fact.model_copy(update={"citizen_id": self.citizen_id(fact.municipality, cpr), "cpr": None})
