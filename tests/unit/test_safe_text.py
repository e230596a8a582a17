"""The plain-text rule for characters a terminal draws differently from the layout."""

from __future__ import annotations

from rich.cells import cell_len

from anchor_tui.safe_text import printable


def test_a_lone_skin_tone_modifier_is_shown_as_its_escape() -> None:
    # Alone it takes no cell in the layout but two on a terminal: it would shift the line.
    assert cell_len("\U0001f3fb") == 0
    assert printable("\U0001f3fb") == "\\U0001f3fb"
    assert printable("a\U0001f3fbb") == "a\\U0001f3fbb"
    assert printable("\U0001f44d\U0001f3fb\U0001f3fc") == "\U0001f44d\U0001f3fb\\U0001f3fc"


def test_an_emoji_with_its_skin_tone_stays_as_written() -> None:
    for emoji in ("\U0001f44d\U0001f3fb", "\U0001f469\U0001f3ff", "Aino \U0001f44b\U0001f3fd"):
        assert printable(emoji) == emoji


def test_a_highlight_that_ends_inside_an_emoji_keeps_it_whole() -> None:
    """A search highlight cut between an emoji and its skin tone: the modifier follows
    the emoji on screen, so it is not escaped as a lone one (found by the hostile-text
    property test: the text showed ``🐀\\U0001f3fb``)."""
    from anchor_tui.services.search import Highlighted
    from anchor_tui.widgets.search_result import highlighted

    assert printable("\U0001f3fb", after="x \U0001f400") == "\U0001f3fb"
    assert printable("\U0001f3fb", after="x") == "\\U0001f3fb"
    for text in ("\U0001f400\U0001f3fb", "ok \U0001f44d\U0001f3fd!"):
        for end in range(1, len(text) + 1):
            content = highlighted(Highlighted(text, ((0, end),)))
            assert content.plain == printable(text), (text, end)
