"""Starting, watching and stopping the service processes (used by `casetrack run` and the tests)."""

import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

SERVICES = {"registration": 8001, "projections": 8002, "alerts": 8003, "dashboard": 8000}
# The services behind the dashboard (it forwards to them as CASETRACK_<NAME>_URL).
BACKENDS = ("registration", "projections", "alerts")


@dataclass
class ServiceProcess:
    name: str
    port: int
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, extra_env: dict[str, str] | None = None, wait: bool = True) -> "ServiceProcess":
        env = os.environ | self.env | {f"{self.name.upper()}_PORT": str(self.port)} | (extra_env or {})
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", f"services.{self.name}"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches the supervisor, which stops us in order
        )
        log.close()
        if wait:
            self.wait_healthy()
        return self

    def wait_healthy(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"{self.name} not healthy after {timeout} s:\n{self.log_tail()}")

    def stop(self, timeout: float = 15.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs (fault tests)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def wait_exit(self, timeout: float) -> int:
        assert self.process is not None
        return self.process.wait(timeout)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"


# A service that exits is started again after a delay that doubles from RESTART_FIRST_SECONDS up to
# RESTART_MAX_SECONDS while it keeps dying; once it has run RESTART_STABLE_SECONDS it counts as
# recovered, and the next exit waits RESTART_FIRST_SECONDS again.
RESTART_FIRST_SECONDS = 1.0
RESTART_MAX_SECONDS = 60.0
RESTART_STABLE_SECONDS = 60.0


@dataclass
class Backoff:
    failures: int = 0

    def delay(self, ran_for: float) -> float:
        """How long to wait before the next start of a service that exited after `ran_for` seconds."""
        if ran_for >= RESTART_STABLE_SECONDS:
            self.failures = 0
        delay = min(RESTART_FIRST_SECONDS * 2**self.failures, RESTART_MAX_SECONDS)
        self.failures += 1
        return delay


def say(text: str, error: bool = False) -> None:
    """Print for the operator; a terminal that is gone (closed, hung up) is no reason to stop."""
    try:
        print(text, file=sys.stderr if error else sys.stdout, flush=True)
    except OSError:
        pass


@dataclass
class _Watched:
    service: ServiceProcess
    started_at: float
    backoff: Backoff = field(default_factory=Backoff)
    restart_at: float | None = None  # set while it waits to be started again
    healthy: bool = True


class Supervisor:
    """Keeps the services of `casetrack run` running: one that exits (a crash, a kill, an operator's
    SIGTERM) is started again on its port after a back-off while the others go on. Each service's
    current pid is in `<pid_dir>/<name>.pid`, so an operator restarts one service with
    `kill $(cat <pid_dir>/<name>.pid)`."""

    def __init__(self, services: list[ServiceProcess], pid_dir: Path):
        self._pid_dir = pid_dir
        pid_dir.mkdir(parents=True, exist_ok=True)
        now = time.monotonic()
        self._watched = [_Watched(service, now) for service in services]
        for service in services:
            self._write_pid(service)

    def watch(self, stop: threading.Event, interval: float = 0.5) -> None:
        """Until `stop` is set."""
        while not stop.is_set():
            for watched in self._watched:
                self._check(watched, time.monotonic())
            stop.wait(interval)

    def close(self) -> None:
        for watched in self._watched:
            (self._pid_dir / f"{watched.service.name}.pid").unlink(missing_ok=True)

    def _check(self, watched: _Watched, now: float) -> None:
        service = watched.service
        assert service.process is not None
        if watched.restart_at is None and service.process.poll() is not None:
            delay = watched.backoff.delay(now - watched.started_at)
            watched.restart_at = now + delay
            say(
                f"{service.name} exited with {service.process.returncode}; starting it again in {delay:.0f} s. "
                f"Its log ({service.log_path}) ends:\n{service.log_tail(10)}",
                error=True,
            )
        elif watched.restart_at is not None and now >= watched.restart_at:
            service.start(wait=False)
            watched.restart_at, watched.started_at, watched.healthy = None, now, False
            self._write_pid(service)
        elif not watched.healthy and service.process.poll() is None and _healthy(service.url):
            watched.healthy = True
            say(f"{service.name} is running again: {service.url} (pid {service.process.pid})")

    def _write_pid(self, service: ServiceProcess) -> None:
        assert service.process is not None
        path = self._pid_dir / f"{service.name}.pid"
        written = path.with_suffix(".pid.new")
        written.write_text(f"{service.process.pid}\n")
        written.replace(path)  # whoever reads it sees the old pid or the new one, never half of it


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=0.5).status_code == 200
    except httpx.HTTPError:
        return False
