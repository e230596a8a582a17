"""Screens: sign-in, the board, and the one error modal.

Imported on first use (``from anchor_tui.screens import BoardScreen`` still works): the
sign-in screen is drawn before the board's code, and the data layer under it, are
loaded (see ``services.opening``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from anchor_tui.screens.board import BoardScreen
    from anchor_tui.screens.error import ErrorScreen
    from anchor_tui.screens.sign_in import SignInScreen

__all__ = ["BoardScreen", "ErrorScreen", "SignInScreen"]

_HOMES = {"BoardScreen": "board", "ErrorScreen": "error", "SignInScreen": "sign_in"}


def __getattr__(name: str) -> object:
    if name in _HOMES:
        return getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
