"""Kept forms: what was typed into a form whose screen closed without its author.

A form (a task, a consent, a reason, a child-welfare notification) holds its words on
screen only until it is saved. When the terminal passes to someone else (a takeover at
the idle lock, a switch of user) its viewer context closes with every screen of it: the
form's fields are kept here, for their author alone, and given back when they next open
the same kind of form for the same thing.

The API knows nothing of any one form: a form is named by its ``kind`` (``"task"``,
``"consent"``, ``"reason:snooze"``) and its ``target`` (what it is about, as the form
names it: ``case_target(12)`` is ``"case:12"``), and its fields are a JSON object the
form itself writes and reads back. So anything else typed by someone who has gone (a
change the database refused after its maker left the terminal) can be kept the same
way. A form given back and kept again replaces the copy it was given; any other form of
the same kind and target, with other words, is kept beside it (its target then carries
a slot, ``case:12#2``) and given back after it, oldest first: two forms open at once,
or a refusal kept after a takeover kept another, never write over each other.

A change typed in a form and kept for the database while it was away may be refused
when the database is back (a conflict, a rule), after its maker has left the terminal:
:func:`keep_refused` keeps its fields as the same form (the same kind and target, so
opening that form again gives them back) with why it was refused, under the reserved
field :data:`REFUSAL_FIELD`, which the form never sees (:class:`KeptForm` holds it
apart). The sign-in message counts those apart from forms merely kept.

Like a draft, a kept form is its author's alone: the central filter and PostgreSQL's
row-level security show a ``form_draft`` row to its author only and never in a huddle
(``policy.engine``), and every read and write here goes through ``backend.sessions``
as the author. A form given back is removed when it is saved or its author discards it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from anchor_tui.db.models import Case, ChildWelfareNotification, FormDraft
from anchor_tui.db.types import utcnow
from anchor_tui.domain import Viewer
from anchor_tui.errors import AnchorError
from anchor_tui.services.backend import Backend
from anchor_tui.services.drafts import author_viewer

MAX_KIND = 32
MAX_TARGET = 56
"""A form's own target; a slot (``#2``) may follow it in the row (64 characters)."""
SLOT = "#"
REFUSAL_FIELD = "_refused"
"""The field of a kept form holding why the change typed in it was refused (our words:
the refusal's message and fix); no form writes a field of that name."""
MAX_FIELDS_CHARS = 200_000
"""The most a kept form's fields may hold as JSON (a form's fields are short: a task's
title is 500 characters at most): more is refused rather than kept in part."""


@dataclass(frozen=True)
class KeptForm:
    """A form as its author left it."""

    kind: str
    target: str
    case_id: int | None
    fields: dict[str, Any]
    """As the form wrote them (``fields_from_json``: a row that does not read is {})."""
    saved_at: dt.datetime
    """When it was kept (UTC): the form given back says when it was typed."""
    refused: str | None = None
    """Why the change typed in it was refused after its maker had gone (None: it was
    kept as typed, never saved)."""


def _read_kept(row: FormDraft) -> KeptForm:
    fields = fields_from_json(row.fields)
    refusal = fields.pop(REFUSAL_FIELD, None)
    return KeptForm(row.kind, base_target(row.target), row.case_id, fields, row.saved_at,
                    refusal if isinstance(refusal, str) and refusal else None)


def case_target(case_id: int, *more: tuple[str, int | str]) -> str:
    """The target of a form about a case (and, with ``more``, a thing of it):
    ``case:12``, ``case:12/note:40``."""
    return "/".join([f"case:{case_id}", *(f"{name}:{value}" for name, value in more)])


def fields_json(fields: Mapping[str, Any]) -> str:
    """The fields as stored: a JSON object (``ValueError``: not JSON-able)."""
    if not isinstance(fields, Mapping) or not all(isinstance(k, str) for k in fields):
        raise ValueError("a form's fields are a mapping of names")
    try:
        return json.dumps(dict(fields), ensure_ascii=False, sort_keys=True,
                          allow_nan=False)
    except TypeError as error:
        raise ValueError("a form's fields must be JSON: text, numbers, lists") from error


