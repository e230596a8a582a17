"""The board service: keyset pages, SQL counts, filters and saved filters, on SQLite and
PostgreSQL; results and counts never include what the viewer may not see."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import Engine

from anchor_tui.db.models import Case, Person
from anchor_tui.domain import BoardColumn, CardKey, FilterSpec
from anchor_tui.services.backend import Backend
from anchor_tui.services.board import board_columns, exact_counts, find_cases, stage_page
from anchor_tui.services.board_filter import filter_for
from tests.integration.board_world import TODAY, backend_for, build_world


def totals(columns: list[BoardColumn]) -> dict[str, int]:
    return {c.stage: c.total for c in columns if c.total}


def labels(columns: list[BoardColumn]) -> set[str]:
    return {card.person_label for c in columns for card in c.cards}


def board(backend: Backend, who: object, text: str = "", saved: str | None = None,
          ) -> list[BoardColumn]:
    from anchor_tui.domain import Viewer

    assert isinstance(who, Viewer)
    chosen = next((f for f in backend.team.saved_filters if f.id == saved), None)
    return board_columns(backend, who, spec=filter_for(chosen, text), today=TODAY)


def test_columns_follow_the_configured_stages_with_sql_counts(engine: Engine) -> None:
    backend = backend_for(engine)
    world = build_world(backend)
    columns = board(backend, world.users["social"])
    assert [c.stage for c in columns] == [s.id for s in backend.team.stages]
    assert totals(columns) == {"notification": 2, "assessment": 2, "anchor_meeting": 1,
                               "follow_up": 2, "closed": 1}
    # Board order: priority, then next review (none last), then id.
    assessment = next(c for c in columns if c.stage == "assessment")
    assert [card.person_label for card in assessment.cards] == ["Ilona Korhonen", "Emma Salo"]
    notification = next(c for c in columns if c.stage == "notification")
    assert notification.cards[0].person_label == "Aino Aaltonen"  # high priority first
    assert notification.cards[0].version == 1


def test_keyset_pages_cover_a_stage_once_in_order(engine: Engine) -> None:
    backend = backend_for(engine)
    world = build_world(backend)
    reviews = [None, TODAY, TODAY, dt.date(2026, 12, 1), None, dt.date(2026, 11, 1)]
    with backend.sessions.system("test: many cases in one stage") as s:
        for n in range(23):
            person = Person(first_name=f"P{n:02d}", last_name="Sivu")
            s.add(person)
            s.flush()
            s.add(Case(person_id=person.id, category="first_offence", stage="screening",
                       priority=1 + n % 3, next_review=reviews[n % len(reviews)]))
    viewer = world.users["police"]
    first = next(c for c in board_columns(backend, viewer, per_stage=5, today=TODAY)
                 if c.stage == "screening")
    assert first.total == 23 and len(first.cards) == 5
    seen = list(first.cards)
    while len(seen) < first.total:
        page = stage_page(backend, viewer, "screening", CardKey.of(seen[-1]), limit=5,
                          today=TODAY)
        assert page, "pages must reach the total"
        seen += page
    assert stage_page(backend, viewer, "screening", CardKey.of(seen[-1]), today=TODAY) == ()
    assert len({c.case_id for c in seen}) == 23

    def order(card: object) -> tuple[object, ...]:
        from anchor_tui.domain import CaseCard

        assert isinstance(card, CaseCard)
        return (card.priority, card.next_review is None, card.next_review or dt.date.min,
                card.case_id)

    assert seen == sorted(seen, key=order)


@pytest.mark.parametrize(("text", "expected"), [
    ("aino", {"Aino Aaltonen"}),
    ("AAL", {"Aino Aaltonen"}),                 # the start of a last name, any case
    ("mäk", {"Oskari Mäkinen"}),
    ("Mäk", {"Oskari Mäkinen"}),
    ("ilona kor", {"Ilona Korhonen"}),          # every word must match
    ("family", {"Oskari Mäkinen"}),            # a category label
    ("joint", {"Ilona Korhonen", "Emma Salo"}),  # a stage label ("Joint assessment")
    ("nosuchword", set()),
])
def test_filter_words_match_names_categories_and_stages(engine: Engine, text: str,
                                                        expected: set[str]) -> None:
    backend = backend_for(engine)
    world = build_world(backend)
    columns = board(backend, world.users["social"], text)
    assert labels(columns) == expected
    assert sum(c.total for c in columns) == len(expected)


def test_filter_by_member_and_lead_name(engine: Engine) -> None:
    backend = backend_for(engine)
    world = build_world(backend)
    police_name = "Mikko"  # the seeded police officer's display name starts so
    from anchor_tui.services.users import get_user

    assert get_user(backend, "police").display_name.startswith(police_name)
    assert labels(board(backend, world.users["social"], police_name.lower())) == {"Emma Salo"}


def test_names_hidden_from_a_profession_never_match(engine: Engine) -> None:
    """Youth work without ``person_name`` (nor members, lead): names do not match, not in
    the cards and not in the counts; initials do."""
    backend = backend_for(engine, nameless_youth=True)
    world = build_world(backend)
    youth = world.users["youth"]
    for word in ("aino", "aaltonen", "korhonen", "mikko"):
        columns = board(backend, youth, word)
        assert labels(columns) == set() and sum(c.total for c in columns) == 0, word
    assert labels(board(backend, youth, "A.A.")) == {"A. A."}
    assert labels(board(backend, youth)) >= {"A. A.", "I. K."}
    assert find_cases(backend, youth, "aino", today=TODAY) == ()
    # The same words find the cases for social work, which may see names.
    assert labels(board(backend, world.users["social"], "aino")) == {"Aino Aaltonen"}


def test_saved_filters(engine: Engine) -> None:
    backend = backend_for(engine)
    world = build_world(backend)
    social, nurse = world.users["social"], world.users["nurse"]
    mine = board(backend, social, saved="my_cases")
    assert labels(mine) == {"Ilona Korhonen", "Oskari Mäkinen", "Venla Nieminen",
                            "Leo Lahtinen", "Aapo Heino"}
    assert labels(board(backend, nurse, saved="waiting_for_my_profession")) == {
        "Oskari Mäkinen"}
    assert labels(board(backend, social, saved="waiting_for_my_profession")) == set()
    assert labels(board(backend, social, saved="review_due_this_week")) == {
        "Ilona Korhonen", "Venla Nieminen", "Leo Lahtinen", "Emma Salo", "Aapo Heino"}
    assert labels(board(backend, social, saved="high_priority")) == {"Aino Aaltonen"}
    # A saved filter and typed words together.
    assert labels(board(backend, social, "leo", saved="my_cases")) == {"Leo Lahtinen"}


@pytest.mark.parametrize("chair", ["social", "nurse"])
def test_a_huddle_has_no_cases_of_its_own(engine: Engine, chair: str) -> None:
    """"My cases" and "Waiting for my profession" are one person's: a huddle's viewer
    carries its chair's user and profession, and the chair's cases would tell the room
    whom the chair works with, here where the room may see neither members nor leads
    (youth work may not). Nothing matches them in a huddle: not the cards, the counts,
    the exact counts, the next page or the caseload picture."""
    from anchor_tui.domain import Attendee, CardKey
    from anchor_tui.services.caseload import caseload
    from anchor_tui.services.clock import moment_on

    backend = backend_for(engine, nameless_youth=True)
    world = build_world(backend)
    alone = world.users[chair]
    youth = world.users["youth"]
    room = dataclasses.replace(alone, purpose="huddle", attendees=(
        Attendee(alone.user_id, alone.profession), Attendee(youth.user_id, youth.profession)))
    assert not backend.policy.case_fields(room) & {"members", "lead"}
    own = {"social": "my_cases", "nurse": "waiting_for_my_profession"}[chair]
    last = CardKey(priority=0, next_review=None, case_id=0)  # (before every card)
    own_spec = filter_for(next(f for f in backend.team.saved_filters if f.id == own))
    assert labels(board(backend, alone, saved=own))  # the chair alone has some
    assert any(stage_page(backend, alone, s.id, last, spec=own_spec, today=TODAY)
               for s in backend.team.stages)
    for saved in ("my_cases", "waiting_for_my_profession"):
        chosen = next(f for f in backend.team.saved_filters if f.id == saved)
        spec = filter_for(chosen)
        for text in ("", "o", "follow"):
            columns = board(backend, room, text, saved=saved)
            assert totals(columns) == {} and not labels(columns), (saved, text)
        assert not any(exact_counts(backend, room, spec, today=TODAY).values())
        assert all(not stage_page(backend, room, s.id, last, spec=spec, today=TODAY)
                   for s in backend.team.stages)
        picture = caseload(backend, room, now=moment_on(TODAY), spec=spec)
        assert all(not any(s.counts) for s in picture.stages), saved
    # A saved filter about no one in particular still works in the room.
    assert labels(board(backend, room, saved="high_priority")) == {"A. A."}


def test_an_empty_huddle_sees_an_empty_board(engine: Engine) -> None:
    backend = backend_for(engine)
    world = build_world(backend)
    huddle = dataclasses.replace(world.users["social"], purpose="huddle", attendees=())
    columns = board_columns(backend, huddle, spec=FilterSpec(text="aino"), today=TODAY)
    assert all(c.total == 0 and not c.cards for c in columns)


def test_find_cases_for_the_palette(engine: Engine) -> None:
    backend = backend_for(engine)
    world = build_world(backend)
    found = find_cases(backend, world.users["social"], "leo", today=TODAY)
    assert [c.person_label for c in found] == ["Leo Lahtinen"]
    assert find_cases(backend, world.users["social"], "  ", today=TODAY) == ()
    by_number = find_cases(backend, world.users["social"], f"#{world.cases['new']}",
                           today=TODAY)
    assert [c.case_id for c in by_number] == [world.cases["new"]]


def test_sorted_and_walked_pages_show_the_same_board(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A filter that finds few cases sorts them; one that finds many walks the board-order
    index with per-case tests (``per_case``). Both must show the same cards and counts."""
    from anchor_tui.services import board as board_service

    backend = backend_for(engine)
    world = build_world(backend)
    saved_filters = [None, *(f for f in backend.team.saved_filters
                             if f.id in ("my_cases", "review_due_this_week"))]
    specs = [filter_for(saved, text) for saved in saved_filters
             for text in ("", "aino", "a", "joint", "mikko", "family", "ilona kor", "high",
                          "leo", "nosuchword")]
    boards = []
    for limit in (0, 10**9):  # every filter walked, then every filter sorted
        monkeypatch.setattr(board_service, "SORT_AT_MOST", limit)
        boards.append([board_columns(backend, world.users[who], per_stage=1, spec=spec,
                                     today=TODAY)
                       for spec in specs for who in ("social", "police")])
    assert boards[0] == boards[1]
    assert sum(1 for columns in boards[0] if any(c.cards for c in columns)) >= 20


