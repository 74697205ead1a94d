"""A FactWithdrawn takes a contact, measurement or follow-up back out of the fold (history.py keeps
their event ids as bytes beside them): the course then holds what a fold without the withdrawn facts
holds, on demo history with many withdrawals drawn at random."""

import random
import uuid
from datetime import UTC, date, datetime, time, timedelta

from casetrack.demo import generate
from contracts.facts import fact_adapter
from services.projections.history import Record, fold

WITHDRAWABLE = {"ContactRecorded", "MeasurementRecorded", "FollowUpRecorded"}


def _records(seed: int) -> list[Record]:
    facts = []
    for fact in generate("101", 15, 24, seed=seed, today=date(2026, 6, 1)):
        if "cpr" in fact:
            fact = dict(fact)
            fact["citizen_id"] = "cpr-" + fact.pop("cpr").replace("-", "")
        facts.append(fact_adapter.validate_python(fact))
    return [
        Record(i, datetime.combine(f.effective_date + timedelta(days=1), time(), UTC), f, uuid.uuid4())
        for i, f in enumerate(facts, start=1)
    ]


def test_withdrawn_entries_leave_the_course_as_if_never_told() -> None:
    for seed in (1, 2, 3):
        rng = random.Random(seed)
        records = _records(seed)
        candidates = [r for r in records if r.fact.type in WITHDRAWABLE]
        withdrawn = rng.sample(candidates, len(candidates) // 5)
        assert len(withdrawn) > 50
        position = len(records)
        withdrawals = []
        for record in rng.sample(withdrawn, len(withdrawn)):  # in another order than told
            position += 1
            fact = fact_adapter.validate_python(
                {
                    "type": "FactWithdrawn",
                    "municipality": "101",
                    "citizen_id": record.fact.citizen_id,
                    "course_id": record.fact.course_id,
                    "effective_date": "2026-06-01",
                    "withdrawn_event_id": str(record.event_id),
                    "reason": "recorded on the wrong citizen",
                }
            )
            withdrawals.append(Record(position, datetime(2026, 6, 2, tzinfo=UTC), fact, uuid.uuid4()))
        with_withdrawals = fold("101", records + withdrawals)
        gone = {r.event_id for r in withdrawn}
        never_told = fold("101", [r for r in records if r.event_id not in gone])
        assert with_withdrawals.courses.keys() == never_told.courses.keys()
        for course_id, course in with_withdrawals.courses.items():
            expected = never_told.courses[course_id]
            assert course.contacts == expected.contacts
            assert course.measurements == expected.measurements
            assert course.follow_ups == expected.follow_ups
            assert course.entries == expected.entries
            assert not gone & course.entries.keys()
