"""Malformed policies are rejected with file, line and key; the hash is stable."""

from __future__ import annotations

from pathlib import Path

import pytest

from anchor_tui.errors import ConfigError
from anchor_tui.policy import load_policy
from anchor_tui.settings import PACKAGE_CONFIG_DIR, load_team_config

DEFAULT = (PACKAGE_CONFIG_DIR / "disclosure.yaml").read_text(encoding="utf-8")

MINIMAL = """\
version: 1
professions:
  - {id: police, label: Police}
  - {id: social_work, label: Social work}
categories:
  - {id: general, label: General, confidentiality: N}
case_fields:
  police: [person_name]
rules:
  - id: general-to-members
    effect: permit
    categories: [general]
    when: [case_member]
"""


def _line_of(text: str, needle: str) -> int:
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(needle)


def _load(text: str, tmp_path: Path) -> None:
    path = tmp_path / "disclosure.yaml"
    path.write_text(text, encoding="utf-8")
    load_policy(path)


@pytest.mark.parametrize(
    ("change", "needle", "key", "problem"),
    [
        (("effect: permit", "effect: permit\n    colour: red"), "colour: red",
         "rules.0.colour", "is not a known key"),
        (("categories: [general]\n    when", "categories: [medical]\n    when"),
         "categories: [medical]", "rules.0.categories.0", "unknown category 'medical'"),
        (("when: [case_member]", "when: [is_friend]"), "when: [is_friend]",
         "rules.0.when.0", "unknown condition 'is_friend'"),
        (("when: [case_member]", "when: [{profession_in: [clergy]}]"), "clergy",
         "rules.0.when.0.profession_in.0", "unknown profession 'clergy'"),
        (("when: [case_member]", "when: [{purpose: party}]"), "party",
         "rules.0.when.0.purpose", "must be individual or huddle"),
        (("when: [case_member]", "when: [purpose]"), "when: [purpose]",
         "rules.0.when.0", "needs a value"),
        (("when: [case_member]", "when: [assignee]"), "when: [assignee]",
         "rules.0.when.0", "does not apply to a note"),
        (("effect: permit", "effect: allow"), "effect: allow", "rules.0.effect",
         "must be one of 'permit', 'forbid'"),
        (("confidentiality: N", "confidentiality: X"), "confidentiality: X",
         "categories.0.confidentiality", "must be one of"),
        (("version: 1", "version: '1'"), "version:", "version", "must be one of 1"),
        (("police: [person_name]", "police: [shoe_size]"), "shoe_size",
         "case_fields.police.0", "unknown case field"),
        (("police: [person_name]", "clergy: [person_name]"), "clergy:",
         "case_fields.clergy", "unknown profession"),
        (("  - {id: social_work, label: Social work}", "  - {id: police, label: Again}"),
         "label: Again", "professions.1.id", "duplicate id 'police'"),
        (("rules:\n",
          "rules:\n  - {id: general-to-members, effect: forbid, categories: [general]}\n"),
         "  - id: general-to-members", "rules.1.id", "duplicate id 'general-to-members'"),
        ((MINIMAL[MINIMAL.index("rules:"):], "rules: 3\n"), "rules: 3", "rules",
         "must be a list"),
        (("version: 1\n", "version: 1\nversion: 1\n"), "version: 1", "version", "appears twice"),
    ],
)
def test_malformed_policy_names_file_line_and_key(
    tmp_path: Path, change: tuple[str, str], needle: str, key: str, problem: str
) -> None:
    old, new = change
    assert old in MINIMAL
    text = MINIMAL.replace(old, new, 1)
    with pytest.raises(ConfigError) as info:
        _load(text, tmp_path)
    error = info.value
    assert error.path.endswith("disclosure.yaml")
    assert error.key == key
    assert problem in error.problem
    if needle == "version: 1":  # duplicate key: the second occurrence is reported
        assert error.line == 2
    else:
        assert error.line == _line_of(text, needle)
    assert f"disclosure.yaml:{error.line}:" in str(error)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "is empty"),
        ("# only a comment\n", "is empty"),
        ("!!python/object/apply:os.system ['echo hacked']\n", "YAML tag"),
        ("version: !!python/name:os.system 1\n", "YAML tag"),
        ("version: 1\nprofessions: &p []\ncategories: *p\n", "alias"),
        ("version: 1\nprofessions: [\n", "not valid YAML"),
        ("- just\n- a list\n", "must be a mapping"),
        ("version: 1\n", "missing the key 'professions'"),
    ],
)
def test_broken_files_are_rejected(tmp_path: Path, text: str, problem: str) -> None:
    with pytest.raises(ConfigError) as info:
        _load(text, tmp_path)
    assert problem in str(info.value)
    # file:line, so a person can go straight there
    assert info.value.line is not None and info.value.line >= 1
    assert str(info.value).startswith(f"{tmp_path / 'disclosure.yaml'}:{info.value.line}:")


def test_team_profession_must_be_declared(tmp_path: Path) -> None:
    team = load_team_config(None)  # lists health and youth_work too
    path = tmp_path / "disclosure.yaml"
    path.write_text(MINIMAL, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_policy(path, team=team)
    shipped = PACKAGE_CONFIG_DIR / "anchor.yaml"
    assert "health" in str(info.value) and info.value.key == "professions.2"
    assert (info.value.path, info.value.line) == (
        str(shipped), _line_of(shipped.read_text("utf-8"), "professions: ["))


@pytest.mark.parametrize(
    ("anchor_yaml", "key", "needle"),
    [
        # A misspelt category would give those notes the case's period: erased early.
        ("retention:\n  default_days: 30\n  note_categories:\n    helth: 3650\n",
         "retention.note_categories.helth", "helth: 3650"),
        ("professions: [police, social_work, clergy]\n", "professions.2", "clergy"),
        ("default_note_category:\n  police: intel\n", "default_note_category.police",
         "police: intel"),
        ("child_welfare:\n  professions: [police, helth]\n",
         "child_welfare.professions.1", "helth"),
    ],
)
def test_team_settings_naming_what_the_policy_lacks_name_the_teams_file_and_line(
    tmp_path: Path, anchor_yaml: str, key: str, needle: str
) -> None:
    team_file = tmp_path / "anchor.yaml"
    team_file.write_text(anchor_yaml, encoding="utf-8")
    team = load_team_config(tmp_path)
    with pytest.raises(ConfigError) as info:
        load_policy(PACKAGE_CONFIG_DIR / "disclosure.yaml", team=team)
    error = info.value
    assert (error.path, error.key) == (str(team_file), key)
    assert error.line == _line_of(anchor_yaml, needle)
    assert str(error).startswith(f"{team_file}:{error.line}: key '{key}'")


def test_default_policy_loads_and_hash_ignores_layout(tmp_path: Path) -> None:
    default = load_policy(PACKAGE_CONFIG_DIR / "disclosure.yaml")
    assert len(default.hash) == 64
    reformatted = "# a comment\n" + DEFAULT.replace("version: 1", "version:   1")
    path = tmp_path / "disclosure.yaml"
    path.write_text(reformatted, encoding="utf-8")
    assert load_policy(path).hash == default.hash
    path.write_text(DEFAULT.replace("[general]\n    when: [case_member]",
                                    "[general]\n    when: [case_member, author]"), "utf-8")
    assert load_policy(path).hash != default.hash
