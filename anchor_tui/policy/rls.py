"""The disclosure policy as PostgreSQL row-level security (the second wall).

Nothing here is a third translation of the conditions: every branch is compiled from
``Policy.attendee_sql``, the SQLAlchemy expression the central filter uses, with the
moment read from the transaction's settings (``db/rls.py`` sets them per transaction
from the session's viewer) instead of bound parameters, and the person as the branch
function's second argument.

Purpose, break-the-glass and profession are constants when the app compiles its filter,
so there is one compiled branch per combination (identical ones shared), installed as a
function of the row and a user id; the table's policy chooses the branch with ``CASE``:

- no viewer and no system reason set: ``false`` (a protected table shows no row);
- a system session (administration, named reason): every row;
- an individual purpose: the viewer's branch for their profession;
- a huddle: the audience is not empty and no attendee is denied the row (the
  intersection); an attendee of a profession the policy does not declare is denied.

A branch is the ``WHERE`` of ``SELECT 1 FROM <table> WHERE ...``, so its subqueries
correlate to the protected row exactly as in the app's filter; in the function the row
is the parameter named like its table. (As functions, PostgreSQL plans one branch when
it runs it, once per connection, instead of all of them for every query.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Date, Dialect, Integer, Select, func, literal_column, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.sql.elements import ColumnElement

from anchor_tui.db.models import PURPOSES
from anchor_tui.db.types import UTCDateTime
from anchor_tui.policy.conditions import SqlAttendee, SqlScope
from anchor_tui.policy.engine import Policy

SETTINGS = ("system", "viewer", "profession", "purpose", "break_glass", "audience", "now",
            "today")
"""The transaction settings (``anchor.<name>``) the expressions read, through the
functions that ``db/rls.py`` creates (``anchor_<name>()``)."""
HUDDLE = "huddle"
ATTENDEE = "anchor_attendee"
"""The alias of one attendee in the huddle branch: ``anchor_audience() AS anchor_attendee``."""
WRITER_COLUMNS = ("author_id", "created_by_id")
"""A protected row's writer: who may insert it (the first of these the table has)."""

_DIALECT: Dialect = postgresql.dialect()  # type: ignore[no-untyped-call]


def _compile(expression: ColumnElement[bool], entity: type[Any]) -> str:
    """The SQL text of ``expression`` as the WHERE clause over ``entity``'s table."""
    table = entity.__table__
    statement: Select[Any] = select(literal_column("1")).select_from(table).where(expression)
    compiled = statement.compile(dialect=_DIALECT, compile_kwargs={"literal_binds": True})
    sql = str(compiled)
    prefix = f"SELECT 1 \nFROM {_DIALECT.identifier_preparer.format_table(table)} \nWHERE "
    body = sql[len(prefix):]
    # The row is the branch function's parameter named like its table: a subquery that
    # read that table itself would shadow it.
    own = _DIALECT.identifier_preparer.format_table(table)
    if not sql.startswith(prefix) or compiled.params or f"FROM {own} " in body \
            or f"JOIN {own} " in body:
        raise ValueError(f"unexpected SQL for {table.name}: {sql[:80]!r}")
    return body


def _scope(purpose: str, break_glass: bool) -> SqlScope:
    return SqlScope(purpose, break_glass, func.anchor_now(type_=UTCDateTime()),
                    func.anchor_today(type_=Date()))


@dataclass(frozen=True)
class Branch:
    """One compiled branch: what a person of one profession may see of a row, for one
    purpose, with or without break-the-glass. Installed as a function of the row and the
    person's user id (``$2``), so that PostgreSQL plans only the branch it runs, once per
    connection, instead of every branch of every query."""

    name: str
    """The function's name: ``anchor_rls_<table>_<n>``."""
    describe: str
    body: str
    """The boolean SQL expression over the row (named like its table) and ``$2``."""


@dataclass(frozen=True)
class TableSecurity:
    """Everything row-level security needs for one protected table."""

    table: str
    branches: tuple[Branch, ...]
    using: str
    """Which rows a transaction may see (and update or delete)."""
    insert_check: str
    update_check: str


