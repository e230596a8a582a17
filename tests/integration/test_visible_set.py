"""Filters, search, the queue and the caseload picture never include what the viewer may
not see, for any words typed and any viewer (hypothesis), on SQLite and PostgreSQL.

- Board filter: every case a filter finds is explained by what the viewer may see of it
  (a name only with ``person_name``, the lead and members only where visible; otherwise
  initials, category, stage, priority, case number). Counts equal the cards found.
  "My cases" finds only the viewer's own; a huddle has none.
- Caseload picture: for every filter and viewer its last point is exactly the board's
  column counts: it counts the same visible set, never more.
- Search: every note found is one the central filter lets the viewer read, and the count
  is exactly the visible notes holding every word; a case is found by its name only
  where names are visible.
- Queue: tasks pass the disclosure filter; people are named as the policy allows.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from anchor_tui.db import models as m
from anchor_tui.domain import PRIORITY_LABELS, Attendee, BoardColumn, Viewer
from anchor_tui.services.backend import Backend
from anchor_tui.services.board import board_columns, exact_counts
from anchor_tui.services.board_filter import filter_for
from anchor_tui.services.caseload import caseload
from anchor_tui.services.clock import moment_on
from anchor_tui.services.queue import queue_sections
from anchor_tui.services.search import search, search_words
from tests.integration import board_world, case_world

SETTINGS = settings(max_examples=40, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])
"""The worlds are built once per test (read-only examples); derandomized so a run on
SQLite and one on PostgreSQL try the same inputs."""

LETTERS = "abcdefghijklmnopqrstuvwxyzäö"


@dataclasses.dataclass(frozen=True)
class Facts:
    """What a case holds, to explain a match by the fields a viewer may see."""

    case_id: int
    first: str
    last: str
    category: str
    stage: str
    priority: int
    lead: str | None
    members: tuple[str, ...]


def board_facts(backend: Backend) -> dict[int, Facts]:
    today = board_world.TODAY
    with backend.sessions.system("test: what each case holds") as s:
        names = {u: n for u, n in s.execute(select(m.User.id, m.User.display_name))}
        members: dict[int, list[str]] = {}
        for case_id, user_id, start, end in s.execute(
                select(m.CaseMember.case_id, m.CaseMember.user_id, m.CaseMember.valid_from,
                       m.CaseMember.valid_to)):
            if start <= today and (end is None or end >= today):
                members.setdefault(case_id, []).append(names[user_id])
        rows = s.execute(select(m.Case.id, m.Person.first_name, m.Person.last_name,
                                m.Case.category, m.Case.stage, m.Case.priority,
                                m.Case.lead_user_id)
                         .join(m.Person, m.Person.id == m.Case.person_id)).all()
    return {case_id: Facts(case_id, first, last, category, stage, priority,
                           names.get(lead) if lead else None,
                           tuple(members.get(case_id, ())))
            for case_id, first, last, category, stage, priority, lead in rows}


def explains(backend: Backend, fields: frozenset[str], facts: Facts, word: str) -> bool:
    """Whether ``word`` matches something of the case that ``fields`` lets one see.

    Generous on purpose (an upper bound of what the filter may match): a case found
    that this does not explain was found through something hidden.
    """
    folded = word.casefold()
    team = backend.team

    def label_words(ident: str, label: str) -> list[str]:
        return label.casefold().split() + ident.split("_")

    visible = [*label_words(facts.category, team.category_label(facts.category)),
               *label_words(facts.stage, team.stage_label(facts.stage)),
               PRIORITY_LABELS[facts.priority]]
    if "person_name" in fields:
        visible += [facts.first.casefold(), facts.last.casefold()]
    if "lead" in fields and facts.lead:
        visible += facts.lead.casefold().split()
    if "members" in fields:
        visible += [part for name in facts.members for part in name.casefold().split()]
    if any(v.startswith(folded) for v in visible):
        return True
    digits = word.removeprefix("#")
    if digits.isdigit() and int(digits) == facts.case_id:
        return True
    letters = word.replace(".", "").casefold()
    first, last = facts.first[:1].casefold(), facts.last[:1].casefold()
    if len(letters) == 1 and letters in (first, last):
        return True
    return len(letters) == 2 and (letters[0], letters[1]) == (first, last)


def viewers_of(users: dict[str, Viewer]) -> st.SearchStrategy[Viewer]:
    """One person on their own, or a huddle of any of them (possibly nobody)."""
    people = sorted(users)
    alone = st.sampled_from(people).map(lambda name: users[name])
    huddles = st.lists(st.sampled_from(people), unique=True, max_size=len(people)).map(
        lambda names: dataclasses.replace(  # chaired by the first named
            users[(names or people)[0]], purpose="huddle",
            attendees=tuple(Attendee(users[n].user_id, users[n].profession) for n in names)))
    return alone | huddles


def words_from(vocabulary: list[str]) -> st.SearchStrategy[str]:
    word = st.sampled_from(vocabulary) | st.text(LETTERS, min_size=1, max_size=5)
    return st.lists(word, max_size=3).map(" ".join)


def totals(columns: list[BoardColumn]) -> dict[str, int]:
    return {c.stage: c.total for c in columns}


@pytest.mark.parametrize("dense_at", [None, 1], ids=["names-counted", "names-walked"])
def test_the_board_filter_finds_only_what_the_viewer_may_see_and_counts_it(
    engine: Engine, dense_at: int | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``names-walked``: every name word is dense (``DENSE_AT`` 1), so each column's page
    is read by walking the board's order with the name tested per case."""
    if dense_at is not None:
        from anchor_tui.services import board_filter

        monkeypatch.setattr(board_filter, "DENSE_AT", dense_at)
    backend = board_world.backend_for(engine, nameless_youth=True)
    world = board_world.build_world(backend)
    facts = board_facts(backend)
    vocabulary = sorted({part for f in facts.values()
                         for part in (f.first, f.last, f.first[:1] + f.last[:1],
                                      f"{f.first[:1]}.{f.last[:1]}.", f"#{f.case_id}",
                                      *(f.lead or "").split(),
                                      *(p for name in f.members for p in name.split()))
                         if part} | {"school", "joint", "follow", "high", "low", "meet"})
    saved = [None, *backend.team.saved_filters]
    with backend.sessions.system("test: the team's names") as s:
        staff = {user_id: name for user_id, name
                 in s.execute(select(m.User.id, m.User.display_name))}

    def check_one(viewer: Viewer, text: str, chosen: object) -> None:
        spec = filter_for(chosen, text)  # type: ignore[arg-type]
        columns = board_columns(backend, viewer, per_stage=50, spec=spec,
                                today=board_world.TODAY)
        fields = backend.policy.case_fields(viewer)
        found = [card for column in columns for card in column.cards]
        assert sum(c.total for c in columns) == len(found)  # counts are of the cards
        # ... and so are the exact counts read once typing pauses.
        assert exact_counts(backend, viewer, spec, today=board_world.TODAY) == totals(columns)
        if not viewer.audience:
            assert not found
        if viewer.purpose != "individual" and (spec.mine or spec.waiting_for_my_profession):
            assert not found, "a huddle has no cases of its own (its chair's are not)"
        for card in found:
            if spec.mine:
                f, me = facts[card.case_id], staff[viewer.user_id]
                assert me == f.lead or me in f.members, (me, card)
            for word in spec.text.split():
                assert explains(backend, fields, facts[card.case_id], word), (
                    viewer.profession, word, card)
            if "person_name" not in fields:
                f = facts[card.case_id]
                assert f.first not in card.person_label and f.last not in card.person_label
            if "lead" not in fields:
                assert card.lead is None

    # Every word of the vocabulary alone, for everyone and for the huddles with youth
    # work (who may see initials only) ...
    people = list(world.users.values())
    huddles = [dataclasses.replace(people[0], purpose="huddle", attendees=tuple(
        Attendee(v.user_id, v.profession) for v in group))
        for group in ([world.users["youth"], world.users["social"]], people, [])]
    for viewer in people + huddles:
        for word in vocabulary:
            check_one(viewer, word, None)
    # ... every saved filter, for everyone alone and for huddles chaired by each of them
    # (a huddle's viewer carries its chair's user and profession) ...
    youth = world.users["youth"]
    for person in people:
        for group in ([person, youth], people):
            room = dataclasses.replace(person, purpose="huddle", attendees=tuple(
                Attendee(v.user_id, v.profession) for v in group))
            for viewer in (person, room):
                for chosen in saved:
                    check_one(viewer, "", chosen)

    # ... then any few words, typed or not, with any saved filter.
    @SETTINGS
    @given(viewer=viewers_of(world.users), text=words_from(vocabulary),
           chosen=st.sampled_from(saved))
    def check(viewer: Viewer, text: str, chosen: object) -> None:
        check_one(viewer, text, chosen)

    check()


