"""Writing notes on SQLite and PostgreSQL: save with its audit event, revisions, "entered
in error", history through what one may see, follow-ups from templates, bad input."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, update
from sqlalchemy.exc import DBAPIError

from anchor_tui.db import models as m
from anchor_tui.errors import AnchorError, ConflictError
from anchor_tui.services.case_view import open_case
from anchor_tui.services.drafts import load_draft, save_draft
from anchor_tui.services.notes import (
    NoteInput,
    mark_entered_in_error,
    note_history,
    own_notes,
    save_note,
)
from tests.integration.case_world import NOW, TODAY, TeamWorld, build, huddle, make_backend


@pytest.fixture
def world(engine: Engine) -> TeamWorld:
    return build(make_backend(engine))


def note_row(world: TeamWorld, note_id: int) -> Any:
    """The note's columns as they are in the database now."""
    with world.backend.sessions.system("test: read a note") as s:
        return s.execute(select(*m.Note.__table__.columns).where(m.Note.id == note_id)).one()


def audit_actions(world: TeamWorld, note_id: int) -> list[str]:
    with world.backend.sessions.system("test: audit") as s:
        return list(s.scalars(select(m.AuditEvent.action).where(
            m.AuditEvent.object_type == "note", m.AuditEvent.object_id == note_id)))


def count(world: TeamWorld, entity: type[object]) -> int:
    with world.backend.sessions.system("test: count") as s:
        return int(s.scalar(select(func.count()).select_from(entity)) or 0)


def test_a_saved_note_is_durable_audited_and_drops_its_draft(world: TeamWorld) -> None:
    social = world.viewers["social"]
    save_draft(world.backend, social, world.case_a, None, "general", None, "Half a thought")
    saved = save_note(world.backend, social,
                      NoteInput(world.case_a, "Met at school.\n\n", "general"), today=TODAY)
    row = note_row(world, saved.note_id)
    assert (row.body, row.revision, row.author_profession) == ("Met at school.", 1,
                                                               "social_work")
    assert audit_actions(world, saved.note_id) == ["note.write"]
    assert load_draft(world.backend, social, world.case_a) is None
    assert saved.follow_up is None and saved.notification_id is None


def test_bad_input_is_refused_or_made_harmless(world: TeamWorld) -> None:
    social = world.viewers["social"]
    before = count(world, m.Note)
    for empty in ("", "   ", "\n\n\t \n"):
        with pytest.raises(AnchorError, match="empty note"):
            save_note(world.backend, social, NoteInput(world.case_a, empty, "general"),
                      today=TODAY)
    with pytest.raises(AnchorError, match="no note category"):
        save_note(world.backend, social, NoteInput(world.case_a, "x", "gossip"), today=TODAY)
    with pytest.raises(AnchorError, match="not offered"):
        save_note(world.backend, social,
                  NoteInput(world.case_a, "x", "health", template="health_assessment"),
                  today=TODAY)
    assert count(world, m.Note) == before
    hostile = "[bold]x[/bold] [@click=app.quit] \x1b[2J\x07 end\r\nnext\tcol \u202eRTL"
    saved = save_note(world.backend, social, NoteInput(world.case_a, hostile, "general"),
                      today=TODAY)
    body = note_row(world, saved.note_id).body
    assert body == ("[bold]x[/bold] [@click=app.quit] \\x1b[2J\\x07 end\nnext    col "
                    "\\u202eRTL")
    assert not any(ord(c) < 32 and c != "\n" for c in body)


def test_a_one_megabyte_note_is_saved_whole(world: TeamWorld) -> None:
    body = ("Pitkä muistiinpano, rivi rivillä. " * 30 + "\n") * 1000
    assert len(body.encode()) > 1_000_000
    saved = save_note(world.backend, world.viewers["nurse"],
                      NoteInput(world.case_a, body, "health"), today=TODAY)
    assert note_row(world, saved.note_id).body == body.rstrip()


