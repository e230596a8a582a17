"""The case view's reads: only what the viewer may see, revisions, history by case field,
keyset pages of notes, and a fixed number of queries however many notes a case has."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, event

from anchor_tui.db import models as m
from anchor_tui.errors import AnchorError
from anchor_tui.services.case_view import more_notes, open_case
from tests.integration.case_world import NOW, TeamWorld, build, huddle, make_backend

RESTRICTED = "  youth_work: [person_name, municipality, summary, lead, members]"


@pytest.fixture
def world(engine: Engine) -> TeamWorld:
    return build(make_backend(engine))


def note_ids(world: TeamWorld, name: str) -> set[int]:
    record = open_case(world.backend, world.viewers[name], world.case_a, now=NOW)
    return {n.note_id for n in record.notes.notes}


def test_each_profession_sees_only_its_notes(world: TeamWorld) -> None:
    n = world.notes
    social = note_ids(world, "social")
    assert {n["general"], n["child_welfare"], n["health"], n["youth_rev1"]} <= social
    assert not {n["police_intel"], n["youth_work"], n["youth_rev2"]} & social
    police = note_ids(world, "police")
    assert {n["police_intel"], n["general"]} <= police
    assert not {n["health"], n["child_welfare"], n["youth_work"]} & police
    assert n["police_intel"] not in note_ids(world, "nurse") | note_ids(world, "youth")
    assert not note_ids(world, "police") & {n["case_b"]}


def test_a_huddle_sees_the_intersection_and_an_empty_one_no_case(world: TeamWorld) -> None:
    record = open_case(world.backend, huddle(world, "police", "social"), world.case_a, now=NOW)
    shown = {note.note_id for note in record.notes.notes}
    assert world.notes["general"] in shown
    assert not shown & {world.notes["police_intel"], world.notes["health"],
                        world.notes["child_welfare"]}
    with pytest.raises(AnchorError):
        open_case(world.backend, huddle(world), world.case_a, now=NOW)


def test_revisions_and_errors_are_marked(world: TeamWorld) -> None:
    record = open_case(world.backend, world.viewers["social"], world.case_a, now=NOW)
    notes = {note.note_id: note for note in record.notes.notes}
    first, second = notes[world.notes["rev1"]], notes[world.notes["rev2"]]
    assert first.superseded and not first.corrects
    assert second.corrects and second.revision == 2 and not second.superseded
    wrong = notes[world.notes["error"]]
    assert wrong.entered_in_error and wrong.error_reason == "meant for another case"
    assert notes[world.notes["general"]].author == "Social Person"
    assert notes[world.notes["general"]].profession == "Social work"


def test_a_hidden_revision_leaves_no_trace(world: TeamWorld) -> None:
    """Youth work's correction is not visible to social work: the older revision is
    shown to social work unmarked, and to its author as superseded."""
    social = open_case(world.backend, world.viewers["social"], world.case_a, now=NOW)
    old = next(x for x in social.notes.notes if x.note_id == world.notes["youth_rev1"])
    assert not old.superseded
    youth = open_case(world.backend, world.viewers["youth"], world.case_a, now=NOW)
    mine = next(x for x in youth.notes.notes if x.note_id == world.notes["youth_rev1"])
    assert mine.superseded


def test_a_hidden_earlier_revision_leaves_no_trace(world: TeamWorld) -> None:
    """A correction may change a note's category: health's note corrected into a
    general one is, for the police, who may not read the first, a first revision (its
    stored number would say an earlier one exists), in the timeline, the note's history
    and the export; its author sees all three revisions as they are."""
    from sqlalchemy import select

    from anchor_tui.services.export import collect
    from anchor_tui.services.notes import NoteInput, note_history, save_note
    from tests.integration.case_world import TODAY

    backend, nurse, police = world.backend, world.viewers["nurse"], world.viewers["police"]
    ids = []
    for minute, (body, category) in enumerate((("health only", "health"),
                                               ("for everyone", "general"),
                                               ("for everyone, fixed", "general"))):
        saved = save_note(backend, nurse, NoteInput(world.case_a, body, category,
                                                    supersedes_id=ids[-1] if ids else None),
                          today=TODAY, now=NOW + dt.timedelta(minutes=minute))
        ids.append(saved.note_id)
    later = NOW + dt.timedelta(hours=1)

    def marks(entries: object) -> dict[int, tuple[int, bool]]:
        assert isinstance(entries, tuple)
        return {e.note_id: (e.revision, e.corrects) for e in entries if e.note_id in ids}

    seen = open_case(backend, police, world.case_a, now=later).notes.notes
    assert marks(seen) == {ids[1]: (1, False), ids[2]: (2, True)}
    assert marks(note_history(backend, police, ids[2], now=later)) == marks(seen)
    written = open_case(backend, nurse, world.case_a, now=later).notes.notes
    assert marks(written) == {ids[0]: (1, False), ids[1]: (2, True), ids[2]: (3, True)}
    assert marks(note_history(backend, nurse, ids[1], now=later)) == marks(written)
    with backend.sessions.system("test: the person") as s:
        person_id = s.scalar(select(m.Case.person_id).where(m.Case.id == world.case_a))
    assert person_id is not None
    exported = collect(backend, police.username, person_id, now=later)
    revisions = {n.note_id: n.revision for c in exported.cases for n in c.notes}
    assert ids[0] not in revisions and (revisions[ids[1]], revisions[ids[2]]) == (1, 2)


def test_summary_history_tasks_consents_and_members(world: TeamWorld) -> None:
    record = open_case(world.backend, world.viewers["social"], world.case_a, now=NOW)
    summary = record.summary
    assert summary.person_label == "Aino Testinen"
    assert summary.summary == "Shoplifting at the mall"
    assert summary.lead == "Social Person" and summary.stage == "Joint assessment"
    kinds = [entry.kind for entry in record.history]
    assert kinds == ["stage", "priority", "lead", "member_added"]  # newest first
    stage = record.history[0]
    assert (stage.from_value, stage.to_value) == ("Screening", "Joint assessment")
    assert record.history[1].to_value == "high"
    assert record.history[2].to_value == "Social Person"
    assert [t.title for t in record.tasks] == ["Call home"]
    (consent,) = record.consents
    assert (consent.grantor, consent.decision, consent.category, consent.receiving_profession,
            consent.status) == ("the young person", "permits", "Health", "Social work",
                                "in force")
    assert record.members is not None and len(record.members) == 4


def test_consents_are_listed_to_members_and_leads_in_their_own_work(world: TeamWorld) -> None:
    """As in the consents screen: a young person's consents ("refuses health to the
    police") are theirs, shown to the case's members and leads, and not to the room of
    a huddle even when every one present works the case."""
    from sqlalchemy import select

    from tests.integration.case_world import TODAY

    with world.backend.sessions.system("test: a refusal on case B") as s:
        person_b = s.scalar(select(m.Case.person_id).where(m.Case.id == world.case_b))
        s.add(m.Consent(person_id=person_b, grantor="self", decision="deny",
                        category="health", receiving_profession="police",
                        valid_from=TODAY - dt.timedelta(days=3),
                        recorded_by_id=world.viewers["police"].user_id))
    police, nurse = world.viewers["police"], world.viewers["nurse"]
    works_b = open_case(world.backend, police, world.case_b, now=NOW).consents
    assert works_b is not None and [c.decision for c in works_b] == ["refuses"]
    assert open_case(world.backend, nurse, world.case_b, now=NOW).consents is None
    assert open_case(world.backend, nurse, world.case_a, now=NOW).consents  # works A
    room = huddle(world, "social", "nurse")
    assert open_case(world.backend, room, world.case_a, now=NOW).consents is None


def test_case_fields_the_viewer_may_not_see_are_left_out(engine: Engine) -> None:
    text = make_backend(engine).policy.path
    with open(text, encoding="utf-8") as file:
        policy_text = file.read()
    assert RESTRICTED in policy_text
    world = build(make_backend(engine, policy_text.replace(
        RESTRICTED, "  youth_work: [municipality]")))
    record = open_case(world.backend, world.viewers["youth"], world.case_a, now=NOW)
    assert record.summary.person_label == "A. T."
    assert record.summary.summary is None and record.summary.lead is None
    assert record.summary.birth_date is None and record.summary.municipality == "Espoo"
    assert record.members is None
    assert [entry.kind for entry in record.history] == ["stage", "priority"]


def test_notes_come_in_keyset_pages_newest_first(engine: Engine) -> None:
    world = build(make_backend(engine))
    police = world.viewers["police"]
    with world.backend.sessions.system("test: a long case") as s:
        for i in range(120):
            s.add(m.Note(case_id=world.case_b, author_id=police.user_id,
                         author_profession="police", category="general", body=f"n{i}",
                         created_at=NOW - dt.timedelta(hours=i // 2)))  # pairs share a time
    record = open_case(world.backend, police, world.case_b, page_size=50, now=NOW)
    pages = [record.notes]
    while pages[-1].more is not None:
        cursor = pages[-1].more
        assert cursor is not None
        pages.append(more_notes(world.backend, police, world.case_b, cursor, page_size=50,
                                now=NOW))
    assert [len(p.notes) for p in pages] == [50, 50, 21]
    notes = [n for p in pages for n in p.notes]
    assert len({n.note_id for n in notes}) == 121
    keys = [(n.created_at, n.note_id) for n in notes]
    assert keys == sorted(keys, reverse=True)


def test_opening_a_case_takes_the_same_queries_for_many_notes(engine: Engine) -> None:
    world = build(make_backend(engine))
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    police = world.viewers["police"]
    event.listen(engine, "before_cursor_execute", count)
    try:
        open_case(world.backend, police, world.case_b, now=NOW)
        few = len(statements)
        with world.backend.sessions.system("test: many notes") as s:
            s.add_all(m.Note(case_id=world.case_b, author_id=police.user_id,
                             author_profession="police", category="general", body=f"n{i}")
                      for i in range(100))
        statements.clear()
        record = open_case(world.backend, police, world.case_b, now=NOW)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(record.notes.notes) == 50
    # The reads, then the audit: PostgreSQL's chain lock, the chain's head, one insert.
    assert len(statements) == few <= 13


def test_the_health_record_never_reaches_the_police_whatever_consent_says(
        world: TeamWorld) -> None:
    """"Health information reaches police only as a statement, never the record itself":
    a consent recorded for health notes to the police (by a police member of the case,
    as any member may record one) lets the police read none of them, alone or in a
    huddle; the same consent to youth work lets youth work read them."""
    from anchor_tui.services.consents import ConsentInput, record_consent
    from anchor_tui.services.search import search

    police, youth = world.viewers["police"], world.viewers["youth"]
    assert world.notes["health"] not in note_ids(world, "youth")
    for who in (police, youth):
        record_consent(world.backend, who, world.case_a, ConsentInput(
            grantor="self", decision="permit", category="health",
            professions=(who.profession,), valid_from=NOW.date() - dt.timedelta(days=1),
            valid_to=None, evidence="asked in person"), now=NOW - dt.timedelta(minutes=5))
    assert world.notes["health"] in note_ids(world, "youth")  # the consent holds
    assert world.notes["health"] not in note_ids(world, "police")
    room = open_case(world.backend, huddle(world, "police", "nurse"), world.case_a, now=NOW)
    assert world.notes["health"] not in {note.note_id for note in room.notes.notes}
    with world.backend.sessions.system("test: the note's words") as s:
        body = s.get_one(m.Note, world.notes["health"]).body
    words = " ".join(body.split()[:2])
    assert search(world.backend, youth, words, now=NOW).notes  # found where it may be
    assert not any(hit.note_id == world.notes["health"]
                   for hit in search(world.backend, police, words, now=NOW).notes)
