"""Writing notes: save (a new note or a correction), "entered in error", and a note's
revisions.

Notes are append-only (database triggers refuse any other change). A correction is a
new note that supersedes the old one, with the next revision number; a note is
corrected at most once (a unique index), so two terminals cannot fork its history.
Nothing is ever deleted: a note written by mistake is marked "entered in error" with a
reason and stays in the timeline. Only a note's author corrects it or marks it.

Saving is one unit of work: the note, its audit event (if the event cannot be written,
nothing is saved and the author is told), the draft's deletion, a template's follow-up
task, the tasks typed in the editor over the note (F5: made from it, never saved
without it) and, where the law asks for it, the pending child-welfare notification.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from anchor_tui.db import models as m
from anchor_tui.db.retry import retry_transient
from anchor_tui.db.types import utcnow
from anchor_tui.domain import Attendee, Viewer
from anchor_tui.errors import AnchorError, ConflictError
from anchor_tui.policy import NoteFacts, Policy
from anchor_tui.services import audit, drafts
from anchor_tui.services.backend import Backend
from anchor_tui.services.case_view import NoteEntry
from anchor_tui.services.child_welfare import open_pending, raises_concern
from anchor_tui.services.disclosure import load_context, recheck
from anchor_tui.services.note_text import MAX_BODY_CHARS, clean_text, is_blank
from anchor_tui.services.tasks import AddedTask, NoteTask, add_note_tasks, schedule_follow_up
from anchor_tui.settings import NoteTemplate, TeamConfig

MAX_REASON = 500
_LEADING_BLANK_LINES = re.compile(r"\A(?:[ ]*\n)+")


@dataclass(frozen=True)
class NoteInput:
    """What the editor saves."""

    case_id: int
    body: str
    category: str
    template: str | None = None
    supersedes_id: int | None = None
    """The note this one corrects (None: a new note)."""
    tasks: tuple[NoteTask, ...] = ()
    """Tasks typed in the editor (F5) over this note: saved with it, made from it."""


@dataclass(frozen=True)
class SavedNote:
    note_id: int
    case_id: int
    revision: int
    follow_up: AddedTask | None
    """The task a template scheduled, if any."""
    notification_id: int | None
    """The pending child-welfare notification the note calls for, if any."""
    tasks: tuple[AddedTask, ...] = ()
    """The tasks typed in the editor (F5), saved with the note."""


def templates_for(team: TeamConfig, profession: str) -> tuple[NoteTemplate, ...]:
    """The templates offered to a profession (a template naming none is for everyone)."""
    return tuple(t for t in team.note_templates
                 if not t.professions or profession in t.professions)


def _template(team: TeamConfig, viewer: Viewer, template_id: str | None) -> NoteTemplate | None:
    if template_id is None:
        return None
    template = next((t for t in templates_for(team, viewer.profession)
                     if t.id == template_id), None)
    if template is None:
        raise AnchorError(f"The template '{template_id}' is not offered to your profession.",
                          "Choose another template (F3) or none.")
    return template


def clean_body(body: str) -> str:
    """The text as it is saved, or a refusal that says why (empty, too long)."""
    text = _LEADING_BLANK_LINES.sub("", clean_text(body)).rstrip()
    if is_blank(text):
        raise AnchorError("An empty note is not saved.",
                          "Write the note first; Esc leaves without saving.")
    if len(text) > MAX_BODY_CHARS:
        raise AnchorError(f"The note is {len(text):,} characters long.",
                          f"A note holds at most {MAX_BODY_CHARS:,} characters; split it "
                          "into several notes.")
    return text


def own_work_only(viewer: Viewer) -> None:
    """Correcting or marking one's notes is one's own work, never a huddle's: the room
    sees only some of the chair's revisions, and a correction it cannot see would come
    back as a conflict on the shared screen (or a hidden one would be overtaken)."""
    if viewer.purpose != "individual":
        raise AnchorError("Notes are corrected and marked in one's own work, not in a "
                          "huddle.", "Write a new note here (w); correct yours after it.")


def _templates_of(session: Session, revision: m.Note) -> set[str | None]:
    """The templates of ``revision`` and of every revision it corrected (each asked for
    its follow-up when it was saved)."""
    templates: set[str | None] = set()
    seen: set[int] = set()
    current: m.Note | None = revision
    while current is not None and current.id not in seen:
        seen.add(current.id)
        templates.add(current.template)
        current = session.get(m.Note, current.supersedes_id) \
            if current.supersedes_id is not None else None
    return templates


def _superseded(session: Session, viewer: Viewer, note: NoteInput) -> m.Note:
    own_work_only(viewer)
    old = session.get(m.Note, note.supersedes_id)  # filtered: only a note one may see
    if old is None or old.case_id != note.case_id:
        raise AnchorError("The note to correct is not there.", "Read the case again (r).")
    if old.author_id != viewer.user_id:
        raise AnchorError("Only the author corrects a note.",
                          "Write a note of your own instead (n).")
    if old.entered_in_error:
        raise AnchorError("That note was entered in error.", "Write a new note instead (n).")
    if _has_newer(session, old.id):
        raise ConflictError("That note has been corrected already (perhaps on another "
                            "terminal).", "Your text is kept as a draft. Correct the newest "
                            "revision instead.")
    return old


def _has_newer(session: Session, note_id: int) -> bool:
    newer = aliased(m.Note)
    return bool(session.scalar(select(exists().where(newer.supersedes_id == note_id))))


def save_note(backend: Backend, viewer: Viewer, note: NoteInput, *, today: dt.date,
              now: dt.datetime | None = None, huddle_key: str | None = None) -> SavedNote:
    """Save a note (or a correction) durably with its audit event; raises AnchorError
    with the reason when it cannot be saved (nothing is then saved).

    ``huddle_key``: the key of the editor that wrote the note, whose draft is dropped
    (in a huddle, or an editor whose text is kept apart from the author's earlier draft
    of another category): never the author's own draft of the case."""
    body = clean_body(note.body)
    if note.category not in backend.policy.categories:
        raise AnchorError(f"There is no note category '{note.category}'.",
                          "Choose a category (F4).")
    template = _template(backend.team, viewer, note.template)
    if viewer.purpose == "huddle":
        _refuse_outside_the_room(backend, viewer, note, now)
    saved = _write_note(backend, viewer, note, body, template, today, now, huddle_key)
    if viewer.purpose != "individual" and huddle_key is not None:
        # A huddle's session sees no drafts (not even to delete them): the author's own
        # unit of work drops it, after the note is safe. Should that fail (the server
        # gone just then), the note is saved all the same: raising would have it kept
        # and saved again, twice; a draft left over is only offered back.
        with contextlib.suppress(AnchorError):
            drafts.discard_draft(backend, viewer, note.case_id, huddle_key=huddle_key)
    return saved


