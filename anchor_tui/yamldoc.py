"""Load YAML safely while remembering where each key stood.

Configuration and the disclosure policy are read with PyYAML's safe loader (no tags
that build Python objects). Each mapping key's line is recorded so that validation
errors can name file, line and key. Duplicate keys are an error, not a silent
overwrite.
"""

from __future__ import annotations

import dataclasses
import datetime
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar, Union, get_args, get_origin, get_type_hints

import yaml

from anchor_tui.errors import ConfigError

KeyPath = tuple[str | int, ...]
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
T = TypeVar("T")
_MISSING: Any = object()


@dataclass
class YamlDoc:
    """A parsed YAML document plus the line (1-based) of every key and list item."""

    path: str
    data: Any
    lines: dict[KeyPath, int] = field(default_factory=dict)
    constructor: yaml.constructor.SafeConstructor | None = field(
        default=None, repr=False, compare=False)
    """Builds the scalars while the document is read (then dropped)."""

    def line_of(self, keypath: KeyPath) -> int | None:
        """The line of ``keypath`` or of its nearest recorded ancestor."""
        probe = tuple(keypath)
        while probe:
            if probe in self.lines:
                return self.lines[probe]
            probe = probe[:-1]
        return self.lines.get((), None)

    def error(self, keypath: KeyPath, problem: str, fix: str = "") -> ConfigError:
        """A :class:`ConfigError` located at ``keypath``."""
        key = ".".join(str(k) for k in keypath)
        return ConfigError(self.path, self.line_of(keypath), key, problem, fix)


def _walk(node: yaml.Node, doc: YamlDoc, keypath: KeyPath) -> Any:
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _walk(key_node, doc, keypath)
            if not isinstance(key, (str, int)) or isinstance(key, bool):
                raise ConfigError(doc.path, key_node.start_mark.line + 1, "", "a key must be text")
            sub: KeyPath = (*keypath, key)
            if key in result:
                raise ConfigError(
                    doc.path, key_node.start_mark.line + 1, ".".join(map(str, sub)),
                    "appears twice", "keep one of them",
                )
            doc.lines[sub] = key_node.start_mark.line + 1
            result[key] = _walk(value_node, doc, sub)
        return result
    if isinstance(node, yaml.SequenceNode):
        items = []
        for index, item in enumerate(node.value):
            sub = (*keypath, index)
            doc.lines[sub] = item.start_mark.line + 1
            items.append(_walk(item, doc, sub))
        return items
    # Scalars: let the safe constructor resolve ints, bools, dates, strings (one
    # constructor per document: making a whole loader per scalar cost most of a load).
    if doc.constructor is None:
        doc.constructor = yaml.constructor.SafeConstructor()
    try:
        return doc.constructor.construct_object(node, deep=True)
    except ValueError as exc:  # e.g. a date-shaped value that is no date: 2026-13-45
        raise ConfigError(
            doc.path, node.start_mark.line + 1, ".".join(map(str, keypath)),
            f"has a value that cannot be read: {node.value!r}",
            "write a real date as YYYY-MM-DD, or quote the value to keep it as text",
        ) from exc


def load_yaml(path: Path | str, text: str | None = None) -> YamlDoc:
    """Parse ``path`` (or ``text`` attributed to it) with locations.

    Raises :class:`ConfigError` for unreadable files, syntax errors, Python object
    tags, anchors/aliases and duplicate keys.
    """
    name = str(path)
    if text is None:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except FileNotFoundError as exc:
            raise ConfigError(name, None, "", "file not found") from exc
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(name, None, "", f"cannot be read ({exc.__class__.__name__})") from exc
    doc = YamlDoc(path=name, data=None)
    try:
        # libyaml's parser where PyYAML has it (its wheels do): the same nodes and
        # marks, several times faster than the pure-Python one (the app reads its two
        # files before the first screen is drawn).
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        raise ConfigError(name, line, "", f"is not valid YAML: {exc.problem}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(name, None, "", "is not valid YAML") from exc
    if node is None:
        raise ConfigError(name, 1, "", "is empty", "see the shipped default for the layout")
    _reject_tags_and_aliases(node, name)
    doc.lines[()] = node.start_mark.line + 1
    try:
        doc.data = _walk(node, doc, ())
    except yaml.constructor.ConstructorError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        raise ConfigError(
            name, line, "", f"has a value YAML cannot read safely: {exc.problem}"
        ) from exc
    finally:
        doc.constructor = None
    return doc


_SAFE_TAG_PREFIX = "tag:yaml.org,2002:"
_SAFE_TAGS = {f"{_SAFE_TAG_PREFIX}{t}" for t in (
    "str", "int", "float", "bool", "null", "map", "seq", "timestamp",
)}


def _reject_tags_and_aliases(root: yaml.Node, name: str) -> None:
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            raise ConfigError(
                name, node.start_mark.line + 1, "", "uses a YAML alias",
                "write the value out instead of using & and *",
            )
        seen.add(id(node))
        if node.tag not in _SAFE_TAGS:
            raise ConfigError(
                name, node.start_mark.line + 1, "", f"uses the YAML tag {node.tag!r}",
                "remove the tag: only plain values, lists and mappings are allowed",
            )
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                stack.extend((key_node, value_node))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)


