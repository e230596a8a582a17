"""The key footer: the screen's keys on one line, drawn as one widget (Textual's line API).

Textual's ``Footer`` is a container with a widget per key (and a data binding per key
that restyles it when mounted), rebuilt after every change of the keys shown: opening a
screen composed, styled and laid out some ten small widgets, then did all of it again
once focus had settled, a good part of the time to open a case. Here the footer is one
widget: the keys are values, the line is drawn once per set of keys and width and kept
(a focus move that leaves the keys as they were costs nothing), and a click on a key
presses it, as Textual's footer does.

It looks like Textual's footer (its component classes and colours): each key bold on its
own background, then its description; a key that cannot be used now is dimmed. The
command palette key (``:`` or ctrl+p) is not repeated at the right end: F1 and the help
name it, and an 80-column footer needs the room for the screen's own keys.
"""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.screen import Screen
from textual.strip import Strip
from textual.widget import Widget

Shown = tuple[tuple[str, str, str, bool], ...]
"""Each key shown: (key, key as displayed, description, enabled)."""

DIM = Style(dim=True)


class KeyFooter(Widget, can_focus=False):
    """The keys of the screen's active bindings that are marked to be shown."""

    ALLOW_SELECT = False
    COMPONENT_CLASSES = {  # noqa: RUF012 - Textual reads class-level component classes
        "footer-key--key",
        "footer-key--description",
    }
    DEFAULT_CSS = """
    KeyFooter {
        dock: bottom;
        height: 1;
        color: $footer-foreground;
        background: $footer-background;
        & > .footer-key--key {
            color: $footer-key-foreground;
            background: $footer-key-background;
            text-style: bold;
        }
        & > .footer-key--description {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self._shown: Shown | None = None
        """The keys drawn (None: not read from the screen yet)."""
        self._line: Strip | None = None
        """The line drawn for ``_shown`` at ``_line_width`` (None: to be drawn)."""
        self._line_width = -1
        self._spans: list[tuple[int, int, str, bool]] = []
        """Where each key is on the line: (first cell, end cell, key, enabled)."""

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self.bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _read_keys(self, screen: Screen[object]) -> Shown:
        shown: list[tuple[str, str, str, bool]] = []
        actions: set[str] = set()
        for _node, binding, enabled, _tooltip in screen.active_bindings.values():
            if not binding.show or binding.action in actions:
                continue  # one key per action (the first), as Textual's footer shows
            actions.add(binding.action)
            shown.append((binding.key, self.app.get_key_display(binding),
                          binding.description, enabled))
        return tuple(shown)

    def bindings_changed(self, screen: Screen[object]) -> None:
        """The screen's keys may have changed (focus moved, a binding was refreshed):
        redrawn only when the keys shown did. While the terminal is not focused the
        line stays as it was (as Textual's footer does)."""
        if not screen.app.app_focus or not self.is_attached or screen is not self.screen:
            return
        shown = self._read_keys(screen)
        if shown != self._shown:
            self._shown = shown
            self._line = None
            self.refresh()

    @property
    def keys(self) -> Shown:
        """The keys shown, in order."""
        if self._shown is None:
            self._shown = self._read_keys(self.screen)
        return self._shown

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._line = None

    def _draw(self, width: int) -> Strip:
        if self._line is not None and self._line_width == width:
            return self._line
        key_style = self.get_component_rich_style("footer-key--key")
        description_style = self.get_component_rich_style("footer-key--description")
        segments: list[Segment] = []
        spans: list[tuple[int, int, str, bool]] = []
        x = 0
        for key, display, description, enabled in self.keys:
            parts = ([(f" {display} ", key_style), (f"{description} ", description_style)]
                     if description else [(display, key_style)])
            start = x
            for text, style in parts:
                segments.append(Segment(text, style + DIM if not enabled else style))
                x += Segment(text).cell_length
            spans.append((start, x, key, enabled))
        self._line = Strip(segments).crop_extend(0, width, self.rich_style)
        self._line_width = width
        self._spans = spans
        return self._line

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if y != 0:
            return Strip.blank(width, self.rich_style)
        return self._draw(width)

    def key_at(self, x: int) -> tuple[str, bool] | None:
        """The key drawn at cell ``x`` and whether it can be used, if any."""
        self._draw(self.size.width)
        for start, end, key, enabled in self._spans:
            if start <= x < end:
                return key, enabled
        return None

    def on_mouse_down(self, event: events.MouseDown) -> None:
        found = self.key_at(event.x)
        if found is None:
            return
        key, enabled = found
        if enabled:
            self.app.simulate_key(key)
        else:
            self.app.bell()