def test_the_database_keeps_each_stage_count(engine: Engine) -> None:
    """``stage_count`` follows every insert, stage change and delete of a case, in the
    same transaction, and the unfiltered board shows it."""
    from sqlalchemy import delete, func, select, update

    from anchor_tui.db.models import StageCount

    backend = backend_for(engine)
    world = build_world(backend)

    def kept_and_real() -> tuple[dict[str, int], dict[str, int]]:
        with backend.sessions.system("test: the counts") as s:
            kept = {st: n for st, n in s.execute(select(StageCount.stage, StageCount.cases))
                    if n}
            real = {st: n for st, n in s.execute(
                select(Case.stage, func.count()).group_by(Case.stage))}
        return kept, real

    kept, real = kept_and_real()
    assert kept == real and sum(real.values()) > 3
    with backend.sessions.system("test: cases change") as s:
        person = Person(first_name="Laskettu", last_name="Tapaus")
        s.add(person)
        s.flush()
        s.add_all([Case(person_id=person.id, category="first_offence", stage=stage,
                        priority=2) for stage in ("screening", "screening", "follow_up")])
        s.flush()
        first = s.scalars(select(Case.id).where(Case.stage == "notification")
                          .order_by(Case.id)).first()
        s.execute(update(Case).where(Case.id == first).values(stage="closed"))
        s.execute(update(Case).where(Case.stage == "assessment").values(priority=1))
        s.execute(delete(Case).where(Case.person_id == person.id,
                                     Case.stage == "follow_up"))
    kept, real = kept_and_real()
    assert kept == real
    columns = board_columns(backend, world.users["social"], today=TODAY)
    assert totals(columns) == real


