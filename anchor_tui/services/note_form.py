"""What the note editor starts with: the case, templates, categories, a draft to offer
back, the note being corrected, and the facts of the disclosure preview.

Read in one unit of work when the editor opens (in a worker). The category starts from
the author's profession (``default_note_category`` in ``anchor.yaml``) and follows the
template when one is chosen.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from anchor_tui.db import models as m
from anchor_tui.db.types import utcnow
from anchor_tui.domain import Viewer
from anchor_tui.errors import AnchorError
from anchor_tui.policy import Policy
from anchor_tui.services.backend import Backend
from anchor_tui.services.board import person_label
from anchor_tui.services.drafts import DraftText, load_draft
from anchor_tui.services.note_preview import PreviewFacts, read_facts
from anchor_tui.services.notes import own_work_only, templates_for
from anchor_tui.settings import NoteTemplate, TeamConfig


@dataclass(frozen=True)
class CategoryChoice:
    id: str
    label: str
    confidentiality: str
    """N normal, R restricted, V very restricted (HL7), shown beside the label."""


@dataclass(frozen=True)
class NoteSource:
    """The note a correction starts from (its newest revision)."""

    note_id: int
    revision: int
    category: str
    template: str | None
    body: str
    created_at: dt.datetime


@dataclass(frozen=True)
class EditorStart:
    case_id: int
    person_label: str
    templates: tuple[NoteTemplate, ...]
    categories: tuple[CategoryChoice, ...]
    default_category: str
    supersedes: NoteSource | None
    draft: DraftText | None
    """The author's autosaved text of this note (None in a huddle, or when there is none)."""
    facts: PreviewFacts


CONFIDENTIALITY = {"N": "normal", "R": "restricted", "V": "very restricted"}


def categories_of(policy: Policy) -> tuple[CategoryChoice, ...]:
    return tuple(CategoryChoice(k.id, k.label, k.confidentiality)
                 for k in policy.categories.values())


def default_category(team: TeamConfig, policy: Policy, profession: str,
                     template: NoteTemplate | None = None) -> str:
    """The template's category, else the profession's default, else the category of the
    profession's own name, else ``general`` (else the policy's first category)."""
    for candidate in (template.category if template else None,
                      team.default_note_category.get(profession), profession, "general"):
        if candidate is not None and candidate in policy.categories:
            return candidate
    return next(iter(policy.categories))


def start_editor(backend: Backend, viewer: Viewer, case_id: int,
                 supersedes_id: int | None = None,
                 now: dt.datetime | None = None) -> EditorStart:
    """Everything the editor needs to open on ``case_id`` (run in a worker)."""
    now = now or utcnow()
    fields = backend.policy.case_fields(viewer)
    with backend.sessions.read(viewer, now) as session:
        case = session.get(m.Case, case_id)
        if case is None:
            raise AnchorError(f"Case {case_id} is not there any more.",
                              "Go back to the board and press r to read it again.")
        label = person_label(case.person.first_name, case.person.last_name, fields)
        source = None
        if supersedes_id is not None:
            own_work_only(viewer)
            old = session.get(m.Note, supersedes_id)  # filtered: a note the viewer sees
            if old is None or old.case_id != case_id:
                raise AnchorError("The note to correct is not there.",
                                  "Read the case again (r).")
            if old.author_id != viewer.user_id:
                raise AnchorError("Only the author corrects a note.",
                                  "Write a note of your own instead (n).")
            source = NoteSource(old.id, old.revision, old.category, old.template, old.body,
                                old.created_at)
    facts = read_facts(backend, viewer, case_id, now)
    draft = load_draft(backend, viewer, case_id, supersedes_id)
    return EditorStart(
        case_id=case_id, person_label=label,
        templates=templates_for(backend.team, viewer.profession),
        categories=categories_of(backend.policy),
        default_category=source.category if source else default_category(
            backend.team, backend.policy, viewer.profession),
        supersedes=source, draft=draft, facts=facts)
