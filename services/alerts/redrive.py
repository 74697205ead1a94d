"""Applies the events the alerts consumer parked, once the fix is deployed.

    python -m services.alerts.redrive        (DATABASE_URL from the environment)

Prints how many were applied and how many still fail; exits 1 while any still fails. Rules are
evaluated at the real time of the re-drive.
"""

import asyncpg

from runtime.checkpoint import CheckpointedApplier, redrive_main
from runtime.clock import SystemClock
from runtime.partitions import applier_for, checkpointed_consumers
from services.alerts import handlers, store
from services.alerts.bootstrap import CONSUMER


async def open_applier(pool: asyncpg.Pool) -> CheckpointedApplier:
    await pool.execute(store.SCHEMA)
    applier = CheckpointedApplier(
        pool, service="alerts", prefix="alert", consumer=CONSUMER, apply=handlers.applier(SystemClock().now)
    )
    await applier.prepare()
    return applier


async def open_appliers(pool: asyncpg.Pool) -> list[CheckpointedApplier]:
    """The one consumer's applier and, where the events stream is partitioned, each partition's."""
    first = await open_applier(pool)
    consumers = await checkpointed_consumers(pool, first.prefix)
    return [first, *(applier_for(first, consumer) for consumer in consumers if consumer != first.consumer)]


if __name__ == "__main__":
    redrive_main(open_appliers)
