"""A simulated year: 40 citizens in a course and 20 in a §110 shelter stay, drawn with a fixed seed, their facts told on the day they happen,
the clock moved a day at a time. The alerts the service ends up with are exactly the ones worked
out here, rule by rule, from the same draws (not from the service's own rules module)."""

import random
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta

import pytest

from tests.alerts_support import Alerts, alerts_database, course_opened, fact

pytestmark = pytest.mark.integration

YEAR_START = date(2025, 1, 1)
YEAR_END = date(2025, 12, 31)
SEED = 20250101
CITIZENS = 40
SHELTER_CITIZENS = 20
WHO5_GOOD = {"instrument": "WHO5", "answers": [4, 4, 4, 4, 4]}  # index 80: never low


def plus_months(day: date, months: int) -> date:
    """Written out here on purpose (not rules.add_months): the test works the dates out itself."""
    month = day.month + months
    year = day.year + (month - 1) // 12
    month = (month - 1) % 12 + 1
    last = [31, 29 if year % 4 == 0 else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
    return date(year, month, min(day.day, last))


@dataclass
class Citizen:
    n: int
    method: str
    start: date
    handleplan: date | None
    contact_every: int
    baseline: date | None
    end: date | None
    follow_on_offer: str
    end_measurement: date | None
    phase_2_late: bool
    housed: date | None
    eviction_risk: date | None
    eviction_prevented: date | None

    @property
    def citizen(self) -> str:
        return f"c{self.n}"

    @property
    def course(self) -> str:
        return f"k{self.n}"

    def phases(self) -> list[tuple[str, date]]:
        if self.method != "CTI":
            return []
        p2 = self.start + timedelta(days=90 + (30 if self.phase_2_late else 0))
        return [
            (p, d)
            for p, d in (("1", self.start), ("2", p2), ("3", p2 + timedelta(days=90)))
            if d <= YEAR_END and (self.end is None or d < self.end)
        ]

    def contacts(self) -> list[date]:
        days, day = [], self.start + timedelta(days=self.contact_every)
        while day <= YEAR_END and (self.end is None or day < self.end):
            days.append(day)
            day += timedelta(days=self.contact_every)
        return days


def draw(rng: random.Random, n: int) -> Citizen:
    method = rng.choice(["CTI", "ICM"])
    start = YEAR_START + timedelta(days=rng.randint(0, 150))
    end = start + timedelta(days=rng.randint(200, 240)) if rng.random() < 0.5 else None
    if end is not None and end > YEAR_END:
        end = None
    handleplan = rng.choice([5, 20, 40, None])
    baseline = rng.choice([10, 45, None])
    eviction = rng.random() < 0.25
    return Citizen(
        n=n,
        method=method,
        start=start,
        handleplan=start + timedelta(days=handleplan) if handleplan is not None else None,
        contact_every=rng.choice([7, 13, 20] if method == "ICM" else [7, 13]),
        baseline=start + timedelta(days=baseline) if baseline is not None else None,
        end=end,
        follow_on_offer=rng.choice(["hoej", "ringe", "slet_ikke"]),
        end_measurement=end - timedelta(days=5) if end is not None and rng.random() < 0.5 else None,
        phase_2_late=rng.random() < 0.4,
        housed=start + timedelta(days=rng.choice([10, 40])) if method == "CTI" else None,
        eviction_risk=start + timedelta(days=50) if eviction else None,
        eviction_prevented=start + timedelta(days=70) if eviction and rng.random() < 0.5 else None,
    )


def facts_of(c: Citizen) -> list[tuple[date, object]]:
    cit, course = c.citizen, c.course
    timeline = [
        (c.start, one)
        for one in course_opened(cit, course, c.method, c.start, worker=f"w{c.n}", team=f"team-{c.method.lower()}")
    ]
    timeline += [(d, fact("CtiPhaseStarted", d, cit, course, phase=p)) for p, d in c.phases()]
    timeline += [(d, fact("ContactRecorded", d, cit, course, minutes=45, kind="face_to_face")) for d in c.contacts()]
    for day, made in (
        (c.handleplan, lambda d: fact("HandleplanCreated", d, cit, course_id=course)),
        (c.baseline, lambda d: fact("MeasurementRecorded", d, cit, course, **WHO5_GOOD)),
        (c.end_measurement, lambda d: fact("MeasurementRecorded", d, cit, course, **WHO5_GOOD)),
        (c.housed, lambda d: fact("HousingGained", d, cit, housing="almen")),
        (c.eviction_risk, lambda d: fact("EvictionRiskRegistered", d, cit, kind="second_rent_reminder")),
        (c.eviction_prevented, lambda d: fact("EvictionPrevented", d, cit)),
    ):
        if day is not None and day <= YEAR_END and (c.end is None or day <= c.end):
            timeline.append((day, made(day)))
    if c.end is not None:
        timeline.append(
            (c.end, fact("CourseEnded", c.end, cit, course, reason="completed", follow_on_offer=c.follow_on_offer))
        )
    return timeline


Expected = tuple[str, str, date, bool]  # rule, subject, raised on, resolved by the end of the year


def first(*days: date | None) -> date | None:
    known = [d for d in days if d is not None and d <= YEAR_END]
    return min(known) if known else None


def expected_alerts(c: Citizen) -> list[Expected]:
    """What the rules of docs/domain.md §8 (default thresholds) make of this citizen's year.

    The clock reaches a day before that day's facts are told, so a deadline that falls on the day
    of the fact that clears it raises an alert that the fact then resolves."""
    out: list[Expected] = []

    def alert(rule: str, subject: str, due: date, cleared: date | None) -> None:
        if due <= YEAR_END and (cleared is None or cleared >= due):
            out.append((rule, subject, due, cleared is not None and cleared <= YEAR_END))

    course, end = c.course, c.end
    # handleplan_missing: 30 days after course start.
    alert("handleplan_missing", course, c.start + timedelta(days=31), first(c.handleplan, end))
    # measurement_missing: no baseline within 30 days; no measurement in the 30 days before the end.
    baseline_due = c.start + timedelta(days=31)
    if c.baseline is None or c.baseline >= baseline_due:
        if c.baseline is None and end is not None and c.end_measurement is None:
            alert("measurement_missing", course, baseline_due, end)  # superseded by the end alert
        else:
            alert("measurement_missing", course, baseline_due, first(c.baseline, c.end_measurement))
    if end is not None and c.end_measurement is None:
        alert("measurement_missing", course, end, None)
    # no_contact: ICM allows 14 days without face-to-face contact (CTI citizens here meet within 13).
    if c.method == "ICM":
        since = c.start
        for contact in c.contacts() + [None]:
            alert("no_contact", course, since + timedelta(days=15), first(contact, end))
            if contact is None:
                break
            since = contact
    if c.method == "CTI":
        phases = c.phases()
        for i, (phase, started) in enumerate(phases):
            moved_on = phases[i + 1][1] if i + 1 < len(phases) else None
            alert("cti_phase_overdue", course, plus_months(started, 3) + timedelta(days=15), first(moved_on, end))
        alert("cti_course_overdue", course, plus_months(c.start, 9) + timedelta(days=15), end)
        alert("cti_started_without_housing", course, c.start + timedelta(days=31), first(c.housed, end))
    if end is not None and c.follow_on_offer in ("ringe", "slet_ikke"):
        alert("no_follow_on_offer", course, end, None)
    if c.eviction_risk is not None:
        alert("eviction_risk", c.citizen, c.eviction_risk, c.eviction_prevented)
    return out


@dataclass
class ShelterResident:
    """A citizen in a §110 stay with no course (their alerts go to no team yet)."""

    n: int
    stay: date
    contact: date | None
    ready: date | None
    left: date | None
    handleplan: date | None

    @property
    def citizen(self) -> str:
        return f"s{self.n}"


def draw_resident(rng: random.Random, n: int) -> ShelterResident:
    stay = YEAR_START + timedelta(days=rng.randint(0, 300))

    def after(*offsets: int | None) -> date | None:
        offset = rng.choice(offsets)
        return stay + timedelta(days=offset) if offset is not None else None

    return ShelterResident(
        n=n,
        stay=stay,
        contact=after(3, 10, None),
        ready=after(20, None),
        left=after(60, 130, None),
        handleplan=after(15, 45, None),
    )


def resident_facts(r: ShelterResident) -> list[tuple[date, object]]:
    timeline = [(r.stay, fact("ShelterStayStarted", r.stay, r.citizen, shelter="herberg-1"))]
    for day, made in (
        (r.contact, lambda d: fact("ShelterContactMade", d, r.citizen)),
        (r.ready, lambda d: fact("AssessedReadyToMove", d, r.citizen)),
        (r.handleplan, lambda d: fact("HandleplanCreated", d, r.citizen)),
    ):
        if day is not None and day <= YEAR_END and (r.left is None or day < r.left):
            timeline.append((day, made(day)))
    if r.left is not None and r.left <= YEAR_END:
        timeline.append((r.left, fact("ShelterStayEnded", r.left, r.citizen, discharge="planned")))
    return timeline


def expected_resident_alerts(r: ShelterResident) -> list[Expected]:
    out: list[Expected] = []

    def alert(rule: str, due: date, cleared: date | None) -> None:
        if due <= YEAR_END and (cleared is None or cleared >= due):
            out.append((rule, r.citizen, due, cleared is not None and cleared <= YEAR_END))

    told = lambda day: day if day is not None and (r.left is None or day < r.left) else None  # noqa: E731
    # 7 days without contact; 120 days in the stay, or 90 days in it for a citizen assessed ready to
    # move (from the assessment when that comes later); 30 days after the stay start without a
    # handleplan. Each clears when the stay ends.
    alert("shelter_no_contact", r.stay + timedelta(days=8), first(told(r.contact), r.left))
    long_due = r.stay + timedelta(days=120)
    if told(r.ready) is not None:
        long_due = min(long_due, max(r.stay + timedelta(days=90), r.ready))
    alert("shelter_stay_long", long_due, first(r.left))
    alert("handleplan_missing", r.stay + timedelta(days=31), first(told(r.handleplan), r.left))
    return out


@pytest.fixture
async def alerts(postgres_admin_url: str) -> AsyncIterator[Alerts]:
    async with alerts_database(postgres_admin_url, YEAR_START) as alerts:
        yield alerts


async def test_a_simulated_year_raises_exactly_the_alerts_worked_out(alerts: Alerts) -> None:
    rng = random.Random(SEED)
    cohort = [draw(rng, n) for n in range(CITIZENS)]
    residents = [draw_resident(rng, n) for n in range(SHELTER_CITIZENS)]
    by_day: dict[date, list[object]] = {}
    for day, one in [pair for c in cohort for pair in facts_of(c)] + [
        pair for r in residents for pair in resident_facts(r)
    ]:
        by_day.setdefault(day, []).append(one)
    day = YEAR_START
    while day <= YEAR_END:
        await alerts.tick(day)
        await alerts.apply(*by_day.get(day, []))
        day += timedelta(days=1)

    # status_due is not drawn: the cohort registers no income or employment (test_alert_rules has its scenario).
    rows = await alerts.pool.fetch("SELECT rule, subject_id, raised_at, state FROM alerts WHERE rule <> 'status_due'")
    actual = sorted((r["rule"], r["subject_id"], r["raised_at"].date(), r["state"] == "resolved") for r in rows)
    expected = sorted(
        [e for citizen in cohort for e in expected_alerts(citizen)]
        + [e for resident in residents for e in expected_resident_alerts(resident)]
    )
    assert actual == expected
    # The draw exercises every rule it covers, both open and resolved.
    assert {rule for rule, *_ in expected} == {
        "handleplan_missing",
        "measurement_missing",
        "no_contact",
        "cti_phase_overdue",
        "cti_course_overdue",
        "cti_started_without_housing",
        "no_follow_on_offer",
        "eviction_risk",
        "shelter_no_contact",
        "shelter_stay_long",
    }
    assert {resolved for *_, resolved in expected} == {True, False}
