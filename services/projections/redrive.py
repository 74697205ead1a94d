"""Applies the events the projections consumer parked, once the fix is deployed.

    python -m services.projections.redrive        (DATABASE_URL from the environment)

Prints how many were applied and how many still fail; exits 1 while any still fails.
"""

import asyncpg

from runtime.checkpoint import CheckpointedApplier, redrive_main
from runtime.partitions import applier_for, checkpointed_consumers
from services.projections import projector
from services.projections.bootstrap import CONSUMER


async def open_applier(pool: asyncpg.Pool) -> CheckpointedApplier:
    await projector.prepare(pool)
    applier = CheckpointedApplier(
        pool, service="projections", prefix="projection", consumer=CONSUMER, apply=projector.apply_out_of_order
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
