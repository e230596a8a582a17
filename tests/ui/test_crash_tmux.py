"""A crash loses at most the last two seconds of typing: the real app in tmux, killed.

The app runs in a real terminal (tmux) on a copy of the demo database. A note is typed
word by word for several seconds, then the app is killed with SIGKILL (no chance to save
anything on the way out). Every word typed more than two seconds before the kill must be
in the draft, and the app, started again, offers the draft back on the same case.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from anchor_tui.settings import DEMO_PASSPHRASE
from tests.conftest import IN_CI

pytestmark = pytest.mark.tmux

PROMISE_SECONDS = 2.0
"""The editor's promise: a draft is at most this far behind the typing."""
APP = Path(sys.executable).with_name("anchor-tui")


@pytest.fixture
def tmux_session() -> Iterator[str]:
    if shutil.which("tmux") is None:
        if IN_CI:
            pytest.fail("CI=true but tmux is not installed; the tmux tests must run in CI")
        pytest.skip("tmux is not installed")
    name = f"anchor-crash-{uuid.uuid4().hex[:8]}"
    yield name
    subprocess.run(tmux(name, "kill-server"), capture_output=True, check=False)


def tmux(name: str, *args: str) -> list[str]:
    """A tmux command on this test's own server (``-L``, no user config): other tmux
    users (other tests, the developer's own sessions) neither see it nor end it."""
    return ["tmux", "-L", name, "-f", "/dev/null", *args]


def screen(name: str) -> str:
    return subprocess.run(tmux(name, "capture-pane", "-p", "-t", name), capture_output=True,
                          text=True, check=False).stdout


def wait_for(name: str, wanted: str, timeout: float = 30.0) -> str:
    """Poll the real terminal until ``wanted`` shows (an external process: no pilot)."""
    deadline = time.monotonic() + timeout
    shown = ""
    while time.monotonic() < deadline:
        shown = screen(name)
        if wanted in shown:
            return shown
        time.sleep(0.1)
    raise AssertionError(f"{wanted!r} never showed; the screen was:\n{shown}")


def keys(name: str, *names: str, literal: bool = False) -> None:
    subprocess.run(tmux(name, "send-keys", "-t", name, *(["-l"] if literal else []), *names),
                   check=True)


def start_app(name: str, db_path: Path, home: Path, *, again: bool = False) -> int:
    """Start the app in a new tmux session (``again``: in the same session's pane, the
    app before having ended there; ending the session and starting a new one raced
    with the server stopping: "server exited unexpectedly"); the pid of the app."""
    env = {"XDG_DATA_HOME": home / "data", "XDG_STATE_HOME": home / "state",
           "XDG_CONFIG_HOME": home / "config",
           "ANCHOR_AUDIT_KEY": "tmux-test audit key, not a secret"}
    exports = " ".join(f"{k}='{v}'" for k, v in env.items())
    command = f"exec env {exports} '{APP}' run --db 'sqlite:///{db_path}'"
    if again:
        subprocess.run(tmux(name, "respawn-pane", "-k", "-t", name, command), check=True)
    else:
        subprocess.run(tmux(name, "new-session", "-d", "-s", name, "-x", "100", "-y", "30",
                            command), check=True)
        # The pane (and so the server) outlives the killed app, to start it again in.
        subprocess.run(tmux(name, "set-option", "-w", "-t", name, "remain-on-exit", "on"),
                       check=True)
    pid = subprocess.run(tmux(name, "display-message", "-p", "-t", name, "#{pane_pid}"),
                         capture_output=True, text=True, check=True).stdout.strip()
    return int(pid)


def sign_in_and_open_the_first_case(name: str) -> None:
    wait_for(name, "Sign in to anchor-tui")
    keys(name, "nurse", literal=True)
    keys(name, "Enter")
    keys(name, DEMO_PASSPHRASE, literal=True)
    keys(name, "Enter")
    wait_for(name, "Stage back")  # the board's footer: the board is up
    time.sleep(0.5)  # the first card takes focus once the columns are read
    keys(name, "Enter")
    wait_for(name, "1 Notes")
    keys(name, "n")


def draft_bodies(db_path: Path) -> list[str]:
    engine = create_engine(f"sqlite:///{db_path}")
    try:
        with engine.connect() as conn:
            return [row[0] for row in conn.execute(text(
                "SELECT body FROM draft JOIN user ON user.id = draft.author_id "
                "WHERE user.username = 'nurse'"))]
    finally:
        engine.dispose()


def test_a_killed_app_loses_at_most_the_last_two_seconds_of_typing(
    tmux_session: str, demo_db_template: Path, tmp_path: Path
) -> None:
    db_path = tmp_path / "anchor.sqlite3"
    shutil.copyfile(demo_db_template, db_path)
    pid = start_app(tmux_session, db_path, tmp_path)
    sign_in_and_open_the_first_case(tmux_session)
    wait_for(tmux_session, "New note")
    wait_for(tmux_session, "Writing.")  # opened (no draft yet)

    sent: list[tuple[float, str]] = []
    for index in range(45):  # about 4.5 s of steady typing
        word = f"word{index:02d} "
        keys(tmux_session, word, literal=True)
        sent.append((time.monotonic(), word))
        time.sleep(0.1)
    killed_at = time.monotonic()
    os.kill(pid, signal.SIGKILL)

    [draft] = draft_bodies(db_path)
    typed = "".join(word for _, word in sent)
    assert typed.startswith(draft), "the draft holds exactly what was typed, in order"
    kept = draft.split()
    must_have = [w.strip() for at, w in sent if at <= killed_at - PROMISE_SECONDS]
    assert must_have, "the typing lasted long enough to test the promise"
    assert kept[:len(must_have)] == must_have, (
        f"lost more than {PROMISE_SECONDS} s of typing: kept {len(kept)} words, "
        f"needed {len(must_have)}")

    # Started again, the app offers the draft back on the same case.
    start_app(tmux_session, db_path, tmp_path, again=True)
    sign_in_and_open_the_first_case(tmux_session)
    offered = wait_for(tmux_session, "You have an unsaved draft of this note")
    assert "word00 word01" in offered
    keys(tmux_session, "Enter")  # continue the draft
    shown = wait_for(tmux_session, "recovered")
    assert "word00 word01 word02" in shown