# --- typed conversion -------------------------------------------------------------------

def build(doc: YamlDoc, cls: type[T], data: Any = _MISSING, keypath: KeyPath = ()) -> T:
    """Convert ``data`` (default: the whole document) into dataclass ``cls``, strictly.

    Unknown keys, missing required keys and wrong types raise :class:`ConfigError`
    naming file, line and key. Supported field types: str, int, bool, float, date,
    Literal, Optional, tuple[X, ...], dict[str, X] and nested dataclasses.
    """
    value = doc.data if data is _MISSING else data
    return _convert(doc, keypath, value, cls)  # type: ignore[no-any-return]


def _type_name(tp: Any) -> str:
    origin = get_origin(tp)
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in get_args(tp))
    if origin in (tuple, list):
        return "a list"
    if origin is dict:
        return "a mapping"
    if dataclasses.is_dataclass(tp):
        return "a mapping"
    return {str: "text", int: "a whole number", bool: "true or false", float: "a number",
            datetime.date: "a date (YYYY-MM-DD)"}.get(tp, str(tp))


def _convert(doc: YamlDoc, keypath: KeyPath, value: Any, tp: Any) -> Any:
    if tp is Any:
        return value  # validated by the caller (e.g. policy conditions)
    origin = get_origin(tp)
    args = get_args(tp)
    if origin in (Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        return _convert(doc, keypath, value, inner[0])
    if origin is Literal:
        if value not in args:
            raise doc.error(keypath, f"must be {_type_name(tp)}, not {value!r}")
        return value
    if origin is tuple:
        if not isinstance(value, list):
            raise doc.error(keypath, f"must be {_type_name(tp)}")
        return tuple(_convert(doc, (*keypath, i), item, args[0]) for i, item in enumerate(value))
    if origin is dict:
        if not isinstance(value, dict):
            raise doc.error(keypath, f"must be {_type_name(tp)}")
        return {
            _convert(doc, (*keypath, k), k, args[0]): _convert(doc, (*keypath, k), v, args[1])
            for k, v in value.items()
        }
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise doc.error(keypath, f"must be {_type_name(tp)}")
        hints = get_type_hints(tp)
        fields = {f.name: f for f in dataclasses.fields(tp) if f.init}
        for key in value:
            if key not in fields:
                known = ", ".join(sorted(fields))
                raise doc.error((*keypath, key), "is not a known key", f"known keys here: {known}")
        kwargs = {}
        for name, f in fields.items():
            if name in value:
                kwargs[name] = _convert(doc, (*keypath, name), value[name], hints[name])
            elif (f.default is dataclasses.MISSING
                  and f.default_factory is dataclasses.MISSING):
                raise doc.error(keypath, f"is missing the key '{name}'")
        return tp(**kwargs)  # type: ignore[operator]
    if tp is bool:
        if not isinstance(value, bool):
            raise doc.error(keypath, f"must be {_type_name(tp)}, not {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise doc.error(keypath, f"must be {_type_name(tp)}, not {value!r}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise doc.error(keypath, f"must be {_type_name(tp)}, not {value!r}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise doc.error(keypath, f"must be {_type_name(tp)}, not {value!r}")
        return value
    if tp is datetime.date:
        if not isinstance(value, datetime.date) or isinstance(value, datetime.datetime):
            raise doc.error(keypath, f"must be {_type_name(tp)}, not {value!r}")
        return value
    raise TypeError(f"unsupported config type {tp!r}")  # a programming error, not user input
