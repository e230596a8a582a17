"""The marks of running huddles (``services.huddle_marks``): a huddle whose process is
gone is found at the next start; one running in another process, or in another
database, never is. Real processes hold and lose the locks (one is killed)."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from anchor_tui.services import huddle_marks as marks_module
from anchor_tui.services.huddle_marks import FOLDER, HuddleMarks, database_key, machine_key

STARTED = dt.datetime(2026, 11, 16, 9, 0, tzinfo=dt.UTC)
DB = database_key("sqlite:////tmp/anchor.sqlite3")
OTHER_DB = database_key("postgresql+psycopg://anchor:***@db/anchor")

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="no flock on Windows")

HOLDER = """
import datetime as dt, sys
from pathlib import Path
from anchor_tui.services.huddle_marks import HuddleMarks
marks = HuddleMarks(Path(sys.argv[1]), sys.argv[2])
marks.hold(int(sys.argv[3]), dt.datetime.fromisoformat(sys.argv[4]))
print("held", flush=True)
sys.stdin.read()  # until the test closes it, or kills this process
"""


def found(state: Path, database: str = DB) -> list[tuple[int, dt.datetime]]:
    """The orphans another start would find (each let go again, kept)."""
    seen = []
    for orphan in HuddleMarks(state, database).orphans():
        seen.append((orphan.huddle_id, orphan.started_at))
        orphan.keep()
    return seen


def holder(state: Path, huddle_id: int) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(state), DB, str(huddle_id), STARTED.isoformat()],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "held"
    return process


def test_a_huddle_running_in_another_process_is_left_alone_until_it_is_killed(
        tmp_path: Path) -> None:
    process = holder(tmp_path, 7)
    try:
        assert found(tmp_path) == [], "a running huddle was taken for one left on"
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    assert found(tmp_path) == [(7, STARTED)], "a killed process's huddle was not found"


def test_a_process_that_ends_its_huddle_leaves_nothing(tmp_path: Path) -> None:
    marks = HuddleMarks(tmp_path, DB)
    marks.hold(3, STARTED)
    assert found(tmp_path) == [], "held in this process, by another open of the file"
    marks.release(3)
    assert found(tmp_path) == []
    assert list((tmp_path / FOLDER).iterdir()) == []


def test_a_huddle_still_on_when_the_app_goes_is_found_and_forgotten_once_done(
        tmp_path: Path) -> None:
    marks = HuddleMarks(tmp_path, DB)
    marks.hold(3, STARTED)
    marks.hold(4, STARTED + dt.timedelta(hours=1))
    marks.release(4)
    marks.release_all()  # as the process going
    assert found(tmp_path, OTHER_DB) == [], "found in another database"
    assert found(tmp_path) == [(3, STARTED)]
    assert found(tmp_path) == [(3, STARTED)], "kept (the database away): found again"
    (orphan,) = HuddleMarks(tmp_path, DB).orphans()
    orphan.done()
    assert found(tmp_path) == []


def test_a_mark_that_does_not_read_is_dropped_and_ends_nothing(tmp_path: Path) -> None:
    folder = tmp_path / FOLDER
    folder.mkdir()
    here = f"{DB}-{machine_key()}"
    (folder / f"{here}-9.json").write_text("{not json")
    (folder / f"{here}-10.json").write_text('{"huddle_id": "ten"}')
    (folder / f".{here}-11.123.part").write_text('{"huddle_id": 11, "started_at": "x"}')
    assert found(tmp_path) == []
    assert [p.name for p in folder.iterdir()] == [f".{here}-11.123.part"]


def test_marks_are_private_to_the_user(tmp_path: Path) -> None:
    marks = HuddleMarks(tmp_path, DB)
    marks.hold(5, STARTED)
    try:
        folder = tmp_path / FOLDER
        assert folder.stat().st_mode & 0o777 == 0o700
        (path,) = folder.iterdir()
        assert path.stat().st_mode & 0o777 == 0o600
        assert path.read_text() == '{"huddle_id": 5, "started_at": "2026-11-16T09:00:00+00:00"}'
    finally:
        marks.release(5)


def test_a_mark_is_on_disk_before_it_is_put_in_place(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The mark is for the process that goes without ending its huddle, the power cut
    included: renamed into place before it is on disk, a power cut may leave it empty
    (delayed allocation), and an empty mark ends nothing."""
    done: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        done.append("fsync")
        real_fsync(fd)

    def replace(*args: object, **kwargs: object) -> None:
        done.append("replace")
        real_replace(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(marks_module.os, "fsync", fsync)
    monkeypatch.setattr(marks_module.os, "replace", replace)
    marks = HuddleMarks(tmp_path, DB)
    marks.hold(3, STARTED)
    try:
        assert "fsync" in done and done.index("fsync") < done.index("replace"), \
            f"the mark is renamed into place before it is on disk: {done}"
    finally:
        marks.release(3)
