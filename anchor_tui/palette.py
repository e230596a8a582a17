"""The command palette (``:`` or ``ctrl+p``): "area: verb" commands from the app and the
screen on top.

A screen offers commands by defining ``palette_commands()`` (see
:class:`OffersCommands`); the app adds its own ("app: sign out", "app: keys"). Commands
are built from what the screen already holds for its viewer, so a command that names a
case ("case: open Aino Virtanen") exists only for cases the viewer may see: the
palette can never reveal more than the screen.

Textual's palette parses a hit's help text as markup, and a prompt given as ``str`` too:
here every prompt is plain :class:`~textual.content.Content` and every help text is
escaped (``markup_literal``: every ``[``), so a name like ``[@click=app.quit]`` or
``[$accent]`` stays characters.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content
from textual.fuzzy import Matcher

from anchor_tui.widgets.plain_text import markup_literal, plain, printable


@dataclass(frozen=True)
class PaletteCommand:
    """One command: its name in "area: verb" form, a line of help, what it does."""

    name: str
    """``"case: open"``, ``"board: saved filter My cases"``. May hold user text (a
    person's name): it is shown plain."""
    help: str
    run: Callable[[], object]
    discover: bool = True
    """Listed when the palette opens with nothing typed (per-case commands are not:
    there may be hundreds; they appear as the person types)."""


@runtime_checkable
class OffersCommands(Protocol):
    """A screen (or the app) that offers palette commands."""

    def palette_commands(self) -> Iterable[PaletteCommand]: ...


def commands_for(*sources: object) -> list[PaletteCommand]:
    """The commands of every source that offers some, in order, without duplicate names."""
    seen: set[str] = set()
    found: list[PaletteCommand] = []
    for source in sources:
        if not isinstance(source, OffersCommands):
            continue
        for command in source.palette_commands():
            if command.name not in seen:
                seen.add(command.name)
                found.append(command)
    return found


class AnchorCommands(Provider):
    """Commands of the screen the palette was opened on, then the app's."""

    def _commands(self) -> list[PaletteCommand]:
        return commands_for(self.screen, self.app)

    async def discover(self) -> Hits:
        for command in self._commands():
            if command.discover:
                yield DiscoveryHit(plain(command.name), command.run,
                                   text=printable(command.name),
                                   help=markup_literal(command.help))

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for command in self._commands():
            name = printable(command.name)
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, _highlighted(matcher, name), command.run, text=name,
                          help=markup_literal(command.help))


def _highlighted(matcher: Matcher, name: str) -> Content:
    """The name with the matched letters highlighted. Textual's ``Matcher.highlight``
    parses the name as markup; here it stays plain."""
    content = Content(name)
    _, offsets = matcher.fuzzy_search.match(matcher.query, name)
    for offset in offsets:
        if not name[offset].isspace():
            content = content.stylize(matcher.match_style, offset, offset + 1)
    return content
