"""The event recorder of registration: eventsourcing's PostgreSQL recorder, extended to write the
idempotency outcome and the personal details in the transaction that stores the events.

This module is the one place that overrides eventsourcing. It relies on what eventsourcing 9.5
does in `PostgresApplicationRecorder.insert_events` (tests/test_registration_recorder.py pins each):
- the keyword arguments of `Application.save(...)` reach `_fetch_ids_after_insert_events`;
- that method runs inside the insert transaction, after the events' rows are inserted, on the
  cursor that inserted them, and gets their log positions (notification ids) in the order of the
  events saved;
- a database error in it (a unique violation: the key was answered meanwhile) fails the
  transaction, so nothing is stored, and reaches the caller of `save` as eventsourcing's
  IntegrityError; but any other exception is caught inside the transaction and raised after the
  commit: the events would be stored without their outcome or personal details. So the hook fails
  the transaction itself first (`ABORT`); the caller then gets eventsourcing's ProgrammingError;
- none of it happens with `POSTGRES_ENABLE_DB_FUNCTIONS` (inserts through a database function
  skip the method), so this recorder refuses to run with it;
- `_insert_stored_events` locks the table, notifies and inserts the rows with `RETURNING
  notification_id` on the cursor the hook gets. This recorder does the same but sends the rows as
  four typed arrays (`unnest(uuid[], bigint[], text[], bytea[])`, binary) instead of one array of
  the composite type, which psycopg dumps as text in Python, row by row: a fifth of a save.
  The same rows in the same order, so the same notification ids.
"""

import contextlib
import logging
from collections.abc import Callable, Sequence
from typing import Any

import psycopg
from eventsourcing.persistence import ProgrammingError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

from services.registration.adapters.idempotency import IdempotencyTable
from services.registration.application import IdempotencyKey, Outcome
from services.registration.personal import PersonalDetailsTables, ToErase, ToKeep

log = logging.getLogger(__name__)

# eventsourcing catches an exception of the hook inside the transaction and raises it after the
# commit: this statement makes the server fail the transaction, so that the commit rolls back.
ABORT = SQL("DO $$BEGIN RAISE EXCEPTION 'registration recorder failed: the transaction is rolled back'; END$$")


class RegistrationRecorder(PostgresApplicationRecorder):
    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if self.datastore.enable_db_functions:
            raise ProgrammingError(
                "registration's recorder writes outcomes and personal details in the events' transaction, "
                "which inserting through database functions would skip: unset POSTGRES_ENABLE_DB_FUNCTIONS"
            )
        prefix = self.events_table_name.removesuffix("_events")
        self.outcomes = IdempotencyTable(self.datastore, prefix)
        self.personal = PersonalDetailsTables(self.datastore, prefix)
        self.sql_create_statements += self.outcomes.create_statements + self.personal.create_statements
        self._insert_columns = SQL(
            "INSERT INTO {0}.{1} (originator_id, originator_version, topic, state)"
            " SELECT * FROM unnest(%b::{2}[], %b::bigint[], %b::text[], %b::bytea[])"
            " RETURNING notification_id"
        ).format(
            Identifier(self.datastore.schema),
            Identifier(self.events_table_name),
            Identifier(self.datastore.originator_id_type),
        )
        self._select_existing = SQL("SELECT DISTINCT originator_id FROM {0}.{1} WHERE originator_id = ANY(%s)").format(
            Identifier(self.datastore.schema), Identifier(self.events_table_name)
        )

    def _insert_stored_events(self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **_: Any) -> None:
        self._lock_table(curs)
        self._notify_channel(curs)
        curs.execute(
            self._insert_columns,
            (
                [e.originator_id for e in stored_events],
                [e.originator_version for e in stored_events],
                [e.topic for e in stored_events],
                [e.state for e in stored_events],
            ),
        )

    def _fetch_ids_after_insert_events(
        self,
        curs: Cursor[DictRow],
        stored_events: Sequence[StoredEvent],
        *,
        idempotency: IdempotencyKey | None = None,
        outcome: Callable[[Sequence[int]], list[Outcome]] | None = None,
        keep: Sequence[ToKeep] = (),
        erase: Sequence[ToErase] = (),
        line_keys: Sequence[IdempotencyKey] | None = None,
        **kwargs: Any,
    ) -> Sequence[int] | None:
        notification_ids = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        try:
            if notification_ids:
                self.personal.write(curs, stored_events, keep, erase)
                if idempotency is not None and outcome is not None:
                    self.outcomes.insert(curs, idempotency, outcome(notification_ids))
                if line_keys is not None and outcome is not None:  # imported lines: each its own outcome
                    for key, one in zip(line_keys, outcome(notification_ids), strict=True):
                        self.outcomes.insert(curs, key, [one])
        except Exception as error:
            if not isinstance(error, psycopg.Error):  # else the server has already failed the transaction
                log.exception("the events' transaction is rolled back: the recorder failed")
                with contextlib.suppress(psycopg.Error):  # the failure this asks for
                    curs.execute(ABORT)
            raise
        return notification_ids

    def existing_originators(self, originator_ids: Sequence[Any]) -> set[Any]:
        """Which of these aggregates have any stored event: one query for a whole batch."""
        if not originator_ids:
            return set()
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(self._select_existing, (list(originator_ids),))
            return {row["originator_id"] for row in curs.fetchall()}
