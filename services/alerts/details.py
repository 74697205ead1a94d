"""What an alert's details say, in Danish and English: the labels of the keys a rule's verdict
carries, and the details as a sentence with numbers and dates in the reader's format.

The rules keep their details as data (codes, ISO dates, numbers); this module is the one place
that turns them into words. `tests/test_alert_details.py` runs every rule's scenario and checks that
each key and each coded value it produces has both labels.
"""

from datetime import date
from typing import Any, Literal

from contracts import codes
from contracts.instruments import Instrument
from contracts.labels import CODE_LABELS, Label, Lang

Kind = Literal["date", "number", "hours", "percent", "days", "text", "code"]

# key -> (Danish label, English label, how its value is shown, the code list of a coded value)
KEYS: dict[str, tuple[str, str, Kind, str | None]] = {
    "phase": ("Fase", "Phase", "code", "CtiPhase"),
    "planned_end": ("Planlagt slut", "Planned end", "date", None),
    "phase_1_started": ("Fase 1 begyndt", "Phase 1 started", "date", None),
    "contact_phase_started": ("Kontaktfase begyndt", "Contact phase started", "date", None),
    "direction": ("Retning", "Direction", "code", "direction"),
    "expected_hours": ("Forventede timer til dato", "Expected hours to date", "hours", None),
    "actual_hours": ("Faktiske timer til dato", "Actual hours to date", "hours", None),
    "deviation_percent": ("Afvigelse", "Deviation", "percent", None),
    "suggests": ("Kan tyde på", "May suggest", "code", "suggests"),
    "instrument": ("Måleredskab", "Instrument", "code", "Instrument"),
    "measured": ("Målt", "Measured", "number", None),
    "expected": ("Forventet", "Expected", "number", None),
    "measured_on": ("Målt den", "Measured on", "date", None),
    "since": ("Regnet fra", "Counted from", "code", "since"),
    "started": ("Begyndt", "Started", "date", None),
    "outreach_phase": ("Opsøgende fase", "Outreach phase", "code", "OutreachPhase"),
    "contact_established": ("Kontakt skabt", "Contact established", "date", None),
    "planned_release": ("Planlagt løsladelse/udskrivning", "Planned release", "date", None),
    "stay_started": ("Opholdet begyndt", "Stay started", "date", None),
    "reason": ("Årsag", "Reason", "code", "reason"),
    "lost_on": ("Boligen mistet", "Housing lost on", "date", None),
    "kind": ("Art", "Kind", "code", "EvictionRiskKind"),
    "registered_on": ("Registreret", "Registered", "date", None),
    "last_face_to_face": ("Seneste personlige møde", "Last face-to-face contact", "date", None),
    "allowed_days": ("Højst dage mellem møder", "At most days between meetings", "days", None),
    "changes": ("Skift af støttemedarbejder", "Changes of support worker", "number", None),
    "round": ("Runde", "Round", "text", None),
    "over": ("Forløb over normen (metode: antal/norm)", "Courses over the norm (method: count/norm)", "text", None),
    "missing": ("Mangler", "Missing", "code", "missing"),
    "ended": ("Afsluttet", "Ended", "date", None),
    "follow_on_offer": (
        "Tilfredsstillende tilbud efter forløbet",
        "Satisfactory follow-on offer",
        "code",
        "FollowOnOffer",
    ),
    "months_after_end": ("Måneder efter forløbet", "Months after the course", "number", None),
    "missed": ("Manglende opfølgninger (måneder)", "Missed follow-ups (months)", "text", None),
    "course_ended": ("Forløbet afsluttet", "Course ended", "date", None),
    "index": ("WHO-5-indeks", "WHO-5 index", "number", None),
    "previous": ("Forrige måling", "Previous measurement", "number", None),
    "due_on": ("Forfalder", "Due on", "date", None),
    "window_closes": ("Vinduet lukker", "Window closes", "date", None),
    "status": (
        "Mangler (bolig, indkomst, beskæftigelse, måling, slutmåling)",
        "Missing (housing, income, employment, measurement, final_measurement)",
        "text",
        None,
    ),
}

# The values of coded details that are not contract codes.
VALUES: dict[str, dict[str, Label]] = {
    "direction": {"over": ("Over planen", "Above plan"), "under": ("Under planen", "Below plan")},
    "suggests": {
        "more_intensive_method": (
            "Revisitation til en mere intensiv metode",
            "Revisitation to a more intensive method",
        ),
        "contact_problems": ("Problemer med kontakten", "Contact problems"),
    },
    "since": {
        "course_start": ("Forløbets start", "The course's start"),
        "shelter_stay_start": ("Starten af §110-opholdet", "The start of the §110 stay"),
    },
    "reason": {
        "stay_length": ("Opholdets længde", "Length of the stay"),
        "ready_to_move": ("Vurderet klar til egen bolig", "Assessed ready to move"),
        "low": ("Lavt indeks", "Low index"),
        "drop": ("Markant fald siden forrige måling", "Marked drop since the previous measurement"),
    },
    "missing": {
        "baseline": ("Måling ved forløbets start", "Measurement at the course's start"),
        "end": ("Måling ved forløbets slutning", "Measurement at the course's end"),
    },
}
for _code_list in (codes.CtiPhase, codes.EvictionRiskKind, codes.FollowOnOffer, codes.OutreachPhase, Instrument):
    VALUES[_code_list.__name__] = CODE_LABELS[_code_list]


def _number(value: float, lang: Lang, decimals: int = 1) -> str:
    text = f"{value:,.{decimals}f}".rstrip("0").rstrip(".") if isinstance(value, float) else f"{value:,}"
    if lang == "da":
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text


def _date(value: str, lang: Lang) -> str:
    day = date.fromisoformat(value)
    return f"{day:%d.%m.%Y}" if lang == "da" else f"{day.day} {day:%b %Y}"


def value_text(key: str, value: Any, lang: Lang) -> str:
    _da, _en, kind, code_list = KEYS[key]
    if kind == "date":
        return _date(value, lang)
    if kind == "code":
        da, en = VALUES[code_list or key][str(value)]
        return da if lang == "da" else en
    if kind == "hours":
        return f"{_number(value, lang)} {'timer' if lang == 'da' else 'hours'}"
    if kind == "percent":
        return f"{'+' if value > 0 else ''}{_number(value, lang)} %"
    if kind == "days":
        return f"{_number(value, lang)} {'dage' if lang == 'da' else 'days'}"
    if kind == "number":
        return _number(value, lang)
    return str(value)


def describe(details: dict[str, Any], lang: Lang) -> str:
    """'Forventede timer til dato: 58,9 timer · …'; keys without a value are left out."""
    parts = []
    for key, value in details.items():
        if value is None or value == "" or key not in KEYS:
            continue
        label = KEYS[key][0] if lang == "da" else KEYS[key][1]
        parts.append(f"{label}: {value_text(key, value, lang)}")
    return " · ".join(parts)


def texts(details: dict[str, Any]) -> dict[str, str]:
    return {"da": describe(details, "da"), "en": describe(details, "en")}
