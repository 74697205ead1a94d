"""A course's many records kept as columns: its contacts, measurements and time plans.

A municipality's history holds tens of thousands of contacts (two thirds of its facts) and
thousands of time plans. One object each cost ~90 bytes a contact (the object, its place in the
list, its event id and its place among what a withdrawal may take back) and most of the objects a
replica holds; as columns — `array`s of day ordinals, minutes and kind codes, the event ids' 16
bytes one after the other — a contact takes 23 bytes, a history reads back from its snapshot as a
few byte strings per course, and the KPIs still find a window's contacts by bisection.

An event id of 16 zero bytes stands for none (a fact stored before event ids were kept): no
FactWithdrawn names the nil UUID, and such a fact cannot be taken back, as before.
"""

from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Collection, Iterator
from datetime import date
from statistics import mean
from typing import Any, NamedTuple
from uuid import UUID

from contracts.codes import ContactKind, CtiPhase
from contracts.instruments import SCALES, Instrument, score

NO_ID = bytes(16)
KINDS = tuple(ContactKind)
_KIND_CODES = {kind: code for code, kind in enumerate(KINDS)}
INSTRUMENTS = tuple(Instrument)
_INSTRUMENT_CODES = {instrument: code for code, instrument in enumerate(INSTRUMENTS)}
_dates: dict[int, date] = {}


def day_of(ordinal: int) -> date:
    """One date object per calendar day, made once."""
    day = _dates.get(ordinal)
    if day is None:
        day = _dates[ordinal] = date.fromordinal(ordinal)
    return day


def _id_bytes(event_id: UUID | None) -> bytes:
    return NO_ID if event_id is None else event_id.bytes


def _index_of(ids: bytearray, event_id: UUID) -> int | None:
    """Where `event_id` is among `ids` (16 bytes each), or None; the nil UUID is nowhere (NO_ID)."""
    wanted, at = event_id.bytes, -1
    if wanted == NO_ID:
        return None
    while (at := ids.find(wanted, at + 1)) != -1:
        if at % 16 == 0:
            return at // 16
    return None


class Contact(NamedTuple):
    on: date
    minutes: int
    kind: ContactKind


class Contacts:
    """A course's contacts by date (then as recorded): the day, minutes and kind of each, and the
    event id it was stored as (what a FactWithdrawn names)."""

    __slots__ = ("days", "minutes", "kinds", "ids")

    def __init__(self) -> None:
        self.days = array("i")  # date.toordinal()
        self.minutes = array("H")  # at most 24 * 60 (ContactRecorded)
        self.kinds = array("B")  # the kind's place in KINDS
        self.ids = bytearray()

    @classmethod
    def of(cls, contacts: list[Contact]) -> "Contacts":
        made = cls()
        for contact in contacts:
            made.add(contact, None)
        return made

    def add(self, contact: Contact, event_id: UUID | None) -> None:
        at = bisect_right(self.days, contact.on.toordinal())  # after those of the same day
        self.days.insert(at, contact.on.toordinal())
        self.minutes.insert(at, contact.minutes)
        self.kinds.insert(at, _KIND_CODES[contact.kind])
        self.ids[16 * at : 16 * at] = _id_bytes(event_id)

    def withdraw(self, event_id: UUID) -> bool:
        """Takes out the contact stored as `event_id`; whether there was one."""
        at = _index_of(self.ids, event_id)
        if at is None:
            return False
        del self.days[at], self.minutes[at], self.kinds[at]
        del self.ids[16 * at : 16 * at + 16]
        return True

    def _span(self, start: date | None, end: date) -> tuple[int, int]:
        first = 0 if start is None else bisect_left(self.days, start.toordinal())
        return first, bisect_right(self.days, end.toordinal())

    def between(self, start: date | None, end: date) -> list[Contact]:
        """The contacts on the days [start, end] (from the first one if `start` is None), by date."""
        first, last = self._span(start, end)
        return self._contacts(first, last)

    def minutes_between(self, start: date | None, end: date) -> int:
        first, last = self._span(start, end)
        return sum(self.minutes[first:last])

    def columns_between(self, start: date | None, end: date) -> tuple[array, array]:
        """The day ordinals and minutes of the contacts on the days [start, end], by date."""
        first, last = self._span(start, end)
        return self.days[first:last], self.minutes[first:last]

    def days_and_minutes(self, start: date | None, end: date) -> list[tuple[date, int]]:
        """(day, minutes) of the contacts on the days [start, end], by date."""
        days, minutes = self.columns_between(start, end)
        return list(zip(map(day_of, days), minutes, strict=True))

    def first_on(
        self, kinds: Collection[ContactKind], start: date | None = None, end: date | None = None
    ) -> date | None:
        """The day of the first contact of one of `kinds` on the days [start, end] (open-ended if None)."""
        codes = {_KIND_CODES[kind] for kind in kinds}
        first, last = self._span(start, end) if end is not None else (self._span(start, date.max)[0], len(self.days))
        return next((day_of(self.days[i]) for i in range(first, last) if self.kinds[i] in codes), None)

    def last_on(self, kind: ContactKind, end: date) -> date | None:
        """The day of the latest contact of `kind` on or before `end`."""
        code = _KIND_CODES[kind]
        _, last = self._span(None, end)
        return next((day_of(self.days[i]) for i in range(last - 1, -1, -1) if self.kinds[i] == code), None)

    def _contacts(self, first: int, last: int) -> list[Contact]:
        return [
            Contact(day_of(day), minutes, KINDS[kind])
            for day, minutes, kind in zip(
                self.days[first:last], self.minutes[first:last], self.kinds[first:last], strict=True
            )
        ]

    def by_id(self) -> dict[UUID, Contact]:
        """The contacts a FactWithdrawn may take back, by event id."""
        ids = bytes(self.ids)
        return {
            UUID(bytes=ids[16 * i : 16 * i + 16]): contact
            for i, contact in enumerate(self)
            if ids[16 * i : 16 * i + 16] != NO_ID
        }

    def __iter__(self) -> Iterator[Contact]:
        return iter(self._contacts(0, len(self.days)))

    def __len__(self) -> int:
        return len(self.days)

    def __eq__(self, other: object) -> bool:
        """The same contacts, stored as the same events, in the same order."""
        if not isinstance(other, Contacts):
            return NotImplemented
        return (self.days, self.minutes, self.kinds, self.ids) == (other.days, other.minutes, other.kinds, other.ids)

    __hash__ = None  # type: ignore[assignment]

    def __getstate__(self) -> tuple[bytes, bytes, bytes, bytes]:
        """Pickled (snapshots.py) as four byte strings: read back without an object per contact."""
        return (self.days.tobytes(), self.minutes.tobytes(), self.kinds.tobytes(), bytes(self.ids))

    def __setstate__(self, state: tuple[bytes, bytes, bytes, bytes]) -> None:
        days, minutes, kinds, ids = state
        self.days, self.minutes, self.kinds = array("i", days), array("H", minutes), array("B", kinds)
        self.ids = bytearray(ids)


