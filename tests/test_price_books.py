"""Price books per municipality, versioned like the targets: the investment calculation uses the
book valid on its day (else the example book), completed by the example's prices it lacks."""

import pytest

from tests.support import System

pytestmark = pytest.mark.integration

BED_DAY = {
    "id": "shelter_bed_day",
    "name_da": "Døgn på herberg",
    "name_en": "Shelter bed-day",
    "unit": "bed-day",
    "unit_price_dkk": 1200.0,
    "split": {"municipality": 0.5, "state": 0.5},
    "effect_years": 4,
    "source": "the municipality's own 2025 rate",
}


def book(version: str, valid_from: str, **price: object) -> dict[str, object]:
    return {"municipality": "101", "version": version, "valid_from": valid_from, "price_level": "2025",
            "prices": [BED_DAY | price]}  # fmt: skip


def test_a_manager_sets_versions_and_the_calculation_uses_the_one_valid_on_its_day(system: System) -> None:
    system.start()
    with system.client("projections", "token-manager-101") as manager:
        assert manager.put("/v1/price-books", json=book("kk-2025", "2025-01-01")).status_code == 200
        assert (
            manager.put("/v1/price-books", json=book("kk-2026", "2026-01-01", unit_price_dkk=1300.0)).status_code == 200
        )
        bad = manager.put("/v1/price-books", json=book("bad", "2026-01-01", split={"municipality": 0.5, "state": 0.4}))
        assert (bad.status_code, bad.json()["error"]["reason"]) == (422, "price_book_invalid")
        versions = manager.get("/v1/price-books", params={"municipality": "101"}).json()["versions"]
        assert [v["version"] for v in versions] == ["kk-2026", "kk-2025"]

        def used(on: str) -> dict[str, object]:
            answer = manager.get("/v1/investment", params={"municipality": "101", "success_rate": 0.5, "on": on})
            assert answer.status_code == 200, answer.text
            return answer.json()["assumptions"]

        # 2025-06-30: kk-2025 (1,200 kr.); 2026-03-01: kk-2026 (1,300 kr.); 2024-06-30: the example book.
        prices = {c["price_id"]: c["price"] for c in used("2025-06-30")["consequences"]}
        assert prices["shelter_bed_day"]["unit_price_dkk"] == 1200.0
        assert prices["eviction"]["unit_price_dkk"] == 150_000.0  # not in the book: the example's price
        assert used("2025-06-30")["price_book"]["version"] == "kk-2025"
        assert used("2026-03-01")["price_book"]["version"] == "kk-2026"
        assert used("2024-06-30")["price_book"]["version"] == "isolerede-sindslidende-2014"
    with system.client("projections", "token-leader-101") as leader:
        assert leader.put("/v1/price-books", json=book("x", "2026-01-01")).status_code == 403
