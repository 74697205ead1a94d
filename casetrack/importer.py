"""`casetrack import FILE`: another system's history into casetrack, with its original times.

The file is JSON lines (contracts/imports.py, docs/import.md): per line a fact, the time the source
system recorded it and the source's name (or `--source`), optionally the source's own id for it.
The lines go to registration's `POST /v1/import` (the administrator's) in batches, in file order,
which must be the order the source recorded them in. Registration judges each line on its own as
of the day it was recorded and stores it whole or refuses it.

- Resumable: after each batch is answered, the refusals so far are flushed to the report and the
  next line to send is written to a state file (atomically). A run that finds a state file of the
  same file (by its SHA-256) goes on from there; lines of a batch cut short are sent again, and
  registration answers those it stored already with their receipt (each line has its idempotency
  key, its source and id, or else its content), so nothing is stored twice, also when the state
  file is lost and the whole file is sent again.
- Progress on stderr: a bar with rate and time left on a terminal, plain lines otherwise.
- Refusals: one JSON line each in the report (line number, reason code, messages, fields), and a
  summary at the end. Exit status 0 when every line is in, 1 when some were refused, 2 when the
  file cannot be read, 3 when registration cannot be reached or refuses the whole request.
"""

import hashlib
import json
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

import httpx
from pydantic import ValidationError

from contracts.imports import MAX_IMPORT_BATCH, ImportLine
from runtime.errors import validation_fields

DEFAULT_BATCH = 200
ATTEMPTS = 5


@dataclass
class State:
    """What a run has done, kept after each batch so a later run goes on from there."""

    file_sha256: str
    next_line: int = 1  # the first line not yet answered (1-based)
    report_bytes: int = 0  # the report as it was then: a resumed run cuts off what came after
    accepted: int = 0
    imported_before: int = 0
    refused: int = 0


@dataclass(frozen=True)
class Refusal:
    line: int
    reason: str
    message: str
    message_da: str = ""
    fields: tuple[dict[str, Any], ...] = ()
    id: str | None = None

    def as_json(self) -> str:
        body = asdict(self) | {"fields": list(self.fields)}
        return json.dumps({k: v for k, v in body.items() if v not in (None, "")}, ensure_ascii=False)


class ImportFailed(Exception):
    """Registration could not be reached, or refused a whole request: the run stops, resumable."""


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def count_lines(path: Path) -> int:
    with path.open("rb") as stream:
        return sum(1 for raw in stream if raw.strip())


def read_lines(
    path: Path, source: str | None, start: int = 1, previous: datetime | None = None
) -> Iterator[tuple[int, dict[str, Any] | Refusal]]:
    """(line number, import line or its refusal) for the file's non-blank lines from `start`. A line
    is refused here when it is not JSON, not an import line (contracts/imports.py), or recorded
    before the line before it (the file must be in the order its source recorded the facts)."""
    with path.open(encoding="utf-8") as stream:
        for number, text in enumerate(stream, start=1):
            if not text.strip():
                continue
            checked = check_line(number, text, source, previous)
            if isinstance(checked, dict):
                previous = datetime.fromisoformat(checked["recorded_at"])
            if number >= start:
                yield number, checked


def check_line(number: int, text: str, source: str | None, previous: datetime | None) -> dict[str, Any] | Refusal:
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as error:
        return Refusal(number, "invalid_json", f"not JSON: {error.msg}", "Ikke JSON.")
    if isinstance(raw, dict) and source is not None:
        raw.setdefault("source", source)
    try:
        line = ImportLine.model_validate(raw)
    except ValidationError as exc:
        fields = validation_fields(exc.errors(include_url=False, include_input=False))
        return Refusal(
            number,
            "validation_error",
            "Invalid import line: see fields.",
            "Ugyldig importlinje: se felterne.",
            tuple(fields),
            raw.get("id") if isinstance(raw, dict) and isinstance(raw.get("id"), str) else None,
        )
    if previous is not None and line.recorded_at < previous:
        return Refusal(
            number,
            "recorded_out_of_order",
            "Recorded before the line before it: the file must be in the order the source recorded the facts.",
            "Registreret før linjen før den: filen skal være i den rækkefølge, kilden registrerede fakta.",
            ({"field": "recorded_at", "problem": "before the previous line's", "type": "recorded_out_of_order"},),
            line.id,
        )
    return line.model_dump(mode="json", exclude_none=True)


