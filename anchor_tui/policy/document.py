"""Reading and validating ``disclosure.yaml`` strictly.

The file declares professions, note categories (each with an HL7-style confidentiality
N, R or V), the case fields each profession may see, and ``permit``/``forbid`` rules
over the closed vocabulary in ``conditions.py``. Any unknown key, category, profession
or condition is an error naming file, line and key, and the app refuses to start.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from anchor_tui.policy import conditions as c
from anchor_tui.yamldoc import KeyPath, YamlDoc, build, load_yaml

CASE_FIELDS = ("person_name", "birth_date", "municipality", "summary", "lead", "members")
"""What of a case the policy can show. Without ``person_name`` a case shows initials."""
ALL = "*"


@dataclass(frozen=True)
class ProfessionEntry:
    id: str
    """Stable id, as stored on users and notes."""
    label: str
    """What the team calls the profession."""


@dataclass(frozen=True)
class CategoryEntry:
    id: str
    """Stable id, as stored on notes and consents."""
    label: str
    """Shown in the category picker."""
    confidentiality: Literal["N", "R", "V"]
    """HL7 confidentiality: N normal, R restricted, V very restricted."""


@dataclass(frozen=True)
class RuleEntry:
    id: str
    """Stable id, recorded in the audit trail with every decision."""
    effect: Literal["permit", "forbid"]
    """A forbid beats every permit."""
    description: str = ""
    """What the rule means, in the team's words (shown by ``policy explain``)."""
    applies_to: Literal["note", "task"] = "note"
    """The protected record the rule is about."""
    categories: tuple[str, ...] = ()
    """Note categories the rule covers (``"*"``: every declared category)."""
    when: tuple[Any, ...] = ()
    """Conditions, all of which must hold (an empty list always holds)."""


@dataclass(frozen=True)
class PolicyFile:
    version: Literal[1]
    """Format version of this file."""
    professions: tuple[ProfessionEntry, ...]
    categories: tuple[CategoryEntry, ...]
    case_fields: dict[str, tuple[str, ...]]
    """Per profession, which case fields it sees on the board and in the case view."""
    rules: tuple[RuleEntry, ...]


@dataclass(frozen=True)
class Rule:
    """A validated rule with its conditions parsed."""

    id: str
    effect: str
    applies_to: str
    categories: frozenset[str]
    conditions: tuple[c.Condition, ...]
    description: str


def _unique(doc: YamlDoc, key: str, ids: list[str]) -> None:
    seen: set[str] = set()
    for index, ident in enumerate(ids):
        if ident in seen:
            raise doc.error((key, index, "id"), f"duplicate id '{ident}'", "ids must be unique")
        seen.add(ident)


def _parse_condition(
    doc: YamlDoc, path: KeyPath, raw: Any, professions: set[str], entity: str
) -> c.Condition:
    known = ", ".join(c.VOCABULARY)
    if isinstance(raw, str):
        if raw in c.FLAGS:
            cond: c.Condition = c.FLAGS[raw]()
        elif raw in c.WITH_ARGUMENT:
            raise doc.error(path, f"condition '{raw}' needs a value", f"write {{{raw}: ...}}")
        else:
            raise doc.error(path, f"unknown condition '{raw}'", f"known conditions: {known}")
    elif isinstance(raw, dict) and len(raw) == 1:
        (name, arg), = raw.items()
        sub = (*path, name)
        if name == "purpose":
            if arg not in ("individual", "huddle"):
                raise doc.error(sub, f"must be individual or huddle, not {arg!r}")
            cond = c.Purpose(purpose=arg)
        elif name == "profession_in":
            if not isinstance(arg, list) or not arg or not all(isinstance(p, str) for p in arg):
                raise doc.error(sub, "must be a non-empty list of professions")
            for index, profession in enumerate(arg):
                if profession not in professions:
                    raise doc.error((*sub, index), f"unknown profession '{profession}'")
            cond = c.ProfessionIn(professions=tuple(arg))
        elif name == "not":
            cond = c.Not(inner=_parse_condition(doc, sub, arg, professions, entity))
        elif name in c.FLAGS:
            if arg is not True:
                raise doc.error(sub, f"'{name}' takes no value", f"write just - {name}")
            cond = c.FLAGS[name]()
        else:
            raise doc.error(sub, f"unknown condition '{name}'", f"known conditions: {known}")
    else:
        raise doc.error(path, "a condition is a word or a mapping with one key",
                        f"known conditions: {known}")
    if entity not in cond.entities:
        raise doc.error(path, f"condition '{cond.name}' does not apply to a {entity}")
    return cond


def parse_policy(doc: YamlDoc) -> tuple[PolicyFile, tuple[Rule, ...]]:
    """Validate a loaded document into the file model and parsed rules."""
    if not isinstance(doc.data, dict):
        raise doc.error((), "must be a mapping with professions, categories, case_fields, rules")
    pf = build(doc, PolicyFile)
    _unique(doc, "professions", [p.id for p in pf.professions])
    _unique(doc, "categories", [k.id for k in pf.categories])
    _unique(doc, "rules", [r.id for r in pf.rules])
    declared_ids = [("professions", [p.id for p in pf.professions]),
                    ("categories", [k.id for k in pf.categories])]
    for key, ids in declared_ids:
        for index, ident in enumerate(ids):
            if not c.IDENTIFIER.fullmatch(ident):
                raise doc.error((key, index, "id"), f"'{ident}' is not a valid id",
                                "use lowercase letters, digits and _, starting with a letter")
    professions = {p.id for p in pf.professions}
    categories = {k.id for k in pf.categories}
    if not professions:
        raise doc.error(("professions",), "must declare at least one profession")
    for profession, fields in pf.case_fields.items():
        if profession not in professions:
            raise doc.error(("case_fields", profession), f"unknown profession '{profession}'")
        for index, name in enumerate(fields):
            if name not in CASE_FIELDS:
                raise doc.error(("case_fields", profession, index), f"unknown case field '{name}'",
                                "known fields: " + ", ".join(CASE_FIELDS))
    rules = []
    for index, entry in enumerate(pf.rules):
        base: KeyPath = ("rules", index)
        if entry.applies_to == "note":
            if not entry.categories:
                raise doc.error((*base, "categories"), "a note rule must list categories",
                                "use [\"*\"] for every category")
            for cindex, cat in enumerate(entry.categories):
                if cat != ALL and cat not in categories:
                    raise doc.error((*base, "categories", cindex), f"unknown category '{cat}'")
            covered = categories if ALL in entry.categories else set(entry.categories)
        else:
            if entry.categories:
                raise doc.error((*base, "categories"), "a task rule has no categories")
            covered = set()
        conds = tuple(
            _parse_condition(doc, (*base, "when", cindex), raw, professions, entry.applies_to)
            for cindex, raw in enumerate(entry.when)
        )
        rules.append(Rule(entry.id, entry.effect, entry.applies_to, frozenset(covered), conds,
                          entry.description))
    return pf, tuple(rules)


def policy_hash(data: Any) -> str:
    """sha256 of the normalised policy: the same rules give the same hash, whatever the
    comments, spacing or key order of the file."""
    normal = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                        default=str)
    return hashlib.sha256(normal.encode("utf-8")).hexdigest()


def read_policy(path: Path | str, text: str | None = None) -> tuple[YamlDoc, PolicyFile,
                                                                     tuple[Rule, ...]]:
    doc = load_yaml(path, text)
    pf, rules = parse_policy(doc)
    return doc, pf, rules
