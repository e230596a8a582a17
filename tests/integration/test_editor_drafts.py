"""Drafts the note editor keeps: a correction's draft after its note was corrected
elsewhere, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select

from anchor_tui.db import models as m
from anchor_tui.services.drafts import load_draft, save_draft
from anchor_tui.services.note_form import start_editor
from anchor_tui.services.notes import NoteInput, save_note
from tests.integration.case_world import TODAY, TeamWorld, build, make_backend


@pytest.fixture
def world(engine: Engine) -> TeamWorld:
    return build(make_backend(engine))


def test_a_corrections_draft_follows_the_note_to_its_newest_revision(
    world: TeamWorld
) -> None:
    """social's correction of N was refused (N had been corrected on another terminal)
    and kept as a draft of N. Correcting the newest revision offers it, and saving it
    there moves it: one draft, of the newest revision."""
    social = world.viewers["social"]
    first = save_note(world.backend, social, NoteInput(world.case_a, "Met on Friday.",
                                                       "general"), today=TODAY)
    second = save_note(world.backend, social, NoteInput(
        world.case_a, "Met on Friday (room 2).", "general", supersedes_id=first.note_id),
        today=TODAY)
    # the refused correction of N, kept as its draft
    save_draft(world.backend, social, world.case_a, first.note_id, "general", None,
               "Correction: Thursday.")
    third = save_note(world.backend, social, NoteInput(
        world.case_a, "Met on Friday (room 3).", "general", supersedes_id=second.note_id),
        today=TODAY)
    for newest in (second.note_id, third.note_id):
        draft = load_draft(world.backend, social, world.case_a, newest)
        assert draft is not None and draft.body == "Correction: Thursday."
        assert draft.supersedes_id == first.note_id
    start = start_editor(world.backend, social, world.case_a, third.note_id)
    assert start.draft is not None and start.draft.body == "Correction: Thursday."
    # Another note's draft is not offered: only the note's own earlier revisions.
    assert load_draft(world.backend, social, world.case_a, world.notes["general"]) is None
    assert load_draft(world.backend, world.viewers["nurse"], world.case_a,
                      third.note_id) is None

    save_draft(world.backend, social, world.case_a, third.note_id, "general", None,
               "Correction: Thursday.", moved_from=first.note_id)
    with world.backend.sessions.system("test: drafts") as s:
        rows = s.execute(select(m.Draft.supersedes_id, m.Draft.body)).all()
    assert [tuple(r) for r in rows] == [(third.note_id, "Correction: Thursday.")]


def test_a_huddles_note_is_added_to_the_authors_own_draft_never_over_it(
    world: TeamWorld
) -> None:
    """In a huddle with nurse's own draft of the case: the huddle's note is added after
    it (once), and the note's save leaves that draft alone."""
    from anchor_tui.services.drafts import has_draft
    from tests.integration.case_world import huddle

    nurse, meeting = world.viewers["nurse"], huddle(world, "nurse", "social")
    assert not has_draft(world.backend, meeting, world.case_a)
    save_draft(world.backend, nurse, world.case_a, None, "health", None, "Mine")
    assert has_draft(world.backend, meeting, world.case_a)
    assert start_editor(world.backend, meeting, world.case_a).draft_apart
    assert not start_editor(world.backend, nurse, world.case_a).draft_apart
    for _ in range(2):
        save_draft(world.backend, meeting, world.case_a, None, "general", None,
                   "From the huddle", append=True)
    save_draft(world.backend, meeting, world.case_a, None, "general", None, " ",
               append=True)
    save_note(world.backend, meeting, NoteInput(world.case_a, "From the huddle", "general"),
              today=TODAY, keep_draft=True)
    draft = load_draft(world.backend, nurse, world.case_a)
    assert draft is not None
    assert (draft.category, draft.body) == ("health", "Mine\n\nFrom the huddle")
