"""Every key binding's id, so a team's ``keymap`` in ``anchor.yaml`` can be checked.

Bindings carry ids (``board.move_next``); ``keymap: {board.move_next: "]"}`` rebinds one
(Textual's ``App.set_keymap``). An id that names no binding is a configuration error
with file, line and key, found before the app starts, not a key that silently does
nothing.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from types import ModuleType

from textual.binding import Binding

_PACKAGES = ("anchor_tui.screens", "anchor_tui.widgets")


def _modules() -> list[ModuleType]:
    found = [importlib.import_module("anchor_tui.app")]
    for name in _PACKAGES:
        package = importlib.import_module(name)
        for info in pkgutil.iter_modules(package.__path__, prefix=f"{name}."):
            found.append(importlib.import_module(info.name))
    return found


def binding_ids() -> set[str]:
    """The id of every binding of the app, its screens and its widgets."""
    ids: set[str] = set()
    for module in _modules():
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if not cls.__module__.startswith("anchor_tui."):
                continue
            for binding in getattr(cls, "BINDINGS", ()):
                if isinstance(binding, Binding) and binding.id:
                    ids.add(binding.id)
    return ids
