"""The huddle's tables: the huddle, who attended, its decisions and actions, its agenda
and the cases flagged for it. Part of the one data model: import them, with the rest,
from ``anchor_tui.db.models``."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from anchor_tui.db.model_base import Base, in_values, partial_unique_index
from anchor_tui.db.types import utcnow


class Huddle(Base):
    """A daily huddle at the shared terminal."""

    __tablename__ = "huddle"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_by_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="RESTRICT"))
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[dt.datetime | None]
    minutes: Mapped[str | None] = mapped_column(Text)


class HuddleAttendee(Base):
    __tablename__ = "huddle_attendee"
    __table_args__ = (Index("ix_huddle_attendee_huddle_id", "huddle_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    huddle_id: Mapped[int] = mapped_column(ForeignKey("huddle.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="RESTRICT"))
    joined_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    left_at: Mapped[dt.datetime | None]


class HuddleItem(Base):
    """A decision or action captured in a huddle (an action also becomes a task)."""

    __tablename__ = "huddle_item"
    __table_args__ = (
        CheckConstraint("kind IN ('decision', 'action')", name="kind"),
        Index("ix_huddle_item_huddle_id", "huddle_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    huddle_id: Mapped[int] = mapped_column(ForeignKey("huddle.id", ondelete="CASCADE"))
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("task.id", ondelete="SET NULL"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="RESTRICT"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


AGENDA_SOURCES = ("notification", "review", "flagged")


class HuddleFlag(Base):
    """A case someone flagged for the next huddle; cleared once a huddle discussed it.

    Deliberately without a free-text reason: a flag is seen by every profession in the
    huddle, and text here would bypass the disclosure policy.
    """

    __tablename__ = "huddle_flag"
    __table_args__ = (
        partial_unique_index("uq_huddle_flag_open_case_id", "case_id",
                             where="cleared_at IS NULL"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"))
    flagged_by_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="RESTRICT"))
    flagged_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    cleared_at: Mapped[dt.datetime | None]
    cleared_in_huddle_id: Mapped[int | None] = mapped_column(
        ForeignKey("huddle.id", ondelete="SET NULL"))


class HuddleCase(Base):
    """A case on a huddle's agenda: its place, why it is there and the time spent on it."""

    __tablename__ = "huddle_case"
    __table_args__ = (
        UniqueConstraint("huddle_id", "case_id"),
        CheckConstraint(in_values("source", AGENDA_SOURCES), name="source"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    huddle_id: Mapped[int] = mapped_column(ForeignKey("huddle.id", ondelete="CASCADE"))
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(16))
    seconds_spent: Mapped[int] = mapped_column(Integer, default=0)
