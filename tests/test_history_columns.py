"""The compact history (columns.py) answers as the list of objects it replaced did: a course's
contacts by date (then as recorded), found by window, taken back by event id, and read back from a
snapshot's pickle; its time plans, the latest standing one per unit; its measurements as recorded,
their answers packed."""

import pickle
import random
from bisect import insort
from datetime import date, timedelta
from uuid import UUID, uuid4

from contracts.codes import ContactKind, CtiPhase
from contracts.instruments import SCALES, Instrument, score
from services.projections import snapshots
from services.projections.columns import Contact, Contacts, Measurement, Measurements, TimePlans, day_of, headline
from services.projections.history import Citizen, History

START = date(2024, 1, 1)


def _contacts(seed: int) -> tuple[Contacts, list[Contact], dict[UUID, Contact]]:
    """The same random contacts (days out of order, several on a day, some without an event id,
    some taken back) kept as columns and as the sorted list of objects the fold kept before."""
    rng = random.Random(seed)
    columns, reference, ids = Contacts(), [], {}
    for _ in range(300):
        contact = Contact(
            START + timedelta(days=rng.randrange(60)), rng.randrange(0, 24 * 60), rng.choice(list(ContactKind))
        )
        event_id = uuid4() if rng.random() < 0.9 else None
        columns.add(contact, event_id)
        insort(reference, contact, key=lambda c: c.on)  # what history.py did: after those of its day
        if event_id is not None:
            ids[event_id] = contact
        if ids and rng.random() < 0.1:  # a FactWithdrawn: the previous code removed the first equal contact
            gone = rng.choice(list(ids))
            assert columns.withdraw(gone)
            reference.remove(ids.pop(gone))
    return columns, reference, ids


def test_contacts_as_columns_answer_as_the_list_did() -> None:
    for seed in range(5):
        columns, reference, ids = _contacts(seed)
        assert list(columns) == reference and len(columns) == len(reference)
        assert columns.by_id() == ids
        for start, end in [
            (None, START + timedelta(days=59)),
            (START, START),
            (START + timedelta(days=10), START + timedelta(days=30)),
            (START + timedelta(days=61), START + timedelta(days=90)),
        ]:
            wanted = [c for c in reference if (start is None or start <= c.on) and c.on <= end]
            assert columns.between(start, end) == wanted
            assert columns.minutes_between(start, end) == sum(c.minutes for c in wanted)
        assert not columns.withdraw(uuid4())  # not one of its contacts
        assert list(columns) == reference


def test_contacts_read_back_from_a_snapshot() -> None:
    columns, reference, ids = _contacts(7)
    read_back = pickle.loads(pickle.dumps(columns, protocol=5))  # noqa: S301 - our own object
    assert read_back == columns and list(read_back) == reference and read_back.by_id() == ids
    gone = next(iter(ids))
    assert read_back.withdraw(gone) and len(read_back) == len(reference) - 1


def test_a_contact_without_an_event_id_is_not_taken_back() -> None:
    columns = Contacts.of([Contact(START, 30, ContactKind.FACE_TO_FACE)])
    assert not columns.withdraw(UUID(int=0)) and len(columns) == 1 and columns.by_id() == {}


def test_time_plans_the_latest_standing_per_unit() -> None:
    plans, first, second, month = TimePlans(), uuid4(), uuid4(), date(2024, 2, 1)
    plans.add(CtiPhase.PHASE_1, 40.0, first)
    plans.add(month, 10.0, None)
    plans.add(CtiPhase.PHASE_1, 55.5, second)  # replaces the first
    assert plans.planned_hours() == {CtiPhase.PHASE_1: 55.5, month: 10.0}
    assert list(plans) == [(first, CtiPhase.PHASE_1, 40.0), (None, month, 10.0), (second, CtiPhase.PHASE_1, 55.5)]
    read_back = pickle.loads(pickle.dumps(plans, protocol=5))  # noqa: S301 - our own object
    assert read_back.withdraw(second) and read_back.planned_hours() == {CtiPhase.PHASE_1: 40.0, month: 10.0}
    assert not read_back.withdraw(uuid4()) and len(read_back) == 2


def test_a_measurement_keeps_its_headline_and_works_its_scores_out() -> None:
    star = {"mental_health": 5, "living_skills": 3, "trust_hope": 8}
    for instrument, answers in [(Instrument.WHO5, [2, 3, 2, 2, 2]), (Instrument.RECOVERY_STAR, star)]:
        measurement = Measurement(START, instrument, answers)
        assert measurement.scores == score(instrument, answers)
        assert measurement.value == headline(instrument, score(instrument, answers))
        read_back = pickle.loads(pickle.dumps(measurement, protocol=5))  # noqa: S301 - our own object
        assert read_back == measurement and read_back.value == measurement.value


def _answers(rng: random.Random, instrument: Instrument) -> list[int] | dict[str, int]:
    scale = SCALES[instrument]
    if isinstance(scale.items, int):
        return [rng.randint(scale.low, scale.high) for _ in range(scale.items)]
    named = rng.sample(scale.items, rng.randint(1, len(scale.items)))  # any subset, in any order
    return {item: rng.randint(scale.low, scale.high) for item in named}


def test_measurements_as_columns_answer_as_the_list_did() -> None:
    for seed in range(5):
        rng = random.Random(seed)
        columns, reference, ids = Measurements(), [], {}
        for _ in range(200):
            instrument = rng.choice(list(Instrument))
            answers = _answers(rng, instrument)
            measurement = Measurement(START + timedelta(days=rng.randrange(400)), instrument, answers)
            assert measurement.answers == answers and list(measurement.answers) == list(answers)  # the order too
            event_id = uuid4() if rng.random() < 0.9 else None
            columns.add(measurement, event_id)
            reference.append(measurement)  # what history.py did: as recorded
            if event_id is not None:
                ids[event_id] = measurement
            if ids and rng.random() < 0.1:  # a FactWithdrawn
                gone = rng.choice(list(ids))
                assert columns.withdraw(gone)
                reference.remove(ids.pop(gone))
        assert list(columns) == reference and len(columns) == len(reference) and columns.by_id() == ids
        assert [m.scores for m in columns] == [score(m.instrument, m.answers) for m in reference]
        assert not columns.withdraw(uuid4()) and not columns.withdraw(UUID(int=0))
        read_back = pickle.loads(pickle.dumps(columns, protocol=5))  # noqa: S301 - our own object
        assert read_back == columns and list(read_back) == reference


def test_a_snapshot_reads_back_one_date_object_per_day() -> None:
    history = History("101")
    history.citizens["c"] = Citizen("c", date(2024, 5, 17))
    read_back = snapshots._load(snapshots._dump(history, {}, {}))[0]
    assert read_back.citizens["c"].first_seen is day_of(date(2024, 5, 17).toordinal())
