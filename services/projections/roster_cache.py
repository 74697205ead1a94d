"""The roster's rows of a municipality on a day, from the history the KPIs use (store.py)."""

from datetime import date
from typing import Any

import asyncpg

from services.projections import store
from services.projections.roster import all_rows


async def rows(db: asyncpg.Pool, municipality: str, day: date, as_of: date | None) -> list[dict[str, Any]]:
    """Every course's row on `day`, as known on `as_of` (now when None)."""
    history = await store.history(db, municipality, as_of)
    return all_rows(history, day)
