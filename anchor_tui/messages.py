"""Textual messages, named in the past tense: something has happened.

Workers post them from their threads (``post_message`` is thread-safe); screens and the
app react. Messages carry domain objects (``anchor_tui.domain``), never ORM rows.
"""

from __future__ import annotations

from textual.message import Message

from anchor_tui.domain import BoardColumn, Viewer
from anchor_tui.errors import SignInError


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
