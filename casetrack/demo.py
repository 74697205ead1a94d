"""Demo data: a plausible history of Housing First courses, submitted through the public API.

Proportions follow domain.md and the seed reports loosely: CTI is the most used method, about half
of the citizens get a handleplan in time, most CTI citizens gain housing during phase 1, some lose
it again, CTI courses end after about nine months.
"""

import random
from datetime import date, timedelta
from typing import Any

import httpx

METHOD_WEIGHTS = {"CTI": 0.5, "ICM": 0.3, "ACT": 0.2}
TEAMS = {"CTI": "team-cti", "ICM": "team-icm", "ACT": "team-act"}


def _fact(kind: str, municipality: str, citizen: str, day: date, **fields: Any) -> dict[str, Any]:
    return {"type": kind, "municipality": municipality, "citizen_id": citizen,
            "effective_date": day.isoformat(), **fields}


def citizen_history(rng: random.Random, municipality: str, number: int, today: date, months: int) -> list[dict[str, Any]]:
    citizen = f"demo-{municipality}-{number:05d}"
    course = f"{citizen}-c1"
    method = rng.choices(list(METHOD_WEIGHTS), weights=list(METHOD_WEIGHTS.values()))[0]
    decided = today - timedelta(days=rng.randint(7, months * 30))
    started = decided + timedelta(days=rng.randint(0, 14))
    if started > today:
        started = today
    facts = [
        _fact("CitizenRegistered", municipality, citizen, decided, birth_year=rng.randint(1955, 2006),
              gender=rng.choice(["female", "male", "male"])),
        _fact("VisitationDecided", municipality, citizen, decided, course_id=course, method=method,
              team=TEAMS[method], assessment_done=rng.random() < 0.8, fits_target_group=rng.random() < 0.9),
        _fact("CourseStarted", municipality, citizen, started, course_id=course,
              support_worker=f"worker-{rng.randint(1, 4)}"),
    ]
    handleplan_roll = rng.random()
    if handleplan_roll < 0.55:
        plan_day = started + timedelta(days=rng.randint(0, 30))
    elif handleplan_roll < 0.75:
        plan_day = started + timedelta(days=rng.randint(31, 120))
    else:
        plan_day = None
    events: list[tuple[date, dict[str, Any]]] = []
    if plan_day is not None:
        events.append((plan_day, _fact("HandleplanCreated", municipality, citizen, plan_day, course_id=course)))
    if method == "CTI":
        phase_start = started
        for phase in ("1", "2", "3"):
            if phase_start > today:
                break
            events.append((phase_start, _fact("CtiPhaseStarted", municipality, citizen, phase_start,
                                              course_id=course, phase=phase)))
            # Most phases move on after about three months; some overrun.
            phase_start = phase_start + timedelta(days=rng.choice([90, 92, 95, 120, 150]))
        course_end = started + timedelta(days=rng.randint(270, 300))
        if course_end <= today:
            events.append((course_end, _fact("CourseEnded", municipality, citizen, course_end,
                                             course_id=course, reason="completed")))
    if rng.random() < 0.7:
        housed = started + timedelta(days=rng.randint(10, 80))
        if housed <= today:
            events.append((housed, _fact("HousingGained", municipality, citizen, housed,
                                         housing=rng.choice(["almen", "almen", "private_rental", "skaev"]))))
            if rng.random() < 0.12:
                lost = housed + timedelta(days=rng.randint(30, 200))
                if lost <= today:
                    events.append((lost, _fact("HousingLost", municipality, citizen, lost,
                                               reason=rng.choice(["eviction", "left"]))))
    ended_on = next((day for day, f in events if f["type"] == "CourseEnded"), None)
    for day, fact in sorted(events, key=lambda item: item[0]):
        if day > today:
            continue  # the future has not happened yet
        course_bound = fact["type"] in ("CtiPhaseStarted", "HandleplanCreated")
        if course_bound and ended_on is not None and day >= ended_on and fact["type"] != "CourseEnded":
            continue  # nothing is recorded on an ended course
        facts.append(fact)
    return facts


def generate(municipality: str, citizens: int, months: int, seed: int, today: date | None = None) -> list[dict[str, Any]]:
    rng = random.Random(f"{seed}-{municipality}")
    today = today or date.today()
    facts: list[dict[str, Any]] = []
    for number in range(citizens):
        facts.extend(citizen_history(rng, municipality, number, today, months))
    return facts


def load(registration_url: str, token: str, facts: list[dict[str, Any]], batch_size: int = 500) -> tuple[int, list[dict[str, Any]]]:
    """Submits facts in batches; returns (accepted, rejected results)."""
    accepted, rejected = 0, []
    with httpx.Client(base_url=registration_url, headers={"Authorization": f"Bearer {token}"}, timeout=120) as client:
        for offset in range(0, len(facts), batch_size):
            response = client.post("/v1/facts/batch", json={"facts": facts[offset:offset + batch_size]})
            response.raise_for_status()
            body = response.json()
            accepted += body["accepted"]
            rejected += [r for r in body["results"] if r["status"] != 201]
    return accepted, rejected
