"""`casetrack import`: a generated history of two municipalities over five years, imported by the
command as a process, killed halfway (SIGKILL) and resumed, then run again (issue 21, point 1).

- the store holds each fact once: registration's events, the projections' facts;
- the KPIs as of past days equal those worked out from the same facts, each known from the day it
  was recorded (what the figures would have said had each fact been told live on its day), and the
  KPIs now equal those of the same history told live, through POST /v1/facts/batch, about two other
  municipalities;
- the alerts open are exactly those open for that live twin, and the imported municipalities' alert
  history has no alert resolved on arrival (the live twin's has plenty: the storm imports avoid).
"""

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from contracts.facts import fact_adapter
from services.projections import figures
from services.projections.history import History, Record, fold
from services.projections.kpis import CATALOGUE, Window
from services.projections.store import known_by
from tests.import_history import history_lines, told_about
from tests.support import System

pytestmark = pytest.mark.integration

IMPORTED = {"101": "751", "147": "461"}  # imported municipality -> its live twin
CITIZENS, YEARS = 4, 5
QUIET_SECONDS = 6
AS_OF = [date(2023, 6, 30), date(2025, 3, 31)]
# The history ends on a fixed day and the alerts' clock stands the day after, so what the test sees
# is the same every day it runs (the facts' recorded times lie before the real now, as they must).
HISTORY_END = date(2026, 11, 1)
ALERTS_NOW = "2026-11-02T12:00:00+00:00"


def _import(system: System, path: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "casetrack.cli", "import", str(path), "--url", system.services["registration"].url]
        + ["--token", "token-admin", "--batch", "25", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={k: v for k, v in os.environ.items() if k not in ("NATS_URL", "DATABASE_URL")},
    )


def _next_line(state_path: Path) -> int:
    try:
        return json.loads(state_path.read_text())["next_line"]
    except (FileNotFoundError, ValueError):
        return 1


def _refused(report: Path) -> dict[int, dict[str, Any]]:
    return {r["line"]: r for r in map(json.loads, report.read_text().splitlines())}


def _rows(database_url: str, sql: str, *params: Any) -> list[tuple]:
    with psycopg.connect(database_url) as connection:
        return connection.execute(sql, params).fetchall()


def _last_position(database_url: str) -> int:
    return _rows(database_url, "SELECT max(notification_id) FROM registration_events")[0][0]


def _kpi(system: System, kpi: str, municipality: str, params: dict[str, str]) -> dict[str, Any]:
    with system.client("projections", "token-admin") as client:
        response = client.get(f"/v1/kpis/{kpi}", params={"municipality": municipality} | params)
    assert response.status_code == 200, response.text
    body = response.json()
    return {k: v for k, v in body.items() if k not in ("municipality", "as_of", "name_da", "name_en")}


def _known_then(lines: list[dict[str, Any]], accepted: set[int], municipality: str, as_of: date) -> History:
    """The municipality's history from the accepted lines known by the end of `as_of`, in the order
    told: what the read model would hold had each line been told live when it was recorded."""
    cutoff = known_by(as_of)
    assert cutoff is not None
    records = [
        Record(n, datetime.fromisoformat(line["recorded_at"]), fact_adapter.validate_python(line["fact"]))
        for n, line in enumerate(lines, start=1)
        if n in accepted
        and line["fact"]["municipality"] == municipality
        and datetime.fromisoformat(line["recorded_at"]) < cutoff
    ]
    return fold(municipality, records)


