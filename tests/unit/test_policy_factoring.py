"""Factoring the policy's OR of rules never changes its truth (policy.factoring)."""

from __future__ import annotations

import sqlite3
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import ColumnElement, literal_column
from sqlalchemy.dialects import sqlite

from anchor_tui.policy.factoring import factored, is_category

CONDITIONS = ("member", "consent", "author", "same_profession", "assignee")
CATEGORIES = ("general", "health", "youth_work", "child_welfare")

atoms = st.one_of(
    st.sampled_from(CONDITIONS),
    st.frozensets(st.sampled_from(CATEGORIES), min_size=1).map(lambda c: ("category", c)),
)
terms = st.lists(st.frozensets(atoms, max_size=4), max_size=7)
worlds = st.tuples(st.fixed_dictionaries({c: st.booleans() for c in CONDITIONS}),
                   st.sampled_from(CATEGORIES))


def _holds(atom: Any, truth: dict[str, bool], category: str) -> bool:
    return category in atom[1] if is_category(atom) else truth[atom]


def _evaluate(expr: ColumnElement[bool]) -> bool:
    sql = str(expr.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}))
    with sqlite3.connect(":memory:") as conn:
        return bool(conn.execute(f"SELECT CASE WHEN {sql} THEN 1 ELSE 0 END").fetchone()[0])


@given(terms=terms, world=worlds)
def test_factored_equals_the_plain_or_of_ands(terms: list[frozenset[Any]],
                                              world: tuple[dict[str, bool], str]) -> None:
    truth, category = world

    def sql(atom: Any) -> ColumnElement[bool]:
        # Not true()/false(): SQLAlchemy would fold those away before SQLite sees them.
        return literal_column("1" if _holds(atom, truth, category) else "0") == 1

    expected = any(all(_holds(a, truth, category) for a in term) for term in terms)
    assert _evaluate(factored(terms, sql, lambda atom: 0)) is expected


def test_a_shared_condition_is_written_once() -> None:
    written: list[Any] = []

    def sql(atom: Any) -> ColumnElement[bool]:
        written.append(atom)
        return literal_column("1") == 1

    member_rules = [frozenset({"member", "same_profession"}),
                    frozenset({"member", ("category", frozenset({"general"}))}),
                    frozenset({"member", "consent", ("category", frozenset({"health"}))}),
                    frozenset({"member", "consent", ("category", frozenset({"youth_work"}))})]
    factored([*member_rules, frozenset({"author"})], sql,
             lambda atom: {"member": 2, "consent": 3}.get(atom, 0) if isinstance(atom, str)
             else 0)
    assert written.count("member") == 1 and written.count("consent") == 1
