"""``huddle_left_on_minutes``: how long a huddle nobody ended may go without activity
before the app takes it as left on and ends it with its minutes. A bad value names
file, line and key, as every other setting's does."""

from __future__ import annotations

from pathlib import Path

import pytest

from anchor_tui.errors import ConfigError
from anchor_tui.settings import load_team_config
from tests.unit.test_lock_huddle_idle_setting import team_file


def test_the_shipped_time_is_hours_and_longer_than_any_huddle_lock() -> None:
    team = load_team_config(None)
    assert team.huddle_left_on_minutes == 240
    assert team.huddle_left_on_minutes * 60 > team.huddle_idle_lock_seconds


def test_a_team_sets_its_own(tmp_path: Path) -> None:
    team = load_team_config(team_file(tmp_path, "team_name: X\nhuddle_left_on_minutes: 90\n"))
    assert team.huddle_left_on_minutes == 90


@pytest.mark.parametrize(("value", "problem"), [
    ("30", "between 60 and 1440"),
    ("2000", "between 60 and 1440"),
    ("soon", "must be a whole number"),
])
def test_a_bad_value_names_file_line_and_key(tmp_path: Path, value: str, problem: str) -> None:
    folder = team_file(tmp_path, f"team_name: X\n\nhuddle_left_on_minutes: {value}\n")
    with pytest.raises(ConfigError) as info:
        load_team_config(folder)
    error = info.value
    assert (error.path, error.line, error.key) == (
        str(folder / "anchor.yaml"), 3, "huddle_left_on_minutes")
    assert problem in error.message
