"""Screens: sign-in, the board, and the one error modal."""

from anchor_tui.screens.board import BoardScreen
from anchor_tui.screens.error import ErrorScreen
from anchor_tui.screens.sign_in import SignInScreen

__all__ = ["BoardScreen", "ErrorScreen", "SignInScreen"]
