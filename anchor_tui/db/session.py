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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import ColumnElement, Engine, event
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker, with_loader_criteria

from anchor_tui.db.engine import WRITE
from anchor_tui.db.models import PROTECTED
from anchor_tui.domain import Viewer
from anchor_tui.errors import NoViewerError

FilterBuilder = Callable[[type[Any], Viewer, dt.datetime], ColumnElement[bool]]
"""Builds the SQL condition under which ``viewer`` may see rows of an entity at ``now``."""


class ViewerSession(Session):
    """A session bound to one viewer (or to an explicit system reason)."""


@event.listens_for(ViewerSession, "do_orm_execute")
def _apply_disclosure(state: ORMExecuteState) -> None:
    if not (state.is_select or state.is_update or state.is_delete):
        return
    if state.is_column_load or state.is_relationship_load:
        # Lazy loads reuse the criteria of the statement that loaded the parent
        # (with_loader_criteria propagates); nothing new to add.
        return
    info = state.session.info
    if info.get("system"):
        return
    viewer: Viewer | None = info.get("viewer")
    build: FilterBuilder | None = info.get("filter")
    protected = [m for m in PROTECTED if _touches(state, m)]
    if not protected:
        return
    if viewer is None or build is None:
        raise NoViewerError(
            "A protected record was requested without a signed-in viewer.",
            "This is a bug in anchor-tui: please report it (nothing was shown).",
        )
    now: dt.datetime = info["now"]
    for entity in PROTECTED:
        state.statement = state.statement.options(
            with_loader_criteria(entity, build(entity, viewer, now), include_aliases=True)
        )


def _touches(state: ORMExecuteState, entity: type[Any]) -> bool:
    """Whether the statement involves ``entity`` (as a column source or a join/subquery)."""
    for mapper in state.all_mappers:
        if mapper.class_ is entity:
            return True
    table = entity.__table__
    froms = getattr(state.statement, "get_final_froms", None)
    stack = list(froms()) if froms else []
    seen: set[int] = set()
    while stack:
        element = stack.pop()
        if id(element) in seen:
            continue
        seen.add(id(element))
        if element is table:
            return True
        stack.extend(element.get_children())
    return False


class SessionFactory:
    """Opens sessions for a viewer (read or write) or for an explicit system reason."""

    def __init__(self, engine: Engine, build_filter: FilterBuilder) -> None:
        self._read = sessionmaker(bind=engine, class_=ViewerSession, expire_on_commit=False)
        self._write = sessionmaker(
            bind=engine.execution_options(**WRITE), class_=ViewerSession, expire_on_commit=False
        )
        self._build_filter = build_filter

    def _info(self, viewer: Viewer, now: dt.datetime | None) -> dict[str, Any]:
        return {"viewer": viewer, "filter": self._build_filter, "now": now or dt.datetime.now(dt.UTC)}

    @contextmanager
    def read(self, viewer: Viewer, now: dt.datetime | None = None) -> Iterator[Session]:
        """A read-only unit of work for ``viewer``; rolled back at the end."""
        with self._read(info=self._info(viewer, now)) as session:
            try:
                yield session
            finally:
                session.rollback()

    @contextmanager
    def write(self, viewer: Viewer, now: dt.datetime | None = None) -> Iterator[Session]:
        """A write unit of work for ``viewer``: committed on success, rolled back on error."""
        with self._write(info=self._info(viewer, now)) as session, session.begin():
            yield session

    @contextmanager
    def system(self, reason: str) -> Iterator[Session]:
        """An unfiltered unit of work for administration (seed, user admin). Committed."""
        if not reason:
            raise ValueError("a system session must name its reason")
        with self._write(info={"system": reason}) as session, session.begin():
            yield session
