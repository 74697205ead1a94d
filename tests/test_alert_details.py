"""An alert's details as words (services/alerts/details.py): labels, Danish numbers and dates."""

import pytest

from services.alerts import details


def test_time_gap_details_read_in_danish_with_decimal_commas_and_danish_words() -> None:
    text = details.describe(
        {
            "direction": "under",
            "expected_hours": 58.9,
            "actual_hours": 1234.5,
            "deviation_percent": -65.9,
            "suggests": "contact_problems",
        },
        "da",
    )
    assert text == (
        "Retning: Under planen · Forventede timer til dato: 58,9 timer · Faktiske timer til dato: 1.234,5 timer"
        " · Afvigelse: -65,9 % · Kan tyde på: Problemer med kontakten"
    )


def test_the_same_details_in_english_and_dates_in_each_language() -> None:
    assert details.describe({"since": "course_start", "started": "2026-03-05"}, "en") == (
        "Counted from: The course's start · Started: 5 Mar 2026"
    )
    assert details.describe({"since": "course_start", "started": "2026-03-05"}, "da") == (
        "Regnet fra: Forløbets start · Begyndt: 05.03.2026"
    )


def test_empty_values_are_left_out_and_an_unlabelled_code_is_an_error_not_a_raw_word() -> None:
    assert details.describe({"last_face_to_face": None, "allowed_days": 14}, "da") == "Højst dage mellem møder: 14 dage"
    with pytest.raises(KeyError):
        details.describe({"reason": "a_new_reason"}, "da")
