"""The import file, its refusal report and the command's resumption, without servers (the whole
import through real services: tests/test_import.py)."""

import io
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from casetrack import importer
from casetrack.importer import Progress, Refusal, check_line, run_import
from contracts.facts import Admission, fact_adapter
from runtime.auth import Principal
from services.registration.application import Registration, imported_from
from services.registration.domain.organisation import team_uuid
from services.registration.entrypoints.answers import import_answer
from services.registration.identity import Pseudonyms
from services.registration.submission import Submissions

ADMIN = Principal("admin", None, "admin")
TEAM = {"type": "TeamRegistered", "municipality": "101", "team_id": "t1", "name": "CTI", "methods": ["CTI"]}


def line(day: str, fact: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    fact = fact or TEAM
    return {"recorded_at": f"{day}T10:00:00+00:00", "source": "sag-101", "fact": fact | {"effective_date": day}} | extra


def test_a_line_is_json_an_import_line_and_in_recorded_order() -> None:
    broken = check_line(1, "{nope", None, None)
    assert isinstance(broken, Refusal) and (broken.line, broken.reason) == (1, "invalid_json")
    naive = check_line(2, json.dumps(line("2024-01-02") | {"recorded_at": "2024-01-02T10:00:00"}), None, None)
    assert isinstance(naive, Refusal) and naive.reason == "validation_error"
    assert [f["field"] for f in naive.fields] == ["recorded_at"]
    no_source = {k: v for k, v in line("2024-01-02").items() if k != "source"}
    assert isinstance(check_line(3, json.dumps(no_source), None, None), Refusal)
    assert check_line(3, json.dumps(no_source), "fagsystem", None)["source"] == "fagsystem"  # type: ignore[index]
    later = datetime(2024, 1, 3, tzinfo=UTC)
    late = check_line(4, json.dumps(line("2024-01-02", id="s-4")), None, later)
    assert isinstance(late, Refusal) and (late.reason, late.id) == ("recorded_out_of_order", "s-4")
    assert json.loads(late.as_json())["fields"][0]["type"] == "recorded_out_of_order"


def test_progress_shows_rate_and_time_left_as_a_bar_on_a_terminal_and_plain_lines_otherwise() -> None:
    plain = io.StringIO()
    progress = Progress(total=1000, done=200, stream=plain, every=0.0)
    assert progress.text(600, elapsed=2.0) == (
        "[##################            ] 600/1000 lines  60%  200 lines/s  time left 0:00:02"
    )
    progress.show(300)
    progress.show(400, final=True)
    assert len(plain.getvalue().splitlines()) == 2 and "\r" not in plain.getvalue()

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    bar = Progress(total=10, done=0, stream=terminal)
    bar.show(5)
    bar.show(10, final=True)
    assert terminal.getvalue().count("\r") == 2 and terminal.getvalue().endswith("\n")


class FakeRegistration:
    """POST /v1/import answered per line: lines whose fact names team `refuse` get a rule's 409, the
    rest are stored once (known by their recorded time); the `crash_after`-th request never answers."""

    def __init__(self, crash_after: int | None = None):
        self.stored: dict[str, int] = {}
        self.requests = 0
        self.crash_after = crash_after

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        if self.crash_after is not None and self.requests == self.crash_after:
            raise KeyboardInterrupt  # the command killed while waiting for the answer
        results = []
        for index, one in enumerate(json.loads(request.content)["facts"]):
            if one["fact"].get("team_id") == "refuse":
                error = {"reason": "team_not_found", "message": "no", "message_da": "nej", "fields": []}
                results.append({"index": index, "status": 409, "error": error})
                continue
            before = one["recorded_at"] in self.stored
            self.stored[one["recorded_at"]] = self.stored.get(one["recorded_at"], 0) + 1
            receipt = {"event_id": "e", "position": 1, "type": "TeamRegistered", "recorded_at": "x"}
            results.append({"index": index, "status": 201, "receipt": receipt, "imported_before": before})
        return httpx.Response(200, json={"accepted": 0, "rejected": 0, "results": results})


def _file(tmp_path: Path) -> Path:
    start = date(2024, 1, 1)
    texts = []
    for n in range(25):
        day = (start + timedelta(days=n)).isoformat()
        fact = TEAM | {"team_id": "refuse" if n % 10 == 3 else f"t{n}"}
        texts.append(json.dumps(line(day, fact)))
    texts.insert(12, "not json")
    (path := tmp_path / "h.jsonl").write_text("\n".join(texts) + "\n\n")
    return path


def test_a_run_cut_short_goes_on_where_it_stopped_with_each_refusal_reported_once_in_line_order(
    tmp_path: Path,
) -> None:
    path = _file(tmp_path)
    registration = FakeRegistration(crash_after=3)
    transport = httpx.MockTransport(registration)
    with pytest.raises(KeyboardInterrupt):
        run_import(path, "http://r", "t", batch_size=4, progress_stream=io.StringIO(), transport=transport)
    report = path.with_name("h.jsonl.refused.jsonl")
    state = json.loads(path.with_name("h.jsonl.import-state.json").read_text())
    assert state["next_line"] == 9 and state["accepted"] == 7  # two batches of four answered
    registration.crash_after = None
    done = run_import(path, "http://r", "t", batch_size=4, progress_stream=io.StringIO(), transport=transport)
    refusals = [json.loads(t) for t in report.read_text().splitlines()]
    assert [(r["line"], r["reason"]) for r in refusals] == [
        (4, "team_not_found"),
        (13, "invalid_json"),
        (15, "team_not_found"),
        (25, "team_not_found"),
    ]
    assert (done.accepted, done.refused, done.imported_before) == (22, 4, 0)
    assert set(registration.stored.values()) == {1}, "the batch cut short was not answered: sent once more"
    assert importer.summary(done, report).startswith(
        "imported: 22 lines in (22 stored now, 0 stored before), 4 refused"
    )


def test_a_rerun_with_another_state_sends_everything_again_and_is_told_it_was_stored_before(tmp_path: Path) -> None:
    path = _file(tmp_path)
    registration = FakeRegistration()
    transport = httpx.MockTransport(registration)
    run_import(path, "http://r", "t", progress_stream=io.StringIO(), transport=transport)
    again = run_import(
        path, "http://r", "t", state_path=tmp_path / "other.json", progress_stream=io.StringIO(), transport=transport
    )
    assert (again.accepted, again.imported_before, again.refused) == (22, 22, 4)


def test_the_state_of_another_file_is_not_used(tmp_path: Path) -> None:
    path = _file(tmp_path)
    state_path = path.with_name("h.jsonl.import-state.json")
    importer.save_state(state_path, importer.State(file_sha256="other", next_line=20))
    assert importer.load_state(state_path, importer.file_digest(path)).next_line == 1


def test_an_imported_fact_is_judged_as_of_the_day_its_source_recorded_it() -> None:
    contact = {
        "type": "ContactRecorded",
        "municipality": "101",
        "citizen_id": "c1",
        "course_id": "k1",
        "minutes": 20,
        "kind": "face_to_face",
    }
    then = Admission(today=date(2022, 3, 1))
    fact_adapter.validate_python(contact | {"effective_date": "2022-03-02"}, context=then)  # a day ahead: clocks
    with pytest.raises(ValidationError, match="more than a day in the future"):
        fact_adapter.validate_python(contact | {"effective_date": "2022-03-05"}, context=then)
    fact_adapter.validate_python(contact | {"effective_date": "2022-03-05"}, context=Admission())  # judged today


def test_the_endpoint_keeps_the_source_and_its_time_with_the_event_and_refuses_a_time_ahead() -> None:
    app = Registration()  # in memory: no idempotency table, so each line is judged and stored
    submissions = Submissions(app, Pseudonyms(None), Admission())
    ahead = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    outcome = submissions.import_lines(
        ADMIN,
        [
            line("2023-05-04"),
            {
                "recorded_at": ahead,
                "source": "sag-101",
                "fact": TEAM | {"team_id": "t2", "effective_date": "2023-05-04"},
            },
            line("2023-05-05", id="x") | {"fact": TEAM | {"effective_date": "2023-05-09"}},  # after recorded
            line("2023-05-07"),  # the same team again: the rules refuse it
        ],
    )
    assert not isinstance(outcome, Exception)
    answer = import_answer(outcome)["body"]
    assert [r["status"] for r in answer["results"]] == [201, 422, 422, 409]
    assert answer["results"][1]["error"]["reason"] == "recorded_in_future"
    assert answer["results"][2]["error"]["fields"][0]["field"] == "fact.TeamRegistered.effective_date"
    assert answer["results"][0]["imported_before"] is False
    [message] = app.team_history("t1", "101")
    origin = message.imported
    assert origin is not None and origin.source == "sag-101"
    assert message.known_at == origin.recorded_at == datetime(2023, 5, 4, 10, tzinfo=UTC)
    assert message.recorded_at > datetime(2026, 1, 1, tzinfo=UTC), "when casetrack was told"
    [event] = app.events.get(team_uuid("101", "t1"))
    assert imported_from(app.mapper.to_domain_event(app.mapper.to_stored_event(event))) == origin  # stored with it


def test_only_the_administrator_imports() -> None:
    submissions = Submissions(Registration(), Pseudonyms(None), Admission())
    refused = submissions.import_lines(Principal("sag", "101", "client"), [line("2023-05-04")])
    assert isinstance(refused, Exception) and refused.status == 403


def test_a_line_twice_in_one_request_is_judged_twice_in_order() -> None:
    app = Registration()
    submissions = Submissions(app, Pseudonyms(None), Admission())
    outcome = submissions.import_lines(ADMIN, [line("2023-05-04"), line("2023-05-04"), line("2023-05-05", id="t")])
    assert not isinstance(outcome, Exception)
    results = import_answer(outcome)["body"]["results"]
    assert [(r["index"], r["status"]) for r in results] == [(0, 201), (1, 409), (2, 409)]
    assert results[1]["error"]["reason"] == "team_already_registered"
