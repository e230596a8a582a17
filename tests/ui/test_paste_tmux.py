"""A paste holding escape sequences and control keys stays text, in a real terminal.

The real app in tmux (as ``test_tmux_smoke``); the note editor gets a bracketed paste
(``tmux paste-buffer -p``) with an OSC 52 clipboard write ended by BEL (ctrl+g, the lock
key), a screen clear, ctrl+o (switch user) and ctrl+q (quit). Textual alone replays an
unknown sequence inside a paste as key presses: the terminal locked and the rest of the
paste went into the lock screen. With ``paste_input`` the whole paste is text in the
editor, every control character shown as its escape, and it is saved as shown.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from anchor_tui.settings import DEMO_PASSPHRASE
from tests.ui.test_tmux_smoke import Terminal, terminal_app

pytestmark = pytest.mark.tmux

__all__ = ["terminal_app"]  # the fixture, shared with the smoke test

HOSTILE = "Visit \x1b]52;c;aGVsbG8=\x07 went \x1b[2J well \x0f\x11 done"
SHOWN = r"Visit \x1b]52;c;aGVsbG8=\x07 went \x1b[2J well \x0f\x11 done"


def paste(terminal: Terminal, value: str, folder: Path) -> None:
    source = folder / "paste.txt"
    source.write_bytes(value.encode())
    terminal.tmux("load-buffer", "-b", "hostile", str(source))
    terminal.tmux("paste-buffer", "-p", "-b", "hostile", "-t", terminal.name)


def saved_bodies(db: Path) -> list[str]:
    engine = create_engine(f"sqlite:///{db}")
    try:
        with engine.connect() as conn:
            return [row[0] for row in conn.execute(text(
                "SELECT body FROM note JOIN user ON user.id = note.author_id "
                "WHERE user.username = 'social' AND body LIKE 'Visit %'"))]
    finally:
        engine.dispose()


def test_a_pasted_escape_sequence_is_text_not_keys(
    terminal_app: tuple[Terminal, Path], tmp_path: Path
) -> None:
    terminal, db = terminal_app
    terminal.wait_for("Sign in to anchor-tui", "Username", "Passphrase")
    terminal.keys("social", literal=True)
    terminal.keys("Enter")
    terminal.keys(DEMO_PASSPHRASE, literal=True)
    terminal.keys("Enter")
    terminal.wait_for("Social work", "Notification", "Queue")
    time.sleep(0.5)  # the first card takes focus once the columns are read
    terminal.keys("n")
    terminal.wait_for("New note", "Writing.")

    paste(terminal, HOSTILE, tmp_path)
    shown = terminal.wait_for(SHOWN)
    assert "Locked" not in shown and "Sign in" not in shown and "New note" in shown

    terminal.keys("C-s")
    terminal.wait_for("Note saved")
    end = time.monotonic() + 30
    while not saved_bodies(db):
        if time.monotonic() > end:
            pytest.fail("the note was not saved")
        time.sleep(0.1)
    assert saved_bodies(db) == [SHOWN]
    subprocess.run(["tmux", "-L", terminal.socket, "kill-server"], capture_output=True,
                   check=False, timeout=10)
