"""Who has answered a survey round, kept so that it cannot be read back as a person
(docs/surveys.md §3, "Answering once").

A mark is `HMAC-SHA256(key, municipality|survey|version|round|respondent)` with the service's
pseudonym key, in a table whose only column is the mark: no survey, team, time or event id. It is
written in a transaction of its own before the answer is recorded, and deleted again when the
answer is refused, so it shares no transaction with the answer.
"""

import hashlib
import hmac
from typing import Any

from psycopg.sql import SQL, Identifier

from runtime.errors import ApiError

TABLE = "registration_survey_participation"


def already_answered() -> ApiError:
    return ApiError(
        409,
        "survey_already_answered",
        "Du har allerede besvaret denne runde af spørgeskemaet.",
        "You have already answered this round of the survey.",
    )


def key_missing() -> ApiError:
    return ApiError(
        503,
        "pseudonym_key_missing",
        "Anonyme besvarelser kan ikke modtages: tjenesten mangler sin pseudonymnøgle.",
        "Anonymous answers cannot be received: the service has no CASETRACK_PSEUDONYM_KEY.",
    )


class Participation:
    def __init__(self, recorder: Any, key: str | None):
        self._key = key.encode() if key else None
        self._datastore = getattr(recorder, "datastore", None)
        self._marks: set[str] = set()  # the in-memory store of unit tests
        if self._datastore is not None:
            table = Identifier(self._datastore.schema or "public", TABLE)
            self._create = SQL("CREATE TABLE IF NOT EXISTS {0} (mark text PRIMARY KEY)").format(table)
            self._insert = SQL("INSERT INTO {0} (mark) VALUES (%s) ON CONFLICT DO NOTHING RETURNING mark").format(table)
            self._delete = SQL("DELETE FROM {0} WHERE mark = %s").format(table)
            with self._datastore.transaction(commit=True) as curs:
                curs.execute(self._create)

    def mark_of(self, municipality: str, survey: str, version: int, round_: str, respondent: str) -> str:
        if self._key is None:
            raise key_missing()
        text = f"{municipality}|{survey}|{version}|{round_}|{respondent}"
        return hmac.new(self._key, text.encode(), hashlib.sha256).hexdigest()

    def mark(self, mark: str) -> None:
        """Marks the round answered; 409 when it already was."""
        if self._datastore is None:
            if mark in self._marks:
                raise already_answered()
            self._marks.add(mark)
            return
        with self._datastore.transaction(commit=True) as curs:
            curs.execute(self._insert, (mark,))
            if curs.fetchone() is None:
                raise already_answered()

    def unmark(self, mark: str) -> None:
        if self._datastore is None:
            self._marks.discard(mark)
            return
        with self._datastore.transaction(commit=True) as curs:
            curs.execute(self._delete, (mark,))
