"""Counts as the screens write them: ``12 000`` (a space between thousands), and
``1 000+`` where counting stopped at a limit (more match; the board's columns and the
queue's sections count only so far)."""

from __future__ import annotations


def count_text(total: int, exact: bool = True) -> str:
    return f"{total:,}".replace(",", " ") + ("" if exact else "+")