class TimePlans:
    """A course's time plans (TimePlanned) as recorded: the unit (a CTI phase or a month), the
    expected hours and the event id of each; the latest standing plan of a unit counts."""

    __slots__ = ("units", "hours", "ids")

    def __init__(self) -> None:
        self.units: list[CtiPhase | date] = []
        self.hours = array("d")
        self.ids = bytearray()

    def add(self, unit: CtiPhase | date, hours: float, event_id: UUID | None) -> None:
        self.units.append(unit)
        self.hours.append(hours)
        self.ids += _id_bytes(event_id)

    def withdraw(self, event_id: UUID) -> bool:
        """Takes out every plan stored as `event_id`; whether there was one."""
        found = False
        while (at := _index_of(self.ids, event_id)) is not None:
            del self.units[at], self.hours[at]
            del self.ids[16 * at : 16 * at + 16]
            found = True
        return found

    def planned_hours(self) -> dict[CtiPhase | date, float]:
        """The hours of the latest plan of each unit, in the order the units were first planned."""
        return dict(zip(self.units, self.hours, strict=True))

    def __iter__(self) -> Iterator[tuple[UUID | None, CtiPhase | date, float]]:
        """(event id or None, unit, hours) of each plan, as recorded."""
        for i, (unit, hours) in enumerate(zip(self.units, self.hours, strict=True)):
            raw = bytes(self.ids[16 * i : 16 * i + 16])
            yield (None if raw == NO_ID else UUID(bytes=raw), unit, hours)

    def __len__(self) -> int:
        return len(self.units)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TimePlans):
            return NotImplemented
        return (self.units, self.hours, self.ids) == (other.units, other.hours, other.ids)

    __hash__ = None  # type: ignore[assignment]

    def __getstate__(self) -> tuple[list[CtiPhase | date], bytes, bytes]:
        return (self.units, self.hours.tobytes(), bytes(self.ids))

    def __setstate__(self, state: tuple[list[CtiPhase | date], bytes, bytes]) -> None:
        units, hours, ids = state
        self.units, self.hours, self.ids = units, array("d", hours), bytearray(ids)


Answers = list[int] | dict[str, int]


def headline(instrument: Instrument, scores: dict[str, float]) -> float:
    """One number per measurement, from its scores: the WHO-5 index, the UCLA-3/ORS/SRS sum, the
    mean item value of the Likert dimensions (reverse items turned) and of the Recovery Star areas."""
    if instrument == Instrument.WHO5:
        return float(scores["index"])
    if "total" in scores:
        return float(scores["total"])
    return round(mean(scores.values()), 4)


def pack(instrument: Instrument, answers: Answers) -> bytes:
    """A measurement's answers as bytes: a list's values one after the other; by name, each item's
    place among the instrument's items (contracts.instruments.SCALES) and its value. Every answer
    fits a byte (MeasurementRecorded checks them against the instrument's scale)."""
    if isinstance(answers, dict):
        items = SCALES[instrument].items
        assert isinstance(items, tuple)  # answers by name: an instrument of named items
        return bytes(b for item, value in answers.items() for b in (items.index(item), value))
    return bytes(answers)


