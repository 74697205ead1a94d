"""Every code and every fact type has a Danish and an English label (contracts/labels.py)."""

from enum import StrEnum

from contracts import codes, instruments, surveys
from contracts.labels import CODE_LABELS, FACT_LABELS, catalogue, code_label, fact_label, fact_types


def test_every_code_of_every_code_list_has_both_labels() -> None:
    lists = [
        v
        for module in (codes, instruments, surveys)
        for v in vars(module).values()
        if isinstance(v, type) and issubclass(v, StrEnum) and v is not StrEnum
    ]
    assert set(lists) == set(CODE_LABELS)
    for code_list in lists:
        assert set(CODE_LABELS[code_list]) == {c.value for c in code_list}, code_list.__name__
        for da, en in CODE_LABELS[code_list].values():
            assert da.strip() and en.strip()


def test_every_fact_type_has_both_labels_and_nothing_else_is_labelled() -> None:
    assert set(FACT_LABELS) == fact_types()
    assert all(da != en or da.isupper() for da, en in FACT_LABELS.values() if " " in da)


def test_labels_are_read_in_the_asked_language() -> None:
    assert code_label(codes.HousingSituation.SHELTER_110) == "Herberg/forsorgshjem (§110)"
    assert code_label(codes.HousingSituation.SHELTER_110, "en") == "Shelter (§110)"
    assert fact_label("VisitationDecided") == "Visiteret til indsats"
    assert catalogue()["facts"]["CourseStarted"] == ["Forløb begyndt", "Course started"]  # type: ignore[index]
