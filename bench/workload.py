"""The facts and events the benchmark feeds in: courses of citizens spread over municipalities."""

from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import uuid4

from contracts.events import EventMessage
from contracts.facts import fact_adapter

MUNICIPALITIES = ("101", "147", "151", "153", "155", "157", "159", "161", "163", "165")
METHODS = ("CTI", "ICM", "ACT")


def citizen_facts(municipality: str, n: int, start: date) -> list[dict[str, Any]]:
    """Four facts of one citizen's course: registered, visitated, started, action plan."""
    citizen, course = f"bench-{n}", f"bench-course-{n}"
    base = {"municipality": municipality, "citizen_id": citizen}
    on = start.isoformat()
    return [
        base | {"type": "CitizenRegistered", "effective_date": on, "birth_year": 1970 + n % 40, "gender": "male"},
        base
        | {
            "type": "VisitationDecided",
            "course_id": course,
            "effective_date": on,
            "method": METHODS[n % 3],
            "team": f"team-{n % 5}",
        },
        base | {"type": "CourseStarted", "course_id": course, "effective_date": on},
        base | {"type": "HandleplanCreated", "effective_date": (start + timedelta(days=20)).isoformat()},
    ]


def facts(count: int, municipality: str | None = None, offset: int = 0, days: int = 3600) -> list[dict[str, Any]]:
    """`count` facts (a multiple of 4 is best), citizens spread over the municipalities and over the
    last `days` days (ten years by default; courses started lately have their deadlines ahead)."""
    out: list[dict[str, Any]] = []
    n = offset
    first = date.today() - timedelta(days=days + 21)
    while len(out) < count:
        where = municipality or MUNICIPALITIES[n % len(MUNICIPALITIES)]
        out += citizen_facts(where, n, first + timedelta(days=(n * 7) % days))
        n += 1
    return out[:count]


def events(count: int, days: int = 3600) -> list[EventMessage]:
    """The same facts as recorded events, positions 1..count."""
    now = datetime.now(UTC)
    return [
        EventMessage(
            event_id=uuid4(),
            position=i,
            schema_version=1,
            recorded_at=now,
            recorded_by="bench",
            fact=fact_adapter.validate_python(fact),
        )
        for i, fact in enumerate(facts(count, days=days), start=1)
    ]


def history_facts(count: int) -> list[dict[str, Any]]:
    """`count` facts of ten years of Housing First work (the demo simulation: contacts, phases, time,
    measurements, housing, stays, follow-ups), spread evenly over the ten municipalities and
    interleaved as ten case systems would send them; CPR numbers already replaced by ids."""
    from casetrack.demo import generate, pseudonymous

    per_municipality = -(-count // len(MUNICIPALITIES))
    streams = []
    for municipality in MUNICIPALITIES:
        citizens = max(1, per_municipality // 150)  # the simulation makes ~150 facts a citizen in 10 years
        facts = generate(municipality, citizens, 120, seed=2026, today=date.today())
        while len(facts) < per_municipality:
            citizens += max(1, (per_municipality - len(facts)) // 150 + 1)
            facts = generate(municipality, citizens, 120, seed=2026, today=date.today())
        streams.append([pseudonymous(fact) for fact in facts[:per_municipality]])
    interleaved = [fact for group in zip(*streams, strict=False) for fact in group]
    return interleaved[:count]


def history_events(count: int) -> list[EventMessage]:
    """The history as recorded events, positions 1..count, each recorded the day after it happened
    (so `as_of` a past day sees part of it)."""
    today = datetime.now(UTC)
    out = []
    for i, fact in enumerate(history_facts(count), start=1):
        parsed = fact_adapter.validate_python(fact)
        recorded = datetime.combine(parsed.effective_date + timedelta(days=1), datetime.min.time(), UTC)
        out.append(
            EventMessage(
                event_id=uuid4(),
                position=i,
                schema_version=1,
                recorded_at=min(recorded, today),
                recorded_by="bench",
                fact=parsed,
            )
        )
    return out
