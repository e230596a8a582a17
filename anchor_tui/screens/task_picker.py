"""Questions about a case's open tasks that follow the case: "Mark which task done?",
and the queue's "Give the task … to someone".

Filled once from what the case view had read, the question went on offering a task
the viewer may no longer see (made from a note a consent let through, withdrawn since;
a membership that ended at midnight) while the case view beneath it had dropped it.
Like the note history's picker (``note_history.NotePickerScreen``), it reads the case's
open tasks again at every change to the case and keeps only those still read; none
left, it closes. A question about one task (its title in the question) closes when that
task is no longer read.
"""

from __future__ import annotations

from collections.abc import Sequence

from anchor_tui.domain import Viewer
from anchor_tui.screens.modal import Host
from anchor_tui.screens.prompt import CaseChoiceScreen
from anchor_tui.services.tasks import open_tasks


def _still_open(host: Host, viewer: Viewer, case_id: int) -> frozenset[str]:
    return frozenset(str(t.task_id) for t in open_tasks(host.backend, viewer, case_id))


class TaskPickerScreen(CaseChoiceScreen):
    """The open tasks of a case offered to mark done (values: task ids)."""

    def __init__(self, case_id: int, choices: Sequence[tuple[str, str]]) -> None:
        super().__init__(case_id, "Mark which task done?", choices)

    def still_offered(self, host: Host, viewer: Viewer) -> frozenset[str]:
        return _still_open(host, viewer, self.case_id)


class TaskQuestionScreen(CaseChoiceScreen):
    """A question naming one open task (``task_id``): closed once it is not read."""

    def __init__(self, case_id: int, task_id: int, title: str,
                 choices: Sequence[tuple[str, str]], note: str = "") -> None:
        super().__init__(case_id, title, choices, note=note)
        self.task_id = task_id

    def still_offered(self, host: Host, viewer: Viewer) -> frozenset[str]:
        return _still_open(host, viewer, self.case_id)

    def offered(self, values: frozenset[str]) -> None:
        if str(self.task_id) not in values:
            self.dismiss(None)
