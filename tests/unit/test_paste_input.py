"""The paste guard: inside a bracketed paste every control character becomes its visible
escape, wherever the terminal's reads split the input; outside, nothing changes. Fed to
Textual's own parser, a hostile paste is one Paste event and no key."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from textual import events
from textual._xterm_parser import XTermParser

from anchor_tui.paste_input import PASTE_END, PASTE_START, PasteGuard
from anchor_tui.services.note_text import clean_text

OSC52 = "\x1b]52;c;aGVsbG8gd29ybGQgZnJvbSB0aGUgY2xpcGJvYXJk=\x07"
HOSTILE = f"Visit {OSC52} then \x1b[2J and \x0f\x11 and > y\rline two\tend"


def guarded(pieces: list[str]) -> str:
    guard = PasteGuard()
    return "".join(guard.filter(piece) for piece in pieces)


def parsed(data: str) -> list[events.Event]:
    parser = XTermParser()
    found: list[events.Event] = list(parser.feed(data))
    found += list(parser.feed(""))  # the end of input: anything waiting comes out
    return found


def test_typing_and_keys_outside_a_paste_pass_unchanged() -> None:
    typed = "ab\x1b[A\x1b\x07\x0f" + "\x1b]52;c;x\x07"
    assert guarded([typed]) == typed
    assert guarded(list(typed)) == typed


def test_inside_a_paste_control_characters_are_shown_as_escapes() -> None:
    stream = f"x{PASTE_START}{HOSTILE}{PASTE_END}\x1b[A"
    out = guarded([stream])
    inner = out[len("x" + PASTE_START):-len(PASTE_END + "\x1b[A")]
    assert out.startswith("x" + PASTE_START) and out.endswith(PASTE_END + "\x1b[A")
    assert "\x1b" not in inner and "\x07" not in inner and "\x0f" not in inner
    assert inner == r"Visit \x1b]52;c;aGVsbG8gd29ybGQgZnJvbSB0aGUgY2xpcGJvYXJk=\x07 then " \
        "\\x1b[2J and \\x0f\\x11 and > y\rline two\tend"
    # what the editor shows and saves is the same with or without the guard
    assert clean_text(inner) == clean_text(HOSTILE)


@given(st.lists(st.integers(min_value=0, max_value=200), max_size=12),
       st.text(alphabet=st.sampled_from(["a", "\x1b", "[", "2", "0", "1", "~", "\x07", "\n"]),
               max_size=30))
def test_any_split_of_the_input_gives_the_same_result(cuts: list[int], extra: str) -> None:
    stream = f"k\x1b[B{PASTE_START}{HOSTILE}{extra}{PASTE_END}z{PASTE_START}{extra}{PASTE_END}"
    whole = guarded([stream])
    points = sorted({min(c, len(stream)) for c in cuts})
    pieces = [stream[a:b] for a, b in zip([0, *points], [*points, len(stream)], strict=True)]
    assert guarded(pieces) == whole


def test_textual_reads_a_guarded_hostile_paste_as_one_paste_and_no_key() -> None:
    stream = f"{PASTE_START}{HOSTILE}{PASTE_END}"
    unguarded = parsed(stream)
    # Why the guard exists: Textual alone replays the OSC 52 sequence as keys, BEL
    # (ctrl+g, the lock) among them, and the paste is lost in key presses.
    assert any(isinstance(e, events.Key) for e in unguarded)
    found = parsed(guarded(list(stream)))  # one character per read
    assert [type(e) for e in found] == [events.Paste]
    paste = found[0]
    assert isinstance(paste, events.Paste)
    assert clean_text(paste.text) == clean_text(HOSTILE)
