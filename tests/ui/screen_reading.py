"""What the app shows and what it still holds: the screen as drawn, and every object the
running app can reach (to prove nothing of a previous viewer stays anywhere)."""

from __future__ import annotations

import contextlib
import gc
from collections import deque
from collections.abc import Iterator
from types import FunctionType, MethodType, ModuleType
from typing import Any

from sqlalchemy import Engine
from textual._context import visible_screen_stack
from textual.app import App
from textual.strip import Strip

from anchor_tui.policy import Policy
from anchor_tui.services.backend import Backend
from anchor_tui.settings import Settings, TeamConfig


def screen_lines(app: App[Any]) -> list[str]:
    """The terminal's lines as drawn now (the top screen over those it lets show through),
    the way a screenshot takes them."""
    visible_screen_stack.set(app._background_screens)
    update = app.screen._compositor.render_full_update()
    return [Strip.join(list(line)).text for line in update.strips]  # a line's chops


def screen_text(app: App[Any]) -> str:
    return "\n".join(screen_lines(app))


NOT_WALKED = (Backend, Engine, Policy, Settings, TeamConfig, type, ModuleType)
"""The database connection, the policy and the configuration: shared by every viewer and
holding no client data (rows live in sessions, which each unit of work closes)."""


def reachable(root: object, limit: int = 3_000_000) -> Iterator[object]:
    """Every object ``root`` refers to, directly or not (attributes, slots, containers,
    closures, bound methods, coroutine and generator frames), each once."""
    gc.collect()
    seen: set[int] = set()
    stack: deque[object] = deque([root])
    while stack and len(seen) < limit:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        yield obj
        if obj is None or isinstance(obj, (str, bytes, int, float, complex, *NOT_WALKED)):
            continue
        if isinstance(obj, dict):
            stack.extend(obj.keys())
            stack.extend(obj.values())
            continue
        if isinstance(obj, list | tuple | set | frozenset | deque):
            stack.extend(obj)
            continue
        if isinstance(obj, FunctionType):
            for cell in obj.__closure__ or ():
                with contextlib.suppress(ValueError):  # an empty cell has no contents
                    stack.append(cell.cell_contents)
            stack.extend(obj.__defaults__ or ())
            continue
        if isinstance(obj, MethodType):
            stack.append(obj.__self__)
            continue
        frame = getattr(obj, "cr_frame", None) or getattr(obj, "gi_frame", None)
        if frame is not None:
            stack.extend(frame.f_locals.values())
        with contextlib.suppress(TypeError):
            stack.extend(vars(obj).values())
        for cls in type(obj).__mro__:
            for slot in getattr(cls, "__slots__", ()):
                if isinstance(slot, str) and slot not in ("__dict__", "__weakref__"):
                    with contextlib.suppress(AttributeError):
                        stack.append(getattr(obj, slot))


def strings_holding(root: object, needles: list[str]) -> dict[str, list[str]]:
    """The strings reachable from ``root`` that contain one of ``needles`` (by needle)."""
    found: dict[str, list[str]] = {}
    for obj in reachable(root):
        if isinstance(obj, str):
            for needle in needles:
                if needle in obj:
                    found.setdefault(needle, []).append(obj[:120])
    return found
