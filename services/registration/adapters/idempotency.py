"""Idempotent submission: the first answer to a client's Idempotency-Key, kept with the events.

The answer is written in the same transaction as the events it reports on, by the event recorder
itself (after the events are inserted, when their log positions are known). So either both the
events and the answer are stored or neither is; a retry finds the answer and stores nothing new,
also after a restart. Two concurrent requests with the same key cannot both commit: the key is the
table's primary key, and the loser's transaction fails, is retried, and then finds the answer.
Only answers that stored something are kept: a refused request stored nothing, so a retry is
simply decided again. Answers are kept for `CASETRACK_IDEMPOTENCY_DAYS` (default 30), far longer
than any client retries.
"""

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier
from psycopg.types.json import Jsonb

Answer = dict[str, Any]  # {"status": int, "body": {...}}, as the client got it


@dataclass(frozen=True)
class IdempotencyKey:
    client: str  # the key is the client's own: two clients may use the same key
    key: str
    request_hash: str


def request_hash(payload: Any) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


class IdempotentRecorder(PostgresApplicationRecorder):
    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.idempotency_table = self.events_table_name.removesuffix("_events") + "_idempotency"
        table = SQL("{0}.{1}").format(Identifier(self.datastore.schema), Identifier(self.idempotency_table))
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {0} ("
                "client text NOT NULL, key text NOT NULL, request_hash text NOT NULL, "
                "answer jsonb NOT NULL, recorded_at timestamptz NOT NULL DEFAULT now(), "
                "PRIMARY KEY (client, key))"
            ).format(table)
        )
        self._insert_answer = SQL(
            "INSERT INTO {0} (client, key, request_hash, answer) VALUES (%s, %s, %s, %s) RETURNING 1"
        ).format(table)
        self._delete_answers = SQL("DELETE FROM {0} WHERE recorded_at < now() - make_interval(days => %s)").format(table)
        self._select_answer = SQL("SELECT request_hash, answer FROM {0} WHERE client = %s AND key = %s").format(table)
        self._select_existing = SQL("SELECT DISTINCT originator_id FROM {0}.{1} WHERE originator_id = ANY(%s)").format(
            Identifier(self.datastore.schema), Identifier(self.events_table_name))

    def _fetch_ids_after_insert_events(
        self,
        curs: Cursor[DictRow],
        stored_events: Sequence[StoredEvent],
        *,
        idempotency: IdempotencyKey | None = None,
        answer: Callable[[Sequence[int]], Answer] | None = None,
        **kwargs: Any,
    ) -> Sequence[int] | None:
        notification_ids = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        if idempotency is not None and answer is not None and notification_ids:
            curs.execute(
                self._insert_answer,
                (idempotency.client, idempotency.key, idempotency.request_hash, Jsonb(answer(notification_ids))),
            )
            curs.fetchone()  # surfaces a duplicate key here, inside the transaction
        return notification_ids

    def stored_answer(self, client: str, key: str) -> tuple[str, Answer] | None:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(self._select_answer, (client, key))
            row = curs.fetchone()
        return None if row is None else (row["request_hash"], row["answer"])

    def existing_originators(self, originator_ids: Sequence[Any]) -> set[Any]:
        """Which of these aggregates have any stored event: one query for a whole batch."""
        if not originator_ids:
            return set()
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(self._select_existing, (list(originator_ids),))
            return {row["originator_id"] for row in curs.fetchall()}

    def forget_answers(self, days: int) -> int:
        """Drops answers older than `days`; returns how many."""
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(self._delete_answers, (days,))
            return curs.rowcount