def test_the_caseload_picture_counts_exactly_what_the_board_counts(engine: Engine) -> None:
    backend = board_world.backend_for(engine, nameless_youth=True)
    world = board_world.build_world(backend)
    with backend.sessions.system("test: history") as s:  # stage changes to count back
        for case in s.scalars(select(m.Case).where(m.Case.id.in_(world.cases.values()))):
            if case.stage not in ("notification", "screening", "closed"):
                s.add(m.CaseEvent(case_id=case.id, kind="stage", from_value="screening",
                                  to_value=case.stage,
                                  at=dt.datetime(2026, 11, 5, 9, tzinfo=dt.UTC)))
    facts = board_facts(backend)
    vocabulary = sorted({f.first for f in facts.values()} | {"aino", "mikko", "family", "a"})
    now = moment_on(board_world.TODAY)

    @SETTINGS
    @given(viewer=viewers_of(world.users), text=words_from(vocabulary),
           chosen=st.sampled_from([None, *backend.team.saved_filters]))
    def check(viewer: Viewer, text: str, chosen: object) -> None:
        spec = filter_for(chosen, text)  # type: ignore[arg-type]
        board = totals(board_columns(backend, viewer, spec=spec, today=board_world.TODAY))
        picture = caseload(backend, viewer, now=now, spec=spec)
        assert {s.stage: s.now for s in picture.stages} == board
        everything = caseload(backend, viewer, now=now)
        for narrowed, whole in zip(picture.stages, everything.stages, strict=True):
            assert all(a <= b for a, b in zip(narrowed.counts, whole.counts, strict=True))

    check()


