"""One leader among replicas, by a PostgreSQL advisory lock held on a dedicated connection.

Work that must happen in one place at a time (relaying the event log, applying the stream to a read
model in order) runs only while its lock is held. The lock goes with the connection: if the leader
dies, PostgreSQL releases it and a standby takes over.
"""

import asyncio
import hashlib

import asyncpg


def lock_key(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


async def acquire_leadership(database_url: str, name: str, stop: asyncio.Event) -> asyncpg.Connection | None:
    """Waits until this process leads `name`; returns the connection holding the lock (close it
    to step down), or None if told to stop first."""
    connection = await asyncpg.connect(database_url, timeout=5)
    try:
        while not await connection.fetchval("SELECT pg_try_advisory_lock($1)", lock_key(name)):
            try:
                await asyncio.wait_for(stop.wait(), timeout=1.0)
            except TimeoutError:
                continue
            await connection.close(timeout=5)
            return None
    except BaseException:
        connection.terminate()
        raise
    return connection