def unpack(instrument: Instrument, packed: bytes) -> Answers:
    items = SCALES[instrument].items
    if isinstance(items, tuple):
        return {items[packed[i]]: packed[i + 1] for i in range(0, len(packed), 2)}
    return list(packed)


class Measurement:
    """One measurement, its headline number worked out once; its answers packed (`pack`) and its
    standard scores worked out again when asked for (two KPIs ask)."""

    __slots__ = ("on", "instrument", "value", "packed")
    on: date
    instrument: Instrument
    value: float  # headline(): what most figures use
    packed: bytes

    def __init__(self, on: date, instrument: Instrument, answers: Answers) -> None:
        self.on, self.instrument, self.packed = on, instrument, pack(instrument, answers)
        self.value = headline(instrument, score(instrument, answers))

    @classmethod
    def kept(cls, on: date, instrument: Instrument, value: float, packed: bytes) -> "Measurement":
        """A measurement read back from its columns: its value is not worked out again."""
        measurement = object.__new__(cls)
        measurement.on, measurement.instrument, measurement.value, measurement.packed = on, instrument, value, packed
        return measurement

    @property
    def answers(self) -> Answers:
        return unpack(self.instrument, self.packed)

    @property
    def scores(self) -> dict[str, float]:
        """The instrument's standard scores (contracts.instruments.score)."""
        return score(self.instrument, self.answers)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Measurement):
            return NotImplemented
        return (self.on, self.instrument, self.value, self.packed) == (
            other.on,
            other.instrument,
            other.value,
            other.packed,
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Measurement({self.on!r}, {self.instrument!r}, {self.answers!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (Measurement.kept, (self.on, self.instrument, self.value, self.packed))


class Measurements:
    """A course's measurements as recorded: the day, instrument code and headline value of each,
    its packed answers one after the other (`ends`: where each one's end), and the event id it was
    stored as (what a FactWithdrawn names). ~40 bytes a measurement instead of ~170 as objects."""

    __slots__ = ("days", "instruments", "values", "answers", "ends", "ids")

    def __init__(self) -> None:
        self.days = array("i")  # date.toordinal()
        self.instruments = array("B")  # the instrument's place in INSTRUMENTS
        self.values = array("d")
        self.answers = bytearray()
        self.ends = array("I")
        self.ids = bytearray()

    def add(self, measurement: Measurement, event_id: UUID | None) -> None:
        self.days.append(measurement.on.toordinal())
        self.instruments.append(_INSTRUMENT_CODES[measurement.instrument])
        self.values.append(measurement.value)
        self.answers += measurement.packed
        self.ends.append(len(self.answers))
        self.ids += _id_bytes(event_id)

    def withdraw(self, event_id: UUID) -> bool:
        """Takes out the measurement stored as `event_id`; whether there was one."""
        at = _index_of(self.ids, event_id)
        if at is None:
            return False
        start, end = (self.ends[at - 1] if at else 0), self.ends[at]
        del self.days[at], self.instruments[at], self.values[at], self.ends[at]
        del self.answers[start:end]
        for later in range(at, len(self.ends)):
            self.ends[later] -= end - start
        del self.ids[16 * at : 16 * at + 16]
        return True

    def __getitem__(self, at: int) -> Measurement:
        start = self.ends[at - 1] if at else 0
        return Measurement.kept(
            day_of(self.days[at]),
            INSTRUMENTS[self.instruments[at]],
            self.values[at],
            bytes(self.answers[start : self.ends[at]]),
        )

    def __iter__(self) -> Iterator[Measurement]:
        return (self[at] for at in range(len(self.days)))

    def __len__(self) -> int:
        return len(self.days)

    def by_id(self) -> dict[UUID, Measurement]:
        """The measurements a FactWithdrawn may take back, by event id."""
        ids = bytes(self.ids)
        return {
            UUID(bytes=ids[16 * i : 16 * i + 16]): measurement
            for i, measurement in enumerate(self)
            if ids[16 * i : 16 * i + 16] != NO_ID
        }

    def __eq__(self, other: object) -> bool:
        """The same measurements, stored as the same events, in the same order."""
        if not isinstance(other, Measurements):
            return NotImplemented
        return self.__getstate__() == other.__getstate__()

    __hash__ = None  # type: ignore[assignment]

    def __getstate__(self) -> tuple[bytes, ...]:
        """Pickled (snapshots.py) as byte strings, like Contacts."""
        columns = (self.days, self.instruments, self.values, self.answers, self.ends, self.ids)
        return tuple(column.tobytes() if isinstance(column, array) else bytes(column) for column in columns)

    def __setstate__(self, state: tuple[bytes, ...]) -> None:
        days, instruments, values, answers, ends, ids = state
        self.days, self.instruments, self.values = array("i", days), array("B", instruments), array("d", values)
        self.answers, self.ends, self.ids = bytearray(answers), array("I", ends), bytearray(ids)
