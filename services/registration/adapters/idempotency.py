"""Idempotent submission: the outcome of a client's Idempotency-Key, kept with the events.

What is kept is neutral: per fact the stored event (id, log position, type, time, citizen) or the
reason code of the rule or unknown subject that refused it. The answer a client gets, over HTTP or
NATS, is rendered from it by the entrypoints, the same way the first time and on a replay.

The outcome is written in the same transaction as the events it reports on, by the event recorder
(adapters/recorder.py), after the events are inserted, when their log positions are known. So
either both are stored or neither is; a retry finds the outcome and stores nothing new, also after
a restart. Two concurrent requests with the same key cannot both commit: the key is the table's
primary key, and the loser's transaction fails, is retried, and then finds the outcome. Only
requests that stored something are kept: a refused request stored nothing, so a retry is simply
decided again. Outcomes are kept for `CASETRACK_IDEMPOTENCY_DAYS` (default 30), far longer than any
client retries. Imported lines (`POST /v1/import`, keys `import:...`) are the exception: their
outcomes are kept for good, a refusal by the rules too (`insert_alone`), so a file imported again
stores nothing twice and judges no line again against a history that has moved on.

Earlier versions kept the HTTP answer itself in the column `answer`; such rows are read as the
outcome they report (`legacy_outcomes`) until they expire.
"""

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.postgres import PostgresDatastore
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier
from psycopg.types.json import Jsonb

from services.registration.application import IdempotencyKey, Outcome, Receipt, StoredOutcome
from services.registration.domain.rules import RULES, UNKNOWN_SUBJECTS, Rule, RuleViolation, UnknownSubject


def encode(outcomes: list[Outcome]) -> list[dict[str, Any]]:
    return [_encode(o) for o in outcomes]


def decode(data: list[dict[str, Any]]) -> list[Outcome]:
    return [_decode(one) for one in data]


def _encode(outcome: Outcome) -> dict[str, Any]:
    if isinstance(outcome, RuleViolation):
        return {"rule": outcome.rule.reason}
    if isinstance(outcome, UnknownSubject):
        return {"unknown_subject": outcome.reason}
    return outcome.as_json()


def _decode(stored: dict[str, Any]) -> Outcome:
    if "rule" in stored:
        return rule_violation(stored["rule"])
    if "unknown_subject" in stored:
        return unknown_subject(stored["unknown_subject"])
    return Receipt(
        event_id=UUID(stored["event_id"]),
        position=stored["position"],
        type=stored["type"],
        recorded_at=datetime.fromisoformat(stored["recorded_at"]),
        citizen_id=stored.get("citizen_id"),
    )


def rule_violation(reason: str) -> RuleViolation:
    # A rule retired since the outcome was kept still answers with its reason code.
    return RuleViolation(RULES.get(reason) or Rule(reason, reason, reason))


def unknown_subject(reason: str) -> UnknownSubject:
    known = UNKNOWN_SUBJECTS.get(reason)
    return (
        UnknownSubject(reason, known.message_da, known.message_en) if known else UnknownSubject(reason, reason, reason)
    )


def legacy_outcomes(answer: dict[str, Any]) -> list[Outcome]:
    """The outcome an HTTP answer of an earlier version reports: a receipt (201) for one fact; for a
    batch, each fact's receipt (201) or rejection (409 rule, 404 unknown subject), leaving out the
    facts refused before recording (422, 403, 503), as the outcome of a batch does."""
    body = answer["body"]
    if "results" not in body:
        return [_decode(body)]
    outcomes: list[Outcome] = []
    for result in body["results"]:
        if result["status"] == 201:
            outcomes.append(_decode(result["receipt"]))
        elif result["status"] == 409:
            outcomes.append(rule_violation(result["error"]["reason"]))
        elif result["status"] == 404:
            outcomes.append(unknown_subject(result["error"]["reason"]))
    return outcomes


class IdempotencyTable:
    """The outcomes by (client, key), in table `<app>_idempotency` beside the events."""

    def __init__(self, datastore: PostgresDatastore, prefix: str):
        self.datastore = datastore
        table = SQL("{0}.{1}").format(Identifier(datastore.schema), Identifier(prefix + "_idempotency"))
        self.create_statements = [
            SQL(
                "CREATE TABLE IF NOT EXISTS {0} ("
                "client text NOT NULL, key text NOT NULL, request_hash text NOT NULL, "
                "outcome jsonb, answer jsonb, recorded_at timestamptz NOT NULL DEFAULT now(), "
                "PRIMARY KEY (client, key))"
            ).format(table),
            # A table of an earlier version: it kept the HTTP answer (`answer`, then NOT NULL) only.
            SQL("ALTER TABLE {0} ADD COLUMN IF NOT EXISTS outcome jsonb").format(table),
            SQL("ALTER TABLE {0} ALTER COLUMN answer DROP NOT NULL").format(table),
        ]
        self._insert = SQL(
            "INSERT INTO {0} (client, key, request_hash, outcome) VALUES (%s, %s, %s, %s) RETURNING 1"
        ).format(table)
        # The keys of imported lines are kept for good: a file imported again a year later must
        # still store nothing twice (submission.IMPORT_KEY_PREFIX).
        self._insert_alone = SQL(
            "INSERT INTO {0} (client, key, request_hash, outcome) VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING"
        ).format(table)
        self._delete_older = SQL(
            "DELETE FROM {0} WHERE recorded_at < now() - make_interval(days => %s) AND key NOT LIKE 'import:%%'"
        ).format(table)
        self._select = SQL("SELECT request_hash, outcome, answer FROM {0} WHERE client = %s AND key = %s").format(table)

    def insert(self, curs: Cursor[DictRow], idempotency: IdempotencyKey, outcomes: list[Outcome]) -> None:
        """Within the transaction that stores the events the outcomes report on."""
        curs.execute(
            self._insert, (idempotency.client, idempotency.key, idempotency.request_hash, Jsonb(encode(outcomes)))
        )
        curs.fetchone()  # surfaces a duplicate key here, inside the transaction

    def insert_alone(self, idempotency: IdempotencyKey, outcomes: list[Outcome]) -> None:
        """An outcome that stored nothing (an imported line the rules refused), in a transaction of
        its own: the line is answered the same when it comes again, not judged again against a
        state that has moved on. A concurrent insert of the key wins; this one is dropped."""
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                self._insert_alone,
                (idempotency.client, idempotency.key, idempotency.request_hash, Jsonb(encode(outcomes))),
            )

    def stored(self, client: str, key: str) -> StoredOutcome | None:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(self._select, (client, key))
            row = curs.fetchone()
        if row is None:
            return None
        outcomes = decode(row["outcome"]) if row["outcome"] is not None else legacy_outcomes(row["answer"])
        return StoredOutcome(row["request_hash"], outcomes)

    def forget(self, days: int) -> int:
        """Drops outcomes older than `days`; returns how many."""
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(self._delete_older, (days,))
            return curs.rowcount
