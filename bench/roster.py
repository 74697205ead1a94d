"""The caseloads' speed: the course roster (`GET /v1/courses`) of a team with 500 active courses and
of a municipality with 5,000, as a dashboard asks for them (a page of 50, each sort in turn).

    .venv/bin/python -m bench.roster                 # on its own: 5,000 courses in 10 teams
    .venv/bin/python -m bench.roster --courses 10000

Part of `make bench` too (bench/__main__.py). Starts an embedded PostgreSQL, nats-server and the
projections service, publishes the courses' facts onto the events stream (about 17 a course:
registered, visitated, started, housing, time planned, expected progression, a measurement, eight
contacts, a CTI phase, a handleplan), and times the queries. Beside them: `GET /healthz` of the same
service (what HTTP alone costs there), the P1 KPI of the same municipality, and the roster of
yesterday (`on`), which is worked out from the fold on every query, as any day but today is.
"""

import argparse
import asyncio
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

from bench.__main__ import Figure, pct, print_table, publish_history
from bench.scratch import scratch_postgres
from contracts.events import EventMessage
from contracts.facts import fact_adapter
from tests.support import SecuredNats, System, create_database

MUNICIPALITY = "101"
TEAM_SIZE = 500
METHODS = ("CTI", "ICM", "ACT")
CALLS = 30
SORTS = ("overdue", "gap", "last_contact")


