"""Applies the events the projections consumer parked, once the fix is deployed.

    python -m services.projections.redrive        (DATABASE_URL from the environment)

Prints how many were applied and how many still fail; exits 1 while any still fails.
"""

import asyncpg

from runtime.checkpoint import CheckpointedApplier, redrive_main
from runtime.partitions import checkpointed_consumers
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
    others = [
        CheckpointedApplier(pool, service="projections", prefix="projection", consumer=consumer, apply=first.apply)
        for consumer in await checkpointed_consumers(pool, "projection")
        if consumer != first.consumer
    ]
    return [first, *others]


if __name__ == "__main__":
    redrive_main(open_appliers)
