"""The audit trail of reads: every read of a citizen's data is on the stream before it is served.

The entry is published to JetStream and its acknowledgement awaited; if the bus cannot take it, the
read fails with 503 rather than happening unrecorded.

Reading it back (`AuditLog.query`, registration's `GET /v1/audit/reads`): the service that wrote an
entry is the one its subject names, `casetrack.audit.<service>.<municipality>.<type>.<id>`, because
the NATS permissions let each service publish under its own name only (casetrack.natsauth). An entry
that does not validate, whose body names another service or another subject than its subject does,
or that repeats an entry id already seen, is skipped, logged and counted in the answer: it never
breaks the query. Entries from before writers were bound to their subjects
(`casetrack.audit.<municipality>.<type>.<id>`) are still shown, marked `legacy`: their service is
only what the body says.
"""

import asyncio
import logging
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Literal
from uuid import UUID

import nats.errors
from fastapi import APIRouter, Depends, Query, Request
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from contracts.audit import AUDIT_STREAM, AUDIT_SUBJECT_ROOT, AuditEntry, SubjectType, audit_subject
from runtime.auth import Principal, current_principal
from runtime.errors import ApiError, error_responses
from runtime.metrics import AUDIT_ENTRIES_SKIPPED
from runtime.responses import Timestamp

log = logging.getLogger(__name__)

PAGE_SIZE_DEFAULT = 100
PAGE_SIZE_MAX = 1000
# How long the scan waits for the next entry the server said is there before it gives up (503).
SCAN_STALL_SECONDS = 5.0

Order = Literal["asc", "desc"]
SkipReason = Literal["invalid", "service_mismatch", "subject_mismatch", "duplicate"]


