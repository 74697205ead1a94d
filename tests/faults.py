"""A steady stream of facts for the fault and soak tests, submitted the way a careful client does:
each fact with its own Idempotency-Key, retried with the same key on 503 or a broken connection
until it is answered. So every fact is accepted exactly once, whatever fails meanwhile."""

import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx
import psycopg

from tests.support import System, course_facts

RETRYABLE = (503,)


def facts_of(citizen: int) -> list[dict]:
    facts = course_facts("101", f"steady-{citizen}", f"steady-course-{citizen}", "ICM", "2026-03-01")
    return facts + [
        {
            "type": "HandleplanCreated",
            "municipality": "101",
            "citizen_id": f"steady-{citizen}",
            "effective_date": "2026-03-10",
        }
    ]


@dataclass
class FactStream:
    system: System
    rate: float = 30.0  # facts per second
    accepted: int = 0
    replayed: int = 0  # answers to a retry of something stored before the answer got out
    statuses: Counter = field(default_factory=Counter)
    unexpected: list[str] = field(default_factory=list)  # anything but 201 / 503 with Retry-After
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _started: float = 0.0

    def start(self) -> "FactStream":
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        assert self._thread is not None
        self._thread.join(timeout=120)
        assert not self._thread.is_alive(), "the stream did not finish its last fact"

    def achieved_rate(self) -> float:
        """Facts accepted per second since the start (the pace the client actually kept)."""
        return self.accepted / (time.monotonic() - self._started)

    def _run(self) -> None:
        citizen = 0
        self._started = next_at = time.monotonic()
        # One kept-alive connection, as a case system's client has; it reconnects after a failure.
        with httpx.Client(timeout=30) as client:
            while not self._stop.is_set():
                for index, fact in enumerate(facts_of(citizen)):
                    self._submit(client, fact, key=f"steady-{citizen}-{index}")
                    next_at += 1 / self.rate
                    time.sleep(max(0.0, next_at - time.monotonic()))
                citizen += 1

    def _submit(self, client: httpx.Client, fact: dict, key: str) -> None:
        headers = {"Authorization": "Bearer token-101", "Idempotency-Key": key}
        while True:
            url = self.system.services["registration"].url + "/v1/facts"
            try:
                response = client.post(url, json=fact, headers=headers)
            except httpx.HTTPError as exc:
                self.statuses[type(exc).__name__] += 1
                time.sleep(0.2)
                continue
            self.statuses[response.status_code] += 1
            if response.status_code == 201:
                self.accepted += 1
                self.replayed += response.headers.get("Idempotent-Replayed") == "true"
                return
            if response.status_code == 503 and response.headers.get("Retry-After"):
                time.sleep(0.2)
                continue
            self.unexpected.append(f"{response.status_code} {response.text[:300]}")
            return


def counts(database_url: str) -> dict[str, int]:
    """What the store holds and what each consumer applied, counted in its own transactions."""
    with psycopg.connect(database_url) as connection:
        one = lambda sql: connection.execute(sql).fetchone()[0]  # noqa: E731
        return {
            "store": one("SELECT count(*) FROM registration_events"),
            "projections": one("SELECT coalesce(sum(applied), 0) FROM projection_checkpoint"),
            "projections_by_type": one("SELECT coalesce(sum(applied), 0) FROM projection_event_counts"),
            "alerts": one("SELECT coalesce(sum(applied), 0) FROM alert_checkpoint"),
        }


def stored_positions(database_url: str) -> list[int]:
    """The store's positions in order. A registration killed inside its transaction leaves a gap
    (PostgreSQL does not give back a sequence number a rolled-back insert took), so they need not be 1..n."""
    with psycopg.connect(database_url) as connection:
        return [row[0] for row in connection.execute("SELECT notification_id FROM registration_events ORDER BY 1")]


def wait_all_applied(system: System, total: int, timeout: float = 90.0) -> None:
    for service in ("projections", "alerts"):
        system.wait_applied(service, total, timeout=timeout)
