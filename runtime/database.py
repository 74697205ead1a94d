"""asyncpg pools for the read-model services."""

import asyncpg


async def create_pool(database_url: str, *, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool:
    return await asyncpg.create_pool(database_url, min_size=min_size, max_size=max_size, timeout=5, command_timeout=30)


async def ping(pool: asyncpg.Pool) -> bool:
    return await pool.fetchval("SELECT true", timeout=2)
