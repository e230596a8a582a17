"""Search: results and counts hold only what the viewer may see; typed text never breaks
the query; the index follows new notes (and erased ones, on both databases)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, text, update

from anchor_tui.db import models as m
from anchor_tui.db import schema
from anchor_tui.services.search import search, search_words, snippet
from tests.integration.case_world import (
    CASE_B_WORD,
    HIDDEN_REVISION_WORD,
    NOW,
    WORDS,
    TeamWorld,
    build,
    huddle,
    make_backend,
)

HOSTILE = ['"', "*", "NEAR(", "'; drop table note; --", "[@click=app.quit]", "", "   ",
           "a OR", "body:x", "^zebra", "(((", "\x00\x1b[2J", "%", "_", "NOT", 'zebra"*',
           "- -", "ääää*", "x" * 5000]


@pytest.fixture
def world(engine: Engine) -> TeamWorld:
    return build(make_backend(engine))


def found(world: TeamWorld, who: str, query: str) -> tuple[set[int], int]:
    viewer = world.viewers[who] if who in world.viewers else huddle(world, *who.split("+"))
    results = search(world.backend, viewer, query, now=NOW)
    return {n.note_id for n in results.notes}, results.note_count


def test_police_intelligence_is_found_by_the_police_only(world: TeamWorld) -> None:
    word = WORDS["police_intel"]
    assert found(world, "police", word) == ({world.notes["police_intel"]}, 1)
    for who in ("social", "nurse", "youth", "police+social", "police+nurse"):
        assert found(world, who, word) == (set(), 0), who


@pytest.mark.parametrize(("category", "finders", "others"), [
    ("health", {"nurse", "social"}, {"police", "youth"}),
    ("child_welfare", {"social"}, {"police", "nurse", "youth"}),
    ("youth_work", {"youth"}, {"police", "social", "nurse"}),
    ("general", {"police", "social", "nurse", "youth"}, set()),
])
def test_every_category_is_found_only_where_the_policy_allows(
    world: TeamWorld, category: str, finders: set[str], others: set[str]
) -> None:
    for who in finders:
        assert found(world, who, WORDS[category]) == ({world.notes[category]}, 1), who
    for who in others:
        assert found(world, who, WORDS[category]) == (set(), 0), who


def test_a_case_only_the_police_work_is_not_found_by_others(world: TeamWorld) -> None:
    assert found(world, "police", CASE_B_WORD)[1] == 1
    assert found(world, "social", CASE_B_WORD) == (set(), 0)
    assert found(world, "social", HIDDEN_REVISION_WORD) == (set(), 0)


def test_an_empty_huddle_finds_nothing(world: TeamWorld) -> None:
    results = search(world.backend, huddle(world), "Aino okapigeneral", now=NOW)
    assert (results.cases, results.case_count, results.notes, results.note_count) == \
        ((), 0, (), 0)


def test_counts_and_several_words(world: TeamWorld) -> None:
    assert found(world, "social", "kiwiword")[1] == 2  # both revisions
    assert found(world, "social", "second kiwiword") == ({world.notes["rev2"]}, 1)
    assert found(world, "social", "kiwi")[1] == 2, "a word matches as a prefix"
    assert found(world, "social", "iwiword")[1] == 0, "but only at the start of a word"


def test_cases_are_found_by_name_and_summary(world: TeamWorld) -> None:
    results = search(world.backend, world.viewers["youth"], "aino", now=NOW)
    assert [(c.case_id, c.person_label) for c in results.cases] == \
        [(world.case_a, "Aino Testinen")]
    assert results.cases[0].matched.spans == ((0, 4),)
    results = search(world.backend, world.viewers["youth"], "mall", now=NOW)
    assert [c.case_id for c in results.cases] == [world.case_a]


def test_names_are_not_searched_for_a_viewer_who_sees_initials(engine: Engine) -> None:
    backend = make_backend(engine)
    text = open(backend.policy.path, encoding="utf-8").read()  # noqa: SIM115
    world = build(make_backend(engine, text.replace(
        "  youth_work: [person_name, municipality, summary, lead, members]",
        "  youth_work: [municipality]")))
    for query in ("aino", "testinen", "mall"):
        results = search(world.backend, world.viewers["youth"], query, now=NOW)
        assert results.cases == () and results.case_count == 0, query
    social = search(world.backend, world.viewers["social"], "testinen", now=NOW)
    assert social.case_count == 1


@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_queries_give_results_or_nothing_never_an_error(
    world: TeamWorld, query: str
) -> None:
    for who in ("police", "social"):
        results = search(world.backend, world.viewers[who], query, now=NOW)
        assert results.note_count >= 0
    if not search_words(query):
        assert search(world.backend, world.viewers["police"], query, now=NOW).words == ()


def test_notes_written_later_are_found_and_erased_text_is_not(world: TeamWorld) -> None:
    police = world.viewers["police"]
    with world.backend.sessions.write(police, NOW) as s:
        note = m.Note(case_id=world.case_a, author_id=police.user_id,
                      author_profession="police", category="general",
                      body="A fresh note about a narwhalword")
        s.add(note)
        s.flush()
        note_id = note.id
    assert found(world, "social", "narwhalword") == ({note_id}, 1)
    if not hasattr(m.Note, "erased_at"):
        return
    with world.backend.sessions.system("test: retention erases a note") as s:
        s.execute(update(m.Note).where(m.Note.id == note_id)
                  .values(body="", erased_at=NOW + dt.timedelta(days=1)))
    assert found(world, "police", "narwhalword") == (set(), 0)


def test_snippets_mark_the_words_and_keep_text_as_text() -> None:
    body = "Line one.\n[@click=app.quit] met Äiti at the \x1b[2J school; äiti agreed"
    result = snippet(body, search_words("aiti school"))
    assert "\n" not in result.text and "[@click=app.quit]" in result.text
    marked = [result.text[s:e] for s, e in result.spans]
    assert marked == ["Äiti", "school", "äiti"]
    long = snippet("word " * 10 + "target " + "tail " * 40, ("target",), width=40)
    assert long.text.startswith("…") and long.text.endswith("…")
    assert [long.text[s:e] for s, e in long.spans] == ["target"]


def search_index(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            rows = conn.execute(text(
                "SELECT name FROM sqlite_master WHERE name LIKE 'note_fts%' "
                "AND (type = 'trigger' OR name = 'note_fts')"))
        else:
            rows = conn.execute(text(
                "SELECT indexname FROM pg_indexes WHERE tablename = 'note' "
                "AND indexname IN ('ix_note_body_fts', 'ix_note_body_words') "
                "AND schemaname = current_schema() "
                "UNION ALL SELECT attname FROM pg_attribute "
                "WHERE attrelid = 'note'::regclass AND attname = 'body_words' "
                "AND NOT attisdropped"))
        return sorted(r[0] for r in rows)


def test_the_migration_builds_the_index_from_the_notes_present(engine: Engine) -> None:
    sqlite = engine.dialect.name == "sqlite"
    expected = ["note_fts", "note_fts_delete", "note_fts_insert", "note_fts_update"] \
        if sqlite else ["body_words", "ix_note_body_words"]
    assert search_index(engine) == expected
    world = build(make_backend(engine))
    schema.downgrade(engine, "0002")
    assert search_index(engine) == []
    schema.upgrade(engine)  # indexes the notes written before
    assert search_index(engine) == expected
    assert found(world, "police", WORDS["police_intel"]) == ({world.notes["police_intel"]}, 1)
    assert found(world, "social", WORDS["police_intel"]) == (set(), 0)
    schema.downgrade(engine, "0010")  # PostgreSQL: the expression index of 0003 again
    assert search_index(engine) == (expected if sqlite else ["ix_note_body_fts"])
    schema.downgrade(engine, "0003")  # below later migrations the index still follows notes
    assert search_index(engine) == (expected if sqlite else ["ix_note_body_fts"])
    schema.upgrade(engine)
    assert search_index(engine) == expected
    assert found(world, "police", WORDS["police_intel"]) == ({world.notes["police_intel"]}, 1)
