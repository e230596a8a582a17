"""``huddle_idle_lock_seconds``: how long a huddle's terminal waits for a key before it
locks (the room watches the screen and talks; the personal ``idle_lock_seconds`` of
120 s locked meetings mid-sentence). Shipped longer than the personal time, a team may
set it; a bad value names file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from anchor_tui.errors import ConfigError
from anchor_tui.settings import load_team_config


def team_file(tmp_path: Path, text: str) -> Path:
    folder = tmp_path / "team"
    folder.mkdir()
    (folder / "anchor.yaml").write_text(text, encoding="utf-8")
    return folder


def test_the_shipped_huddle_idle_time_is_longer_than_the_personal_one() -> None:
    team = load_team_config(None)
    assert team.huddle_idle_lock_seconds == 900
    assert team.huddle_idle_lock_seconds > team.idle_lock_seconds


def test_a_team_sets_its_own(tmp_path: Path) -> None:
    team = load_team_config(team_file(tmp_path, "team_name: X\nhuddle_idle_lock_seconds: 1800\n"))
    assert team.huddle_idle_lock_seconds == 1800
    assert team.idle_lock_seconds == 120  # the personal time is its own


@pytest.mark.parametrize(("value", "problem"), [
    ("5", "between 10 and 3600"),
    ("7200", "between 10 and 3600"),
    ("never", "must be a whole number"),
])
def test_a_bad_value_names_file_line_and_key(tmp_path: Path, value: str, problem: str) -> None:
    folder = team_file(tmp_path, f"team_name: X\n\nhuddle_idle_lock_seconds: {value}\n")
    with pytest.raises(ConfigError) as info:
        load_team_config(folder)
    error = info.value
    assert (error.path, error.line, error.key) == (
        str(folder / "anchor.yaml"), 3, "huddle_idle_lock_seconds")
    assert problem in error.message
