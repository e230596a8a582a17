"""Safe YAML with locations: every problem is a ConfigError naming file, line and key."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pytest

from anchor_tui.errors import ConfigError
from anchor_tui.yamldoc import build, load_yaml


@dataclass(frozen=True)
class Item:
    id: str
    size: int = 1


@dataclass(frozen=True)
class Sample:
    name: str
    count: int
    mode: Literal["fast", "careful"] = "careful"
    enabled: bool = True
    ratio: float = 1.0
    since: dt.date | None = None
    items: tuple[Item, ...] = ()
    labels: dict[str, str] = field(default_factory=dict)


def write(tmp_path: Path, text: str, name: str = "team.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def load_error(path: Path) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_yaml(path)
    return info.value


def build_error(path: Path) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        build(load_yaml(path), Sample)
    return info.value


# --- loading ----------------------------------------------------------------------------


def test_a_valid_document_builds_with_lines(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "name: Ankkuri\n"
        "count: 3\n"
        "mode: fast\n"
        "since: 2026-01-31\n"
        "items:\n"
        "  - id: a\n"
        "  - id: b\n"
        "    size: 2\n"
        "labels: {x: y}\n",
    )
    doc = load_yaml(path)
    sample = build(doc, Sample)
    assert sample == Sample(
        name="Ankkuri", count=3, mode="fast", since=dt.date(2026, 1, 31),
        items=(Item("a"), Item("b", 2)), labels={"x": "y"},
    )
    assert doc.path == str(path)
    assert doc.lines[("count",)] == 2
    assert doc.lines[("items", 1)] == 7
    assert doc.lines[("items", 1, "size")] == 8
    assert doc.line_of(("items", 1, "nonexistent")) == 7


def test_duplicate_top_level_key(tmp_path: Path) -> None:
    path = write(tmp_path, "name: a\ncount: 1\nname: b\n")
    err = load_error(path)
    assert (err.path, err.line, err.key) == (str(path), 3, "name")
    assert str(err).startswith(f"{path}:3: key 'name' appears twice")


def test_duplicate_nested_key(tmp_path: Path) -> None:
    path = write(tmp_path, "labels:\n  x: 1\n  y: 2\n  x: 3\n")
    err = load_error(path)
    assert (err.line, err.key) == (4, "labels.x")
    assert "appears twice" in err.message


def test_duplicate_key_inside_a_list_item(tmp_path: Path) -> None:
    path = write(tmp_path, "items:\n  - id: a\n  - id: b\n    id: c\n")
    err = load_error(path)
    assert (err.line, err.key) == (4, "items.1.id")


@pytest.mark.parametrize(
    ("text", "tag"),
    [
        ("name: ok\ncount: !!python/object/apply:os.system ['touch {marker}']\n", "python/object"),
        ("name: ok\ncount: !!python/object:pathlib.Path {{}}\n", "python/object"),
        ("name: ok\ncount: !!python/name:os.system\n", "python/name"),
        ("name: ok\ncount: !!python/module:os\n", "python/module"),
        ("name: ok\ncount: !secret db-password\n", "!secret"),
        ("name: ok\ncount: !!binary aGVsbG8=\n", "binary"),
        ("name: ok\ncount: !!set {{a, b}}\n", "set"),
    ],
)
def test_tags_are_refused_before_anything_is_built(tmp_path: Path, text: str, tag: str) -> None:
    marker = tmp_path / "marker"
    path = write(tmp_path, text.format(marker=marker))
    err = load_error(path)
    assert err.path == str(path)
    assert err.line == 2
    assert "uses the YAML tag" in err.message
    assert tag in err.message
    assert "remove the tag" in err.fix
    assert not marker.exists()


def test_merge_keys_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "name: x\nlabels:\n  <<: {a: b}\n")
    err = load_error(path)
    assert err.line == 3
    assert "merge" in err.message


def test_aliases_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "name: x\nbase: &shared\n  a: 1\nother: *shared\n")
    err = load_error(path)
    assert err.path == str(path)
    # The alias resolves to the anchored node, so the line is the anchor's (2) in
    # PyYAML's composer; what matters is that it is refused with a location.
    assert err.line in (2, 3, 4)
    assert "alias" in err.message
    assert "& and *" in err.fix


def test_scalar_aliases_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "name: &n x\ncount: 1\nother: *n\n")
    err = load_error(path)
    assert err.line in (1, 3)
    assert "alias" in err.message


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n"])
def test_empty_file(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, text)
    err = load_error(path)
    assert (err.path, err.line, err.key) == (str(path), 1, "")
    assert err.message == f"{path}:1: is empty"


def test_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "name: x\ncount: 1\nitems: [a, b\nlabels: {}\n")
    err = load_error(path)
    assert err.path == str(path)
    assert err.line in (3, 4)
    assert "is not valid YAML" in err.message
    assert isinstance(err.__cause__, Exception)


def test_tab_indentation_is_a_syntax_error(tmp_path: Path) -> None:
    path = write(tmp_path, "labels:\n\tx: y\n")
    err = load_error(path)
    assert err.line == 2
    assert "is not valid YAML" in err.message


def test_two_documents_in_one_file_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "name: a\n---\nname: b\n")
    err = load_error(path)
    assert err.line == 2
    assert "is not valid YAML" in err.message


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "anchor.yaml"
    err = load_error(path)
    assert (err.path, err.line, err.key) == (str(path), None, "")
    assert err.message == f"{path}: file not found"


def test_unreadable_file_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"name: \xe4\xe4ni\n")  # Latin-1, not UTF-8
    err = load_error(path)
    assert err.path == str(path)
    assert "cannot be read" in err.message


def test_text_is_attributed_to_the_given_path() -> None:
    doc = load_yaml("virtual/anchor.yaml", text="name: x\ncount: 2\n")
    assert doc.path == "virtual/anchor.yaml"
    with pytest.raises(ConfigError) as info:
        load_yaml("virtual/anchor.yaml", text="a: 1\na: 2\n")
    assert info.value.path == "virtual/anchor.yaml"


@pytest.mark.parametrize("key", ["true", "~", "[a, b]", "{a: b}"])
def test_keys_must_be_text(tmp_path: Path, key: str) -> None:
    path = write(tmp_path, f"name: x\n{key}: value\n")
    err = load_error(path)
    assert err.line == 2
    assert "a key must be text" in err.message


def test_an_impossible_date_is_a_config_error(tmp_path: Path) -> None:
    path = write(tmp_path, "name: x\ncount: 1\nsince: 2026-13-45\n")
    err = load_error(path)
    assert (err.path, err.line, err.key) == (str(path), 3, "since")
    assert "2026-13-45" in err.message
    assert "YYYY-MM-DD" in err.fix


# --- building ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "key", "problem"),
    [
        ("name: x\ncount: three\n", 2, "count", "must be a whole number, not 'three'"),
        ("name: x\ncount: true\n", 2, "count", "must be a whole number, not True"),
        ("name: x\ncount: 1.5\n", 2, "count", "must be a whole number, not 1.5"),
        ("name: 12\ncount: 1\n", 1, "name", "must be text, not 12"),
        # YAML 1.1 reads a bare `no` as false: still refused where text is expected.
        ("name: no\ncount: 1\n", 1, "name", "must be text, not False"),
        ("name: x\ncount: 1\nenabled: 1\n", 3, "enabled", "must be true or false, not 1"),
        ("name: x\ncount: 1\nratio: high\n", 3, "ratio", "must be a number, not 'high'"),
        ("name: x\ncount: 1\nsince: soon\n", 3, "since", "must be a date (YYYY-MM-DD)"),
        ("name: x\ncount: 1\nitems: a\n", 3, "items", "must be a list"),
        ("name: x\ncount: 1\nlabels: [a]\n", 3, "labels", "must be a mapping"),
        ("name: x\ncount: 1\nlabels:\n  a: 1\n", 4, "labels.a", "must be text, not 1"),
        (
            "name: x\ncount: 1\nitems:\n  - id: a\n  - id: b\n    size: big\n",
            6, "items.1.size", "must be a whole number, not 'big'",
        ),
        ("name: x\ncount: 1\nitems:\n  - just-a-string\n", 4, "items.0", "must be a mapping"),
    ],
)
def test_wrong_types(
    tmp_path: Path, text: str, line: int, key: str, problem: str
) -> None:
    path = write(tmp_path, text)
    err = build_error(path)
    assert (err.path, err.line, err.key) == (str(path), line, key)
    assert problem in err.message
    assert err.message.startswith(f"{path}:{line}: key '{key}' ")


def test_literal_values(tmp_path: Path) -> None:
    path = write(tmp_path, "name: x\ncount: 1\nmode: reckless\n")
    err = build_error(path)
    assert (err.line, err.key) == (3, "mode")
    assert "must be one of 'fast', 'careful', not 'reckless'" in err.message


def test_unknown_key_lists_the_known_ones(tmp_path: Path) -> None:
    path = write(tmp_path, "name: x\ncount: 1\ncuont: 2\n")
    err = build_error(path)
    assert (err.line, err.key) == (3, "cuont")
    assert "is not a known key" in err.message
    assert "count" in err.fix and "items" in err.fix


def test_unknown_key_in_a_nested_item(tmp_path: Path) -> None:
    path = write(tmp_path, "name: x\ncount: 1\nitems:\n  - id: a\n    colour: red\n")
    err = build_error(path)
    assert (err.line, err.key) == (5, "items.0.colour")


def test_missing_top_level_key(tmp_path: Path) -> None:
    path = write(tmp_path, "# settings\nname: x\n")
    err = build_error(path)
    assert err.path == str(path)
    assert err.line == 2  # where the document starts
    assert "is missing the key 'count'" in err.message


def test_missing_nested_key_points_at_its_item(tmp_path: Path) -> None:
    path = write(tmp_path, "name: x\ncount: 1\nitems:\n  - id: a\n  - size: 2\n")
    err = build_error(path)
    assert (err.line, err.key) == (5, "items.1")
    assert "is missing the key 'id'" in err.message


def test_document_must_be_a_mapping(tmp_path: Path) -> None:
    path = write(tmp_path, "- name: x\n")
    err = build_error(path)
    assert (err.line, err.key) == (1, "")
    assert "must be a mapping" in err.message


def test_optional_accepts_null(tmp_path: Path) -> None:
    doc = load_yaml(write(tmp_path, "name: x\ncount: 1\nsince: null\n"))
    assert build(doc, Sample).since is None
