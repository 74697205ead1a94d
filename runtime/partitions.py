"""Apply work partitioned by municipality, shared by the replicas of a service (issue 20).

The events stream stores each event under `casetrack.events.<partition>.<municipality>.<type>`: a
subject transform on the stream (NATS's deterministic `{{partition(N,1)}}` of the municipality
token) puts every municipality in one of N partitions, always the same one, so the order within a
municipality is the stream's order within its partition. The operator chooses N when provisioning
the streams (CASETRACK_EVENT_PARTITIONS, 0 = not partitioned); the services read it from the
stream, so they cannot disagree with it.

Each partition is applied in order by one replica at a time: its own durable consumer
(`<service>-p<partition>`), its own checkpoint row (a CheckpointedApplier whose consumer is the
same name) and its own PostgreSQL advisory lock. A replica that dies loses its locks with its
connections, and the others take its partitions within a second or two.

Balance, kept simple: every replica holds a shared "member" lock, so all can count the replicas
alive (pg_locks). Each leads at most its share, ceil(N / replicas): it tries the partitions it does
not lead in an order of its own (its name's hash rotates the list, so replicas start on different
partitions) while under its share, and steps down from the last of its order while over it (a new
replica came). With 3 replicas and 4 partitions that is 2, 1, 1 or 2, 2, 0: never more than a share.

The read-your-writes position (`GET /v1/position`) is the largest log position P such that every
event at or below P that reached the stream has been applied: the lowest position of the
partitions still behind (messages pending on their consumer), or, when none is behind, the highest
applied anywhere. A partition nobody leads yet counts as behind.
"""

from __future__ import annotations

import asyncio
import copy
import functools
import hashlib
import logging
import math
import os
import re
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import asyncpg
from nats.js import JetStreamContext
from nats.js.api import StreamConfig, SubjectTransform

from contracts.events import EVENTS_STREAM, EVENTS_SUBJECT_ROOT
from runtime.bus import BatchHandler, OrderedConsumer
from runtime.checkpoint import CheckpointedApplier
from runtime.leadership import lock_key
from runtime.metrics import PARTITION_LAG, PARTITION_LED

log = logging.getLogger(__name__)

PARTITIONS_SETTING = "CASETRACK_EVENT_PARTITIONS"
# The NATS users' permissions name each partition's consumer (casetrack.natsauth), up to this many.
MAX_PARTITIONS = 16
_PARTITION_FUNCTION = re.compile(r"\{\{\s*partition\(\s*(\d+)\s*,")
TICK_SECONDS = 1.0


def event_partitions() -> int | None:
    """CASETRACK_EVENT_PARTITIONS for the operator's `casetrack streams`: 0 keeps one consumer per
    service; 1..16 partitions the events stream by municipality. Unset: None, the stream's own
    setting kept (none for a new stream)."""
    raw = os.environ.get(PARTITIONS_SETTING)
    if not raw:
        return None
    try:
        partitions = int(raw)
    except ValueError:
        raise ValueError(f"{PARTITIONS_SETTING} must be a whole number, got {raw!r}") from None
    if not 0 <= partitions <= MAX_PARTITIONS:
        raise ValueError(f"{PARTITIONS_SETTING} must be between 0 and {MAX_PARTITIONS}, got {partitions}")
    return partitions


def events_transform(partitions: int) -> SubjectTransform | None:
    """`casetrack.events.<municipality>.<type>` -> `casetrack.events.<partition>.<municipality>.<type>`."""
    if not partitions:
        return None
    root = EVENTS_SUBJECT_ROOT
    return SubjectTransform(
        src=f"{root}.*.*", dest=f"{root}.{{{{partition({partitions},1)}}}}.{{{{wildcard(1)}}}}.{{{{wildcard(2)}}}}"
    )


def partitions_of(config: StreamConfig) -> int:
    """The number of partitions the stream's subject transform makes (0: none)."""
    transform = config.subject_transform
    match = _PARTITION_FUNCTION.search(transform.dest) if transform is not None else None
    return int(match.group(1)) if match else 0


async def stream_partitions(js: JetStreamContext) -> int:
    return partitions_of((await js.stream_info(EVENTS_STREAM)).config)


def partition_subject(partition: int) -> str:
    return f"{EVENTS_SUBJECT_ROOT}.{partition}.>"


def consumer_name(service: str, partition: int) -> str:
    """The durable consumer, the checkpoint row and the lock of one partition of `service`."""
    return f"{service}-p{partition}"


def preferred_order(replica: str, partitions: int) -> list[int]:
    """The order in which `replica` tries the partitions: all of them, rotated by its name's hash."""
    start = int.from_bytes(hashlib.sha256(replica.encode()).digest()[:4], "big") % partitions
    return [(start + i) % partitions for i in range(partitions)]


def replica_name(service: str) -> str:
    return f"{service}@{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass
class _Led:
    consumer: OrderedConsumer
    stop: asyncio.Event
    task: asyncio.Task[None]