def fields_from_json(stored: str) -> dict[str, Any]:
    """The fields a row holds; one written by hand that does not read holds none (the
    form then opens empty, as if nothing were kept)."""
    try:
        fields = json.loads(stored)
    except (ValueError, TypeError):
        return {}
    return fields if isinstance(fields, dict) else {}


def _check_name(kind: str, target: str) -> None:
    if not kind or len(kind) > MAX_KIND or not target or len(target) > MAX_TARGET:
        raise ValueError("a kept form's kind and target are short names")


def _family(session: Session, author: Viewer, kind: str, target: str) -> list[FormDraft]:
    """The author's kept ``kind`` forms about ``target`` (in any slot), oldest first."""
    return list(session.scalars(select(FormDraft).where(
        FormDraft.author_id == author.user_id, FormDraft.kind == kind,
        (FormDraft.target == target)
        | FormDraft.target.startswith(target + SLOT, autoescape=True))
        .order_by(FormDraft.saved_at, FormDraft.id)))


def base_target(stored: str) -> str:
    """The form's own target of a row's (without its slot)."""
    return stored.split(SLOT, 1)[0]


def _free_slot(rows: list[FormDraft], target: str) -> str:
    taken = {row.target for row in rows}
    if target not in taken:
        return target
    number = 2
    while f"{target}{SLOT}{number}" in taken:
        number += 1
    return f"{target}{SLOT}{number}"


NOTIFICATION_TARGET = "notification:"
"""A child-welfare notification's form is named by the notification (``notification:7``):
the form may be kept before its screen has read which case the notification is on."""


def _case_of(session: Session, author: Viewer, target: str) -> int | None:
    """The case a form about ``target`` belongs to, when the form did not say: a kept
    form without its case would be missed by retention and by the removal of its case.
    A notification is read only when it is the author's own (as its form reads it)."""
    if target.startswith(NOTIFICATION_TARGET):
        try:
            notification_id = int(target[len(NOTIFICATION_TARGET):])
        except ValueError:
            return None
        record = session.get(ChildWelfareNotification, notification_id)
        if record is not None and record.notifier_id == author.user_id:
            return record.case_id
    return None


def keep_form(backend: Backend, viewer: Viewer, kind: str, target: str,
              fields: Mapping[str, Any], *, case_id: int | None = None,
              replaces: dt.datetime | None = None) -> dt.datetime | None:
    """Keep ``fields`` as the author's ``kind`` form about ``target``. ``replaces``: the
    ``saved_at`` of the kept copy this form was given back (it is replaced; no fields:
    dropped); otherwise a kept form with the same words is the same (kept again), and
    one with other words stays beside it. When it was kept (None: nothing is). Runs off
    the UI thread (``SavesDraftsAside``): database work only. Raises ``AnchorError`` for
    fields too long to keep, ``DatabaseError`` when the database cannot be reached."""
    _check_name(kind, target)
    stored = fields_json(fields)
    if len(stored) > MAX_FIELDS_CHARS:
        raise AnchorError("The form is too long to keep.",
                          f"A kept form holds at most {MAX_FIELDS_CHARS:,} characters.")
    author = author_viewer(viewer)
    for attempt in range(2):
        try:
            with backend.sessions.write(author) as session:
                rows = _family(session, author, kind, target)
                given = next((r for r in rows if replaces is not None
                              and r.saved_at == replaces), None)
                row = given or next((r for r in rows if r.fields == stored), None)
                if not fields:
                    if given is not None:
                        session.delete(given)
                    return None
                now = utcnow()
                if case_id is None:
                    case_id = _case_of(session, author, target)
                if row is None:
                    session.add(FormDraft(author_id=author.user_id, case_id=case_id,
                                          kind=kind, target=_free_slot(rows, target),
                                          fields=stored, saved_at=now))
                else:
                    row.case_id, row.fields, row.saved_at = case_id, stored, now
                return now
        except IntegrityError:
            # The author's other terminal kept the same form a moment ago: the second
            # attempt finds it and replaces it.
            if attempt:
                raise
    return None  # not reached: the loop returns or raises