@retry_transient
def _write_note(backend: Backend, viewer: Viewer, note: NoteInput, body: str,
                template: NoteTemplate | None, today: dt.date,
                now: dt.datetime | None, huddle_key: str | None = None) -> SavedNote:
    """The note's one unit of work (run again after a deadlock or a serialization
    failure: nothing of it was committed)."""
    with backend.sessions.write(viewer, now) as session:
        case = session.get(m.Case, note.case_id)
        if case is None:
            raise AnchorError(f"Case {note.case_id} is not there any more.",
                              "Your text is kept as a draft.")
        _refuse_unreadable(backend.policy, session, viewer, case, note.category, now)
        if now is not None:
            already = _already_saved(session, viewer, note, body, now)
            if already is not None:
                return already
        revision, earlier_templates = 1, set[str | None]()
        if note.supersedes_id is not None:
            earlier = _superseded(session, viewer, note)
            revision, earlier_templates = earlier.revision + 1, _templates_of(session,
                                                                              earlier)
        row = m.Note(case_id=case.id, author_id=viewer.user_id,
                     author_profession=viewer.profession, category=note.category,
                     template=note.template, body=body, revision=revision,
                     supersedes_id=note.supersedes_id, created_at=now or utcnow())
        session.add(row)
        try:
            session.flush()
        except IntegrityError:
            raise ConflictError("That note was corrected on another terminal a moment ago.",
                                "Your text is kept as a draft. Correct the newest "
                                "revision instead.") from None
        audit.note_written(session, viewer, row)
        if viewer.purpose == "individual":
            drafts.delete_in(session, viewer, case.id, note.supersedes_id,
                             huddle_key=huddle_key, saved_body=body, asked_at=now)
        follow_up = None
        # A correction to a template any earlier revision had has its follow-up already
        # (from that revision; also after A, B and back to A): a second one would be
        # work asked twice.
        if template is not None and template.id not in earlier_templates:
            task = schedule_follow_up(session, viewer, row.id, case.id, template, today)
            if task is not None:
                follow_up = AddedTask(task.id, task.title, task.due,
                                      viewer.display_name if task.assignee_id else None)
        typed = add_note_tasks(backend, session, viewer, row, case.person_id, note.tasks,
                               today, now or utcnow())
        notification = None
        if raises_concern(backend.team, viewer.profession, note.category, note.template):
            notification = open_pending(session, backend.team, viewer, case, row.id, today)
        return SavedNote(row.id, case.id, revision, follow_up, notification, typed)


