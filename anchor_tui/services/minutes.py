"""Ending a huddle: the minutes, stored with the huddle and written as a Markdown file.

The minutes are written for everyone who was present at any time during the huddle,
and hold only what every one of them may see: each case is named with the case fields
they all may see (initials where not everyone may see names), and a decision or action
appears only if all of them could see everything that was on screen for its case when it
was typed (``services.huddle_agenda.visible_items``). Nothing is said about what was left
out. User text is escaped for Markdown and made inert (``safe_text.markdown_text``).

The file goes to the user data directory (``huddle-minutes/``, the folder ``0700``, the
file ``0600``: only the terminal's OS user can read it).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from pathlib import Path

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from anchor_tui.db import models as m
from anchor_tui.db.types import utcnow
from anchor_tui.domain import Viewer
from anchor_tui.errors import AnchorError
from anchor_tui.private_file import write_private
from anchor_tui.safe_text import markdown_text
from anchor_tui.services import audit
from anchor_tui.services.backend import Backend
from anchor_tui.services.huddle_agenda import (
    AgendaEntry,
    ItemEntry,
    audience_viewer,
    everyone,
    read_agenda,
    stays_of,
    visible_items,
)
from anchor_tui.services.huddle_time import add_time
from anchor_tui.settings import user_data_dir

MINUTES_FOLDER = "huddle-minutes"
LEFT_ON = "Ended after being left on:"
"""How the minutes of a huddle the app ended after it was left on say so (and how a
rebuild after retention finds that they did)."""


def default_minutes_dir() -> Path:
    return user_data_dir() / MINUTES_FOLDER


class HuddleEndedElsewhere(AnchorError):
    """The huddle was ended meanwhile by something else than this end (another
    terminal, or the app ending it as left on): this end is refused, the huddle is over."""


@dataclass(frozen=True)
class EndedHuddle:
    """A huddle that has ended: its minutes and where their file is."""

    huddle_id: int
    minutes: str
    path: Path | None
    """None when the file could not be written (the minutes are stored all the same)."""
    problem: str = ""
    """What went wrong with the file, in words for the screen."""


def _clock(moment: dt.datetime) -> str:
    return moment.astimezone().strftime("%H:%M")


def duration_words(seconds: int) -> str:
    minutes, rest = divmod(max(0, seconds), 60)
    if not minutes:
        return f"{rest} s"
    return f"{minutes} min {rest} s" if rest else f"{minutes} min"


def build_minutes(backend: Backend, viewer: Viewer, today: dt.date, now: dt.datetime,
                  leave_out: frozenset[int] = frozenset(),
                  spent: tuple[int, int] | None = None, *, left_on: bool = False) -> str:
    """The minutes of the viewer's huddle as it stands (Markdown), without the cases in
    ``leave_out`` (cases whose content retention erased), with ``spent`` (a case and
    seconds the huddle spent on it, not stored yet: the end stores them) added.
    ``left_on``: nobody ended it; the app did, at its last activity (``now``)."""
    if viewer.huddle_id is None:
        raise AnchorError("No huddle is on.", "Start one first.")
    stays = stays_of(backend, viewer)
    audience = everyone(stays)
    minutes_viewer = audience_viewer(viewer, audience)
    with backend.sessions.read(viewer, now) as session:
        huddle = session.get(m.Huddle, viewer.huddle_id)
        assert huddle is not None
        started = huddle.started_at
        names: dict[int, str] = {
            user_id: name for user_id, name in session.execute(
                select(m.User.id, m.User.display_name).where(
                    m.User.id.in_([s.user_id for s in stays])))}
    professions = backend.policy.professions
    lines = ["# Huddle minutes", "",
             f"{markdown_text(backend.team.team_name)} · "
             f"{started.astimezone().strftime('%Y-%m-%d')} {_clock(started)}–{_clock(now)} "
             f"({duration_words(int((now - started).total_seconds()))})", "", "Present:", ""]
    for stay in stays:
        until = _clock(stay.left_at) if stay.left_at is not None else _clock(now)
        lines.append(f"- {markdown_text(professions.get(stay.profession, stay.profession))}"
                     f": {markdown_text(names.get(stay.user_id, '?'))}, "
                     f"{_clock(stay.joined_at)}–{until}")
    lines += ["", "These minutes hold only what everyone present may see.", ""]
    if left_on:
        lines += [f"{LEFT_ON} nobody ended this huddle at its terminal, so anchor-tui "
                  f"ended it at its last activity ({_clock(now)}).", ""]
    agenda = read_agenda(backend, minutes_viewer, today)
    if spent is not None and spent[1] > 0:
        agenda = tuple(replace(e, seconds_spent=e.seconds_spent + spent[1])
                       if e.case_id == spent[0] else e for e in agenda)
    items = visible_items(backend, minutes_viewer, None, audience, now)
    by_case: dict[int, list[ItemEntry]] = {}
    for item in items:
        by_case.setdefault(item.case_id, []).append(item)
    # A case whose content retention erased while this huddle was on (or left on) is
    # left out as in the minutes rebuilt after retention: its person's name, kept for
    # another case of theirs, is never tied to it again.
    erased = _erased_among(backend, viewer, now, {e.case_id for e in agenda} | set(by_case))
    rebuilt = bool(leave_out)
    leave_out = leave_out | erased
    agenda = tuple(e for e in agenda if e.case_id not in leave_out)
    discussed = [e for e in agenda if e.seconds_spent > 0 or e.case_id in by_case]
    for number, entry in enumerate(discussed, start=1):
        lines += _case_lines(number, entry, by_case.get(entry.case_id, []))
    if not discussed:
        lines += ["No case was discussed.", ""]
    left = len(agenda) - len(discussed)
    if left:
        lines += [f"Not reached: {left} {'case' if left == 1 else 'cases'} on the agenda.", ""]
    if rebuilt:
        lines += [f"Rebuilt {today.isoformat()}: the content of a case whose retention "
                  "period ended was erased from these minutes.", ""]
    elif leave_out:
        lines += ["Left out: a case whose retention period ended while the huddle was on.",
                  ""]
    return "\n".join(lines).rstrip() + "\n"


def _erased_among(backend: Backend, viewer: Viewer, now: dt.datetime,
                  case_ids: set[int]) -> frozenset[int]:
    if not case_ids:
        return frozenset()
    with backend.sessions.read(viewer, now) as session:
        return frozenset(session.scalars(select(m.Case.id).where(
            m.Case.id.in_(case_ids), m.Case.erased_at.is_not(None))))


def rebuild_after_retention(backend: Backend, case_id: int, now: dt.datetime,
                            directory: Path | None = None) -> list[int]:
    """Rebuild the stored minutes of every ended huddle that discussed ``case_id``, now
    that retention erased its content, leaving out every erased case; rewrite this
    terminal's minutes file of that huddle too, if there is one in ``directory``.
    Returns the huddle ids rebuilt."""
    with backend.sessions.system("retention: huddle minutes") as session:
        on_agenda = select(m.HuddleCase.huddle_id).where(m.HuddleCase.case_id == case_id)
        with_items = select(m.HuddleItem.huddle_id).where(m.HuddleItem.case_id == case_id)
        huddles = session.execute(
            select(m.Huddle.id, m.Huddle.ended_at, m.Huddle.minutes, m.User)
            .join(m.User, m.User.id == m.Huddle.started_by_id)
            .where(m.Huddle.minutes.is_not(None), m.Huddle.ended_at.is_not(None),
                   or_(m.Huddle.id.in_(on_agenda), m.Huddle.id.in_(with_items)))).all()
        erased = frozenset(session.scalars(select(m.Case.id).where(
            m.Case.erased_at.is_not(None))))
    rebuilt: list[int] = []
    for huddle_id, ended_at, before, starter in huddles:
        assert ended_at is not None  # only ended huddles are read
        chair = Viewer(starter.id, starter.username, starter.display_name, starter.profession,
                       starter.role, purpose="huddle", huddle_id=huddle_id)
        viewer = audience_viewer(chair, everyone(stays_of(backend, chair)))
        minutes = build_minutes(backend, viewer, ended_at.astimezone().date(), ended_at,
                                leave_out=erased | {case_id},
                                left_on=before is not None and LEFT_ON in before)
        minutes = minutes.replace(
            f"Rebuilt {ended_at.astimezone().date().isoformat()}:",
            f"Rebuilt {now.astimezone().date().isoformat()}:")
        with backend.sessions.system("retention: huddle minutes") as session:
            huddle = session.get(m.Huddle, huddle_id)
            assert huddle is not None
            huddle.minutes = minutes
        if directory is not None:
            path = directory / f"huddle-{huddle_id}-{ended_at.astimezone():%Y-%m-%d}.md"
            if path.exists():
                write_minutes_file(minutes, directory, huddle_id, ended_at)
        rebuilt.append(huddle_id)
    return rebuilt


def _case_lines(number: int, entry: AgendaEntry, items: list[ItemEntry]) -> list[str]:
    lines = [f"## {number}. {markdown_text(entry.person_label)} · "
             f"{markdown_text(entry.category)} · {markdown_text(entry.stage)} "
             f"({duration_words(entry.seconds_spent)})", "",
             "On the agenda: " + ", ".join(markdown_text(r) for r in entry.reasons), ""]
    for item in items:
        if item.kind == "decision":
            lines.append(f"- Decision: {markdown_text(item.text)}")
        else:
            who = markdown_text(item.assignee) if item.assignee else "nobody assigned"
            due = f", due {item.due.isoformat()}" if item.due is not None else ""
            lines.append(f"- Action: {markdown_text(item.text)} ({who}{due})")
    if not items:
        lines.append("- Nothing recorded.")
    return [*lines, ""]


def end_huddle(backend: Backend, viewer: Viewer, directory: Path, today: dt.date,
               now: dt.datetime | None = None, *, signing_out: Viewer | None = None,
               spent: tuple[int, int] | None = None) -> EndedHuddle:
    """End the huddle: everyone leaves (audited), the minutes are stored, flags of the
    cases discussed are cleared, and the minutes file is written. ``spent``, the time
    on the case on screen as the huddle ended, is added with the end (once: found by
    its moment, an end made again adds nothing).

    The huddle ends at ``now``: made again after its commit's answer was lost, the end
    is found by that moment (:func:`huddle_ended_at`). ``signing_out``, the person whose
    session the end closes, is audited signed out in the same unit of work, so the
    sign-out is written with the end, once, and never lost behind it. A huddle another
    terminal ended meanwhile is refused as ended already; the person's session is over
    all the same (the terminal is back at the sign-in), so their sign-out is written
    before the refusal is raised."""
    if viewer.huddle_id is None:
        raise AnchorError("No huddle is on.", "Start one first.")
    huddle_id = viewer.huddle_id
    now = now or utcnow()
    minutes = build_minutes(backend, viewer, today, now, spent=spent)
    ended_elsewhere = False
    with backend.sessions.write(viewer, now) as session:
        # Locked, as the app's end of a huddle left on locks it: read unlocked while that
        # end held it, the huddle was ended a second time over it (on PostgreSQL).
        huddle = session.get(m.Huddle, huddle_id, with_for_update=True)
        if huddle is None or huddle.ended_at is not None:
            ended_elsewhere = True
            # The sign-out names the huddle it was written with, and is written once: made
            # again after this commit's answer was lost, the end finds the huddle ended at
            # another moment than its own (so not made by it) and wrote it a second time.
            if signing_out is not None and session.scalar(
                    select(m.AuditEvent.id).where(
                        m.AuditEvent.action == "sign_out",
                        m.AuditEvent.actor_id == signing_out.user_id,
                        m.AuditEvent.huddle_id == huddle_id).limit(1)) is None:
                audit.record(session, signing_out, "sign_out", huddle_id=huddle_id)
        else:
            _end(session, viewer, huddle, minutes, now, signing_out=signing_out,
                 spent=spent)
    if ended_elsewhere:
        raise HuddleEndedElsewhere("This huddle has ended already.", "Start a new huddle.")
    return _with_file(huddle_id, minutes, directory, now)


def _end(session: Session, viewer: Viewer, huddle: m.Huddle, minutes: str,
         now: dt.datetime, *, signing_out: Viewer | None,
         spent: tuple[int, int] | None) -> None:
    """The end's writes, in ``session``'s unit of work (see :func:`end_huddle`)."""
    huddle_id = huddle.id
    if spent is not None:
        add_time(session, huddle_id, *spent)
    for stay in session.scalars(select(m.HuddleAttendee).where(
            m.HuddleAttendee.huddle_id == huddle_id, m.HuddleAttendee.left_at.is_(None))):
        stay.left_at = now
        audit.record(session, viewer, "huddle.leave", object_type="user",
                     object_id=stay.user_id)
    huddle.ended_at = now
    huddle.minutes = minutes
    discussed = select(m.HuddleCase.case_id).where(
        m.HuddleCase.huddle_id == huddle_id, m.HuddleCase.seconds_spent > 0)
    for flag in session.scalars(select(m.HuddleFlag).where(
            m.HuddleFlag.cleared_at.is_(None), m.HuddleFlag.case_id.in_(discussed))):
        flag.cleared_at = now
        flag.cleared_in_huddle_id = huddle_id
    if signing_out is not None:
        audit.record(session, signing_out, "sign_out")


def huddle_ended_at(backend: Backend, viewer: Viewer, directory: Path,
                    now: dt.datetime) -> EndedHuddle | None:
    """The end :func:`end_huddle` wrote at ``now``, if it did (its minutes, and their
    file, written now if the first attempt could not): made again after its commit's
    answer was lost, the end is found and finished, not refused as ended already. Only
    that end carries its moment: a huddle another terminal ended has another, and is
    refused as before. Its sign-out was written with it."""
    if viewer.huddle_id is None:
        return None
    huddle_id = viewer.huddle_id
    with backend.sessions.read(viewer, now) as session:
        minutes = session.scalar(select(m.Huddle.minutes).where(
            m.Huddle.id == huddle_id, m.Huddle.ended_at == now,
            m.Huddle.minutes.is_not(None)))
    if minutes is None:
        return None
    path = minutes_path(directory, huddle_id, now)
    if path.exists():
        return EndedHuddle(huddle_id, minutes, path)
    return _with_file(huddle_id, minutes, directory, now)


def _with_file(huddle_id: int, minutes: str, directory: Path, now: dt.datetime
               ) -> EndedHuddle:
    try:
        path = write_minutes_file(minutes, directory, huddle_id, now)
    except AnchorError as error:
        return EndedHuddle(huddle_id, minutes, None, f"{error.message} {error.fix}")
    return EndedHuddle(huddle_id, minutes, path)


def minutes_path(directory: Path, huddle_id: int, now: dt.datetime) -> Path:
    """Where the minutes of the huddle that ended at ``now`` are written."""
    return directory / f"huddle-{huddle_id}-{now.astimezone().strftime('%Y-%m-%d')}.md"


def write_minutes_file(minutes: str, directory: Path, huddle_id: int, now: dt.datetime
                       ) -> Path:
    """Write ``minutes`` to ``<directory>/huddle-<id>-<day>.md`` (dir 0700, file 0600)."""
    path = minutes_path(directory, huddle_id, now)
    try:
        write_private(path, minutes, folder_mode=0o700)
    except OSError as exc:
        raise AnchorError(
            f"The minutes are stored with the huddle, but {path} could not be written.",
            "Nothing is lost: they stay in the database. Check that the folder is yours.",
        ) from exc
    return path
