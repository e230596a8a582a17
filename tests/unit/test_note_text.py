"""Note text is kept visible: no control character survives, and cleaning is stable."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from anchor_tui.services.drafts import AutosaveSchedule
from anchor_tui.services.note_text import clean_text


def test_escapes_and_markup_stay_as_characters() -> None:
    assert clean_text("a\x1b[2Jb") == "a\\x1b[2Jb"
    assert clean_text("[bold]x[/bold] [@click=app.quit]") == "[bold]x[/bold] [@click=app.quit]"
    assert clean_text("one\r\ntwo\rthree\tfour") == "one\ntwo\nthree    four"
    assert clean_text("\u202eevil") == "\\u202eevil"


@given(st.text())
def test_no_control_character_survives_and_cleaning_twice_changes_nothing(text: str) -> None:
    clean = clean_text(text)
    assert all(c == "\n" or unicodedata.category(c) != "Cc" for c in clean)
    assert "\u202e" not in clean and "\u2066" not in clean
    assert clean_text(clean) == clean


@given(st.text(alphabet=st.characters(categories=["L", "N", "P", "Zs"])))
def test_ordinary_text_is_kept_exactly(text: str) -> None:
    assert clean_text(text) == text


def test_autosave_waits_for_a_pause_but_never_more_than_its_longest() -> None:
    plan = AutosaveSchedule(pause=1.0, longest=1.5)
    assert not plan.due(0.0)
    plan.changed(0.0)
    assert not plan.due(0.5)
    assert plan.due(1.0)  # a second without typing
    plan.saving()
    for moment in (2.0, 2.4, 2.8, 3.2):  # typing on without a pause
        plan.changed(moment)
        assert not plan.due(moment + 0.1) or moment + 0.1 - 2.0 >= 1.5
    assert plan.due(3.5)  # 1.5 s after the first unsaved change, typing or not
    plan.saving()
    assert not plan.pending and not plan.due(10.0)
    plan.failed(11.0)
    assert plan.pending and not plan.due(11.5) and plan.due(12.0)


@given(st.lists(st.floats(0.0, 0.9), min_size=1, max_size=200))
def test_while_typing_the_draft_is_never_more_than_two_seconds_behind(gaps: list[float]
                                                                      ) -> None:
    """Keys at any rhythm, the editor checking every ``tick``: every change is saved
    within ``longest + tick`` (2 s) of being typed."""
    plan = AutosaveSchedule()
    now, typed, saved_upto, check = 0.0, [], 0, 0.0
    for gap in gaps:
        now += gap
        while check + plan.tick <= now:  # the editor's ticks before this key
            check += plan.tick
            if plan.due(check):
                assert all(check - t <= plan.longest + plan.tick for t in typed[saved_upto:])
                saved_upto = len(typed)
                plan.saving()
        plan.changed(now)
        typed.append(now)
    while plan.pending:
        check += plan.tick
        if plan.due(check):
            assert all(check - t <= plan.longest + plan.tick for t in typed[saved_upto:])
            plan.saving()