def test_a_broad_filter_counts_as_far_as_the_page_then_exactly(engine: Engine) -> None:
    """A filter whose every word is broad (names a team member, a category or a
    priority) counts each column only as far as its page (saying when there are more)
    while typing; ``exact_counts`` then gives what the full count gives. Other filters
    (a person's name, a stage) are counted exactly at once. The cards are the same
    either way."""
    backend = backend_for(engine)
    world = build_world(backend)
    viewer = world.users["social"]
    page = 1
    cut_short = 0
    for text, broad in (("mikko", True), ("mikko lahtinen", True), ("family", True),
                        ("high", True), ("substance", True), ("aino", False),
                        ("mikko aino", False), ("joint", False), ("family joint", False)):
        spec = filter_for(None, text)
        full = board_columns(backend, viewer, per_stage=page, spec=spec, today=TODAY,
                             exact=True)
        stopped = board_columns(backend, viewer, per_stage=page, spec=spec, today=TODAY)
        assert all(c.exact for c in full)
        assert [c.cards for c in stopped] == [c.cards for c in full], text
        assert all(len(c.cards) <= page for c in stopped), text
        assert exact_counts(backend, viewer, spec, today=TODAY) == {
            c.stage: c.total for c in full}
        if broad:
            assert any(c.total for c in full), text
            cut_short += sum(1 for c in full if c.total > page)
            for whole, counted in zip(full, stopped, strict=True):
                assert counted.total == min(whole.total, page), (text, whole.stage)
                assert counted.exact == (whole.total <= page), (text, whole.stage)
        else:
            assert stopped == full, text
    assert cut_short, "some column held more than its page"
    # A saved filter narrows: counted exactly even with a broad word.
    mine = filter_for(next(f for f in backend.team.saved_filters if f.id == "my_cases"),
                      "mikko")
    assert all(c.exact for c in board_columns(backend, viewer, per_stage=page, spec=mine,
                                              today=TODAY))


