"""Nothing private leaks through errors: with a note's text on screen, a forced crash (in
the test's own app, and the real app in a real terminal in tmux) shows one line, and the
error log holds neither the note's text nor a local variable; a failed read shows a
short modal."""

from __future__ import annotations

import os
import shlex
import shutil
import stat
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from anchor_tui.app import crash_line
from anchor_tui.crashlog import LOG_NAME
from anchor_tui.db import models as m
from anchor_tui.screens.case import CaseScreen
from anchor_tui.screens.error import INTERNAL_MESSAGE, ErrorScreen
from anchor_tui.services.backend import Backend
from anchor_tui.settings import DEMO_PASSPHRASE, Settings
from tests.ui.conftest import AppFactory, all_text, settle, sign_in
from tests.ui.crash_app import CrashingCaseApp
from tests.ui.screen_reading import screen_text

SECRET = "KESTREL-7731-PRIVATE"
REPO = Path(__file__).resolve().parents[2]


def secret_note(backend: Backend, username: str = "social") -> int:
    """A note by ``username`` holding SECRET, on a case they work; the case id."""
    with backend.sessions.system("test") as s:
        user = s.scalars(select(m.User).where(m.User.username == username)).one()
        case_id = s.scalars(select(m.CaseMember.case_id).where(
            m.CaseMember.user_id == user.id, m.CaseMember.valid_to.is_(None))).first()
        assert case_id is not None
        s.add(m.Note(case_id=case_id, author_id=user.id, author_profession=user.profession,
                     category="general", body=f"Met the family. {SECRET} was said."))
        return case_id


def assert_log_is_clean(settings: Settings) -> str:
    log = settings.log_dir / LOG_NAME
    entry = log.read_text()
    assert SECRET not in entry and "note_body" not in entry and "Met the family" not in entry
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    assert stat.S_IMODE(log.parent.stat().st_mode) == 0o700
    return entry


async def test_a_crash_with_a_note_on_screen_shows_one_line_and_logs_no_note_text(
        make_app: AppFactory, demo_settings: Settings,
        capsys: pytest.CaptureFixture[str]) -> None:
    app = make_app(CrashingCaseApp)
    assert isinstance(app, CrashingCaseApp)
    app.case_id = secret_note(app.backend)
    with pytest.raises(ValueError, match=SECRET):  # run_test re-raises it for the test
        async with app.run_test(size=(100, 30)) as pilot:
            await sign_in(pilot, "social")
            await pilot.press("f8")
            await settle(pilot)
            assert isinstance(app.screen, CaseScreen)
            assert SECRET in all_text(app)  # the note is on the shared screen
            await pilot.press("f9")
            await pilot.pause()
    out, err = capsys.readouterr()
    assert err.strip() == crash_line(demo_settings.log_dir / LOG_NAME)
    assert SECRET not in out + err and "Traceback" not in out + err
    assert "note_body" not in out + err and "Met the family" not in out + err
    entry = assert_log_is_clean(demo_settings)
    assert "ValueError" in entry and "action_crash" in entry


async def test_a_failed_read_shows_a_short_modal_without_the_note(
        make_app: AppFactory, demo_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    def failing(*args: object, **kwargs: object) -> object:
        note_body = f"Met the family. {SECRET} was said."
        raise RuntimeError(f"cannot lay out {note_body}")

    monkeypatch.setattr("anchor_tui.screens.case.open_case", failing)
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await sign_in(pilot, "social")
        await app.push_screen(CaseScreen(secret_note(app.backend)))
        for _ in range(50):  # (settle would re-raise the worker's failure for the test)
            if isinstance(app.screen, ErrorScreen):
                break
            await pilot.pause()
        modal = app.screen
        assert isinstance(modal, ErrorScreen)
        shown = screen_text(app) + all_text(app)
        assert INTERNAL_MESSAGE in shown and SECRET not in shown
        assert "Traceback" not in shown and "note_body" not in shown
        assert len(modal.error_message) < 80  # short: what happened, not how
    entry = assert_log_is_clean(demo_settings)
    assert "RuntimeError" in entry and "failing" in entry


@pytest.mark.tmux
def test_the_real_app_in_tmux_crashes_with_one_line_and_no_note_text(
        demo_settings: Settings, demo_backend: Backend, tmp_path: Path) -> None:
    if shutil.which("tmux") is None:
        pytest.fail("tmux is needed for this test (the CI script installs it)")
    case_id = secret_note(demo_backend)
    demo_backend.close()
    db_path = demo_settings.db_url.removeprefix("sqlite:///")
    log_dir = tmp_path / "state"
    socket = f"anchor-crash-{uuid.uuid4().hex[:8]}"
    env = {"ANCHOR_AUDIT_KEY": os.environ["ANCHOR_AUDIT_KEY"],
           "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
           "XDG_DATA_HOME": str(tmp_path / "data"), "TERM": "xterm-256color"}
    command = (f"cd {shlex.quote(str(REPO))} && env "
               + " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
               + f" {shlex.quote(sys.executable)} -m tests.ui.crash_app "
               + f"{shlex.quote(db_path)} {shlex.quote(str(log_dir))} {case_id}"
               + "; echo EXITED $?; sleep 60")

    def tmux(*args: str) -> str:
        return subprocess.run(["tmux", "-L", socket, *args], check=True,
                              capture_output=True, text=True).stdout

    def pane() -> str:
        return tmux("capture-pane", "-p", "-S", "-200", "-t", "crash")

    def wait_for(text: str, seconds: float = 30) -> str:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            shown = pane()
            if text in shown:
                return shown
            time.sleep(0.2)  # a real terminal: nothing to await but its screen
        raise AssertionError(f"{text!r} did not appear; the pane shows:\n{pane()}")

    tmux("new-session", "-d", "-s", "crash", "-x", "100", "-y", "30", command)
    try:
        wait_for("Username")
        tmux("send-keys", "-t", "crash", "social", "Enter")
        wait_for("your passphrase")
        tmux("send-keys", "-t", "crash", DEMO_PASSPHRASE, "Enter")
        wait_for("Sanna Koivisto · Social work")
        tmux("send-keys", "-t", "crash", "F8")
        wait_for(SECRET)  # the note is on the screen
        tmux("send-keys", "-t", "crash", "F9")
        shown = wait_for("EXITED")
    finally:
        subprocess.run(["tmux", "-L", socket, "kill-server"], check=False,
                       capture_output=True)
    assert "EXITED 1" in shown
    assert crash_line(log_dir / LOG_NAME).split(" Details")[0] in " ".join(shown.split())
    assert SECRET not in shown and "Traceback" not in shown and "note_body" not in shown
    entry = (log_dir / LOG_NAME).read_text()
    assert SECRET not in entry and "note_body" not in entry and "ValueError" in entry
    assert stat.S_IMODE((log_dir / LOG_NAME).stat().st_mode) == 0o600
