"""Tools some tests need from Debian's packages (chromium, promtool, docker-compose), installed with
apt-get when they are missing: the machines run as root and reach Debian's mirror; elsewhere the
test is skipped."""

import shutil
import subprocess
from pathlib import Path

import pytest

_updated = False


def ensure_debian_package(executable: str, package: str) -> str:
    """The path of `executable`, after installing Debian's `package` if it is not on PATH."""
    global _updated
    found = _find(executable)
    if found:
        return found
    if shutil.which("apt-get") is None:
        pytest.skip(f"no {executable} and no apt-get to install {package} with")
    env = {"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
    if not _updated:
        subprocess.run(["apt-get", "update", "-q"], check=True, capture_output=True, env=env)
        _updated = True
    subprocess.run(["apt-get", "install", "-y", "-q", package], check=True, capture_output=True, env=env)
    found = _find(executable)
    if not found:
        pytest.fail(f"{package} installed, but {executable} is still missing")
    return found


def _find(executable: str) -> str | None:
    """On PATH, or at the absolute path given."""
    if Path(executable).is_absolute():
        return executable if Path(executable).exists() else None
    return shutil.which(executable)