def test_a_history_imported_killed_resumed_and_rerun_is_stored_once_and_answers_as_its_source(
    system: System, tmp_path: Path
) -> None:
    system.extra_env |= {"CASETRACK_ALERTS_IMPORT_QUIET_SECONDS": str(QUIET_SECONDS)}
    for service in system.services.values():
        service.env |= system.extra_env
    system.start()
    with system.client("alerts", "token-admin") as alerts_api:
        assert alerts_api.put("/v1/clock", json={"now": ALERTS_NOW}).status_code == 200
    today = datetime.now(UTC).date()
    lines = []
    for municipality in IMPORTED:
        lines += history_lines(municipality, CITIZENS, YEARS, HISTORY_END, source=f"fagsystem-{municipality}")
    lines.sort(key=lambda line: line["recorded_at"])  # one file, in the order the sources recorded
    # Refused lines: not JSON; a contact dated after the day it was recorded (judged as of that day,
    # not today); recorded after the file's last line but before the line after it (out of order).
    path = tmp_path / "history.jsonl"
    texts = [json.dumps(line) for line in lines]
    middle = len(texts) // 3
    recorded = lines[middle - 1]["recorded_at"]
    contact = next(line for line in lines if line["fact"]["type"] == "ContactRecorded")["fact"]
    ahead = (date.fromisoformat(recorded[:10]) + timedelta(days=5)).isoformat()
    future = {"recorded_at": recorded, "source": "fagsystem-101", "fact": contact | {"effective_date": ahead}}
    texts.insert(middle, "{not json")
    texts.insert(middle + 1, json.dumps(future))
    texts.append(json.dumps(lines[0] | {"fact": lines[0]["fact"] | {"effective_date": lines[0]["recorded_at"][:10]}}))
    path.write_text("\n".join(texts) + "\n")
    total = len(texts)
    state_path, report = (
        path.with_name("history.jsonl.import-state.json"),
        path.with_name("history.jsonl.refused.jsonl"),
    )

    # Killed halfway, resumed.
    started = time.monotonic()
    first = _import(system, path)
    while _next_line(state_path) < total // 2:
        assert first.poll() is None, first.communicate()
        assert time.monotonic() - started < 120, "the import did not get halfway"
        time.sleep(0.005)
    first.send_signal(signal.SIGKILL)
    first.wait()
    killed_at = _next_line(state_path)
    assert 1 < killed_at < total
    resumed = _import(system, path)
    out, err = resumed.communicate(timeout=300)
    assert resumed.returncode == 1, err  # some lines refused
    assert "lines/s" in err and "time left" in err, err  # the progress, as plain lines (no terminal)
    refused = _refused(report)
    assert refused[middle + 1]["reason"] == "invalid_json"
    assert refused[middle + 2]["reason"] == "validation_error"
    assert refused[middle + 2]["fields"][0]["type"] == "date_out_of_range"
    assert refused[total]["reason"] == "recorded_out_of_order"
    assert f"{len(refused)} refused" in out, out
    accepted = {n for n in range(1, total + 1)} - set(refused)
    assert f"imported: {len(accepted)} lines in" in out, out  # the killed run's and the resumed run's

    # Run again: nothing stored twice.
    again = _import(system, path, "--state", str(tmp_path / "fresh-state.json"), "--report", str(tmp_path / "r2.jsonl"))
    out2, err2 = again.communicate(timeout=300)
    assert f"imported: {len(accepted)} lines in (0 stored now, {len(accepted)} stored before)" in out2, (out2, err2)
    assert _refused(tmp_path / "r2.jsonl").keys() == refused.keys()
    db = system.database_url
    assert _rows(db, "SELECT count(*) FROM registration_events")[0][0] == len(accepted)
    sent = [json.loads(t) if t.startswith('{"') else {} for t in texts]  # by line number (index + 1)

    # The same history told live, through the ordinary batch, about the twins.
    twin_lines = [line for n, line in enumerate(sent, start=1) if n in accepted]
    with system.client("registration", "token-admin") as client:
        for imported_m, twin in IMPORTED.items():
            ours = [line for line in twin_lines if line["fact"]["municipality"] == imported_m]
            facts = [line["fact"] for line in told_about(ours, twin)]
            answer = client.post("/v1/facts/batch", json={"facts": facts})
            assert answer.status_code == 200 and answer.json()["rejected"] == 0, answer.text[:2000]
    last = _last_position(db)
    system.wait_applied("projections", last, timeout=120)
    system.wait_applied("alerts", last, timeout=120)
    assert _rows(db, "SELECT count(*) FROM registration_events")[0][0] == 2 * len(accepted)
    kpi_facts = _rows(db, "SELECT municipality, count(*) FROM kpi_g1.kpi_facts GROUP BY 1 ORDER BY 1")
    by_municipality = {m: sum(1 for n in accepted if sent[n - 1]["fact"]["municipality"] == m) for m in IMPORTED}
    assert dict(kpi_facts) == by_municipality | {IMPORTED[m]: c for m, c in by_municipality.items()}

    # KPIs as of past days: as the source would have answered; now: as the live twin.
    known_then = 0  # figures with a value as of a past day: facts recorded by then, none told by then
    for municipality, twin in IMPORTED.items():
        histories = {as_of: _known_then(sent, accepted, municipality, as_of) for as_of in AS_OF}
        for kpi in CATALOGUE.values():
            for as_of in AS_OF:
                window = Window(date(as_of.year - 1, as_of.month, 1), as_of)
                query = figures.Query(window, None, as_of=as_of)
                got = _kpi(
                    system, kpi.id, municipality, {"from": str(window.start), "to": str(as_of), "as_of": str(as_of)}
                )
                expected = figures.figures(kpi, histories[as_of], query, None)
                assert {k: got[k] for k in expected} == json.loads(json.dumps(expected, default=str)), (kpi.id, as_of)
                known_then += expected.get("value") not in (None, 0)
            params = {"from": str(today - timedelta(days=365)), "to": str(today)}
            assert _kpi(system, kpi.id, municipality, params) == _kpi(system, kpi.id, twin, params), kpi.id

    assert known_then > len(CATALOGUE), "the past days' figures are not empty"

    # Alerts: once the import is quiet, its subjects are looked at once, at now.
    deadline = time.monotonic() + QUIET_SECONDS + 30
    while _rows(db, "SELECT count(*) FROM alert_imported_subjects")[0][0]:
        assert time.monotonic() < deadline, system.services["alerts"].log_tail()
        time.sleep(0.5)
    time.sleep(1.5)  # the live twin's deadlines due now: the poller (every 0.5 s)

    def alerts(municipality: str, state: str) -> set[tuple[str, str, str]]:
        return {
            tuple(r)
            for r in _rows(
                db,
                "SELECT rule, subject_type, subject_id FROM alerts WHERE municipality = %s AND state = %s",
                municipality,
                state,
            )
        }

    for municipality, twin in IMPORTED.items():
        open_now = alerts(municipality, "open")
        assert open_now, "the history leaves alerts open now"
        assert open_now == alerts(twin, "open")
        assert alerts(municipality, "resolved") == set(), "no alert raised and resolved on arrival"
        assert alerts(twin, "resolved"), "told live, the past raises and resolves alerts as it arrives"