def test_a_correction_is_a_new_revision_and_the_history_shows_both(world: TeamWorld) -> None:
    social = world.viewers["social"]
    first = save_note(world.backend, social, NoteInput(world.case_a, "Met at 10.", "general"),
                      today=TODAY)
    second = save_note(world.backend, social, NoteInput(
        world.case_a, "Met at 11.", "general", supersedes_id=first.note_id), today=TODAY)
    assert second.revision == 2
    assert note_row(world, first.note_id).body == "Met at 10."  # the old one stays
    for name in ("social", "police"):  # everyone who sees general notes sees the history
        history = note_history(world.backend, world.viewers[name], first.note_id, NOW)
        assert [(e.revision, e.body, e.superseded) for e in history] == [
            (1, "Met at 10.", True), (2, "Met at 11.", False)]
    record = open_case(world.backend, social, world.case_a, now=NOW)
    shown = {n.note_id: n for n in record.notes.notes}
    assert shown[first.note_id].superseded and shown[second.note_id].corrects
    assert [n.note_id for n in own_notes(world.backend, social, world.case_a)].count(
        first.note_id) == 0  # only the newest revision can be corrected again


def test_a_note_is_corrected_once_the_second_correction_conflicts(world: TeamWorld) -> None:
    social = world.viewers["social"]
    first = save_note(world.backend, social, NoteInput(world.case_a, "v1", "general"),
                      today=TODAY)
    fix = NoteInput(world.case_a, "v2", "general", supersedes_id=first.note_id)
    save_note(world.backend, social, fix, today=TODAY)
    with pytest.raises(ConflictError, match="corrected already"):
        save_note(world.backend, social, dataclasses.replace(fix, body="v2 again"),
                  today=TODAY)
    # The database itself refuses a second correction of the same revision.
    with pytest.raises(DBAPIError), world.backend.sessions.system("test: fork") as s:
        s.add(m.Note(case_id=world.case_a, author_id=social.user_id,
                     author_profession="social_work", category="general", body="fork",
                     revision=2, supersedes_id=first.note_id))


def test_only_the_author_corrects_or_marks_a_note(world: TeamWorld) -> None:
    police = world.viewers["police"]
    general = world.notes["general"]  # written by social work, visible to the police
    with pytest.raises(AnchorError, match="Only the author"):
        save_note(world.backend, police, NoteInput(world.case_a, "mine now", "general",
                                                   supersedes_id=general), today=TODAY)
    with pytest.raises(AnchorError, match="Only the author"):
        mark_entered_in_error(world.backend, police, general, "not mine")
    with pytest.raises(AnchorError, match="not there"):  # a note the viewer may not see
        save_note(world.backend, police, NoteInput(world.case_a, "x", "general",
                                                   supersedes_id=world.notes["health"]),
                  today=TODAY)


def test_entered_in_error_keeps_the_note_with_its_reason(world: TeamWorld) -> None:
    social = world.viewers["social"]
    saved = save_note(world.backend, social, NoteInput(world.case_a, "Wrong case", "general"),
                      today=TODAY)
    with pytest.raises(AnchorError, match="needs a reason"):
        mark_entered_in_error(world.backend, social, saved.note_id, "  \n ")
    mark_entered_in_error(world.backend, social, saved.note_id, "Written on the wrong case")
    row = note_row(world, saved.note_id)
    assert row.entered_in_error and row.error_reason == "Written on the wrong case"
    assert row.body == "Wrong case"
    assert audit_actions(world, saved.note_id) == ["note.write", "note.write"]
    with pytest.raises(AnchorError, match="already marked"):
        mark_entered_in_error(world.backend, social, saved.note_id, "again")
    # The same mark made again (its first answer lost): done, nothing written twice.
    mark_entered_in_error(world.backend, social, saved.note_id, "Written on the wrong case")
    assert audit_actions(world, saved.note_id) == ["note.write", "note.write"]
    shown = {n.note_id: n for n in open_case(world.backend, social, world.case_a,
                                             now=NOW).notes.notes}
    assert shown[saved.note_id].entered_in_error
    assert shown[saved.note_id].error_reason == "Written on the wrong case"
    # Still no deleting and no rewriting, whatever the services do.
    with pytest.raises(DBAPIError, match="append-only"), \
            world.backend.sessions.system("test: rewrite") as s:
        s.execute(update(m.Note).where(m.Note.id == saved.note_id).values(body="gone"))


def test_history_leaves_out_revisions_the_viewer_may_not_see(world: TeamWorld) -> None:
    police = world.viewers["police"]
    first = world.notes["youth_rev1"]  # general, then corrected into a youth work note
    history = note_history(world.backend, police, first, NOW)
    assert [e.note_id for e in history] == [first]
    assert all("ibexcorrected" not in e.body for e in history)
    youth = note_history(world.backend, world.viewers["youth"], first, NOW)
    assert [e.note_id for e in youth] == [first, world.notes["youth_rev2"]]


