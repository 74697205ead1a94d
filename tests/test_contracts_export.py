"""The JSON Schema and AsyncAPI documents in the repository are the ones the code produces."""

from contracts.export import HERE, documents
from contracts.facts import FACT_TYPES, SCHEMA_VERSIONS
from services.registration.domain.citizen import Citizen


def test_the_documents_in_the_repository_match_the_code() -> None:
    drifted = [
        str(path)
        for path, text in documents().items()
        if not (HERE / path).exists() or (HERE / path).read_text(encoding="utf-8") != text
    ]
    assert drifted == [], f"run `python -m contracts.export`: {drifted}"
    on_disk = {p.relative_to(HERE) for p in (HERE / "schema").rglob("*.json")}
    assert on_disk == {p for p in documents() if p.suffix == ".json"}


def test_there_is_a_schema_for_every_fact_and_the_events_carry_no_cpr() -> None:
    docs = documents()
    assert len([p for p in docs if p.parent.name == "facts"]) == len(FACT_TYPES) == 55
    assert '"cpr"' not in docs[HERE.joinpath("schema/EventMessage.json").relative_to(HERE)]
    assert "casetrack.facts.submit" in docs[HERE.joinpath("asyncapi.yaml").relative_to(HERE)]


def test_event_classes_carry_the_schema_versions_of_the_contracts() -> None:
    for fact_type, version in SCHEMA_VERSIONS.items():
        assert getattr(Citizen, fact_type).class_version == version
