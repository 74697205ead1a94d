"""Applies the events the projections consumer parked, once the fix is deployed.

    python -m services.projections.redrive        (DATABASE_URL from the environment)

Prints how many were applied and how many still fail; exits 1 while any still fails.
"""

import asyncpg

from runtime.checkpoint import CheckpointedApplier, redrive_main
from services.projections import projector
from services.projections.bootstrap import CONSUMER


async def open_applier(pool: asyncpg.Pool) -> CheckpointedApplier:
    await projector.prepare(pool)
    applier = CheckpointedApplier(
        pool, service="projections", prefix="projection", consumer=CONSUMER, apply=projector.apply_out_of_order
    )
    await applier.prepare()
    return applier


if __name__ == "__main__":
    redrive_main(open_applier)
