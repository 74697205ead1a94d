"""Soak: 30 minutes at 50 facts/s (CASETRACK_LONG=1 only). The memory of each service stays flat
within 10% between the end of the warm-up and the end of the run, and every fact is applied once."""

import os
import time

import psutil
import pytest

from tests.faults import FactStream, counts, wait_all_applied
from tests.support import System

pytestmark = [pytest.mark.integration, pytest.mark.long]

MINUTES = float(os.environ.get("CASETRACK_SOAK_MINUTES", "30"))


def rss(system: System) -> dict[str, int]:
    return {name: psutil.Process(service.process.pid).memory_info().rss for name, service in system.services.items()}


def test_memory_stays_flat_at_50_facts_per_second(system: System) -> None:
    system.start()
    stream = FactStream(system, rate=50).start()
    warm_up = min(300.0, MINUTES * 60 / 6)
    time.sleep(warm_up)
    after_warm_up = rss(system)
    samples = [after_warm_up]
    deadline = time.monotonic() + MINUTES * 60 - warm_up
    while time.monotonic() < deadline:
        time.sleep(min(60.0, max(0.0, deadline - time.monotonic())))
        samples.append(rss(system))
    rate = stream.achieved_rate()
    stream.stop()
    print(f"soak: {stream.accepted} facts accepted at {rate:.1f} facts/s")
    assert rate >= 0.9 * 50, f"the client kept only {rate:.1f} facts/s, not 50: the soak did not soak"

    at_end = samples[-1]
    for name in system.services:
        print(f"soak RSS {name}: {[s[name] // 2**20 for s in samples]} MiB, {stream.accepted} facts accepted")
    for name in system.services:
        growth = at_end[name] / after_warm_up[name] - 1
        assert growth <= 0.10, f"{name}: RSS grew {growth:.0%} ({[s[name] // 2**20 for s in samples]} MiB)"
    wait_all_applied(system, stream.accepted, timeout=300)
    total = stream.accepted
    assert counts(system.database_url) == {
        "store": total,
        "projections": total,
        "projections_by_type": total,
        "alerts": total,
    }
