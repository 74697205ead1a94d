"""CPR numbers become keyed, per-municipality pseudonyms at the edge (pure, no I/O)."""

import pytest

from contracts.facts import fact_adapter
from runtime.errors import ApiError
from services.registration.identity import Pseudonyms


def registered(cpr: str, municipality: str = "101"):
    return fact_adapter.validate_python(
        {"type": "CitizenRegistered", "municipality": municipality, "cpr": cpr, "effective_date": "2026-01-01"}
    )


def test_a_cpr_number_becomes_a_stable_keyed_pseudonym() -> None:
    pseudonyms = Pseudonyms("key-1")
    fact = pseudonyms.identify(registered("010190-1234"))
    assert fact.cpr is None and fact.citizen_id.startswith("p-")
    assert pseudonyms.identify(registered("0101901234")).citizen_id == fact.citizen_id  # dash or not
    assert Pseudonyms("key-2").identify(registered("010190-1234")).citizen_id != fact.citizen_id
    assert pseudonyms.identify(registered("010190-1234", "147")).citizen_id != fact.citizen_id
    assert "1234" not in fact.model_dump_json() and "010190" not in repr(registered("010190-1234"))
    fact_adapter.validate_python(fact.model_dump(mode="json"))  # the pseudonym is a valid id


def test_without_a_key_cpr_numbers_are_refused_and_ids_pass() -> None:
    with pytest.raises(ApiError) as refused:
        Pseudonyms(None).identify(registered("010190-1234"))
    assert (refused.value.status, refused.value.reason) == (503, "pseudonym_key_missing")
    by_id = fact_adapter.validate_python(
        {"type": "CitizenRegistered", "municipality": "101", "citizen_id": "c-1", "effective_date": "2026-01-01"}
    )
    assert Pseudonyms(None).identify(by_id) is by_id