def _already_saved(session: Session, viewer: Viewer, note: NoteInput, body: str,
                   now: dt.datetime) -> SavedNote | None:
    """The same save made before, whose commit reached the server while its answer did
    not (the connection cut just then): the save queue keeps such a save as "nothing
    written" and makes it again, with the same moment. Found by what only that save
    can share (author, case, the note corrected, the moment and the text): the note is
    not written twice. (Its follow-up task and child-welfare notification were made
    with it and wait in the author's queue.)"""
    supersedes = (m.Note.supersedes_id.is_(None) if note.supersedes_id is None
                  else m.Note.supersedes_id == note.supersedes_id)
    row = session.scalars(select(m.Note).where(
        m.Note.author_id == viewer.user_id, m.Note.case_id == note.case_id, supersedes,
        m.Note.created_at == now, m.Note.body == body).limit(1)).first()
    if row is None:
        return None
    return SavedNote(row.id, row.case_id, row.revision, None, None)


def _refuse_unreadable(policy: Policy, session: Session, viewer: Viewer, case: m.Case,
                       category: str, now: dt.datetime | None) -> None:
    """A note its own author could not read back (e.g. police intelligence written by
    a nurse) would vanish on saving: refused, with the reason."""
    ctx = load_context(session, [case.id], now or utcnow())
    facts = NoteFacts(0, case.id, case.person_id, category, viewer.user_id, viewer.profession)
    decision = policy.decide_for(Attendee(viewer.user_id, viewer.profession), "individual",
                                 facts, ctx)
    if not decision.allowed:
        label = _category_label(policy, category)
        raise AnchorError(f"You could not read a {label.lower()} note back yourself "
                          f"({decision.reason}).", "Choose another category (F4); your text "
                          "is kept as a draft.")


def _refuse_outside_the_room(backend: Backend, viewer: Viewer, note: NoteInput,
                             now: dt.datetime | None) -> None:
    """A huddle's note in a category someone present may not read was typed on their
    screen: the editor offers no such category, and the save refuses one all the same
    (someone joined since, a caller other than the editor)."""
    from anchor_tui.services.note_form import huddle_offer  # (note_form imports this)

    offered, withheld = huddle_offer(backend, viewer, note.case_id, now or utcnow())
    if note.category in offered:
        return
    why = next((w.why for w in withheld if w.category == note.category), "")
    label = _category_label(backend.policy, note.category)
    raise AnchorError(f"Not everyone present may read a {label.lower()} note"
                      f"{f' ({why})' if why else ''}.",
                      "Choose a category offered in the huddle (F4), or write it alone "
                      "later; your text is kept as your draft.")


@retry_transient
def mark_entered_in_error(backend: Backend, viewer: Viewer, note_id: int,
                          reason: str) -> None:
    """Mark one's own note as entered in error, with a reason. It stays in the timeline."""
    own_work_only(viewer)
    reason = " ".join(clean_text(reason).split())
    if not reason:
        raise AnchorError("Marking a note entered in error needs a reason.",
                          "Write why, in a line (e.g. written on the wrong case).")
    with backend.sessions.write(viewer) as session:
        note = session.get(m.Note, note_id)
        if note is None:
            raise AnchorError("That note is not there.", "Read the case again (r).")
        if note.author_id != viewer.user_id:
            raise AnchorError("Only the author marks a note entered in error.",
                              "Ask its author, or write a note of your own.")
        if note.entered_in_error:
            if note.error_reason == reason[:MAX_REASON]:
                # The same mark made again (kept while the server was away, its first
                # attempt's answer lost as it committed): done, not refused as "Not
                # saved" with its reason asked again.
                return
            raise AnchorError("That note is already marked entered in error.", "Nothing to do.")
        if _has_newer(session, note.id):
            raise AnchorError("That note has a later revision.",
                              "Mark the newest revision instead.")
        note.entered_in_error = True
        note.error_reason = reason[:MAX_REASON]
        session.flush()
        audit.note_written(session, viewer, note)


