"""A note kept while the database was away, its own text kept as the author's draft
after the save was asked for: once the note is saved the draft goes (the same words,
typed with trailing blank lines, saved trimmed), on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine

from anchor_tui.db.types import utcnow
from anchor_tui.services.drafts import load_draft, save_draft
from anchor_tui.services.notes import NoteInput, save_note
from tests.integration.case_world import TODAY, TeamWorld, build, make_backend


@pytest.fixture
def world(engine: Engine) -> TeamWorld:
    return build(make_backend(engine))


def test_a_kept_notes_own_text_kept_as_its_draft_goes_when_the_note_is_saved(
    world: TeamWorld
) -> None:
    """The note (a template's text, ending with a line end) is kept while the database
    is away (asked at ``asked``). The terminal then passes to someone else
    (``NoteEditorScreen._kept``: closing keeps the text as a draft too): the draft is the
    note's own text, unchanged. The database back, the note is saved: the draft, the
    same words, should go; it stays, and is offered back as unsaved text."""
    social = world.viewers["social"]
    typed = "Called: mother\nReached: yes\nAgreed: visit on Monday\n"
    asked = utcnow() - dt.timedelta(seconds=30)
    save_draft(world.backend, social, world.case_a, None, "general", None, typed)
    save_note(world.backend, social, NoteInput(world.case_a, typed, "general"),
              today=TODAY, now=asked)
    left = load_draft(world.backend, social, world.case_a, None)
    assert left is None, f"the saved note's own text is still offered as a draft: {left.body!r}"