@dataclass
class PartitionedConsumers:
    """The partitions of `service` this replica leads, each consumed by an OrderedConsumer into the
    CheckpointedApplier `appliers[partition]`."""

    js: JetStreamContext
    database_url: str
    service: str
    appliers: dict[int, CheckpointedApplier]
    handler: Callable[[CheckpointedApplier], BatchHandler] = lambda applier: applier
    replica: str = ""
    led: dict[int, _Led] = field(default_factory=dict)
    lag: dict[int, int] = field(default_factory=dict)
    _probe: asyncpg.Connection | None = None

    def __post_init__(self) -> None:
        self.replica = self.replica or replica_name(self.service)
        self.partitions = len(self.appliers)
        self.order = preferred_order(self.replica, self.partitions)
        for partition in range(self.partitions):  # 0 for those it does not lead: partition_not_led sums them
            PARTITION_LED.labels(self.service, str(partition)).set(0)

    @classmethod
    async def prepare(
        cls, js: JetStreamContext, applier: CheckpointedApplier, database_url: str, partitions: int
    ) -> PartitionedConsumers:
        """An applier per partition, like `applier` (the one consumer's, prepared) but with the
        partition's own checkpoint row, which starts where the one consumer had got to (the log
        positions are global, so nothing is applied twice)."""
        appliers = {}
        for partition in range(partitions):
            twin = applier_for(applier, consumer_name(applier.service, partition))
            await twin.prepare()  # a row at 0 if new
            await applier.pool.execute(
                f"""UPDATE {applier.prefix}_checkpoint AS p
                    SET position = u.position, stream_sequence = u.stream_sequence
                    FROM {applier.prefix}_checkpoint AS u
                    WHERE p.consumer = $1 AND u.consumer = $2 AND p.position = 0 AND p.stream_sequence = 0""",
                twin.consumer,
                applier.consumer,
            )
            appliers[partition] = twin
        return cls(js, database_url, applier.service, appliers)

    async def run(self, stop: asyncio.Event) -> None:
        membership = await self._join()
        try:
            while not stop.is_set():
                try:
                    await self._balance(membership, stop)
                except Exception as exc:  # the store away: try again, the led partitions go on alone
                    log.warning("partition balance failed", extra={"service": self.service, "error": repr(exc)})
                    if membership.is_closed():
                        membership = await self._join()
                try:
                    await asyncio.wait_for(stop.wait(), timeout=TICK_SECONDS)
                except TimeoutError:
                    pass
        finally:
            for partition in list(self.led):
                await self._step_down(partition)
            membership.terminate()
            if self._probe is not None:
                self._probe.terminate()

    async def _join(self) -> asyncpg.Connection:
        while True:
            try:
                connection = await asyncpg.connect(self.database_url, timeout=5)
                await connection.execute("SELECT pg_advisory_lock_shared($1)", self._members_key())
                return connection
            except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
                log.warning("cannot join the replicas", extra={"service": self.service, "error": repr(exc)})
                await asyncio.sleep(TICK_SECONDS)

    def _members_key(self) -> int:
        return lock_key(f"members:{self.service}")

    async def replicas_alive(self, connection: asyncpg.Connection) -> int:
        key = self._members_key()
        return await connection.fetchval(
            """SELECT count(*) FROM pg_locks
               WHERE locktype = 'advisory' AND granted AND mode = 'ShareLock'
                 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
                 AND classid = $1 AND objid = $2 AND objsubid = 1""",
            (key >> 32) & 0xFFFFFFFF,
            key & 0xFFFFFFFF,
        )

    def share(self, replicas: int) -> int:
        return math.ceil(self.partitions / max(1, replicas))

    async def _balance(self, membership: asyncpg.Connection, stop: asyncio.Event) -> None:
        for partition, led in list(self.led.items()):
            if led.task.done():  # lost the bus or the store: its lock is gone; tried again below
                del self.led[partition]
                PARTITION_LED.labels(self.service, str(partition)).set(0)
        share = self.share(await self.replicas_alive(membership))
        mine = [p for p in self.order if p in self.led]
        for partition in mine[share:]:  # over the share: a replica joined, it takes these
            log.info("stepping down from a partition", extra={"service": self.service, "partition": partition})
            await self._step_down(partition)
        for partition in self.order:
            if len(self.led) >= share or stop.is_set():
                break
            if partition not in self.led:
                await self._try_lead(partition)

    async def _try_lead(self, partition: int) -> None:
        """Leads `partition` if its lock is free. The lock is tried on a connection kept for trying
        (no new connection a second for every partition another replica leads); once it holds a
        lock it becomes that partition's and the next try opens another."""
        name = consumer_name(self.service, partition)
        if self._probe is None or self._probe.is_closed():
            self._probe = await asyncpg.connect(self.database_url, timeout=5)
        connection = self._probe
        try:
            if not await connection.fetchval("SELECT pg_try_advisory_lock($1)", lock_key(f"consumer:{name}")):
                return
        except BaseException:
            connection.terminate()
            self._probe = None
            raise
        self._probe = None
        applier = self.appliers[partition]
        consumer = OrderedConsumer(
            self.js,
            stream=EVENTS_STREAM,
            durable=name,
            subject=partition_subject(partition),
            handle=self.handler(applier),
            resume_after=applier.stream_sequence,
            database_url=self.database_url,
            on_lag=functools.partial(self._report_lag, partition),
        )
        stop = asyncio.Event()
        task = asyncio.create_task(consumer.consume(connection, stop), name=f"partition-{partition}")
        self.led[partition] = _Led(consumer, stop, task)
        PARTITION_LED.labels(self.service, str(partition)).set(1)
        log.info("leading a partition", extra={"service": self.service, "partition": partition})

    async def _step_down(self, partition: int) -> None:
        led = self.led.pop(partition)
        led.stop.set()
        try:
            await asyncio.wait_for(asyncio.gather(led.task, return_exceptions=True), timeout=15)
        except TimeoutError:
            led.task.cancel()
        PARTITION_LED.labels(self.service, str(partition)).set(0)

    def _report_lag(self, partition: int, lag: int) -> None:
        self.lag[partition] = lag
        PARTITION_LAG.labels(self.service, str(partition)).set(lag)

    def health(self) -> dict[str, object]:
        """What `/healthz` shows: the partitions this replica leads and the lag of each."""
        return {
            "replica": self.replica,
            "partitions": self.partitions,
            "leads": sorted(self.led),
            "lag": {str(p): self.lag.get(p) for p in sorted(self.led)},
        }

    async def position(self) -> int:
        """Read-your-writes over the partitions (see the module's docstring)."""
        positions = {p: await applier.position() for p, applier in self.appliers.items()}
        caught_up = await asyncio.gather(*(self._caught_up(p) for p in positions))
        behind = [positions[p] for p, done in zip(positions, caught_up, strict=True) if not done]
        return min(behind) if behind else max(positions.values(), default=0)

    async def _caught_up(self, partition: int) -> bool:
        """No message of the partition waits for its consumer. Unknown (nobody leads it yet, or the
        bus does not answer just now, e.g. during a stream leader election) counts as behind: the
        position then understates, never overstates, what was applied."""
        try:
            info = await self.js.consumer_info(EVENTS_STREAM, consumer_name(self.service, partition), timeout=1)
        except Exception:
            return False
        return not info.num_pending and not info.num_ack_pending


