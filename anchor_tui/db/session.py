"""Sessions that carry a viewer, and the central disclosure filter.

Every ORM query of a protected entity (``models.PROTECTED``) gets the policy's
compiled filter through one ``do_orm_execute`` hook with ``with_loader_criteria``.
A query of a protected entity in a session without a viewer raises
:class:`NoViewerError` (fail closed). Administrative commands (seed, user admin,
migrations) open an explicit *system* session that names its reason.

A viewer is immutable and a session belongs to one viewer: signing in, switching user
or starting a huddle opens new sessions, so nothing loaded under one viewer can
survive into another.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Protocol, TypeVar

from sqlalchemy import ColumnElement, Connection, Engine, Table, event, false
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker, with_loader_criteria
from sqlalchemy.sql import visitors

from anchor_tui.db import rls
from anchor_tui.db.engine import WRITE, describe_connect_error
from anchor_tui.db.models import PROTECTED
from anchor_tui.db.retry import transient_error
from anchor_tui.domain import Viewer
from anchor_tui.errors import NoViewerError

T = TypeVar("T")


class DisclosureFilter(Protocol):
    """What the session needs from the policy (``anchor_tui.policy.Policy``)."""

    def sql_filter(self, entity: type[Any], viewer: Viewer) -> ColumnElement[bool]: ...

    def sql_params(self, viewer: Viewer, now: dt.datetime) -> dict[str, Any]: ...


class ViewerSession(Session):
    """A session bound to one viewer (or to an explicit system reason)."""


@event.listens_for(ViewerSession, "do_orm_execute")
def _apply_disclosure(state: ORMExecuteState) -> None:
    if not (state.is_select or state.is_update or state.is_delete):
        return
    # Lazy, relationship and refresh loads are checked like any statement: criteria are
    # attached only where a protected table appears, so nothing may rely on
    # propagation from the statement that loaded a parent.
    info = state.session.info
    if info.get("system"):
        return
    viewer: Viewer | None = info.get("viewer")
    policy: DisclosureFilter | None = info.get("filter")
    present = _protected_entities_in(state.statement)
    if viewer is None or policy is None:
        if present:
            raise NoViewerError(
                "A protected record was requested without a signed-in viewer.",
                "This is a bug in anchor-tui: please report it (nothing was shown).",
            )
        # Belt and braces: even a statement the scan missed sees no protected row.
        criteria: dict[type[Any], ColumnElement[bool]] = {e: false() for e in PROTECTED}
    else:
        now: dt.datetime = info["now"]
        if not present:
            return
        criteria = {entity: policy.sql_filter(entity, viewer) for entity in present}
        extra = policy.sql_params(viewer, now)
        params = state.parameters
        if params is None or isinstance(params, Mapping):
            state.parameters = {**(params or {}), **extra}
        else:
            state.parameters = [{**p, **extra} for p in params]
    # with_loader_criteria applies the criteria wherever the entity appears in the
    # statement (FROM, joins, subqueries, EXISTS, counts).
    for entity, condition in criteria.items():
        state.statement = state.statement.options(
            with_loader_criteria(entity, condition, include_aliases=True)
        )


@event.listens_for(ViewerSession, "after_begin")
def _pass_viewer_to_the_database(session: Session, _transaction: Any,
                                 connection: Connection) -> None:
    # The second wall: on PostgreSQL every transaction tells row-level security who is
    # looking (or which administration runs), local to that transaction. Without
    # it the protected tables show no row at all.
    if connection.dialect.name != "postgresql":
        return
    settings = rls.settings_of(session.info)
    if settings is not None:
        rls.apply_settings(connection, settings,
                           custom_plans=bool(session.info.get("custom_plans")))


_PROTECTED_TABLES = {str(entity.__tablename__): entity for entity in PROTECTED}


def _protected_entities_in(statement: Any) -> list[type[Any]]:
    """The protected entities whose tables appear anywhere in the statement (a statement
    marked ``reusable`` was scanned when it was marked: it cannot change)."""
    known = _REUSABLE.get(id(statement))
    if known is not None and known[0] is statement:
        return known[1]
    return _scan(statement)


_REUSABLE: dict[int, tuple[Any, list[type[Any]]]] = {}


def reusable(statement: T) -> T:
    """Mark a statement that is built once and run again (the unfiltered board's): the
    disclosure hook scans it now, once, instead of at every run (SQLAlchemy statements
    are immutable). The statement is kept for the life of the process."""
    _REUSABLE[id(statement)] = (statement, _scan(statement))
    return statement


def _scan(statement: Any) -> list[type[Any]]:
    found: dict[str, type[Any]] = {}
    for element in visitors.iterate(statement):
        table = element if isinstance(element, Table) else getattr(element, "table", None)
        if isinstance(table, Table) and table.name in _PROTECTED_TABLES:
            found[table.name] = _PROTECTED_TABLES[table.name]
    return list(found.values())


class SessionFactory:
    """Opens sessions for a viewer (read or write) or for an explicit system reason."""

    def __init__(self, engine: Engine, policy: DisclosureFilter) -> None:
        # PostgreSQL reads run READ ONLY and end with COMMIT, not ROLLBACK: psycopg drops
        # every prepared statement of a connection on ROLLBACK, so reads that rolled back
        # were parsed and planned again each time (0.5-0.8 ms for a filtered note list).
        # READ ONLY keeps the promise that a read never writes. SQLite reads roll back.
        self._pg = engine.dialect.name == "postgresql"
        reader = engine.execution_options(postgresql_readonly=True) if self._pg else engine
        self._read = sessionmaker(bind=reader, class_=ViewerSession, expire_on_commit=False)
        self._write = sessionmaker(
            bind=engine.execution_options(**WRITE), class_=ViewerSession, expire_on_commit=False
        )
        self._policy = policy
        self._url = engine.url.render_as_string(hide_password=True)

    def _info(self, viewer: Viewer, now: dt.datetime | None) -> dict[str, Any]:
        moment = now or dt.datetime.now(dt.UTC)
        return {"viewer": viewer, "filter": self._policy, "now": moment}

    @contextmanager
    def read(self, viewer: Viewer, now: dt.datetime | None = None, *,
             custom_plans: bool = False) -> Iterator[Session]:
        """A read-only unit of work for ``viewer`` (READ ONLY on PostgreSQL).

        ``custom_plans`` (PostgreSQL): every statement planned for its own parameters.
        psycopg prepares a statement once it has run five times on a connection, and
        after five more runs PostgreSQL may settle on one generic plan for any
        parameters. For the board's filter that is a plan that cannot use the names'
        prefix indexes (``LIKE :prefix``, the prefix unknown when planning): after ten
        board reads of ``aino`` in a session, one took 137 ms instead of 45. Not for
        every read: planning a case's notes (the disclosure filter's large expression)
        afresh each time cost 11 ms of opening a case."""
        info = self._info(viewer, now)
        if custom_plans:
            info["custom_plans"] = True
        with _database_errors(self._url), self._read(info=info) as session:
            try:
                yield session
            except BaseException:
                session.rollback()
                raise
            if self._pg:
                session.commit()  # READ ONLY: nothing to keep; the prepared statements stay
                # As a rollback would: what was loaded for this viewer cannot be read
                # once the unit of work is over.
                session.expire_all()
            else:
                session.rollback()

    @contextmanager
    def write(self, viewer: Viewer, now: dt.datetime | None = None) -> Iterator[Session]:
        """A write unit of work for ``viewer``: committed on success, rolled back on error."""
        with _database_errors(self._url), self._write(info=self._info(viewer, now)) as session, \
                session.begin():
            yield session

    @contextmanager
    def system(self, reason: str) -> Iterator[Session]:
        """An unfiltered unit of work for administration (seed, user admin). Committed."""
        if not reason:
            raise ValueError("a system session must name its reason")
        with _database_errors(self._url), self._write(info={"system": reason}) as session, \
                session.begin():
            yield session


@contextmanager
def _database_errors(url: str) -> Iterator[None]:
    """A server gone, a file locked or unreadable: a DatabaseError with a fix, not a crash.
    A serialization failure or deadlock: a TransientError, which services repeat."""
    try:
        yield
    except (OperationalError, InterfaceError) as exc:
        transient = transient_error(exc)
        if transient is not None:  # retried by services (db/retry.py)
            raise transient from exc
        raise describe_connect_error(url, exc) from exc
