"""Drafts: the unsaved text of a note, autosaved so that no word is lost.

A draft belongs to its author alone (the disclosure policy lets nobody else read it and
never shows one in a huddle). There is one draft per author, case and note being
corrected (``supersedes_id``; None for a new note). Saving the note deletes its draft in
the same unit of work.

In a huddle the editor still autosaves (writing is not showing): the draft is written
under the author's own, individual viewer, and it is offered back only outside a huddle.
It is kept apart from the author's own draft of the case (their unfinished work from
before, which the room must not see and the huddle's note must not replace): each huddle
editor writes its own row, named by a key it makes (``huddle_key``), and the note's save
drops that row (``notes.save_note(huddle_key=...)``). When the author next writes on the
case alone, the huddle's drafts left there (the editor closed without saving, or the app
stopped in the meeting) are added to their own draft, after it, and offered back with it,
when they are of the same category and template: text is never moved into a category
other than the one it was written under (whose readers may differ). Others wait apart and
are offered one after the other.

A draft keeps the tasks typed over its note (F5, ``services.tasks.NoteTask``) with its
text (``draft.tasks``): saved and offered back with it, added with a huddle draft's text
when that is folded into the author's own, dropped with it, and saved with the note,
once, when the note is. A draft with tasks is kept even while its text is blank. A task
typed in a huddle stays marked so (``NoteTask.in_huddle``): its author checks it again
before it is saved with a note of their own work.

The same key keeps apart a text typed in the editor before the author's earlier draft of
another category was offered (``note_editor``): neither is mixed into the other.

:class:`AutosaveSchedule` is the rule the editor follows: save once typing has paused
for a second, and while typing goes on, at least every 1.5 seconds, so a crash loses at
most the last two seconds.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from anchor_tui.db.models import Case, Draft, Note
from anchor_tui.db.types import utcnow
from anchor_tui.domain import Viewer
from anchor_tui.errors import AnchorError
from anchor_tui.services.backend import Backend
from anchor_tui.services.note_text import MAX_BODY_CHARS, clean_text, is_blank
from anchor_tui.services.tasks import NoteTask


@dataclass(frozen=True)
class DraftText:
    """A draft as the editor gets it back."""

    case_id: int
    supersedes_id: int | None
    category: str
    template: str | None
    body: str
    updated_at: dt.datetime
    tasks: tuple[NoteTask, ...] = ()
    """The tasks typed over the note (F5), to be saved with it."""
    from_huddles: int = 0
    """How many notes the author left unsaved in huddles were joined into this draft as
    it was loaded (:func:`_fold_huddle_drafts`): the offer says so, so that discarding
    the draft never throws away a huddle's words unseen."""


def tasks_json(tasks: tuple[NoteTask, ...]) -> str | None:
    """``draft.tasks`` as stored (None: no task)."""
    if not tasks:
        return None
    return json.dumps([{"title": t.title, "due": t.due.isoformat() if t.due else None,
                        "assignee_id": t.assignee_id} | ({"in_huddle": True} if t.in_huddle
                                                         else {})
                       for t in tasks])


def tasks_from_json(stored: str | None) -> tuple[NoteTask, ...]:
    """The tasks a draft holds; a row written by hand that does not read holds none (its
    text is offered back all the same)."""
    if not stored:
        return ()
    try:
        rows = json.loads(stored)
        return tuple(NoteTask(str(row["title"]),
                              dt.date.fromisoformat(row["due"]) if row.get("due") else None,
                              int(row["assignee_id"]) if row.get("assignee_id") is not None
                              else None, bool(row.get("in_huddle")))
                     for row in rows)
    except (ValueError, TypeError, KeyError, AttributeError):
        return ()


def author_viewer(viewer: Viewer) -> Viewer:
    """The author alone, working individually: whose drafts these are, in a huddle too."""
    return dataclasses.replace(viewer, purpose="individual", huddle_id=None, attendees=(),
                               break_glass=False)


def _find(session: Session, viewer: Viewer, case_id: int, supersedes_id: int | None
          ) -> Draft | None:
    """The author's own draft of this note (not a huddle editor's)."""
    query = select(Draft).where(Draft.author_id == viewer.user_id, Draft.case_id == case_id,
                                Draft.huddle_key.is_(None))
    query = query.where(Draft.supersedes_id.is_(None) if supersedes_id is None
                        else Draft.supersedes_id == supersedes_id)
    return session.scalars(query.order_by(Draft.updated_at.desc())).first()


