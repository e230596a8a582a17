"""A paste into a one-line field keeps every line, joined, and says what it cut."""

from __future__ import annotations

from anchor_tui.paste_input import one_line_paste


def test_one_line_goes_in_as_it_is() -> None:
    assert one_line_paste("  Seen on Monday ", None) == ("  Seen on Monday ", "")


def test_several_lines_are_joined_with_spaces_and_said_so() -> None:
    text, note = one_line_paste("Seen on Monday\r\n\n  with the nurse\nat school\n", None)
    assert text == "Seen on Monday with the nurse at school"
    assert "joined" in note


def test_a_paste_too_long_is_cut_to_the_room_and_says_how_much_was_left_out() -> None:
    text, note = one_line_paste("x" * 812, 500)
    assert text == "x" * 500
    assert "500" in note and "312" in note


def test_a_full_field_takes_nothing_and_says_so() -> None:
    text, note = one_line_paste("more", 0)
    assert text == "" and "full" in note