@dataclass
class EventConsumption:
    """How a service consumes the events stream: one OrderedConsumer (an unpartitioned stream) or
    its share of the partitions. `position` answers `GET /v1/position` either way."""

    task: asyncio.Task[None]
    unpartitioned: CheckpointedApplier
    partitioned: PartitionedConsumers | None

    async def position(self) -> int:
        return await (self.partitioned or self.unpartitioned).position()

    def health(self) -> dict[str, object]:
        return self.partitioned.health() if self.partitioned else {"partitions": 0}


async def consume_events(
    js: JetStreamContext,
    applier: CheckpointedApplier,
    database_url: str,
    *,
    on_lag: Callable[[int], None],
    stop: asyncio.Event,
) -> EventConsumption:
    """Starts consuming the events stream as it is provisioned: into `applier` (prepared) with one
    OrderedConsumer named like its consumer, or, on a partitioned stream, this replica's share of
    the partitions into appliers like it (`applier_for`)."""
    partitions = await stream_partitions(js)
    if partitions:
        consumers = await PartitionedConsumers.prepare(js, applier, database_url, partitions)
        log.info(
            "consuming the events stream's partitions", extra={"service": applier.service, "partitions": partitions}
        )
        return EventConsumption(asyncio.create_task(consumers.run(stop), name="consumer"), applier, consumers)
    one = OrderedConsumer(
        js,
        stream=EVENTS_STREAM,
        durable=applier.consumer,
        subject=f"{EVENTS_SUBJECT_ROOT}.>",
        handle=applier,
        resume_after=applier.stream_sequence,
        database_url=database_url,
        on_lag=on_lag,
    )
    return EventConsumption(asyncio.create_task(one.run(stop), name="consumer"), applier, None)


def applier_for(applier: CheckpointedApplier, consumer: str) -> CheckpointedApplier:
    """`applier` as it is (its apply functions, attempts, tables) for another consumer's checkpoint
    row and parked events: a partition's."""
    twin = copy.copy(applier)
    twin.consumer, twin.parked = consumer, 0
    return twin


async def checkpointed_consumers(pool: asyncpg.Pool, prefix: str) -> list[str]:
    """The consumers with a checkpoint row in `<prefix>_checkpoint`: the one consumer of an
    unpartitioned stream and each partition's (for a re-drive of their parked events)."""
    return [row["consumer"] for row in await pool.fetch(f"SELECT consumer FROM {prefix}_checkpoint ORDER BY 1")]