class Progress:
    """Lines done of all, with rate and time left, on stderr: a redrawn bar on a terminal, else a
    plain line every few seconds."""

    def __init__(self, total: int, done: int, stream: TextIO = sys.stderr, every: float = 2.0):
        self.total, self.start_done, self.stream, self.every = total, done, stream, every
        self.tty = stream.isatty()
        self.started = self.last = time.monotonic()

    def show(self, done: int, final: bool = False) -> None:
        now = time.monotonic()
        if not final and not self.tty and now - self.last < self.every:
            return
        self.last = now
        line = self.text(done, now - self.started)
        if self.tty:
            self.stream.write("\r" + line + ("\n" if final else ""))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def text(self, done: int, elapsed: float) -> str:
        rate = (done - self.start_done) / elapsed if elapsed > 0 else 0.0
        left = (self.total - done) / rate if rate > 0 else None
        share = done / self.total if self.total else 1.0
        bar = "#" * int(share * 30)
        eta = "?" if left is None else _duration(left)
        return f"[{bar:<30}] {done}/{self.total} lines {share:4.0%}  {rate:,.0f} lines/s  time left {eta}"


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def load_state(path: Path, digest: str) -> State:
    if path.exists():
        try:
            state = State(**json.loads(path.read_text()))
        except (ValueError, TypeError):
            state = None
        if state is not None and state.file_sha256 == digest:
            return state
    return State(file_sha256=digest)


def save_state(path: Path, state: State) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(asdict(state)))
    os.replace(temporary, path)


def post_batch(client: httpx.Client, lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The results of one POST /v1/import, retried on a lost connection or a 5xx (the request is
    idempotent: a line stored already is answered from what was stored)."""
    for attempt in range(ATTEMPTS):
        try:
            response = client.post("/v1/import", json={"facts": lines})
        except httpx.TransportError as error:
            problem = f"registration unreachable: {error!r}"
        else:
            if response.status_code == 200:
                return response.json()["results"]
            problem = f"registration answered {response.status_code}: {response.text[:500]}"
            if response.status_code < 500:
                raise ImportFailed(problem)
        if attempt < ATTEMPTS - 1:
            time.sleep(min(8.0, 0.5 * 2**attempt))
    raise ImportFailed(problem)


def run_import(
    path: Path,
    url: str,
    token: str,
    *,
    source: str | None = None,
    report_path: Path | None = None,
    state_path: Path | None = None,
    batch_size: int = DEFAULT_BATCH,
    progress_stream: TextIO = sys.stderr,
    transport: httpx.BaseTransport | None = None,
) -> State:
    """Imports the file (or the rest of it, after a run cut short); returns what was done in all."""
    batch_size = max(1, min(batch_size, MAX_IMPORT_BATCH))
    report_path = report_path or path.with_name(path.name + ".refused.jsonl")
    state_path = state_path or path.with_name(path.name + ".import-state.json")
    state = load_state(state_path, file_digest(path))
    with report_path.open("a+b") as old_report:
        old_report.truncate(state.report_bytes)  # refusals of a batch not finished are reported again
    progress = Progress(count_lines(path), _lines_before(path, state.next_line), progress_stream)
    headers = {"Authorization": f"Bearer {token}"}
    client = httpx.Client(base_url=url, headers=headers, timeout=300, transport=transport)
    with client, report_path.open("a") as report:
        batch: list[tuple[int, dict[str, Any]]] = []
        local: list[Refusal] = []  # refused here, among the lines of the batch not yet sent
        done = progress.start_done

        def send() -> None:
            results = post_batch(client, [line for _, line in batch])
            for (number, line), result in zip(batch, results, strict=True):
                if result["status"] == 201:
                    state.accepted += 1
                    state.imported_before += bool(result.get("imported_before"))
                    continue
                error = result["error"]
                local.append(
                    Refusal(
                        number,
                        error["reason"],
                        error["message"],
                        error.get("message_da", ""),
                        tuple(error.get("fields", ())),
                        line.get("id"),
                    )
                )
            batch.clear()

        def finish(next_line: int, lines: int) -> None:
            """The lines before `next_line` are answered: their refusals go to the report (in line
            order), then the state says so."""
            nonlocal done
            for refusal in sorted(local, key=lambda r: r.line):
                report.write(refusal.as_json() + "\n")
            state.refused += len(local)
            local.clear()
            report.flush()
            os.fsync(report.fileno())
            state.next_line, state.report_bytes = next_line, report.tell()
            save_state(state_path, state)
            done += lines
            progress.show(done)

        progress.show(done)
        unsaved, last = 0, state.next_line - 1  # lines read since the state was saved, the last read
        for number, checked in read_lines(path, source, state.next_line):
            unsaved, last = unsaved + 1, number
            if isinstance(checked, Refusal):
                local.append(checked)
            else:
                batch.append((number, checked))
                if len(batch) < batch_size:
                    continue
                send()
            if not batch:
                finish(number + 1, unsaved)
                unsaved = 0
        if batch:
            send()
        if unsaved:
            finish(last + 1, unsaved)
        progress.show(done, final=True)
    return state


def _lines_before(path: Path, next_line: int) -> int:
    """The non-blank lines before `next_line`: those a resumed run has done."""
    with path.open("rb") as stream:
        return sum(1 for number, raw in enumerate(stream, start=1) if number < next_line and raw.strip())


def summary(state: State, report_path: Path) -> str:
    stored_now = state.accepted - state.imported_before
    text = (
        f"imported: {state.accepted} lines in ({stored_now} stored now, {state.imported_before} stored before), "
        f"{state.refused} refused"
    )
    return text + (f"; the refusals with their reasons: {report_path}" if state.refused else "")
