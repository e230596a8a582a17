"""A real terminal: the real app in tmux, signed in by typing, filtered, a case opened.

Everything else in tests/ui drives the app through Textual's pilot; this one starts
``python -m anchor_tui run`` in a tmux session of its own (its own tmux server socket,
killed at the end) and sends keys as a person would, reading the screen back with
``capture-pane``. A real terminal cannot be "waited for" like a worker, so it polls
the screen until the expected words appear (or a deadline passes).

Skipped, with the reason, only when tmux is not installed and this is not CI (CI
installs tmux: there a missing tmux fails the test).
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from anchor_tui.db import models as m
from anchor_tui.services.auth import viewer_for
from anchor_tui.services.backend import Backend
from anchor_tui.services.board import board_columns
from anchor_tui.services.board_filter import filter_for
from anchor_tui.services.users import get_user
from anchor_tui.settings import DEMO_PASSPHRASE, load_settings
from tests.conftest import IN_CI
from tests.ui.conftest import TODAY

pytestmark = pytest.mark.tmux

DEADLINE = 30.0
"""Seconds to wait for a screen (a loaded CI machine starts Python slowly)."""


class Terminal:
    """One tmux session on a tmux server of its own."""

    def __init__(self, socket: str, name: str) -> None:
        self.socket = socket
        self.name = name

    def tmux(self, *args: str) -> str:
        done = subprocess.run(["tmux", "-L", self.socket, "-f", "/dev/null", *args],
                              capture_output=True, text=True, check=True, timeout=10)
        return done.stdout

    def running(self) -> bool:
        done = subprocess.run(["tmux", "-L", self.socket, "has-session", "-t", self.name],
                              capture_output=True, check=False, timeout=10)
        return done.returncode == 0

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", self.name)

    def keys(self, *keys: str, literal: bool = False) -> None:
        self.tmux("send-keys", "-t", self.name, *(["-l"] if literal else []), *keys)

    def wait_for(self, *words: str) -> str:
        end = time.monotonic() + DEADLINE
        while True:
            shown = self.screen()
            if all(word in shown for word in words):
                return shown
            if time.monotonic() > end:
                pytest.fail(f"the terminal did not show {words!r} within {DEADLINE:.0f} s; "
                            f"it shows:\n{shown}")
            time.sleep(0.1)  # a real terminal: poll the screen, there is no worker to await


@pytest.fixture
def terminal_app(demo_db_template: Path, tmp_path: Path) -> Iterator[tuple[Terminal, Path]]:
    if shutil.which("tmux") is None:
        if IN_CI:
            pytest.fail("CI=true but tmux is not installed (.ci/run installs it)")
        pytest.skip("tmux is not installed: the real-terminal smoke test needs it")
    db = tmp_path / "anchor.sqlite3"
    shutil.copyfile(demo_db_template, db)
    env = {
        "ANCHOR_AUDIT_KEY": "tmux smoke test audit key, not a secret",
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        "XDG_CONFIG_HOME": str(tmp_path / "config"), "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_STATE_HOME": str(tmp_path / "state"), "TERM": "xterm-256color",
        "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
    }
    command = " ".join([
        "env", "-i", *(shlex.quote(f"{k}={v}") for k, v in env.items()),
        shlex.quote(sys.executable), "-m", "anchor_tui", "run", "--db",
        shlex.quote(f"sqlite:///{db}"),
    ])
    terminal = Terminal(f"anchor-smoke-{uuid.uuid4().hex[:10]}", "smoke")
    terminal.tmux("new-session", "-d", "-s", terminal.name, "-x", "100", "-y", "30", command)
    try:
        yield terminal, db
    finally:
        subprocess.run(["tmux", "-L", terminal.socket, "kill-server"], capture_output=True,
                       check=False, timeout=10)


def a_person_to_find(db: Path) -> tuple[int, str, int]:
    """A case whose young person has an ASCII name no one else has, and one case only;
    and how many cases the filter by that name finds for social work."""
    settings = load_settings(f"sqlite:///{db}")
    backend = Backend.open(settings)
    try:
        with backend.sessions.system("test: a case to find") as s:
            only_case = (select(m.Case.person_id).group_by(m.Case.person_id)
                         .having(func.count() == 1))
            rows = s.execute(
                select(m.Case.id, m.Person.first_name, m.Person.last_name)
                .join(m.Person, m.Person.id == m.Case.person_id)
                .where(m.Case.person_id.in_(only_case), m.Case.stage != "closed")
                .order_by(m.Case.id)).all()
            names = [f"{a} {b}" for a, b in s.execute(
                select(m.Person.first_name, m.Person.last_name))]
        for case_id, first, last in rows:
            name = f"{first} {last}"
            if name.isascii() and names.count(name) == 1:
                social = get_user(backend, "social")
                columns = board_columns(backend, viewer_for(social),
                                        spec=filter_for(None, name), today=TODAY)
                return case_id, name, sum(c.total for c in columns)
        pytest.fail("the demo has no young person with a unique ASCII name")
    finally:
        backend.close()


def test_sign_in_filter_and_open_a_case_in_a_real_terminal(
    terminal_app: tuple[Terminal, Path]
) -> None:
    terminal, db = terminal_app
    case_id, name, found = a_person_to_find(db)
    assert found == 1
    terminal.wait_for("Sign in to anchor-tui", "Username", "Passphrase")
    terminal.keys("social", literal=True)
    terminal.keys("Enter")
    terminal.keys(DEMO_PASSPHRASE, literal=True)
    terminal.keys("Enter")
    board = terminal.wait_for("Social work", "Notification", "cases", "Queue")
    assert DEMO_PASSPHRASE not in board
    terminal.keys("/", literal=True)
    terminal.keys(name.lower(), literal=True)  # typed at once, as a person would
    terminal.wait_for(f"Filter: “{name.lower()}” · 1 case", name)
    terminal.keys("Enter")  # from the filter to the cards
    terminal.keys("Enter")  # open the focused case
    case = terminal.wait_for(f"case {case_id}  ·", "1 Notes", "2 History")
    assert name in case
    terminal.keys("Escape")
    terminal.wait_for(f"Filter: “{name.lower()}” · 1 case")
    terminal.keys("t")  # the queue, by its key, in a real terminal too
    terminal.wait_for("Triage queue", "To screen", "My tasks")
    terminal.keys("Escape")
    terminal.keys("C-q")
    end = time.monotonic() + DEADLINE
    while terminal.running():  # the session ends when the app exits
        if time.monotonic() > end:
            pytest.fail("ctrl+q did not quit the app")
        time.sleep(0.1)
