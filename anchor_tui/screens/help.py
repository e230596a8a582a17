"""F1: help for what has focus: what it is for, and every key that works here with its id.

The text comes from the ``HELP`` of the focused widget and its containers up to the
screen (our own words, never user text); the keys from the screen's active bindings,
so a remapped key shows as it is now. The binding id is what ``keymap`` in
``anchor.yaml`` remaps.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widget import Widget
from textual.widgets import Static

from anchor_tui.widgets.plain_text import plain


def help_texts(screen: Screen[object]) -> list[str]:
    """``HELP`` of the focused widget, then of each container around it, then the screen."""
    texts: list[str] = []
    node: object = screen.focused or screen
    while isinstance(node, Widget):
        text = getattr(type(node), "HELP", None)
        if isinstance(text, str) and text.strip() and text.strip() not in texts:
            texts.append(text.strip())
        if node is screen:
            break
        node = node.parent
    return texts


def key_rows(screen: Screen[object]) -> list[tuple[str, str, str]]:
    """(key, what it does, binding id) for every key that works on ``screen`` now."""
    rows: list[tuple[str, str, str]] = []
    seen: set[tuple[str, str]] = set()
    for active in screen.active_bindings.values():
        binding = active.binding
        if not active.enabled or binding.action in ("help", "app.help"):
            continue
        label = binding.description or binding.action
        ident = binding.id or ""
        if (label, ident) in seen:
            continue
        seen.add((label, ident))
        rows.append((screen.app.get_key_display(binding), label, ident))
    return sorted(rows, key=lambda row: (row[2] == "", row[2], row[0]))


class HelpScreen(ModalScreen[None]):
    """Help for one screen at one moment (built when F1 is pressed)."""

    BINDINGS = [  # noqa: RUF012 - Textual reads class-level bindings
        Binding("escape,f1,q", "close", "Close", id="help.close"),
    ]

    DEFAULT_CSS = """
    HelpScreen { align: center middle; background: $background 60%; }
    HelpScreen #help-box { width: 84; max-width: 100%; height: auto; max-height: 90%;
        padding: 1 2; border: thick $primary; background: $surface; }
    HelpScreen #help-scroll { height: auto; max-height: 100%; }
    HelpScreen .help-title { text-style: bold; margin-bottom: 1; }
    HelpScreen .help-text { margin-bottom: 1; }
    HelpScreen .help-keys { height: auto; }
    HelpScreen .help-hint { color: $text-muted; margin-top: 1; }
    """

    def __init__(self, title: str, texts: list[str], keys: list[tuple[str, str, str]]) -> None:
        super().__init__()
        self.title_text = title
        self.texts = texts
        self.keys = keys

    @classmethod
    def for_screen(cls, screen: Screen[object]) -> HelpScreen:
        focused = screen.focused
        named = getattr(screen, "HELP_NAME", None)  # a question: what it is, not its list
        where = named if isinstance(named, str) else \
            type(focused).__name__ if focused is not None else type(screen).__name__
        return cls(f"Help: {where}", help_texts(screen), key_rows(screen))

    def compose(self) -> ComposeResult:
        width = max((len(key) for key, _, _ in self.keys), default=3) + 2
        what = max((len(label) for _, label, _ in self.keys), default=10) + 2
        lines = [f"{key:<{width}}{label:<{what}}{ident}" for key, label, ident in self.keys]
        with Vertical(id="help-box"), VerticalScroll(id="help-scroll"):
            yield Static(plain(self.title_text), classes="help-title")
            for text in self.texts:
                yield Static(plain(text, one_line=False), classes="help-text")
            yield Static(plain(f"{'key':<{width}}{'does':<{what}}id (for keymap)", "bold"))
            yield Static(plain("\n".join(lines), one_line=False), classes="help-keys")
            yield Static("Remap a key in anchor.yaml: keymap: {id: key}. Esc closes.",
                         classes="help-hint")

    def action_close(self) -> None:
        self.dismiss(None)