def test_a_common_name_counts_as_far_as_the_page_then_exactly(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A word that starts at least ``DENSE_AT`` young people's names (``jo`` starts
    17,000 of 100,000) is counted as a broad word is while typed: each column as far as
    its page, then exactly. One such word at most: two may together find few cases. A
    word starting fewer names is counted exactly at once, as is any word of a viewer who
    may not search by name (initials). The cards are the same either way."""
    from anchor_tui.db.models import CaseMember
    from anchor_tui.services import board_filter

    backend = backend_for(engine)
    world = build_world(backend)
    with backend.sessions.system("test: two young people named Tuo...") as s:
        for first, last in (("Tuomas", "Tuominen"), ("Tuula", "Tuomi")):
            person = Person(first_name=first, last_name=last, birth_date=dt.date(2011, 2, 3))
            s.add(person)
            s.flush()
            case = Case(person_id=person.id, category="substance_use", stage="follow_up",
                        priority=2)
            s.add(case)
            s.flush()
            s.add(CaseMember(case_id=case.id, user_id=world.users["social"].user_id,
                             valid_from=TODAY - dt.timedelta(days=3)))
    nameless = backend_for(engine, nameless_youth=True)
    page = 1
    for dense_at, text, who, counted_short in (
            (2, "tuo", "social", True), (2, "sanna tuo", "social", True),
            (2, "tuula", "social", False), (3, "tuo", "social", False),
            (1, "tuo aino", "social", False), (2, "tuo tu", "social", False),
            (1, "tt", "youth", False)):
        monkeypatch.setattr(board_filter, "DENSE_AT", dense_at)
        on = nameless if who == "youth" else backend
        viewer = world.users[who]
        spec = filter_for(None, text)
        full = board_columns(on, viewer, per_stage=page, spec=spec, today=TODAY, exact=True)
        stopped = board_columns(on, viewer, per_stage=page, spec=spec, today=TODAY)
        assert all(c.exact for c in full)
        assert [c.cards for c in stopped] == [c.cards for c in full], text
        assert exact_counts(on, viewer, spec, today=TODAY) == {
            c.stage: c.total for c in full}, text
        if counted_short:
            follow_up = next(c for c in full if c.stage == "follow_up")
            assert follow_up.total >= 2, text  # more than the page: cut short
            for whole, counted in zip(full, stopped, strict=True):
                assert counted.total == min(whole.total, page), (text, whole.stage)
                assert counted.exact == (whole.total <= page), (text, whole.stage)
        else:
            assert stopped == full, text
    # Initials only: a word is never looked up among the names (never dense), however
    # many names it starts; with names, the same word is.
    from anchor_tui.services.board_filter import all_words_broad

    monkeypatch.setattr(board_filter, "DENSE_AT", 1)
    for on, dense in ((nameless, False), (backend, True)):
        with on.sessions.read(world.users["youth"]) as session:
            assert all_words_broad(on, world.users["youth"], filter_for(None, "tuo"),
                                   session, TODAY) is dense
