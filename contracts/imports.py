"""Importing another system's history (`casetrack import FILE`, `POST /v1/import`, docs/import.md).

A file to import is JSON lines, one `ImportLine` each: a fact as for `POST /v1/facts`, the time the
source system recorded it and the source's name, optionally the source's own id for it. The same
lines, up to `MAX_IMPORT_BATCH` at a time, are the body of `POST /v1/import`. Each line is judged by
registration's rules on its own, as of the day it was recorded in the source, and stored whole (one
event, in the request's transaction, with its outcome) or refused; a line that comes again is
answered from what was kept (by its id, or else by its content), so a rerun stores nothing twice.
"""

from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from contracts.events import IMPORT_SOURCE_PATTERN
from contracts.submission import BatchResult

MAX_IMPORT_BATCH = 1000  # lines in one POST /v1/import; a larger one is refused whole (413)
IMPORT_ID_PATTERN = r"^[\x21-\x7e]{1,100}$"  # printable ASCII, no spaces


class ImportLine(BaseModel):
    """One fact of another system's history."""

    model_config = ConfigDict(extra="forbid")

    recorded_at: AwareDatetime = Field(description="when the source system recorded the fact (with time zone)")
    source: str = Field(pattern=IMPORT_SOURCE_PATTERN, description="the source system, e.g. 'sensum-101'")
    fact: dict[str, Any] = Field(description="the fact as for POST /v1/facts")
    id: str | None = Field(
        default=None,
        pattern=IMPORT_ID_PATTERN,
        description="the source's own id for the fact: a line with the same source and id is imported once. "
        "Without one, a line is known by its content (source, recorded_at and fact)",
    )


class ImportBatch(BaseModel):
    facts: list[dict[str, Any]] = Field(
        description=f"import lines (ImportLine); each is validated, judged and stored on its own. "
        f"At most {MAX_IMPORT_BATCH}: a larger batch is refused whole with 413 (reason batch_too_large)",
    )


class ImportResult(BatchResult):
    imported_before: bool = Field(
        default=False, description="the line was stored by an earlier import: its receipt, nothing stored again"
    )


class ImportReport(BaseModel):
    model_config = ConfigDict(extra="forbid")

    accepted: int = Field(description="lines stored now or before (imported_before)")
    rejected: int
    results: list[ImportResult]
