"""Keys typed ahead reach the widget that has the focus when they are read.

Textual hands each key to the widget focused when the key *arrives*, and runs a key's
binding only once the key has bubbled up through every container. Typed quickly
(``/aino`` on the board, or a burst through tmux), the keys after ``/`` are read by the
card before ``/`` has opened the filter: they would be lost, or worse run the board's
keys (``m`` proposes a move, ``l`` moves to the next column).

A widget with this mixin runs a key's binding as soon as it reads the key, so the next
key sees its effect, and passes on a key that it reads after the focus has left it.
List it *after* the Textual widget class (``class Card(Static, PassesTypeahead)``):
Textual takes CSS and component classes from the first base only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Self

from textual import events
from textual.geometry import Region
from textual.widget import Widget
from textual.widgets import Input


class PassesTypeahead(Widget):
    """Runs its keys' bindings at once; passes keys read after the focus moved on."""

    async def _on_key(self, event: events.Key) -> None:
        if not self.is_attached:
            return
        screen = self.screen
        focused = screen.focused
        if focused is not None and focused is not self:
            event.stop()
            event.prevent_default()
            focused._forward_event(events.Key(event.key, event.character))
            return
        if screen is self.app.screen and await self._run_screen_binding(event.key):
            event.stop()
            event.prevent_default()
        # Otherwise Textual goes on to the next class's handler (Widget's), and the key
        # bubbles up to the app's own bindings as usual.

    async def _run_screen_binding(self, key: str) -> bool:
        """Run ``key``'s binding of this widget, its containers or its screen, as Textual
        does once the key has bubbled up (the binding chain is private: there is no
        public way to run a key's binding for the focused widget).

        Not the app's bindings: an app action may close this screen and wait for its
        widgets to finish, this one included, while it is still reading this key. For
        the same reason a screen action run from here must not wait for this widget's
        removal (the board's do not: they move the focus, start workers, push screens).
        """
        for namespace, bindings in self.screen._modal_binding_chain:
            if namespace is self.app:
                continue
            for binding in bindings.key_to_bindings.get(key, ()):
                if not binding.priority and await self.app.run_action(binding.action,
                                                                       namespace):
                    return True
        return False


class FilterField(Input):
    """A box one types in and leaves with Enter: Enter moves on at once (``on_enter``),
    not after a ``Submitted`` message has gone round, so a second Enter typed right
    after it already reaches the bindings of where the focus went (it opens a case)."""

    _no_screen_layout = False
    """Set while the value's change is handled (see ``_watch_value``)."""

    def __init__(self, on_enter: Callable[[], object], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._when_done = on_enter

    def refresh(self, *regions: Region, repaint: bool = True, layout: bool = False,
                recompose: bool = False) -> Self:
        if self._no_screen_layout:
            layout = False
        return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)

    def _watch_value(self, value: str) -> None:
        # Input sets its scrollable width (a layout reactive) on every change, which lays
        # out the whole screen again: on the board, with every keystroke of the filter.
        # A field of a fixed size (not ``auto``) never changes size by its text, so only
        # its own scrolling needs the new width.
        self._no_screen_layout = not self.styles.auto_dimensions
        try:
            super()._watch_value(value)
        finally:
            self._no_screen_layout = False
        if self.is_attached and self.container_size:
            self._scroll_update(self.virtual_size)

    async def action_submit(self) -> None:
        self._when_done()