def course_facts(n: int, today: date) -> list[dict[str, Any]]:
    """One active course of citizen n in team `team-{n // TEAM_SIZE}`, started 30-400 days ago."""
    citizen, course, method = f"roster-{n}", f"roster-course-{n}", METHODS[n % 3]
    start = today - timedelta(days=30 + (n * 37) % 370)
    team, worker = f"team-{n // TEAM_SIZE}", f"w-{n // TEAM_SIZE}-{n % 50}"
    base = {"municipality": MUNICIPALITY, "citizen_id": citizen}
    about = base | {"course_id": course}
    on = start.isoformat()
    facts: list[dict[str, Any]] = [
        base | {"type": "CitizenRegistered", "effective_date": on, "birth_year": 1960 + n % 40, "gender": "female"},
        about | {"type": "VisitationDecided", "effective_date": on, "method": method, "team": team},
        about | {"type": "CourseStarted", "effective_date": on, "support_worker": worker},
        base | {"type": "HousingSituationRecorded", "effective_date": on, "housing": ("street", "almen")[n % 2]},
        about
        | {
            "type": "ExpectedProgressionSet",
            "effective_date": on,
            "instrument": "WHO5",
            "checkpoints": [
                {"on": on, "value": 32},
                {"on": (start + timedelta(days=180)).isoformat(), "value": 52},
            ],
        },
        about | {"type": "MeasurementRecorded", "effective_date": on, "instrument": "WHO5", "answers": [2, 2, 1, 2, 2]},
    ]
    if method == "CTI":
        facts.append(about | {"type": "CtiPhaseStarted", "effective_date": on, "phase": "1"})
        facts.append(about | {"type": "TimePlanned", "effective_date": on, "cti_phase": "1", "expected_hours": 40})
    else:
        this_month = today.replace(day=1)
        for month in (this_month, (this_month - timedelta(days=1)).replace(day=1)):
            if month >= start.replace(day=1):
                facts.append(
                    about
                    | {"type": "TimePlanned", "effective_date": on, "month": month.isoformat(), "expected_hours": 12}
                )
    span = (today - start).days
    for i in range(8):
        day = start + timedelta(days=span * i // 8)
        kind = ("face_to_face", "phone_digital")[i % 2]
        facts.append(
            about | {"type": "ContactRecorded", "effective_date": day.isoformat(), "minutes": 60, "kind": kind}
        )
    if n % 2:
        facts.append(base | {"type": "HandleplanCreated", "effective_date": (start + timedelta(days=20)).isoformat()})
    return facts


def events(courses: int, first_position: int = 1) -> list[EventMessage]:
    today, now = date.today(), datetime.now(UTC)
    facts = [fact for n in range(courses) for fact in course_facts(n, today)]
    return [
        EventMessage(
            event_id=uuid4(),
            position=position,
            schema_version=1,
            recorded_at=now,
            recorded_by="bench",
            fact=fact_adapter.validate_python(fact),
        )
        for position, fact in enumerate(facts, start=first_position)
    ]


def _contact(n: int, position: int) -> EventMessage:
    """A face-to-face contact today for course n: what a query after it must take in."""
    fact = {
        "type": "ContactRecorded",
        "municipality": MUNICIPALITY,
        "citizen_id": f"roster-{n}",
        "course_id": f"roster-course-{n}",
        "effective_date": date.today().isoformat(),
        "minutes": 45,
        "kind": "face_to_face",
    }
    return EventMessage(
        event_id=uuid4(),
        position=position,
        schema_version=1,
        recorded_at=datetime.now(UTC),
        recorded_by="bench",
        fact=fact_adapter.validate_python(fact),
    )


def _timed(client: Any, path: str, params: list[dict[str, Any]]) -> list[float]:
    timings = []
    for query in params:
        sent = time.perf_counter()
        response = client.get(path, params=query)
        timings.append(time.perf_counter() - sent)
        assert response.status_code == 200, response.text[:300]
    return timings


def roster_figures(admin_url: str, work: Path, courses: int = 5000) -> list[Figure]:
    server = SecuredNats(work / "nats-roster")
    server.start()
    system = System(
        database_url=create_database(admin_url),
        nats_url=server.url,
        work_dir=work / "logs-roster",
        nats_env=server.service_env(),
        extra_env={"LOG_LEVEL": "WARNING"},
    )
    try:
        stream = events(courses)
        last = len(stream)
        asyncio.run(publish_history(server.url, stream))
        del stream
        system.start("projections")
        system.wait_applied("projections", last, timeout=3600)
        whole = {"municipality": MUNICIPALITY}
        team = whole | {"team": "team-0"}
        with system.client("projections", "token-admin") as client:
            client.timeout = 600
            sent = time.perf_counter()
            first = client.get("/v1/courses", params=whole)
            cold = time.perf_counter() - sent
            assert first.status_code == 200 and first.json()["total"] == courses, first.text[:300]
            assert client.get("/v1/courses", params=team).json()["total"] == min(TEAM_SIZE, courses)
            sorts = [{"sort": SORTS[i % len(SORTS)]} for i in range(CALLS)]
            team_p95 = pct(_timed(client, "/v1/courses", [team | s for s in sorts]), 95)
            whole_p95 = pct(_timed(client, "/v1/courses", [whole | s for s in sorts]), 95)
            health_p95 = pct(_timed(client, "/healthz", [{}] * CALLS), 95)
            p1_p95 = pct(_timed(client, "/v1/kpis/P1", [whole] * CALLS), 95)
            yesterday = {"on": (date.today() - timedelta(days=1)).isoformat()}
            fold_p95 = pct(_timed(client, "/v1/courses", [whole | yesterday] * 5), 95)
            # A fact applied between queries: the query takes it in (one course's row worked out again).
            after_fact = []
            for i in range(CALLS // 3):
                last += 1
                asyncio.run(publish_history(server.url, [_contact(i * 97 % courses, last)]))
                system.wait_applied("projections", last)
                after_fact += _timed(client, "/v1/courses", [whole])
            after_p95 = pct(after_fact, 95)
    finally:
        system.stop()
        server.stop()
    team_name = (
        f"roster of a team with {min(TEAM_SIZE, courses):,} active courses, p95 of {CALLS} (page of 50, 3 sorts)"
    )
    whole_name = f"roster of a municipality with {courses:,} active courses, p95 of {CALLS}"
    return [
        Figure(
            "roster: first query of a municipality (every row worked out)",
            cold * 1000,
            "ms",
            "-",
            None,
            health_p95 * 1000,
            "GET /healthz p95",
        ),
        Figure(
            team_name, team_p95 * 1000, "ms", "p95 <= 100 ms", team_p95 <= 0.1, health_p95 * 1000, "GET /healthz p95"
        ),
        Figure(
            whole_name,
            whole_p95 * 1000,
            "ms",
            "p95 <= 100 ms",
            whole_p95 <= 0.1,
            p1_p95 * 1000,
            "P1 of the municipality p95",
        ),
        Figure(
            f"roster of the municipality with a new fact applied before each query, p95 of {CALLS // 3}",
            after_p95 * 1000,
            "ms",
            "p95 <= 100 ms",
            after_p95 <= 0.1,
            health_p95 * 1000,
            "GET /healthz p95",
        ),
        Figure(
            "roster of the municipality on another day (from the fold on every query), p95 of 5",
            fold_p95 * 1000,
            "ms",
            "-",
            None,
            whole_p95 * 1000,
            "today's rows, kept",
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.roster", description=__doc__.splitlines()[0])
    parser.add_argument("--courses", type=int, default=5000, help="active courses of the municipality")
    args = parser.parse_args()
    with scratch_postgres("roster") as (postgres_url, work):
        print(f"roster of {args.courses:,} courses ...", file=sys.stderr)
        figures = roster_figures(postgres_url, work, args.courses)
    print_table(figures)


if __name__ == "__main__":
    main()