@dataclass(frozen=True)
class OwnNote:
    """One of the viewer's notes that may still be corrected or marked."""

    note_id: int
    created_at: dt.datetime
    category: str
    revision: int
    first_line: str


def own_notes(backend: Backend, viewer: Viewer, case_id: int) -> tuple[OwnNote, ...]:
    """The viewer's newest revisions on the case, not entered in error, newest first
    (none in a huddle: see ``own_work_only``)."""
    if viewer.purpose != "individual":
        return ()
    newer = aliased(m.Note)
    now = utcnow()
    with backend.sessions.read(viewer, now) as session:
        person_id = session.scalar(select(m.Case.person_id).where(m.Case.id == case_id))
        if person_id is None:
            return ()
        rows = session.scalars(
            select(m.Note).where(
                m.Note.case_id == case_id, m.Note.author_id == viewer.user_id,
                m.Note.entered_in_error.is_(False), m.Note.erased_at.is_(None),
                ~exists().where(newer.supersedes_id == m.Note.id))
            .order_by(m.Note.created_at.desc(), m.Note.id.desc()).limit(200)).all()
        # The first line is note text on screen: re-checked like any note shown.
        kept = recheck(backend.policy, viewer, [(n, person_id) for n in rows],
                       load_context(session, [case_id], now))
        return tuple(OwnNote(n.id, n.created_at, _category_label(backend.policy, n.category),
                             n.revision, _first_line(n.body)) for n in kept)


def _first_line(body: str) -> str:
    line = next((part for part in body.splitlines() if part.strip()), "")
    return line[:80] + ("…" if len(line) > 80 else "")


def _category_label(policy: Policy, category: str) -> str:
    entry = policy.categories.get(category)
    return entry.label if entry is not None else category


def note_history(backend: Backend, viewer: Viewer, note_id: int,
                 now: dt.datetime | None = None) -> tuple[NoteEntry, ...]:
    """The revisions of a note that the viewer may see, oldest first.

    Links run only through revisions the viewer may see: one they may not see leaves
    no trace (the chain simply continues from what they do see).
    """
    now = now or utcnow()
    with backend.sessions.read(viewer, now) as session:
        start = session.get(m.Note, note_id)
        if start is None:
            raise AnchorError("That note is not there.", "Read the case again (r).")
        links = dict(session.execute(select(m.Note.id, m.Note.supersedes_id).where(
            m.Note.case_id == start.case_id)).all())
        newer_of = {old: new for new, old in links.items() if old is not None}
        first, previous = note_id, links.get(note_id)
        while previous is not None and previous in links:
            first, previous = previous, links[previous]
        chain = [first]
        while chain[-1] in newer_of:
            chain.append(newer_of[chain[-1]])
        rows = session.execute(select(m.Note, m.User.display_name, m.Case.person_id)
                               .join(m.User, m.User.id == m.Note.author_id)
                               .join(m.Case, m.Case.id == m.Note.case_id)
                               .where(m.Note.id.in_(chain))).all()
        ctx = load_context(session, [start.case_id], now)
        kept = {n.id for n in recheck(backend.policy, viewer,
                                      [(n, person) for n, _, person in rows], ctx)}
        by_id = {n.id: (n, author) for n, author, _ in rows if n.id in kept}
        # Built inside the unit of work: its end (a rollback) expires the rows.
        # Numbered among the revisions shown (the first one shown corrects none that
        # the viewer may see).
        shown = [ident for ident in chain if ident in by_id]
        return tuple(_entry(backend.policy, *by_id[ident], superseded=ident != chain[-1],
                            revision=pos + 1)
                     for pos, ident in enumerate(shown))


def _entry(policy: Policy, note: m.Note, author: str, *, superseded: bool,
           revision: int) -> NoteEntry:
    return NoteEntry(
        note_id=note.id, created_at=note.created_at, author=author,
        profession=policy.professions.get(note.author_profession, note.author_profession),
        category=_category_label(policy, note.category), body=note.body,
        revision=revision, corrects=revision > 1,
        superseded=superseded, entered_in_error=note.entered_in_error,
        error_reason=note.error_reason, erased=note.erased_at is not None)
