"""The huddle banner: on every screen while a huddle is on, it says so and which
professions are present, so nobody in the room mistakes the screen for one person's."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from anchor_tui.services.huddle import Roster
from anchor_tui.widgets.plain_text import plain


def banner_content(roster: Roster, professions: dict[str, str]) -> Content:
    """``HUDDLE ON · Police, Social work present (2) · shown: what all of them may see``."""
    if not roster.present:
        return Content.assemble(("HUDDLE ON", "bold"),
                                " · nobody present: nothing is shown · + joins")
    names = ", ".join(professions.get(p, p) for p in roster.professions())
    count = len(roster.present)
    return Content.assemble(
        ("HUDDLE ON", "bold"), " · ", plain(names), f" present ({count})",
        " · shown: only what all of them may see")


class HuddleBanner(Static):
    """One line, docked at the top of a screen."""

    DEFAULT_CSS = """
    HuddleBanner {
        dock: top;
        height: 1;
        width: 100%;
        padding: 0 1;
        background: $warning 30%;
        color: $text;
    }
    """

    def __init__(self, roster: Roster, professions: dict[str, str]) -> None:
        super().__init__(banner_content(roster, professions), id="huddle-banner")
        self.roster = roster
