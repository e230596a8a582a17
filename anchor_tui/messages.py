"""Textual messages, named in the past tense: something has happened.

Workers post them from their threads (``post_message`` is thread-safe); screens and the
app react. Messages carry domain objects (``anchor_tui.domain``), never ORM rows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

from anchor_tui.errors import SignInError

if TYPE_CHECKING:  # the domain's classes load with the data layer, after the first screen
    from anchor_tui.domain import BoardColumn, Viewer


class SignedIn(Message):
    """A passphrase was verified: the app opens the board for this viewer."""

    def __init__(self, viewer: Viewer) -> None:
        super().__init__()
        self.viewer = viewer


class SignInRefused(Message):
    """Wrong username or passphrase, or a locked or deactivated account."""

    def __init__(self, error: SignInError) -> None:
        super().__init__()
        self.error = error


class BoardLoaded(Message):
    """The board's columns were read for ``viewer``."""

    def __init__(self, viewer: Viewer, columns: list[BoardColumn]) -> None:
        super().__init__()
        self.viewer = viewer
        self.columns = columns


class CasesChanged(Message, bubble=False):
    """Cases were changed, in another terminal or this one: ``case_ids``, or None when
    anything may have changed. Screens that show cases read them again, keeping the
    person's place and focus. The app hands it to each screen (it does not bubble)."""


    def __init__(self, case_ids: frozenset[int] | None) -> None:
        super().__init__()
        self.case_ids = case_ids

    def touches(self, case_id: int) -> bool:
        return self.case_ids is None or case_id in self.case_ids


class ConnectionLost(Message, bubble=False):
    """The database server stopped answering; ``reason`` says what happened."""


    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason


class ConnectionRestored(Message, bubble=False):
    """The database server answers again."""

