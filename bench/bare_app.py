"""The baseline for bench/board.py: a bare Textual app (Header, Static, Footer).

    python bench/bare_app.py

It shows ``bare app ready`` once drawn; the benchmark times how long a real terminal
(tmux) takes to show it from the command's start, and reads its resident memory.
"""

from textual.app import App, ComposeResult
from textual.widgets import Footer, Header, Static

READY = "bare app ready"


class BareApp(App[None]):
    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(READY)
        yield Footer()


if __name__ == "__main__":
    BareApp().run()
