"""Drafts the note editor keeps: a correction's draft after its note was corrected
elsewhere, on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace

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


def test_a_huddles_note_is_kept_apart_from_the_authors_own_draft_and_joins_it_later(
    world: TeamWorld
) -> None:
    """In a huddle with nurse's own draft of the case: each huddle editor keeps its note
    in a draft of its own (the author's is neither replaced nor dropped); a note saved
    drops only its editor's draft. When nurse next writes on the case alone, the notes
    left unsaved in huddles are added after her own draft (the oldest first), once."""
    from tests.integration.case_world import huddle

    nurse, meeting = world.viewers["nurse"], huddle(world, "nurse", "social")
    save_draft(world.backend, nurse, world.case_a, None, "general", None, "Mine")
    for _ in range(2):
        save_draft(world.backend, meeting, world.case_a, None, "general", None,
                   "Saved in the huddle", huddle_key="one")
        save_draft(world.backend, meeting, world.case_a, None, "general", None,
                   "Left unsaved in the huddle", huddle_key="two")
    save_draft(world.backend, meeting, world.case_a, None, "general", None,
               "Left, and then cut", huddle_key="three")
    assert start_editor(world.backend, meeting, world.case_a).draft is None
    assert sorted(drafts_of(world, nurse.user_id)) == [
        "Left unsaved in the huddle", "Left, and then cut", "Mine", "Saved in the huddle"]
    save_note(world.backend, meeting, NoteInput(world.case_a, "Saved in the huddle",
                                                "general"), today=TODAY, huddle_key="one")
    save_draft(world.backend, meeting, world.case_a, None, "general", None, " ",
               huddle_key="three")  # blank: that editor's draft goes
    assert sorted(drafts_of(world, nurse.user_id)) == ["Left unsaved in the huddle", "Mine"]
    draft = load_draft(world.backend, nurse, world.case_a)
    assert draft is not None
    assert (draft.category, draft.body) == ("general", "Mine\n\nLeft unsaved in the huddle")
    assert draft.from_huddles == 1  # said in the offer: discarding it takes that note too
    assert drafts_of(world, nurse.user_id) == ["Mine\n\nLeft unsaved in the huddle"]
    assert load_draft(world.backend, nurse, world.case_a) == replace(draft, from_huddles=0)


def test_a_huddles_note_left_unsaved_becomes_the_authors_draft_when_she_has_none(
    world: TeamWorld
) -> None:
    from tests.integration.case_world import huddle

    nurse, meeting = world.viewers["nurse"], huddle(world, "nurse", "social")
    save_draft(world.backend, meeting, world.case_a, None, "general", None, "First",
               huddle_key="one")
    save_draft(world.backend, meeting, world.case_a, None, "general", None, "Second",
               huddle_key="two")
    draft = load_draft(world.backend, nurse, world.case_a)
    assert draft is not None and draft.body == "First\n\nSecond"
    # Saving it (alone) drops the one draft there is: nothing is offered again.
    save_note(world.backend, nurse, NoteInput(world.case_a, draft.body, "general"),
              today=TODAY)
    assert drafts_of(world, nurse.user_id) == []
    assert load_draft(world.backend, nurse, world.case_a) is None


def test_a_huddles_note_of_another_category_is_never_joined_to_the_authors_draft(
    world: TeamWorld
) -> None:
    """nurse's own draft is a general note; in a huddle she wrote a health note and left
    it unsaved. Joined, the health note's words would be saved under "general" and reach
    the police: each is offered alone, under the category it was written in, the own
    draft first; the health one once the own is saved."""
    from tests.integration.case_world import huddle

    nurse, meeting = world.viewers["nurse"], huddle(world, "nurse", "social")
    save_draft(world.backend, nurse, world.case_a, None, "general", None, "Mine")
    save_draft(world.backend, meeting, world.case_a, None, "health", None,
               "Known to the psychiatric clinic", huddle_key="one")
    save_draft(world.backend, meeting, world.case_a, None, "general", "phone_contact",
               "Called the school", huddle_key="two")
    for _ in range(2):
        draft = load_draft(world.backend, nurse, world.case_a)
        assert draft is not None
        assert (draft.category, draft.template, draft.body) == ("general", None, "Mine")
    assert sorted(drafts_of(world, nurse.user_id)) == [
        "Called the school", "Known to the psychiatric clinic", "Mine"]
    save_note(world.backend, nurse, NoteInput(world.case_a, "Mine", "general"), today=TODAY)
    draft = load_draft(world.backend, nurse, world.case_a)
    assert draft is not None
    assert (draft.category, draft.body) == ("health", "Known to the psychiatric clinic")
    save_note(world.backend, nurse, NoteInput(world.case_a, draft.body, "health"),
              today=TODAY)
    draft = load_draft(world.backend, nurse, world.case_a)
    assert draft is not None
    assert (draft.category, draft.template, draft.body) == (
        "general", "phone_contact", "Called the school")


def drafts_of(world: TeamWorld, author_id: int) -> list[str]:
    with world.backend.sessions.system("test: drafts") as s:
        return list(s.scalars(select(m.Draft.body).where(m.Draft.author_id == author_id)))


def test_a_huddles_note_whose_words_occur_in_the_authors_draft_is_still_joined(
    world: TeamWorld
) -> None:
    """A huddle's note left unsaved was dropped when its words happened to occur
    anywhere in the author's own draft (taken for a note joined there before): "No
    show." typed in the meeting was gone because the own draft said "No show. Mother
    called at noon.". Only a note joined before, as a paragraph of its own, is
    taken for one."""
    from tests.integration.case_world import huddle

    nurse, meeting = world.viewers["nurse"], huddle(world, "nurse", "social")
    save_draft(world.backend, nurse, world.case_a, None, "general", None,
               "No show. Mother called at noon.")
    save_draft(world.backend, meeting, world.case_a, None, "general", None, "No show.",
               huddle_key="one")
    draft = load_draft(world.backend, nurse, world.case_a)
    assert draft is not None
    assert draft.body == "No show. Mother called at noon.\n\nNo show.", (
        "the huddle's note was dropped")
    # Joined once: loaded again, nothing is added twice.
    assert load_draft(world.backend, nurse, world.case_a) == replace(draft, from_huddles=0)
