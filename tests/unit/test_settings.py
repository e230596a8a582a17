"""Settings: the shipped defaults, a team's overrides, strict validation and layering."""

from __future__ import annotations

from pathlib import Path

import pytest

from anchor_tui.errors import ConfigError
from anchor_tui.settings import (
    PACKAGE_CONFIG_DIR,
    load_settings,
    load_team_config,
    resolve_config_dir,
)

SHIPPED_STAGES = [
    "notification", "screening", "assessment", "anchor_meeting",
    "service_guidance", "follow_up", "closed",
]
THREE_STAGES = """\
stages:
  - id: notification
    label: Ilmoitus
  - id: screening
    label: Seulonta
  - id: closed
    label: Suljettu
    closed: true
"""


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """This machine's own anchor-tui dirs and variables are out of the picture."""
    for name in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME"):
        monkeypatch.setenv(name, str(tmp_path / name.lower()))
    monkeypatch.delenv("ANCHOR_DB_URL", raising=False)
    monkeypatch.delenv("ANCHOR_CONFIG_DIR", raising=False)
    return tmp_path


def team_dir(root: Path, text: str, name: str = "team") -> Path:
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "anchor.yaml").write_text(text, encoding="utf-8")
    return folder


def config_error(folder: Path) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_team_config(folder)
    return info.value


# --- the shipped default ------------------------------------------------------------------


def test_shipped_anchor_yaml_loads() -> None:
    team = load_team_config(None)
    assert [s.id for s in team.stages] == SHIPPED_STAGES
    assert [s.id for s in team.stages if s.closed] == ["closed"]
    assert team.professions == ("police", "social_work", "health", "youth_work")
    assert {c.id for c in team.case_categories} == {
        "first_offence", "substance_use", "radicalisation", "school_threat", "family_violence",
    }
    assert {r.id for r in team.closed_reasons} == {"referred_on", "no_need", "declined"}
    assert team.idle_lock_seconds >= 10
    assert team.sign_in.max_failed_attempts >= 1
    for template in team.note_templates:
        assert set(template.professions) <= set(team.professions)
    assert team.stage_label("assessment") == "Joint assessment"
    assert team.stage_label("unknown") == "unknown"
    assert team.category_label("family_violence") == "Family violence"


def test_defaults_without_any_config(home: Path) -> None:
    settings = load_settings()
    data_dir = home / "xdg_data_home" / "anchor-tui"
    assert settings.db_url == f"sqlite:///{data_dir / 'anchor.sqlite3'}"
    assert settings.config_dir is None
    assert settings.policy_path == PACKAGE_CONFIG_DIR / "disclosure.yaml"
    assert settings.policy_path.is_file()
    assert settings.log_dir == home / "xdg_state_home" / "anchor-tui"
    assert settings.demo is False


# --- a team's overrides -------------------------------------------------------------------


def test_team_file_replaces_whole_top_level_keys(home: Path) -> None:
    folder = team_dir(home, "team_name: Ankkuri Tampere\nidle_lock_seconds: 300\n" + THREE_STAGES)
    settings = load_settings(config_flag=str(folder))
    assert settings.config_dir == folder
    assert settings.team.team_name == "Ankkuri Tampere"
    assert settings.team.idle_lock_seconds == 300
    # Replaced, not merged: only the team's three stages.
    assert [s.label for s in settings.team.stages] == ["Ilmoitus", "Seulonta", "Suljettu"]
    # Keys the team did not set keep the default.
    assert len(settings.team.case_categories) == 5
    assert settings.team.sign_in.lockout_seconds == 300
    # No disclosure.yaml in the team's folder: the shipped policy is in force.
    assert settings.policy_path == PACKAGE_CONFIG_DIR / "disclosure.yaml"


def test_team_disclosure_replaces_the_policy_path(home: Path) -> None:
    folder = team_dir(home, "team_name: X\n")
    (folder / "disclosure.yaml").write_text("# the team's policy\n", encoding="utf-8")
    assert load_settings(config_flag=str(folder)).policy_path == folder / "disclosure.yaml"


def test_team_folder_without_anchor_yaml_uses_the_default(home: Path) -> None:
    folder = home / "empty-team"
    folder.mkdir()
    settings = load_settings(config_flag=str(folder))
    assert settings.config_dir == folder
    assert [s.id for s in settings.team.stages] == SHIPPED_STAGES