class AuditLog:
    def __init__(self, js: JetStreamContext, service: str):
        self.js = js
        self.service = service
        self._reported: set[int] = set()  # stream sequences already logged as skipped by this process

    async def record_read(
        self,
        principal: Principal,
        *,
        action: str,
        municipality: str,
        subject_type: SubjectType,
        subject_id: str,
        filter: dict[str, str] | None = None,  # noqa: A002 - the entry's field
    ) -> None:
        entry = AuditEntry(
            at=datetime.now(UTC),
            service=self.service,
            actor=principal.name,
            role=principal.role,
            municipality=municipality,
            action=action,
            subject_type=subject_type,
            subject_id=subject_id,
            filter=filter,
        )
        await self.js.publish(
            audit_subject(self.service, municipality, subject_type, subject_id),
            entry.model_dump_json().encode(),
            headers={"Nats-Msg-Id": str(entry.id)},
            stream=AUDIT_STREAM,
            timeout=5,
        )

    async def query(self, query: "AuditQuery") -> "AuditPage":
        """One page of the entries matching `query`, with the total that match and what was skipped.

        The server narrows the scan to the query's subjects and, with `since`, to the entries stored
        from then on; every entry in that range is read once (the total and the deduplication need
        them all), but only one page of them is kept."""
        page = _PageBuilder(query)
        seen: set[tuple[str, UUID]] = set()

        def take(message: Msg) -> bool:
            """False once the scan is past the query's time range."""
            if query.until is not None and message.metadata.timestamp > query.until:
                return False  # the stream is in the order it was stored
            recorded = self._recorded(message, seen, page.skipped)
            if recorded is None:
                return True
            if query.actor is None or recorded.entry.actor == query.actor:
                page.add(recorded)
            return True

        subjects = [query.subjects()]
        # A second filter slows the server's delivery down severalfold: only if the trail has any.
        if await self._count(query.legacy_subjects(), query.since):
            subjects.append(query.legacy_subjects())
        await self._scan(subjects, query.since, take)
        return page.result()

    async def _count(self, subject: str, since: datetime | None) -> int:
        """How many stored messages match `subject` (from `since` on): what a consumer's creation answers."""
        config = ConsumerConfig(
            filter_subject=subject,
            ack_policy=AckPolicy.NONE,
            inactive_threshold=5,
            deliver_policy=DeliverPolicy.BY_START_TIME if since else DeliverPolicy.ALL,
            opt_start_time=since,
        )
        info = await self.js.add_consumer(AUDIT_STREAM, config=config)
        await self.js.delete_consumer(AUDIT_STREAM, info.name)
        return info.num_pending or 0

    async def _scan(self, subjects: list[str], since: datetime | None, take: Callable[[Msg], bool]) -> None:
        """Hands the stored messages under `subjects` (from `since` on) to `take`, oldest first, until
        it answers False or they are all read.

        An ephemeral ordered consumer created here rather than by `js.subscribe`, because its
        creation answers how many messages it will deliver: an empty range ends at once instead of
        after a timeout, and a stalled one is an error, not a silently short answer. The messages go
        to a callback: awaiting them one by one costs a task each, several times the reading."""
        config = ConsumerConfig(
            filter_subjects=subjects,
            deliver_subject=self.js._nc.new_inbox(),  # nats-py exposes no public inbox on the context
            deliver_policy=DeliverPolicy.BY_START_TIME if since else DeliverPolicy.ALL,
            opt_start_time=since,
            # What js.subscribe(ordered_consumer=True) sets, so that subscribe_bind can re-create it.
            ack_policy=AckPolicy.NONE,
            flow_control=True,
            max_deliver=1,
            ack_wait=22 * 3600,
            idle_heartbeat=5,
            num_replicas=1,
            mem_storage=True,
        )
        info = await self.js.add_consumer(AUDIT_STREAM, config=config)
        remaining = info.num_pending or 0
        if remaining == 0:
            await self.js.delete_consumer(AUDIT_STREAM, info.name)
            return
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        async def deliver(message: Msg) -> None:
            nonlocal remaining
            if done.done():
                return
            remaining -= 1
            try:
                if not take(message) or remaining <= 0 or message.metadata.num_pending == 0:
                    done.set_result(None)
            except Exception as exc:  # noqa: BLE001 - handed to the query, which answers 503
                done.set_exception(exc)

        subscription = await self.js.subscribe_bind(
            AUDIT_STREAM, config=config, consumer=info.name, cb=deliver, ordered_consumer=True
        )
        try:
            while not done.done():
                before = remaining
                await asyncio.wait([done], timeout=SCAN_STALL_SECONDS)
                if not done.done() and remaining == before:
                    raise TimeoutError(f"the audit trail stopped delivering with {remaining} to go")
            done.result()
        finally:
            await subscription.unsubscribe()

    def _recorded(self, message: Msg, seen: set[tuple[str, UUID]], skipped: Counter) -> "RecordedRead | None":
        metadata = message.metadata
        sequence = metadata.sequence.stream
        tokens = message.subject.split(".")[len(AUDIT_SUBJECT_ROOT.split(".")) :]
        legacy = len(tokens) == 3
        writer, addressed = (None, tokens) if legacy else (tokens[0], tokens[1:])
        try:
            entry = AuditEntry.model_validate_json(message.data)
        except ValidationError as exc:
            self._skip(skipped, sequence, message.subject, "invalid", exc.errors(include_input=False)[:3])
            return None
        if writer is not None and entry.service != writer:
            self._skip(skipped, sequence, message.subject, "service_mismatch", entry.service)
            return None
        if [entry.municipality, entry.subject_type, entry.subject_id] != addressed:
            self._skip(skipped, sequence, message.subject, "subject_mismatch", entry.subject_id)
            return None
        # Keyed by writer too: no service can hide another's entry by filing its id first. Entries
        # from before ids were given have none (the model's default is a fresh one): nothing to match.
        key = (writer or entry.service, entry.id)
        if "id" in entry.model_fields_set:
            if key in seen:
                self._skip(skipped, sequence, message.subject, "duplicate", str(entry.id))
                return None
            seen.add(key)
        return RecordedRead(sequence, metadata.timestamp, writer or entry.service, legacy, entry)

    def _skip(self, skipped: Counter, sequence: int, subject: str, reason: SkipReason, detail: object) -> None:
        skipped[reason] += 1
        if sequence not in self._reported:  # once per process, not on every query that passes it
            self._reported.add(sequence)
            AUDIT_ENTRIES_SKIPPED.labels(service=self.service, reason=reason).inc()
            log.warning(
                "audit entry skipped",
                extra={"reason": reason, "stream_sequence": sequence, "subject": subject, "detail": repr(detail)},
            )
        return None