class _Branches:
    def __init__(self, policy: Policy, entity: type[Any]) -> None:
        self.policy = policy
        self.entity = entity
        self.table = str(entity.__tablename__)
        self.by_body: dict[str, Branch] = {}

    def call(self, purpose: str, break_glass: bool, profession: str, user: str) -> str:
        who = SqlAttendee(literal_column("$2", Integer), profession)
        body = _compile(self.policy.attendee_sql(self.entity, who, _scope(purpose, break_glass)),
                        self.entity)
        branch = self.by_body.get(body)
        if branch is None:
            describe = f"{self.table}: {purpose}, {profession}" + \
                (", break-the-glass" if break_glass else "")
            branch = Branch(f"anchor_rls_{self.table}_{len(self.by_body) + 1}", describe, body)
            self.by_body[body] = branch
        return f"{branch.name}({self.table}, {user})"

    def by_profession(self, purpose: str, break_glass: bool, user: str, profession: str) -> str:
        arms = [f"WHEN '{p}' THEN {self.call(purpose, break_glass, p, user)}"
                for p in sorted(self.policy.professions)]
        return f"CASE {profession} {' '.join(arms)} ELSE false END"

    def person(self, purpose: str, user: str, profession: str) -> str:
        """One person's branch; break-the-glass chosen at run time where it matters."""
        plain = self.by_profession(purpose, False, user, profession)
        urgent = self.by_profession(purpose, True, user, profession)
        if plain == urgent:
            return plain
        return f"CASE WHEN anchor_break_glass() THEN {urgent} ELSE {plain} END"


_COMPILED: dict[str, dict[type[Any], TableSecurity]] = {}
"""What :func:`table_security` compiled, by policy hash, then table: an upgrade installs
row-level security once per migration that changes a protected table (five from an
empty database), each time for the same policy, and compiling was most of its time."""
_POLICIES_KEPT = 4


def table_security(policy: Policy, entity: type[Any]) -> TableSecurity:
    """Row-level security of ``entity``'s table under ``policy``.

    The result depends only on the policy's rules, which its hash covers (the team's
    settings only check them), and on the table: compiled once per process for the
    last few policies."""
    compiled = _COMPILED.get(policy.hash)
    if compiled is None:
        while len(_COMPILED) >= _POLICIES_KEPT:
            del _COMPILED[next(iter(_COMPILED))]  # the oldest
        compiled = _COMPILED[policy.hash] = {}
    security = compiled.get(entity)
    if security is None:
        security = compiled[entity] = _table_security(policy, entity)
    return security


def _table_security(policy: Policy, entity: type[Any]) -> TableSecurity:
    branches = _Branches(policy, entity)
    cases = []
    for purpose in PURPOSES:
        if purpose == HUDDLE:
            person = branches.person(purpose, f"{ATTENDEE}.user_id", f"{ATTENDEE}.profession")
            # Compiled from the policy and fixed words: no value reaches this text.
            visible = ("(EXISTS (SELECT FROM anchor_audience()) AND NOT EXISTS (SELECT FROM "  # noqa: S608
                       f"anchor_audience() AS {ATTENDEE} WHERE NOT coalesce({person}, false)))")
        else:
            person = branches.person(purpose, "anchor_viewer()", "anchor_profession()")
            visible = f"coalesce({person}, false)"
        cases.append(f"WHEN anchor_purpose() = '{purpose}' THEN {visible}")
    using = f"CASE WHEN anchor_system() THEN true {' '.join(cases)} ELSE false END"
    return TableSecurity(branches.table, tuple(branches.by_body.values()), using,
                         _insert_check(entity), UPDATE_CHECK)


def _insert_check(entity: type[Any]) -> str:
    """Who may insert a row: a system session, or the viewer writing as themselves."""
    columns = entity.__table__.c
    writer = next((name for name in WRITER_COLUMNS if name in columns), None)
    viewer = "anchor_purpose() IS NOT NULL"
    if writer is not None:
        viewer += f" AND {writer} = anchor_viewer()"
    return f"anchor_system() OR ({viewer})"


UPDATE_CHECK = "anchor_system() OR anchor_purpose() IS NOT NULL"
"""What an updated row must satisfy: a system session or a signed-in viewer (the row
itself had to be visible to be updated)."""