def test_a_template_schedules_its_follow_up(world: TeamWorld) -> None:
    social = world.viewers["social"]
    saved = save_note(world.backend, social, NoteInput(
        world.case_a, "Present: all", "general", template="anchor_meeting_summary"),
        today=TODAY)
    assert saved.follow_up is not None
    with world.backend.sessions.system("test: task") as s:
        task = s.get_one(m.Task, saved.follow_up.task_id)
        assert task.due == TODAY + dt.timedelta(days=21)
        assert task.assignee_id == social.user_id and task.case_id == world.case_a
        assert task.title == "Follow-up: Anchor meeting summary"


def test_a_correction_of_a_templated_note_asks_its_follow_up_once(world: TeamWorld) -> None:
    """Correcting a typo in a meeting summary made a second "Follow-up" task; a
    correction that changes the template to one with a follow-up still makes one."""
    social = world.viewers["social"]
    first = save_note(world.backend, social, NoteInput(
        world.case_a, "Present: all", "general", template="anchor_meeting_summary"),
        today=TODAY)
    corrected = save_note(world.backend, social, NoteInput(
        world.case_a, "Present: all three", "general", template="anchor_meeting_summary",
        supersedes_id=first.note_id), today=TODAY)
    assert first.follow_up is not None and corrected.follow_up is None
    plain = save_note(world.backend, social, NoteInput(world.case_a, "Met", "general"),
                      today=TODAY)
    summary = save_note(world.backend, social, NoteInput(
        world.case_a, "Present: all", "general", template="anchor_meeting_summary",
        supersedes_id=plain.note_id), today=TODAY)
    assert summary.follow_up is not None
    with world.backend.sessions.system("test: tasks") as s:
        titles = list(s.scalars(select(m.Task.title).where(
            m.Task.case_id == world.case_a, m.Task.title.like("Follow-up%"))))
    assert titles == ["Follow-up: Anchor meeting summary"] * 2


def test_a_correction_back_to_an_earlier_template_asks_its_follow_up_once(
        world: TeamWorld) -> None:
    """A meeting summary corrected into a home visit, then back into a meeting summary:
    the summary's follow-up was asked for by the first revision already; the third
    revision asked for it again (it looked at the revision before it alone)."""
    social = world.viewers["social"]
    first = save_note(world.backend, social, NoteInput(
        world.case_a, "Present: all", "general", template="anchor_meeting_summary"),
        today=TODAY)
    visit = save_note(world.backend, social, NoteInput(
        world.case_a, "Present: mother", "general", template="home_visit",
        supersedes_id=first.note_id), today=TODAY)
    back = save_note(world.backend, social, NoteInput(
        world.case_a, "Present: all three", "general", template="anchor_meeting_summary",
        supersedes_id=visit.note_id), today=TODAY)
    assert first.follow_up is not None
    assert visit.follow_up is None and back.follow_up is None
    with world.backend.sessions.system("test: tasks") as s:
        titles = list(s.scalars(select(m.Task.title).where(
            m.Task.case_id == world.case_a, m.Task.title.like("Follow-up%"))))
    assert titles == ["Follow-up: Anchor meeting summary"]