@dataclass(frozen=True)
class AuditQuery:
    municipality: str
    subject_type: str | None = None
    subject_id: str | None = None
    actor: str | None = None
    since: datetime | None = None  # recorded at or after (the stream's time of storing the entry)
    until: datetime | None = None  # recorded at or before
    order: Order = "desc"
    limit: int = PAGE_SIZE_DEFAULT
    after: int | None = None  # the cursor: the stream sequence the previous page ended at

    def _addressed(self) -> str:
        return f"{self.municipality}.{self.subject_type or '*'}.{self.subject_id or '*'}"

    def subjects(self) -> str:
        return f"{AUDIT_SUBJECT_ROOT}.*.{self._addressed()}"

    def legacy_subjects(self) -> str:
        """Where entries were filed before the writer was part of the subject."""
        return f"{AUDIT_SUBJECT_ROOT}.{self._addressed()}"


@dataclass(frozen=True)
class RecordedRead:
    sequence: int  # in the audit stream
    recorded_at: datetime  # when the stream stored it (the server's clock)
    service: str  # the writer, from the subject
    legacy: bool  # written before writers were bound to their subjects: `service` is the body's word
    entry: AuditEntry

    def as_json(self) -> dict[str, object]:
        return self.entry.model_dump(mode="json") | {
            "id": str(self.entry.id) if "id" in self.entry.model_fields_set else None,
            "service": self.service,
            "legacy": self.legacy,
            "sequence": self.sequence,
            "recorded_at": self.recorded_at.isoformat(),
        }


@dataclass
class AuditPage:
    reads: list[RecordedRead]
    total: int  # entries matching the query, on all pages
    next_cursor: str | None
    skipped: Counter = field(default_factory=Counter)


class _PageBuilder:
    """Counts every matching entry but keeps only one page: the first `limit` after the cursor
    (ascending), or the last `limit` before it (descending)."""

    def __init__(self, query: AuditQuery):
        self.query = query
        self.total = 0
        self.beyond_cursor = 0  # matching entries on this page or on the pages after it
        self.kept: deque[RecordedRead] = deque(maxlen=query.limit if query.order == "desc" else None)
        self.skipped: Counter = Counter()

    def add(self, recorded: RecordedRead) -> None:
        self.total += 1
        after = self.query.after
        if self.query.order == "desc":
            if after is None or recorded.sequence < after:
                self.beyond_cursor += 1
                self.kept.append(recorded)
        elif after is None or recorded.sequence > after:
            self.beyond_cursor += 1
            if len(self.kept) < self.query.limit:
                self.kept.append(recorded)

    def result(self) -> AuditPage:
        reads = list(reversed(self.kept)) if self.query.order == "desc" else list(self.kept)
        more = self.beyond_cursor > len(reads)
        return AuditPage(reads, self.total, str(reads[-1].sequence) if more else None, self.skipped)


def audit_unavailable() -> ApiError:
    return ApiError(
        503,
        "audit_unavailable",
        "Opslaget kan ikke logges lige nu og vises derfor ikke; prøv igen.",
        "The read cannot be put on the audit trail right now, so it is not served; retry later.",
    )


def audit_trail_unavailable() -> ApiError:
    return ApiError(
        503,
        "audit_trail_unavailable",
        "Revisionssporet kan ikke læses lige nu; prøv igen.",
        "The audit trail cannot be read right now; retry later.",
    )


