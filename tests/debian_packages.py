"""Debian packages an integration test needs (a browser, an office suite), installed with apt-get
when missing. A machine where apt-get cannot install (no apt-get, not root, no way to the Debian
mirror) skips the test with the reason; any other apt-get failure fails it with apt-get's words."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

APT_ENV = {"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
# What apt-get says when it cannot reach the mirror (apt-get update itself exits 0 then).
OFFLINE = (
    "Temporary failure resolving",
    "Could not resolve",
    "Failed to fetch",
    "Unable to connect",
    "Network is unreachable",
)


def ensure_package(package: str, *programs: str, recommends: bool = True) -> Path:
    """The first of `programs` (names on PATH or absolute paths), installing `package` if none is there."""
    found = _find(programs)
    if found is not None:
        return found
    if shutil.which("apt-get") is None:
        pytest.skip(f"none of {', '.join(programs)} is installed and there is no apt-get to install {package}")
    if os.geteuid() != 0:
        pytest.skip(f"none of {', '.join(programs)} is installed and installing {package} needs root")
    install = [
        "apt-get",
        "install",
        "-y",
        "-q",
        "-o",
        "DPkg::Lock::Timeout=600",
        *([] if recommends else ["--no-install-recommends"]),
        package,
    ]
    for command in (["apt-get", "update", "-q", "-o", "DPkg::Lock::Timeout=600"], install):
        done = subprocess.run(command, capture_output=True, text=True, env=APT_ENV)
        said = done.stdout[-2000:] + done.stderr[-2000:]
        if done.returncode != 0 and any(sign in said for sign in OFFLINE):
            pytest.skip(f"cannot install {package}: apt-get reaches no Debian mirror ({' '.join(command)})")
        if done.returncode != 0:
            pytest.fail(f"{' '.join(command)} failed ({done.returncode}):\n{said}")
    found = _find(programs)
    assert found is not None, f"{package} is installed but none of {programs} is there"
    return found


def _find(programs: tuple[str, ...]) -> Path | None:
    for program in programs:
        path = Path(program) if program.startswith("/") else Path(shutil.which(program) or "")
        if path.name and path.exists():
            return path
    return None