def keep_refused(backend: Backend, viewer: Viewer, kind: str, target: str,
                 fields: Mapping[str, Any], refusal: str, *, case_id: int | None = None
                 ) -> dt.datetime | None:
    """Keep ``fields``, typed by ``viewer`` and refused by the database after they left
    the terminal, as their ``kind`` form about ``target``, with ``refusal`` (why, our
    words) to say when it is given back. Never in a huddle (None: nothing kept): a
    kept form is given back to its author working alone. Off the UI thread."""
    if viewer.purpose != "individual" or not fields:
        return None
    return keep_form(backend, viewer, kind, target,
                     {**fields, REFUSAL_FIELD: refusal or "refused"}, case_id=case_id)


def load_form(backend: Backend, viewer: Viewer, kind: str, target: str) -> KeptForm | None:
    """The viewer's own kept ``kind`` form about ``target``, if any; never in a huddle
    (a kept form is shown to its author working alone, as a draft is)."""
    _check_name(kind, target)
    if viewer.purpose != "individual":
        return None
    with backend.sessions.read(viewer) as session:
        rows = _family(session, viewer, kind, target)
        return _read_kept(rows[0]) if rows else None


def discard_form(backend: Backend, viewer: Viewer, kind: str, target: str, *,
                 kept_at: dt.datetime | None = None) -> bool:
    """Drop the author's kept ``kind`` form about ``target`` (it was saved, or they chose
    to clear or discard it); whether there was one. With ``kept_at`` (the ``saved_at``
    of the kept form the screen was given), only that one: a form kept again since (a
    change of this form refused after its author left, kept while this delete waited
    for the database) holds words they have not seen, and stays."""
    _check_name(kind, target)
    author = author_viewer(viewer)
    with backend.sessions.write(author) as session:
        rows = _family(session, author, kind, target)
        row = rows[0] if rows and kept_at is None else next(
            (r for r in rows if kept_at is not None and r.saved_at == kept_at),
            None)
        if row is None:
            return False
        session.delete(row)
        return True


@dataclass(frozen=True)
class FormsWaiting:
    """The viewer's kept forms, for the sign-in message."""

    count: int
    refused: int
    """How many of them hold a change the database refused after its maker had gone."""
    case_ids: list[int]
    """The cases of the newest few, newest first (each once)."""


def forms_waiting(session: Session, viewer: Viewer, listed: int) -> FormsWaiting:
    """Inside ``drafts.drafts_waiting``'s unit of work: how many forms the viewer has
    kept (about cases that still exist, or about no case), how many of them were
    refused, and the cases of the newest few, newest first."""
    mine = select(FormDraft.case_id, FormDraft.saved_at, FormDraft.fields) \
        .outerjoin(Case, Case.id == FormDraft.case_id) \
        .where(FormDraft.author_id == viewer.user_id,
               (FormDraft.case_id.is_(None)) | (Case.id.is_not(None)))
    count = session.scalar(select(func.count()).select_from(mine.subquery())) or 0
    # Read in Python (an author keeps a few forms): whether the JSON holds the reserved
    # field, which a LIKE over the text could only guess.
    refused = sum(REFUSAL_FIELD in fields_from_json(fields)
                  for fields in session.scalars(mine.with_only_columns(FormDraft.fields)))
    newest: list[int] = []
    for case_id in session.scalars(mine.order_by(FormDraft.saved_at.desc(),
                                                 FormDraft.id.desc()).limit(listed * 4)):
        if case_id is not None and case_id not in newest:
            newest.append(case_id)
    return FormsWaiting(count, refused, newest[:listed])
