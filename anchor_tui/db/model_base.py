"""What every table of the data model shares: the declarative base, the constraint
naming convention and the helpers for checks and partial indexes (``models`` and
``huddle_models`` build on it; import the tables from ``anchor_tui.db.models``)."""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import Index, MetaData
from sqlalchemy.orm import DeclarativeBase

from anchor_tui.db.types import UTCDateTime

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

def in_values(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"


def partial_unique_index(name: str, *columns: str, where: str) -> Index:
    """A unique index over the rows where ``where`` (SQL, the same on both databases) holds.

    The predicate is kept in the index's ``info`` (``PARTIAL_WHERE``), not given as
    ``sqlite_where=`` / ``postgresql_where=``: naming a dialect's option makes SQLAlchemy
    import that dialect to check it, so the models would load PostgreSQL's dialect into
    every SQLite app (and SQLite's into every PostgreSQL one), about 2.4 MiB of a launch
    for nothing. The schema is made only by the migrations, which create these indexes
    with their predicates; a test checks the migrated indexes against ``info``.
    """
    return Index(name, *columns, unique=True, info={PARTIAL_WHERE: where})


PARTIAL_WHERE = "anchor_partial_where"
"""The ``info`` key of a partial index's predicate (``partial_unique_index``)."""


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dt.datetime: UTCDateTime()}
