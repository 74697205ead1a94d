"""The KPI catalogue as a municipality's staff read it: each KPI defined in plain Danish and
English (no code names), its unit named in both, and every key a KPI returns in its breakdown
labelled. The keys are collected by computing every KPI over the demo data: month by month, over
the whole span, per method and per team."""

import functools
import re
from datetime import UTC, date, datetime
from typing import Any

from casetrack import demo
from contracts.codes import Method
from contracts.facts import fact_adapter
from services.projections.history import History, Record, fold
from services.projections.kpis import CATALOGUE, Context, Filters, Window
from services.projections.kpis.labels import UNITS
from services.projections.periods import PeriodKind, periods

TODAY = date(2026, 7, 1)
# Words that give away developer text or English in a Danish definition.
NOT_DANISH = ("value", "values", "course_start", "stably_housed", "the ", " and ", " of ", "share", "course", "null")
# A code name: a backtick, snake_case, dotted.keys or a CamelCase fact type.
CODE_NAME = re.compile(r"`|\b[a-z0-9]+_[a-z0-9_]+\b|\b\w+\.\w+\b|\b[A-Z][a-z]+[A-Z]\w*")


# The demo has no §85 support; one such course with contacts completes the breakdowns.
SEL85_COURSE: list[dict[str, Any]] = [
    {"type": "CitizenRegistered", "citizen_id": "sel85-1", "effective_date": "2025-01-02", "birth_year": 1970},
    {
        "type": "VisitationDecided",
        "citizen_id": "sel85-1",
        "course_id": "sel85-course",
        "effective_date": "2025-01-02",
        "method": "SEL85",
        "team": "team-sel85",
    },
    {"type": "CourseStarted", "citizen_id": "sel85-1", "course_id": "sel85-course", "effective_date": "2025-01-06"},
    {
        "type": "ContactRecorded",
        "citizen_id": "sel85-1",
        "course_id": "sel85-course",
        "effective_date": "2025-02-03",
        "minutes": 60,
        "kind": "face_to_face",
    },
]


@functools.cache
def demo_history() -> History:
    facts = demo.generate("101", 300, 24, seed=7, today=TODAY) + [{"municipality": "101", **f} for f in SEL85_COURSE]
    recorded = datetime(2026, 7, 1, tzinfo=UTC)
    return fold("101", [Record(i, recorded, fact_adapter.validate_python(fact)) for i, fact in enumerate(facts, 1)])


@functools.cache
def returned_keys() -> dict[str, set[str]]:
    """Each KPI's breakdown keys: over every month of the demo, and over the whole span for the
    municipality, each method and each team."""
    history = demo_history()
    start = date(2024, 7, 1)
    months, whole = [window for _, window in periods(start, TODAY, PeriodKind.MONTH)], Window(start, TODAY)
    teams = sorted({c.team for c in history.courses.values()})
    filters = [Filters(), *(Filters(method=m) for m in Method), *(Filters(team=t) for t in teams)]
    contexts = [Context(history, window) for window in months] + [Context(history, whole, f) for f in filters]
    return {
        kpi.id: {key for context in contexts for key in (kpi.compute(context).get("values") or {})}
        for kpi in CATALOGUE.values()
    }


def test_every_kpi_is_defined_in_plain_danish_and_english() -> None:
    all_keys = {key for keys in returned_keys().values() for key in keys}
    code_keys = {key for key in all_keys if "_" in key or "." in key}
    for kpi in CATALOGUE.values():
        da, en = kpi.definition_da, kpi.definition_en
        assert len(da) > 80 and len(en) > 80, kpi.id
        assert da != en and kpi.computation not in (da, en), kpi.id
        for text in (da, en):
            assert not CODE_NAME.search(text), f"{kpi.id}: code name {CODE_NAME.search(text)} in {text!r}"
            assert not [key for key in code_keys if key in text], kpi.id
        assert not [word for word in NOT_DANISH if word in da.lower()], f"{kpi.id}: English in {da!r}"
        assert {"og", "af", "på", "der"} & set(da.lower().split()), f"{kpi.id}: hardly Danish: {da!r}"


def test_every_unit_is_named_in_danish_and_english() -> None:
    used = {kpi.unit for kpi in CATALOGUE.values()} | {
        label.unit for kpi in CATALOGUE.values() for label in kpi.labels.by_key.values()
    }
    assert used <= set(UNITS)
    described = [kpi.describe() for kpi in CATALOGUE.values()]
    assert all(d["unit_da"] and d["unit_en"] for d in described)
    assert {d["unit_da"] for d in described if d["unit"] == "share"} == {"andel"}


def test_every_key_a_kpi_returns_has_a_danish_and_an_english_label() -> None:
    keys = returned_keys()
    # The demo exercises every breakdown: a KPI that declares labels returns keys in it.
    assert {kpi.id for kpi in CATALOGUE.values() if kpi.labels.by_key} == {k for k, found in keys.items() if found}
    unlabelled = {
        kpi_id: sorted(k for k in found if CATALOGUE[kpi_id].labels.get(k) is None) for kpi_id, found in keys.items()
    }
    assert {k: v for k, v in unlabelled.items() if v} == {}
    for kpi_id, found in keys.items():
        for key in found:
            label = CATALOGUE[kpi_id].labels.get(key)
            assert label is not None and label.da and label.en
            assert "_" not in label.da and "_" not in label.en, (kpi_id, key, label)
    # Patterns fill their placeholders from the key.
    rent_band, retention = (
        CATALOGUE["S1"].labels.get("rent_le_4000.rooms_2"),
        CATALOGUE["O2"].labels.get("stably_housed"),
    )
    assert rent_band is not None and rent_band.da == "Husleje højst 4000 kr., 2 vær."
    assert retention is not None and retention.da == "Stabilt boende"


def test_no_label_is_declared_for_a_key_no_kpi_returns() -> None:
    keys = returned_keys()
    stale = {
        kpi.id: sorted(key for key in kpi.labels.by_key if "{" not in key and key not in keys[kpi.id])
        for kpi in CATALOGUE.values()
    }
    assert {k: v for k, v in stale.items() if v} == {}
