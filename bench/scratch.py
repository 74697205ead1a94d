"""A benchmark's own PostgreSQL: embedded, in a work directory of its own, removed afterwards."""

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from casetrack.embedded import EmbeddedPostgres


@contextmanager
def scratch_postgres(name: str) -> Iterator[tuple[str, Path]]:
    """Yields the server's admin URL and the work directory (for logs, a nats-server's store)."""
    work = Path(tempfile.mkdtemp(prefix=f"casetrack-bench-{name}-"))
    postgres = EmbeddedPostgres(work / "pg", fast=True)
    postgres.start()
    try:
        yield postgres.url, work
    finally:
        postgres.stop()
        shutil.rmtree(work, ignore_errors=True)
