"""Validates an AsyncAPI document with the AsyncAPI CLI from npm (`asyncapi validate`), which checks
it against the specification and its governance rules (`make check-contracts`, tests/test_asyncapi.py).

The CLI is installed once, pinned, with npm into a tools directory outside the repository
(`$CASETRACK_TOOLS_DIR`, default /tmp/casetrack-tools), so that worktrees and CI runs on one machine
share it; the first install takes a few minutes.

    python -m casetrack.asyncapi_cli contracts/asyncapi.yaml
"""

import fcntl
import os
import shutil
import subprocess
import sys
from pathlib import Path

CLI_PACKAGE = "@asyncapi/cli"
CLI_VERSION = "6.2.0"


class CliUnavailable(RuntimeError):
    """npm is not installed: the CLI cannot be had."""


def tools_dir() -> Path:
    return Path(os.environ.get("CASETRACK_TOOLS_DIR", "/tmp/casetrack-tools"))


def cli() -> Path:
    """The `asyncapi` executable, installed first if it is not there yet."""
    prefix = tools_dir() / f"asyncapi-cli-{CLI_VERSION}"
    executable = prefix / "node_modules" / ".bin" / "asyncapi"
    if executable.exists():
        return executable
    npm = shutil.which("npm")
    if npm is None:
        raise CliUnavailable("npm is not installed")
    prefix.mkdir(parents=True, exist_ok=True)
    with open(prefix / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another run may be installing it right now
        if not executable.exists():
            subprocess.run(
                [npm, "install", "--no-audit", "--no-fund", "--prefix", str(prefix), f"{CLI_PACKAGE}@{CLI_VERSION}"],
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                timeout=900,
            )
    return executable


def validate(document: Path) -> subprocess.CompletedProcess[str]:
    """`asyncapi validate` of `document`, failing on warnings too; its exit code says valid (0) or not."""
    env = os.environ | {"ASYNCAPI_METRICS": "false", "SUPPRESS_NO_CONFIG_WARNING": "1", "NODE_ENV": "test"}
    return subprocess.run(
        [str(cli()), "validate", "--fail-severity=warn", str(document)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def main(argv: list[str] | None = None) -> int:
    paths = argv if argv is not None else sys.argv[1:]
    if not paths:
        print("usage: python -m casetrack.asyncapi_cli <asyncapi document>...", file=sys.stderr)
        return 2
    failed = 0
    for path in paths:
        result = validate(Path(path))
        print(result.stdout + result.stderr)
        failed |= result.returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