def _earlier_revisions(session: Session, note_id: int) -> list[int]:
    """The revisions ``note_id`` corrected, newest first (as far as the viewer sees)."""
    earlier: list[int] = []
    note = session.get(Note, note_id)
    while note is not None and note.supersedes_id is not None \
            and note.supersedes_id not in earlier:
        earlier.append(note.supersedes_id)
        note = session.get(Note, note.supersedes_id)
    return earlier


def _huddle_drafts(session: Session, viewer: Viewer, case_id: int) -> list[Draft]:
    """The author's drafts of notes written in huddles on this case, oldest first."""
    return list(session.scalars(
        select(Draft).where(Draft.author_id == viewer.user_id, Draft.case_id == case_id,
                            Draft.huddle_key.is_not(None))
        .order_by(Draft.updated_at, Draft.id)))


def _huddle_draft(session: Session, viewer: Viewer, case_id: int, key: str) -> Draft | None:
    return session.scalars(select(Draft).where(
        Draft.author_id == viewer.user_id, Draft.case_id == case_id,
        Draft.huddle_key == key)).first()


def _fold_huddle_drafts(backend: Backend, author: Viewer, case_id: int) -> int:
    """The author writes on the case alone: the notes they left unsaved in huddles join
    their own draft of a new note, after it (the oldest first), so that it is offered
    with all their unfinished words. One of another category or template, or one that
    would make the draft too long, stays apart (offered once the draft is saved). How
    many huddle notes joined it (0 when none did)."""
    with backend.sessions.read(author) as session:
        if not _huddle_drafts(session, author, case_id):
            return 0
    try:
        with backend.sessions.write(author) as session:
            return _fold(session, author, case_id)
    except IntegrityError:
        return 0  # the author's other terminal made their own draft just now: folded next time


def _joined_before(own: str, body: str) -> bool:
    """Whether ``body`` is in ``own`` as the fold adds it: a paragraph of its own after
    the draft (words that merely occur in it are another note's, never dropped). A blank
    text (a draft kept for its tasks) adds nothing."""
    if is_blank(body):
        return True
    return f"\n\n{body.rstrip()}\n\n" in f"{own.rstrip()}\n\n"


def _joined(own: str, body: str) -> str:
    """The own draft's text with a huddle draft's after it (either may be blank: a draft
    kept for its tasks alone)."""
    if is_blank(body):
        return own
    return body if is_blank(own) else f"{own.rstrip()}\n\n{body}"


def _tasks_in(own: str | None, theirs: str | None) -> bool:
    """Whether the tasks ``theirs`` are all among ``own`` (added by a fold before)."""
    have = tasks_from_json(own)
    return all(task in have for task in tasks_from_json(theirs))


def _fold(session: Session, author: Viewer, case_id: int) -> int:
    own = _find(session, author, case_id, None)
    joined_in = 0
    for row in _huddle_drafts(session, author, case_id):
        if own is None:
            row.huddle_key = None
            own = row
            session.flush()  # the one own draft of the case from now on
            joined_in += 1
            continue
        if (row.category, row.template) != (own.category, own.template):
            # Never mixed: the joined text would be saved under the own draft's category
            # and reach whoever that category reaches (a health note's words under
            # "general"). It stays apart, offered once the own draft is saved or gone.
            continue
        text_in = _joined_before(own.body, row.body)
        if text_in and _tasks_in(own.tasks, row.tasks):
            session.delete(row)  # added before (a second terminal's fold)
            continue
        joined = own.body if text_in else _joined(own.body, row.body)
        if len(joined) > MAX_BODY_CHARS:
            continue
        own.body = joined
        # The tasks typed over the huddle's note go with its words (never left behind
        # in a row the author is no longer offered as it was); the text already there,
        # only those not there yet.
        have, theirs = tasks_from_json(own.tasks), tasks_from_json(row.tasks)
        own.tasks = tasks_json(have + tuple(t for t in theirs if not text_in or t not in have))
        own.updated_at = max(own.updated_at, row.updated_at)
        session.delete(row)
        joined_in += 1
    return joined_in