def test_config_dir_layering(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    user_dir = team_dir(home / "xdg_config_home", "team_name: From user dir\n", "anchor-tui")
    env_dir = team_dir(home, "team_name: From env\n", "env")
    flag_dir = team_dir(home, "team_name: From flag\n", "flag")

    assert resolve_config_dir(None) == user_dir
    assert load_settings().team.team_name == "From user dir"
    monkeypatch.setenv("ANCHOR_CONFIG_DIR", str(env_dir))
    assert load_settings().team.team_name == "From env"
    assert load_settings(config_flag=str(flag_dir)).team.team_name == "From flag"


def test_missing_config_flag_dir(home: Path) -> None:
    missing = home / "no-such-dir"
    with pytest.raises(ConfigError) as info:
        load_settings(config_flag=str(missing))
    assert info.value.path == str(missing)
    assert "is not a directory" in info.value.message
    assert "--config" in info.value.fix


def test_config_flag_pointing_at_a_file(home: Path) -> None:
    folder = team_dir(home, "team_name: X\n")
    with pytest.raises(ConfigError) as info:
        load_settings(config_flag=str(folder / "anchor.yaml"))
    assert "is not a directory" in info.value.message


def test_missing_config_env_dir(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANCHOR_CONFIG_DIR", str(home / "gone"))
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert info.value.path == str(home / "gone")
    assert "ANCHOR_CONFIG_DIR" in info.value.message


# --- strict validation of the team's file -------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "key", "problem"),
    [
        ("team_name: X\nidle_lock_secs: 60\n", 2, "idle_lock_secs", "is not a known key"),
        ("team_name: X\nidle_lock_seconds: soon\n", 2, "idle_lock_seconds",
         "must be a whole number"),
        ("team_name: X\nidle_lock_seconds: 5\n", 2, "idle_lock_seconds", "at least 10"),
        ("team_name: [a, b]\n", 1, "team_name", "must be text"),
        ("professions: police\n", 1, "professions", "must be a list"),
        ("professions: [police, police]\n", 1, "professions", "twice"),
        ("stages: []\n", 1, "stages", "at least one stage"),
        ("sign_in:\n  max_failed_attempts: 0\n", 2, "sign_in.max_failed_attempts",
         "at least 1"),
        ("sign_in:\n  lockout: 10\n", 2, "sign_in.lockout", "is not a known key"),
        (THREE_STAGES + "  - id: screening\n    label: Again\n", 9, "stages.3.id",
         "duplicate id 'screening'"),
        (THREE_STAGES.replace("    closed: true\n", "    closed: maybe\n"), 8,
         "stages.2.closed", "must be true or false"),
        ("case_categories:\n  - id: a\n    label: A\n    colour: red\n", 4,
         "case_categories.0.colour", "is not a known key"),
        ("case_categories:\n  - id: a\n  - label: B\n", 2, "case_categories.0",
         "is missing the key 'label'"),
    ],
)
def test_team_file_errors_name_file_line_and_key(
    home: Path, text: str, line: int, key: str, problem: str
) -> None:
    folder = team_dir(home, text)
    err = config_error(folder)
    assert err.path == str(folder / "anchor.yaml")
    assert (err.line, err.key) == (line, key)
    assert problem in err.message
    assert err.message.startswith(f"{folder / 'anchor.yaml'}:{line}: key '{key}'")


def test_template_naming_a_profession_not_in_the_team(home: Path) -> None:
    text = (
        "professions: [police, social_work, youth_work]\n"
        "note_templates:\n"
        "  - id: phone_contact\n"
        "    label: Phone contact\n"
        "    category: general\n"
        "  - id: health_assessment\n"
        "    label: Health assessment\n"
        "    category: health\n"
        "    professions: [youth_work, health]\n"
    )
    folder = team_dir(home, text)
    err = config_error(folder)
    assert err.path == str(folder / "anchor.yaml")
    assert (err.line, err.key) == (9, "note_templates.1.professions.1")
    assert "'health'" in err.message


def test_team_file_that_is_not_a_mapping(home: Path) -> None:
    folder = team_dir(home, "- team_name: X\n")
    err = config_error(folder)
    assert err.path == str(folder / "anchor.yaml")
    assert "must be a mapping" in err.message


def test_corrupt_team_file(home: Path) -> None:
    folder = team_dir(home, "team_name: X\nstages: [\n")
    err = config_error(folder)
    assert err.path == str(folder / "anchor.yaml")
    assert "is not valid YAML" in err.message


def test_errors_reach_load_settings(home: Path) -> None:
    folder = team_dir(home, "team_name: X\nunknown_thing: 1\n")
    with pytest.raises(ConfigError) as info:
        load_settings(config_flag=str(folder))
    assert (info.value.line, info.value.key) == (2, "unknown_thing")


def test_team_without_a_nurse_keeping_the_default_templates(home: Path) -> None:
    """Some teams have no nurse: the shipped templates narrow to the team's professions."""
    folder = team_dir(
        home, "team_name: Ankkuri ilman hoitajaa\nprofessions: [police, social_work, youth_work]\n"
    )
    team = load_team_config(folder)
    assert team.professions == ("police", "social_work", "youth_work")
    for template in team.note_templates:
        assert "health" not in template.professions
    ids = {t.id: t for t in team.note_templates}
    # Health-only templates are not offered; shared ones keep their other professions.
    assert "health_assessment" not in ids and "statement_to_police" not in ids
    assert ids["welfare_concern"].professions == ("police", "youth_work")
    assert ids["phone_contact"].professions == ()


# --- database URL layering ----------------------------------------------------------------


def test_db_flag_beats_env_beats_default(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    default = f"sqlite:///{home / 'xdg_data_home' / 'anchor-tui' / 'anchor.sqlite3'}"
    assert load_settings().db_url == default
    monkeypatch.setenv("ANCHOR_DB_URL", "postgresql+psycopg://anchor@db.example/anchor")
    assert load_settings().db_url == "postgresql+psycopg://anchor@db.example/anchor"
    assert load_settings(db_flag="sqlite:////srv/x.sqlite3").db_url == "sqlite:////srv/x.sqlite3"


def test_demo_never_uses_the_team_database(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANCHOR_DB_URL", "postgresql+psycopg://anchor@db.example/anchor")
    settings = load_settings(demo=True)
    assert settings.demo is True
    assert settings.db_url == f"sqlite:///{home / 'xdg_data_home' / 'anchor-tui' / 'demo.sqlite3'}"
    assert load_settings(db_flag="sqlite:////tmp/d.sqlite3", demo=True).db_url == (
        "sqlite:////tmp/d.sqlite3"
    )
