"""A PostgreSQL server of a test's own, to stop and restart (never the shared one).

``initdb`` into a fresh temporary folder, ``pg_ctl start`` on a free loopback port, and
everything removed afterwards. The server binaries must not run as root: as root the
commands run as the ``postgres`` user (``runuser``). When that cannot be done the
tests using it skip with the reason outside CI and fail in CI.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import IN_CI


def _bin_dir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]))
    if found:
        return Path(found[-1])
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PrivatePostgres:
    """One private server: ``url`` reaches it as ``postgres`` (trust, loopback only)."""

    def __init__(self, bin_dir: Path, as_user: list[str]) -> None:
        self._bin = bin_dir
        self._as_user = as_user
        self.base = Path(tempfile.mkdtemp(prefix="anchor-private-pg-"))
        self.data = self.base / "data"
        self.port = _free_port()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *command: str) -> None:
        # The server's own output goes to its log (-l): the pipes here close with pg_ctl.
        done = subprocess.run([*self._as_user, *command], capture_output=True, text=True,
                              timeout=120, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{command[0]} failed: {done.stderr.strip()[-500:]}")

    def init(self) -> None:
        if self._as_user:
            shutil.chown(self.base, user="postgres")
        self._run(str(self._bin / "initdb"), "-D", str(self.data), "-U", "postgres",
                  "--auth=trust", "--no-sync", "-E", "UTF8")

    def _options(self) -> str:
        return (f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.base} "
                "-c fsync=off -c max_connections=60")

    def start(self) -> None:
        self._run(str(self._bin / "pg_ctl"), "-D", str(self.data), "-o", self._options(),
                  "-l", str(self.base / "server.log"), "-w", "-t", "60", "start")

    def stop(self) -> None:
        self._run(str(self._bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def restart(self) -> None:
        self._run(str(self._bin / "pg_ctl"), "-D", str(self.data), "-o", self._options(),
                  "-l", str(self.base / "server.log"), "-m", "fast", "-w", "-t", "60",
                  "restart")

    def remove(self) -> None:
        subprocess.run([*self._as_user, str(self._bin / "pg_ctl"), "-D", str(self.data),
                        "-m", "immediate", "-w", "stop"], capture_output=True, timeout=60,
                       check=False)
        shutil.rmtree(self.base, ignore_errors=True)


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"CI=true but a private PostgreSQL cannot be started: {reason}")
    pytest.skip(f"a private PostgreSQL cannot be started: {reason}")


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    bin_dir = _bin_dir()
    if bin_dir is None:
        _unavailable("no initdb/pg_ctl found (install postgresql)")
        raise AssertionError("unreachable")
    as_user: list[str] = []
    if os.geteuid() == 0:
        if shutil.which("runuser") is None:
            _unavailable("running as root and no runuser to become postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    server = PrivatePostgres(bin_dir, as_user)
    try:
        try:
            server.init()
            server.start()
        except (RuntimeError, OSError, LookupError) as exc:
            _unavailable(str(exc))
        yield server
    finally:
        server.remove()
