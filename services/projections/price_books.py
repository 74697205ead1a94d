"""Price books for the investment calculation, per municipality, set through the API. Like the
targets (targets.py): settings kept outside the generations and never overwritten — a new version
from its `valid_from` day on, so a calculation on a day uses the book that applied then."""

import json
from datetime import date
from typing import Any

import asyncpg

from services.projections.investment import EXAMPLE_PRICE_BOOK, Price, PriceBook

SCHEMA = """
CREATE TABLE IF NOT EXISTS investment_price_books (
    id bigserial PRIMARY KEY,
    municipality text NOT NULL,
    version text NOT NULL,
    valid_from date NOT NULL,
    book jsonb NOT NULL,
    set_by text NOT NULL,
    set_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS investment_price_books_lookup ON investment_price_books (municipality, valid_from);
"""


def to_json(book: PriceBook) -> dict[str, Any]:
    return {
        "price_level": book.price_level,
        "prices": [
            {
                "id": p.id,
                "name_da": p.name_da,
                "name_en": p.name_en,
                "unit": p.unit,
                "unit_price_dkk": p.unit_price_dkk,
                "split": dict(p.split),
                "effect_years": p.effect_years,
                "source": p.source,
            }
            for p in book.prices
        ],
    }


def from_json(municipality: str, version: str, valid_from: date, raw: dict[str, Any]) -> PriceBook:
    """The stored book; the example book's prices complete it where it has none of its own."""
    own = tuple(
        Price(
            p["id"],
            p["name_da"],
            p["name_en"],
            p["unit"],
            float(p["unit_price_dkk"]),
            {payer: float(share) for payer, share in p["split"].items()},
            int(p["effect_years"]),
            p["source"],
        )
        for p in raw["prices"]
    )
    have = {p.id for p in own}
    missing = tuple(p for p in EXAMPLE_PRICE_BOOK.prices if p.id not in have)
    return PriceBook(municipality, version, valid_from.isoformat(), raw["price_level"], own + missing)


async def set_book(db: asyncpg.Pool, book: PriceBook, set_by: str) -> dict[str, Any]:
    row = await db.fetchrow(
        """INSERT INTO investment_price_books (municipality, version, valid_from, book, set_by)
           VALUES ($1, $2, $3, $4::jsonb, $5) RETURNING set_at""",
        book.municipality,
        book.version,
        date.fromisoformat(book.valid_from),
        json.dumps(to_json(book)),
        set_by,
    )
    return {"municipality": book.municipality, "version": book.version, "valid_from": book.valid_from,
            "set_by": set_by, "set_at": row["set_at"].isoformat()}  # fmt: skip


async def book_on(db: asyncpg.Pool, municipality: str, day: date) -> PriceBook:
    """The municipality's book valid on `day` (the latest set of the latest valid_from), else the example."""
    row = await db.fetchrow(
        """SELECT version, valid_from, book FROM investment_price_books
           WHERE municipality = $1 AND valid_from <= $2 ORDER BY valid_from DESC, set_at DESC, id DESC LIMIT 1""",
        municipality,
        day,
    )
    if row is None:
        return EXAMPLE_PRICE_BOOK
    return from_json(municipality, row["version"], row["valid_from"], json.loads(row["book"]))


async def versions(db: asyncpg.Pool, municipality: str) -> list[dict[str, Any]]:
    rows = await db.fetch(
        """SELECT version, valid_from, set_by, set_at FROM investment_price_books WHERE municipality = $1
           ORDER BY valid_from DESC, set_at DESC, id DESC""",
        municipality,
    )
    return [{"version": r["version"], "valid_from": r["valid_from"].isoformat(), "set_by": r["set_by"],
             "set_at": r["set_at"].isoformat()} for r in rows]  # fmt: skip
