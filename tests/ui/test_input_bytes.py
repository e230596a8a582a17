"""The terminal's input, in a real terminal (tmux): a byte that is not UTF-8 is a character,
not the end of the app; and should reading input fail all the same, the app stops as a
crash does (exit status 1, the failure's class in the error log, no note text).

A paste from a Latin-1 source (an old document, a mail client set to another encoding)
sends bytes such as 0xE4 (ä). The input decoder was strict: the input thread died on the
first such byte and the app stopped at once with exit status 0, the note typed so far
unsaved and the log saying only "the terminal driver stopped".

Run as ``python -m tests.ui.test_input_bytes DB_PATH`` it is the real app with a terminal
driver whose input thread fails on F9 (the tmux test below starts it so).
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
from sqlalchemy import create_engine, text
from textual import events
from textual.driver import Driver
from textual.message import Message

from anchor_tui.crashlog import LOG_NAME
from anchor_tui.paste_input import PasteGuardDriver, input_decoder
from anchor_tui.settings import DEMO_PASSPHRASE
from tests.conftest import IN_CI
from tests.ui.test_tmux_smoke import Terminal, terminal_app

pytestmark = pytest.mark.tmux

__all__ = ["terminal_app"]  # the fixture, shared with the smoke test

REPO = Path(__file__).resolve().parents[2]
SECRET = "HERON-5521-PRIVATE"
TYPED = "Typed into the note just now"


def note_bodies(db: Path, like: str) -> list[str]:
    engine = create_engine(f"sqlite:///{db}")
    try:
        with engine.connect() as conn:
            return [row[0] for row in conn.execute(text(
                "SELECT body FROM note JOIN user ON user.id = note.author_id "
                "WHERE user.username = 'social' AND body LIKE :like"), {"like": like})]
    finally:
        engine.dispose()


def sign_in_and_write(terminal: Terminal) -> None:
    terminal.wait_for("Sign in to anchor-tui", "Username", "Passphrase")
    terminal.keys("social", literal=True)
    terminal.keys("Enter")
    terminal.keys(DEMO_PASSPHRASE, literal=True)
    terminal.keys("Enter")
    terminal.wait_for("Social work", "Notification", "Queue")
    time.sleep(0.5)  # the first card takes focus once the columns are read
    terminal.keys("n")
    terminal.wait_for("New note", "Writing.")


def test_the_decoder_reads_a_latin1_byte_as_the_replacement_character() -> None:
    decode = input_decoder()
    assert decode(b"p\xe4iv") + decode(b"\xc3", final=False) + decode(b"\xa4") == \
        "p\ufffdiv\u00e4"


def test_a_latin1_byte_typed_into_a_note_is_a_character_and_the_app_goes_on(
    terminal_app: tuple[Terminal, Path]
) -> None:
    terminal, db = terminal_app
    sign_in_and_write(terminal)
    terminal.keys(TYPED, literal=True)
    terminal.tmux("send-keys", "-t", terminal.name, "-H", "e4")  # Latin-1 "ä"
    terminal.keys("x and more", literal=True)  # completes (and breaks) the UTF-8 sequence
    terminal.wait_for(f"{TYPED}\ufffdx and more", "New note")
    assert terminal.running()

    terminal.keys("C-s")
    terminal.wait_for("Note saved")
    end = time.monotonic() + 30
    while not note_bodies(db, f"{TYPED}%"):
        if time.monotonic() > end:
            pytest.fail("the note was not saved")
        time.sleep(0.1)  # a real terminal and another process: poll the database
    assert note_bodies(db, f"{TYPED}%") == [f"{TYPED}\ufffdx and more"]


class FailingInputDriver(PasteGuardDriver):
    """The app's own driver, whose input thread fails on F9 with a note's words in the
    exception (as a failure in the parser with a paste in hand would)."""

    def process_message(self, message: Message) -> None:
        if isinstance(message, events.Key) and message.key == "f9":
            note_body = SECRET
            raise RuntimeError(f"could not read {note_body}")
        super().process_message(message)


def main(argv: list[str]) -> int:
    from anchor_tui.app import AnchorApp
    from anchor_tui.services.backend import Backend
    from anchor_tui.settings import load_settings

    class FailingInputApp(AnchorApp):
        def get_driver_class(self) -> type[Driver]:
            return FailingInputDriver

    settings = load_settings(db_flag=f"sqlite:///{argv[0]}")
    backend = Backend.open(settings)
    try:
        app = FailingInputApp(backend, settings)
        app.run()
        return app.return_code or 0
    finally:
        backend.close()


@pytest.fixture
def failing_app(demo_db_template: Path, tmp_path: Path) -> Iterator[tuple[Terminal, Path]]:
    if shutil.which("tmux") is None:
        if IN_CI:
            pytest.fail("CI=true but tmux is not installed (.ci/run installs it)")
        pytest.skip("tmux is not installed: the real-terminal test needs it")
    db = tmp_path / "anchor.sqlite3"
    shutil.copyfile(demo_db_template, db)
    state = tmp_path / "state"
    env = {
        "ANCHOR_AUDIT_KEY": "tmux input test audit key, not a secret",
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        "XDG_CONFIG_HOME": str(tmp_path / "config"), "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_STATE_HOME": str(state), "TERM": "xterm-256color",
        "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
    }
    command = " ".join([
        "cd", shlex.quote(str(REPO)), "&&",
        "env", "-i", *(shlex.quote(f"{k}={v}") for k, v in env.items()),
        shlex.quote(sys.executable), "-m", "tests.ui.test_input_bytes", shlex.quote(str(db)),
        "; echo EXITED $?; sleep 60",
    ])
    terminal = Terminal(f"anchor-input-{uuid.uuid4().hex[:10]}", "input")
    terminal.tmux("new-session", "-d", "-s", terminal.name, "-x", "100", "-y", "30", command)
    try:
        yield terminal, state
    finally:
        subprocess.run(["tmux", "-L", terminal.socket, "kill-server"], capture_output=True,
                       check=False, timeout=10)


def test_a_failed_input_thread_stops_the_app_with_status_1_and_logs_its_class(
    failing_app: tuple[Terminal, Path]
) -> None:
    terminal, state = failing_app
    sign_in_and_write(terminal)
    terminal.keys(SECRET, literal=True)
    terminal.wait_for(SECRET)
    terminal.keys("F9")
    shown = terminal.wait_for("EXITED")
    assert "EXITED 1" in shown, shown
    assert SECRET not in shown and "Traceback" not in shown
    log = next(state.rglob(LOG_NAME)).read_text()
    assert "RuntimeError" in log, log
    assert SECRET not in log and "note_body" not in log


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