def load_draft(backend: Backend, viewer: Viewer, case_id: int,
               supersedes_id: int | None = None) -> DraftText | None:
    """The viewer's own draft of this note, if any; never in a huddle.

    A correction's draft is kept under the revision it corrected. When that revision
    has been corrected since (on another terminal: the save then said "Your text is
    kept as a draft. Correct the newest revision instead"), the draft is the one of
    the newest revision too: its ``supersedes_id`` then names the earlier revision,
    and saving it with ``moved_from`` moves it to the newest."""
    if viewer.purpose != "individual":
        return None
    from_huddles = 0
    if supersedes_id is None:  # a huddle corrects no note: its drafts are new notes
        from_huddles = _fold_huddle_drafts(backend, viewer, case_id)
    with backend.sessions.read(viewer) as session:
        draft = _find(session, viewer, case_id, supersedes_id)
        if draft is None and supersedes_id is not None:
            for earlier in _earlier_revisions(session, supersedes_id):
                draft = _find(session, viewer, case_id, earlier)
                if draft is not None:
                    break
        if draft is None:
            return None
        return DraftText(draft.case_id, draft.supersedes_id, draft.category, draft.template,
                         draft.body, draft.updated_at, tasks_from_json(draft.tasks),
                         from_huddles if draft.supersedes_id is None else 0)


def save_draft(backend: Backend, viewer: Viewer, case_id: int, supersedes_id: int | None,
               category: str, template: str | None, body: str, *,
               moved_from: int | None = None, huddle_key: str | None = None,
               tasks: tuple[NoteTask, ...] = ()) -> dt.datetime | None:
    """Keep ``body`` and ``tasks`` (typed over the note, F5) as the author's draft; when
    the text has become blank and no task is left, drop the draft.

    ``moved_from``: the draft was the one of an earlier revision (``load_draft``); that
    one goes in the same unit of work, as ``body`` holds it now.

    ``huddle_key``: a note written in a huddle, by the editor of that key: its own
    draft, apart from the author's (never replacing it).

    Returns when it was saved (None: nothing is kept). Raises ``DatabaseError`` when the
    database cannot be reached: the editor keeps the text and tries again.
    """
    body = clean_text(body)
    if len(body) > MAX_BODY_CHARS:
        raise AnchorError("The draft is too long to keep.",
                          f"A note holds at most {MAX_BODY_CHARS:,} characters.")
    author = author_viewer(viewer)
    for attempt in range(2):
        try:
            with backend.sessions.write(author) as session:
                if moved_from is not None and moved_from != supersedes_id:
                    old = _find(session, author, case_id, moved_from)
                    if old is not None:
                        session.delete(old)
                draft = _find(session, author, case_id, supersedes_id) if huddle_key is None \
                    else _huddle_draft(session, author, case_id, huddle_key)
                if is_blank(body) and not tasks:
                    if draft is not None:
                        session.delete(draft)
                    return None
                now = utcnow()
                if draft is None:
                    session.add(Draft(author_id=author.user_id, case_id=case_id,
                                      supersedes_id=supersedes_id, category=category,
                                      template=template, body=body, updated_at=now,
                                      huddle_key=huddle_key, tasks=tasks_json(tasks)))
                else:
                    draft.category, draft.template, draft.body = category, template, body
                    draft.tasks = tasks_json(tasks)
                    draft.updated_at = now
                return now
        except IntegrityError:
            # The same author's other terminal created this draft a moment ago: the
            # second attempt finds it and updates it.
            if attempt:
                raise
    return None  # not reached: the loop returns or raises


@dataclass(frozen=True)
class DraftsWaiting:
    """The author's drafts, for the board to say at sign-in that notes are unfinished."""

    count: int
    case_ids: tuple[int, ...]
    """The cases of the newest few, newest first (each once)."""
    forms: int = 0
    """How many forms the viewer was filling in were kept when the terminal passed to
    someone else (``services.form_drafts``): said in the same message."""
    form_case_ids: tuple[int, ...] = ()
    """The cases of the newest few kept forms, newest first (each once)."""
    refused: int = 0
    """How many of the kept forms hold a change saved while the database was away and
    refused when it came back, after the viewer had left the terminal."""

    @property
    def any(self) -> bool:
        return bool(self.count or self.forms)


