"""Applies the events the projections consumer parked, once the fix is deployed.

    python -m services.projections.redrive        (DATABASE_URL from the environment)

Prints how many were applied and how many still fail; exits 1 while any still fails.
"""

import asyncio
import os
import sys

from runtime.checkpoint import CheckpointedApplier
from runtime.database import create_pool
from services.projections import projector
from services.projections.bootstrap import CONSUMER


async def redrive(database_url: str) -> tuple[int, int]:
    pool = await create_pool(database_url, max_size=2)
    try:
        applier = CheckpointedApplier(
            pool, service="projections", prefix="projection", consumer=CONSUMER, apply=projector.apply
        )
        await projector.prepare(pool)
        await applier.prepare()
        return await applier.redrive_parked()
    finally:
        await pool.close()


def main() -> None:
    applied, failing = asyncio.run(redrive(os.environ["DATABASE_URL"]))
    print(f"re-driven: {applied} applied, {failing} still failing")
    sys.exit(1 if failing else 0)


if __name__ == "__main__":
    main()