async def audited_read(
    request: Request,
    principal: Principal,
    *,
    action: str,
    municipality: str,
    subject_type: SubjectType,
    subject_id: str,
    filter: dict[str, str] | None = None,  # noqa: A002 - the entry's field
) -> None:
    """Records a read of a citizen's (or course's) data on the service's audit log before it is
    served: a service without one, or a bus that does not take the entry, answers 503."""
    audit: AuditLog | None = getattr(request.app.state, "audit", None)
    if audit is None:
        raise audit_unavailable()
    try:
        await audit.record_read(
            principal,
            action=action,
            municipality=municipality,
            subject_type=subject_type,
            subject_id=subject_id,
            filter=filter,
        )
    except Exception as exc:  # timeouts, no responders, a closed connection: nothing is served
        log.warning("audit entry not written", extra={"error": repr(exc), "action": action})
        raise audit_unavailable() from None


class AuditReadOut(BaseModel):
    """One read on the audit trail: the entry as written, and where and when the stream stored it."""

    model_config = ConfigDict(extra="forbid")

    id: str | None = Field(description="the entry's id; null for entries written before entries had one")
    at: datetime = Field(description="when the read was made (the reading service's clock)")
    service: str = Field(description="the service that recorded the read")
    actor: str
    role: str
    municipality: str
    action: str
    subject_type: SubjectType
    subject_id: str
    filter: dict[str, str] | None = Field(default=None, description="a list read: the filter it was read with")
    legacy: bool = Field(description="written before writers were bound to their subjects")
    sequence: int = Field(description="its sequence in the audit stream")
    recorded_at: Timestamp = Field(description="when the stream stored it")


class SkippedOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    total: int
    reasons: dict[str, int] = Field(description="entries left out (unreadable, forged), counted by reason")


class AuditReadsOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    municipality: str
    order: Order
    total: int = Field(description="entries matching the query, on all pages")
    reads: list[AuditReadOut]
    next_cursor: str | None = Field(description="give it as `cursor` for the next page; null on the last")
    skipped: SkippedOut


audit_router = APIRouter(tags=["operations"])

IDENTIFIER = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"


@audit_router.get("/v1/audit/reads", response_model=AuditReadsOut, responses=error_responses(403, 422))
async def audit_reads(
    request: Request,
    principal: Annotated[Principal, Depends(current_principal)],
    municipality: Annotated[str, Query(pattern=r"^\d{3}$")],
    subject_type: Annotated[SubjectType | None, Query()] = None,
    subject_id: Annotated[str | None, Query(pattern=IDENTIFIER)] = None,
    actor: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    since: Annotated[AwareDatetime | None, Query(alias="from")] = None,
    until: Annotated[AwareDatetime | None, Query(alias="to")] = None,
    order: Annotated[Order, Query()] = "desc",
    limit: Annotated[int, Query(ge=1, le=PAGE_SIZE_MAX)] = PAGE_SIZE_DEFAULT,
    cursor: Annotated[str | None, Query(pattern=r"^[1-9][0-9]{0,18}$")] = None,
) -> dict[str, object]:
    """Who read which citizen's data (administrator only), newest first, one page at a time."""
    principal.ensure_admin()
    if since is not None and until is not None and since > until:
        raise ApiError(
            422,
            "validation_error",
            "Ugyldige data: se felterne.",
            "Invalid input: see fields.",
            [{"field": "query.to", "problem": "`to` is before `from`", "type": "time_range"}],
        )
    query = AuditQuery(
        municipality, subject_type, subject_id, actor, since, until, order, limit, int(cursor) if cursor else None
    )
    try:
        page = await request.app.state.audit.query(query)
    except (TimeoutError, ConnectionError, OSError, nats.errors.Error) as exc:
        log.warning("audit trail not readable", extra={"error": repr(exc)})
        raise audit_trail_unavailable() from None
    return {
        "municipality": municipality,
        "order": order,
        "total": page.total,
        "reads": [read.as_json() for read in page.reads],
        "next_cursor": page.next_cursor,
        "skipped": {"total": sum(page.skipped.values()), "reasons": dict(page.skipped)},
    }
