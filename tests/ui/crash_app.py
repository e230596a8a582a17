"""The real app with two test keys, run by the tmux crash test in a real terminal:
F8 opens a given case, F9 fails with a note's text in the exception and in a local.

    python -m tests.ui.crash_app DB_PATH LOG_DIR CASE_ID
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

from textual.binding import Binding

from anchor_tui.app import AnchorApp
from anchor_tui.screens.case import CaseScreen
from anchor_tui.services.backend import Backend
from anchor_tui.settings import load_settings
from anchor_tui.widgets.case_record import NotesTimeline


class CrashingCaseApp(AnchorApp):
    """F8 opens the case; F9 crashes while a note is on screen."""

    BINDINGS = [  # noqa: RUF012 - Textual reads class-level bindings
        Binding("f8", "open_test_case", "Open", id="test.open_case"),
        Binding("f9", "crash", "Crash", id="test.crash"),
    ]
    case_id = 0

    def action_open_test_case(self) -> None:
        self.push_screen(CaseScreen(self.case_id))

    def action_crash(self) -> None:
        note_body = " ".join(note.body for note in self.screen.query_one(NotesTimeline).notes)
        raise ValueError(f"could not draw {note_body}")


def main(argv: list[str]) -> int:
    db_path, log_dir, case_id = argv
    settings = dataclasses.replace(load_settings(db_flag=f"sqlite:///{db_path}", demo=True),
                                   log_dir=Path(log_dir))
    backend = Backend.open(settings)
    try:
        app = CrashingCaseApp(backend, settings)
        app.case_id = int(case_id)
        app.run()
        return app.return_code or 0
    finally:
        backend.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