NOTE_WORD = re.compile(r"[^\W_]+")


def test_search_finds_and_counts_only_notes_the_viewer_may_read(engine: Engine) -> None:
    world = case_world.build(case_world.make_backend(engine))
    backend = world.backend
    with backend.sessions.system("test: every note") as s:
        bodies = {i: b for i, b in s.execute(select(m.Note.id, m.Note.body))}
        people = s.execute(select(m.Person.first_name, m.Person.last_name)).all()
    readable: dict[Viewer, set[int]] = {}

    def may_read(viewer: Viewer) -> set[int]:
        if viewer not in readable:
            with backend.sessions.read(viewer, case_world.NOW) as session:
                readable[viewer] = set(session.scalars(select(m.Note.id)))
        return readable[viewer]

    vocabulary = [*case_world.WORDS.values(), case_world.CASE_B_WORD,
                  case_world.HIDDEN_REVISION_WORD, "note", "about", "version", "kiwiword",
                  "walrusword", "pumaword", "youth", *(p for row in people for p in row)]

    # SQLite's FTS5 index folds accents (in the text and in the words sought);
    # PostgreSQL's 'simple' configuration keeps them.
    folds = engine.dialect.name == "sqlite"

    def fold(text: str) -> str:
        text = text.casefold()
        if folds:
            text = "".join(c for c in unicodedata.normalize("NFKD", text)
                           if not unicodedata.combining(c))
        return text

    def holds(body: str, words: tuple[str, ...]) -> bool:
        tokens = NOTE_WORD.findall(fold(body))
        return all(any(t.startswith(fold(w)) for t in tokens) for w in words)

    @SETTINGS
    @given(viewer=viewers_of(world.viewers), text=words_from(vocabulary))
    def check(viewer: Viewer, text: str) -> None:
        results = search(backend, viewer, text, now=case_world.NOW)
        words = search_words(text)
        allowed = may_read(viewer) if viewer.audience else set()
        expected = {i for i in allowed if words and holds(bodies[i], words)}
        assert {n.note_id for n in results.notes} <= allowed
        assert {n.note_id for n in results.notes} == expected
        assert results.note_count == len(expected)
        fields = backend.policy.case_fields(viewer)
        for hit in results.cases:
            if "person_name" not in fields:
                assert all(first not in hit.person_label and last not in hit.person_label
                           for first, last in people)
                assert hit.matched.text not in {f"{a} {b}" for a, b in people}

    check()


def test_the_queue_names_and_counts_only_what_the_viewer_may_see(engine: Engine) -> None:
    backend = board_world.backend_for(engine, nameless_youth=True, tasks_only_to_members=True)
    world = board_world.build_world(backend)
    facts = board_facts(backend)
    with backend.sessions.system("test: tasks for youth work") as s:  # on a case youth
        s.add(m.Task(case_id=world.cases["others"], title="Hidden from youth",  # does not work
                     assignee_id=world.users["youth"].user_id,
                     created_by_id=world.users["police"].user_id))
        s.add(m.Task(case_id=world.cases["mine"], title="Also for youth",
                     assignee_id=world.users["youth"].user_id,
                     created_by_id=world.users["social"].user_id))
        s.add(m.CaseMember(case_id=world.cases["mine"], user_id=world.users["youth"].user_id,
                           valid_from=board_world.days(-1)))
    for name, viewer in world.users.items():
        sections = {s.id: s for s in queue_sections(backend, viewer, board_world.TODAY)}
        with backend.sessions.read(viewer) as session:
            visible_tasks = set(session.scalars(select(m.Task.id).where(
                m.Task.assignee_id == viewer.user_id, m.Task.done_at.is_(None))))
        tasks = sections["my_tasks"]
        assert {i.task_id for i in tasks.items} == visible_tasks, name
        assert tasks.total == len(visible_tasks), name
        fields = backend.policy.case_fields(viewer)
        for section in sections.values():
            assert section.total >= len(section.items)
            for item in section.items:
                f = facts[item.case_id]
                named = f"{f.first} {f.last}"
                assert (item.person_label == named) == ("person_name" in fields), name
    youth = {s.id: s for s in queue_sections(backend, world.users["youth"], board_world.TODAY)}
    assert [i.what for i in youth["my_tasks"].items] == ["Also for youth"]