def drafts_waiting(backend: Backend, viewer: Viewer, listed: int = 5) -> DraftsWaiting:
    """How many drafts the viewer has, on cases they may still see, and how many forms
    were kept for them; none in a huddle (a draft is never shown there)."""
    from anchor_tui.services.form_drafts import forms_waiting  # (it imports this module)

    if viewer.purpose != "individual":
        return DraftsWaiting(0, ())
    with backend.sessions.read(viewer) as session:
        forms = forms_waiting(session, viewer, listed)
        mine = select(Draft.case_id, Draft.updated_at).join(Case, Case.id == Draft.case_id) \
            .where(Draft.author_id == viewer.user_id)
        count = session.scalar(select(func.count()).select_from(mine.subquery())) or 0
        newest: list[int] = []
        for case_id in session.scalars(mine.order_by(Draft.updated_at.desc(), Draft.id.desc())
                                       .limit(listed * 4)):
            if case_id not in newest:
                newest.append(case_id)
        return DraftsWaiting(count, tuple(newest[:listed]), forms.count,
                             tuple(forms.case_ids), forms.refused)


def keep_unsaved_note(backend: Backend, viewer: Viewer, case_id: int,
                      supersedes_id: int | None, category: str, template: str | None,
                      body: str, *, huddle_key: str | None = None,
                      tasks: tuple[NoteTask, ...] = ()) -> bool:
    """A note whose save failed is kept as its author's draft, with the tasks typed over
    it (offered when they next write on the case): a save kept while the database was
    away may fail after its author has left the terminal, with their words nowhere
    else. Whether it was kept."""
    try:
        return save_draft(backend, viewer, case_id, supersedes_id, category, template,
                          body, huddle_key=huddle_key, tasks=tasks) is not None
    except AnchorError:
        return False


def discard_draft(backend: Backend, viewer: Viewer, case_id: int,
                  supersedes_id: int | None = None, *, huddle_key: str | None = None) -> bool:
    """Drop the author's draft and the tasks typed over it (they chose to, or its note
    is saved), or with ``huddle_key`` the draft of that huddle editor only; whether
    there was one."""
    author = author_viewer(viewer)
    with backend.sessions.write(author) as session:
        draft = _find(session, author, case_id, supersedes_id) if huddle_key is None \
            else _huddle_draft(session, author, case_id, huddle_key)
        if draft is None:
            return False
        session.delete(draft)
        return True


def delete_in(session: Session, viewer: Viewer, case_id: int,
              supersedes_id: int | None, *, huddle_key: str | None = None,
              saved_body: str | None = None, asked_at: dt.datetime | None = None) -> None:
    """Inside a note's save: its draft goes with the same commit (with ``huddle_key``,
    that editor's draft kept apart, never the author's own). Unless, with ``saved_body``
    and ``asked_at`` (the note's text and when its save was asked for), the draft holds
    other words written since: a save kept while the database was away is made later,
    and its author may have gone on writing (a switch of user kept their text as the
    draft, and they continued it); those words are newer than the note, and stay."""
    draft = _find(session, viewer, case_id, supersedes_id) if huddle_key is None \
        else _huddle_draft(session, viewer, case_id, huddle_key)
    if draft is None:
        return
    # (The note's text is saved trimmed, the draft's as typed: the same words either way.)
    if saved_body is not None and asked_at is not None \
            and draft.body.strip() != saved_body.strip() \
            and draft.updated_at > asked_at:
        return
    session.delete(draft)


@dataclass
class AutosaveSchedule:
    """When the editor saves its draft: after ``pause`` seconds without typing, and at
    most ``longest`` seconds after the first unsaved change while typing goes on.

    The editor checks :meth:`due` every ``tick`` seconds, so a draft is at most
    ``longest + tick`` (2 s) behind the typing. Times are ``time.monotonic()`` seconds.
    """

    pause: float = 1.0
    longest: float = 1.5
    tick: float = 0.25
    first_unsaved: float | None = None
    last_change: float | None = None

    def changed(self, now: float) -> None:
        if self.first_unsaved is None:
            self.first_unsaved = now
        self.last_change = now

    def due(self, now: float) -> bool:
        if self.first_unsaved is None or self.last_change is None:
            return False
        return now - self.last_change >= self.pause or now - self.first_unsaved >= self.longest

    def saving(self) -> None:
        """A save has started with the text as it is now; later changes start afresh."""
        self.first_unsaved = None
        self.last_change = None

    def failed(self, now: float) -> None:
        """The save did not happen: the text is unsaved again (retried after a pause)."""
        self.first_unsaved = self.first_unsaved or now
        self.last_change = now

    @property
    def pending(self) -> bool:
        return self.first_unsaved is not None
