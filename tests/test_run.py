"""`casetrack run` as an operator uses it: the real command with its embedded nats-server and
PostgreSQL and the four services. A service that dies is started again while the others go on;
closing the terminal (SIGHUP) stops everything, as Ctrl-C and SIGTERM do."""

import os
import pty
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from casetrack.embedded import free_port
from casetrack.processes import RESTART_FIRST_SECONDS, RESTART_MAX_SECONDS, RESTART_STABLE_SECONDS, Backoff

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parent.parent
READY = "Ctrl-C stops everything"
SERVICE_NAMES = ("registration", "projections", "alerts", "dashboard")


def test_backoff_doubles_while_a_service_keeps_dying_and_starts_over_once_it_ran() -> None:
    backoff = Backoff()
    delays = [backoff.delay(ran_for=0.5) for _ in range(9)]
    assert delays[:3] == [RESTART_FIRST_SECONDS, 2 * RESTART_FIRST_SECONDS, 4 * RESTART_FIRST_SECONDS]
    assert delays == sorted(delays) and delays[-1] == RESTART_MAX_SECONDS
    assert backoff.delay(ran_for=RESTART_STABLE_SECONDS) == RESTART_FIRST_SECONDS


@pytest.fixture
def data_dir() -> Iterator[Path]:
    # Outside pytest's temp root: run as root, PostgreSQL runs as another user and must traverse it.
    path = Path(tempfile.mkdtemp(prefix="casetrack-run-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _environment() -> tuple[dict[str, str], dict[str, int]]:
    """The machine's environment without any casetrack settings (so the command starts its own
    servers and makes its own keys), and free ports for the four services."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not (k.startswith(("CASETRACK_", "NATS_", "DATABASE_")) or k.endswith(("_PORT", "_NATS_URL")))
    }
    ports = {name: free_port() for name in SERVICE_NAMES}
    return env | {f"{name.upper()}_PORT": str(port) for name, port in ports.items()} | {"PYTHONPATH": str(ROOT)}, ports


def _command(data_dir: Path) -> list[str]:
    return [sys.executable, "-m", "casetrack", "run", "--data-dir", str(data_dir), "--no-demo"]


def _service_pids(run: psutil.Process) -> dict[str, int]:
    """The service processes among the command's children, found by their command line."""
    pids = {}
    for child in run.children():
        try:
            with_cmdline = " ".join(child.cmdline())
        except psutil.Error:  # gone, or dead and not yet reaped
            continue
        for name in SERVICE_NAMES:
            if f"services.{name}" in with_cmdline:
                pids[name] = child.pid
    return pids


def _healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _wait(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


def _kill_leftovers(processes: list[psutil.Process]) -> None:
    """Clean up after a failing run: the processes the command started and left behind."""
    for process in processes:
        try:
            process.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(processes, timeout=10)


def test_a_dead_service_is_started_again_while_the_others_go_on(data_dir: Path) -> None:
    env, ports = _environment()
    output = data_dir / "run-output.txt"
    with open(output, "wb") as out:
        proc = subprocess.Popen(_command(data_dir), env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
    run = psutil.Process(proc.pid)
    everything: list[psutil.Process] = []
    try:
        _wait(lambda: READY in output.read_text() or proc.poll() is not None, 240, "casetrack run did not start")
        assert proc.poll() is None, output.read_text()
        everything = run.children(recursive=True)
        before = _service_pids(run)
        assert set(before) == set(SERVICE_NAMES)

        # The bug as it was made: one service dies (here: SIGKILL, like the OOM killer).
        os.kill(before["projections"], signal.SIGKILL)
        _wait(
            lambda: (
                _service_pids(run).get("projections", before["projections"]) != before["projections"]
                and _healthy(ports["projections"])
            ),
            60,
            "projections was not started again",
        )
        assert proc.poll() is None, "casetrack run stopped"
        after = _service_pids(run)
        assert {n: p for n, p in after.items() if n != "projections"} == {
            n: p for n, p in before.items() if n != "projections"
        }, "the other services were restarted too"
        assert all(_healthy(port) for port in ports.values())
        assert (data_dir / "run" / "projections.pid").read_text().strip() == str(after["projections"])

        # The operator's way to restart one service, as the README tells it.
        os.kill(int((data_dir / "run" / "alerts.pid").read_text()), signal.SIGTERM)
        _wait(
            lambda: _service_pids(run).get("alerts", after["alerts"]) != after["alerts"] and _healthy(ports["alerts"]),
            60,
            "alerts was not started again",
        )
        _wait(lambda: "alerts is running again" in output.read_text(), 10, "no word that alerts is back")
        text = output.read_text()
        assert f"projections exited with -9; starting it again in {RESTART_FIRST_SECONDS:.0f} s" in text
        assert "alerts exited with" in text

        everything += run.children(recursive=True)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0
        _, alive = psutil.wait_procs(everything, timeout=30)
        assert not alive, f"left running: {[p.pid for p in alive]}"
        assert not list((data_dir / "run").glob("*.pid"))
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(60)
        _kill_leftovers(everything)


def test_closing_the_terminal_stops_everything_it_started(data_dir: Path) -> None:
    """The bug as it was made: `casetrack run` in a terminal, the terminal closed. The kernel hangs
    up the terminal (SIGHUP to its session); every write to it fails from then on."""
    env, ports = _environment()
    pid, terminal = pty.fork()
    if pid == 0:  # the child: the command with the pseudo-terminal as its controlling terminal
        os.chdir(ROOT)
        os.execve(sys.executable, _command(data_dir), env)
    run = psutil.Process(pid)
    everything: list[psutil.Process] = []
    try:
        seen, deadline = b"", time.monotonic() + 240
        while READY.encode() not in seen:
            assert time.monotonic() < deadline, seen.decode(errors="replace")
            try:
                seen += os.read(terminal, 65536)
            except OSError:  # the command ended and the terminal with it
                pytest.fail(seen.decode(errors="replace"))
        everything = run.children(recursive=True)
        assert len(everything) >= 6  # nats-server, postgres (and its workers), the four services
        assert all(_healthy(port) for port in ports.values())

        os.close(terminal)  # the terminal window is closed
        terminal = -1
        _, status = os.waitpid(pid, 0)
        assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, f"casetrack run ended with status {status}"
        _, alive = psutil.wait_procs(everything, timeout=30)
        assert not alive, f"left running, holding their ports: {[(p.pid, p.name()) for p in alive]}"
        assert not any(_healthy(port) for port in ports.values())
        assert "stopping ..." in (data_dir / "logs" / "run.log").read_text()
    finally:
        if terminal >= 0:
            os.close(terminal)
        if run.is_running() and run.status() != psutil.STATUS_ZOMBIE:
            os.kill(pid, signal.SIGTERM)
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
        _kill_leftovers(everything)
