"""The status line that says the database connection is lost, and what waits to be saved.

Docked to the top of every full screen (``screens/base.py`` mounts it); hidden while
the connection is fine. Status is never colour alone: the line says it in words.
"""

from __future__ import annotations

from textual.widgets import Static

from anchor_tui.widgets.plain_text import plain


def status_text(online: bool, waiting: int, busy: str = "") -> str:
    """What the line says (empty: nothing to say). One line: why the connection went is
    in the error shown for an action that failed, and in the log. ``busy``: the last
    failure was the database busy (a lock held by another program), not gone: what it
    said, which the line repeats while changes wait."""
    plural = "s" if waiting != 1 else ""
    if busy and waiting:
        return (f"Database busy: {busy} {waiting} change{plural} kept; trying again "
                "until it is free.")
    kept = "" if not waiting else (
        " 1 change is kept and will be saved when it is back." if waiting == 1
        else f" {waiting} changes are kept and will be saved when it is back.")
    if not online:
        return f"Database connection lost — reconnecting…{kept}"
    if waiting:
        return f"Connection back: saving {waiting} kept change{plural}…"
    return ""


class ConnectionStatus(Static):
    """One line at the top of the screen; shown only when there is something to say."""

    DEFAULT_CSS = """
    ConnectionStatus {
        dock: top;
        height: auto;
        max-height: 2;
        padding: 0 1;
        background: $warning 30%;
        color: $text;
        text-style: bold;
        display: none;
    }
    ConnectionStatus.-shown { display: block; }
    """

    @classmethod
    def saying(cls, text: str) -> ConnectionStatus:
        """A line that says ``text`` from the start (shown if there is something to say)."""
        return cls(plain(text), classes="-shown" if text else "")

    def show(self, text: str) -> None:
        self.update(plain(text))
        self.set_class(bool(text), "-shown")