def test_an_audit_trail_that_cannot_be_written_saves_nothing(
    world: TeamWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ANCHOR_AUDIT_KEY")
    before = count(world, m.Note)
    with pytest.raises(AnchorError):
        save_note(world.backend, world.viewers["social"],
                  NoteInput(world.case_a, "Must not be half-saved", "general"), today=TODAY)
    assert count(world, m.Note) == before


def test_a_note_written_in_a_huddle_is_saved_and_its_draft_dropped(world: TeamWorld) -> None:
    social = world.viewers["social"]
    meeting = huddle(world, "social", "police")
    assert save_draft(world.backend, meeting, world.case_a, None, "general", None,
                      "Typed in the huddle", huddle_key="editor") is not None
    assert load_draft(world.backend, meeting, world.case_a) is None  # never shown there
    saved = save_note(world.backend, meeting, NoteInput(world.case_a, "Decided: call home",
                                                        "general"), today=TODAY,
                      huddle_key="editor")
    assert note_row(world, saved.note_id).author_id == social.user_id
    assert load_draft(world.backend, social, world.case_a) is None


def test_a_huddle_note_in_a_category_someone_present_may_not_read_is_refused(
        world: TeamWorld) -> None:
    """The editor offers no such category; the save refuses it too (a roster changed
    since the editor opened, a caller other than the editor). Nothing is written."""
    meeting = huddle(world, "nurse", "police")
    with pytest.raises(AnchorError) as refused:
        save_note(world.backend, meeting, NoteInput(world.case_a, "Seen at the clinic",
                                                    "health"), today=TODAY)
    assert "Not everyone present may read a health note" in refused.value.message
    assert "Police" in refused.value.message
    with world.backend.sessions.system("test: notes") as s:
        assert not s.scalars(select(m.Note).where(m.Note.body == "Seen at the clinic")).all()
    saved = save_note(world.backend, meeting, NoteInput(world.case_a, "Agreed: call home",
                                                        "general"), today=TODAY)
    assert note_row(world, saved.note_id).category == "general"
    alone = save_note(world.backend, world.viewers["nurse"], NoteInput(
        world.case_a, "Seen at the clinic", "health"), today=TODAY)
    assert note_row(world, alone.note_id).category == "health"


def test_a_huddle_note_is_saved_once_when_its_draft_cannot_be_dropped(
        world: TeamWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    """The huddle's note is committed, then its author's draft dropped in a unit of work
    of their own: the server going away between the two used to fail the whole save, so
    the save was kept and made again when it came back: the note twice."""
    from anchor_tui.errors import ConnectionLostError
    from anchor_tui.services import drafts

    def gone(*_args: object, **_kwargs: object) -> bool:
        raise ConnectionLostError("The connection to the database server was lost.")

    monkeypatch.setattr(drafts, "discard_draft", gone)
    meeting = huddle(world, "social", "police")
    before = count(world, m.Note)
    saved = save_note(world.backend, meeting, NoteInput(world.case_a, "Decided: call home",
                                                        "general"), today=TODAY,
                      huddle_key="editor")
    assert note_row(world, saved.note_id) is not None and count(world, m.Note) == before + 1


def test_a_save_made_again_with_its_moment_writes_the_note_once(world: TeamWorld) -> None:
    """A save whose commit reached the server but whose answer was lost is kept and made
    again with the same moment (the save queue): the note is found, not written twice.
    Another text, or another moment, is another note."""
    social = world.viewers["social"]
    moment = NOW - dt.timedelta(minutes=3)
    note = NoteInput(world.case_a, "Called the school: the meeting is on Friday.", "general")
    before = count(world, m.Note)
    first = save_note(world.backend, social, note, today=TODAY, now=moment)
    again = save_note(world.backend, social, note, today=TODAY, now=moment)
    assert again.note_id == first.note_id and count(world, m.Note) == before + 1
    other = save_note(world.backend, social, dataclasses.replace(note, body="Called home."),
                      today=TODAY, now=moment)
    later = save_note(world.backend, social, note, today=TODAY,
                      now=moment + dt.timedelta(microseconds=1))
    assert len({first.note_id, other.note_id, later.note_id}) == 3
    assert count(world, m.Note) == before + 3


def test_notes_are_corrected_and_marked_in_ones_own_work_not_in_a_huddle(
        world: TeamWorld) -> None:
    """The room sees only some of the chair's revisions: youth work's first revision is
    the newest the youth and the police may see together (its correction is youth
    work's own), so correcting it there came back as "corrected on another terminal" on
    the shared screen. A huddle corrects and marks nothing; its chair does, alone."""
    from anchor_tui.services.note_form import start_editor

    room = huddle(world, "youth", "police")
    first = world.notes["youth_rev1"]
    assert first in {n.note_id for n in open_case(world.backend, room, world.case_a,
                                                  now=NOW).notes.notes}
    assert own_notes(world.backend, room, world.case_a) == ()
    for attempt in (
        lambda: save_note(world.backend, room, NoteInput(world.case_a, "Fixed", "general",
                                                         supersedes_id=first), today=TODAY),
        lambda: mark_entered_in_error(world.backend, room, first, "wrong case"),
        lambda: start_editor(world.backend, room, world.case_a, first, now=NOW),
    ):
        with pytest.raises(AnchorError, match="not in a huddle") as refused:
            attempt()
        assert "another terminal" not in str(refused.value)
    youth = world.viewers["youth"]
    assert world.notes["youth_rev2"] in {n.note_id for n in
                                         own_notes(world.backend, youth, world.case_a)}
