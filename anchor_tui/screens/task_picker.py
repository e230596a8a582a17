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
from typing import cast

from textual import work
from textual.message import Message
from textual.worker import Worker, WorkerState, get_current_worker

from anchor_tui.domain import Viewer
from anchor_tui.messages import CasesChanged
from anchor_tui.screens.modal import Host
from anchor_tui.screens.prompt import ChoiceScreen
from anchor_tui.services.tasks import open_tasks


class TasksStillOpen(Message):
    """Which of the offered tasks ``viewer`` may still see, open."""

    def __init__(self, viewer: Viewer, task_ids: frozenset[int]) -> None:
        super().__init__()
        self.viewer = viewer
        self.task_ids = task_ids


class FollowsOpenTasks(ChoiceScreen):
    """A question about open tasks of ``case_id``, read again at every change to it."""

    def __init__(self, case_id: int, title: str, choices: Sequence[tuple[str, str]],
                 note: str = "") -> None:
        super().__init__(title, choices, note=note)
        self.case_id = case_id

    def on_cases_changed(self, message: CasesChanged) -> None:
        if message.touches(self.case_id):
            self.read_again()

    @work(thread=True, exclusive=True, group="task-picker", exit_on_error=False)
    def read_again(self) -> None:
        host = cast(Host, self.app)
        viewer = host.viewer
        if viewer is None:
            return
        still = frozenset(t.task_id for t in open_tasks(host.backend, viewer, self.case_id))
        if not get_current_worker().is_cancelled:
            self.post_message(TasksStillOpen(viewer, still))

    def on_tasks_still_open(self, message: TasksStillOpen) -> None:
        if message.viewer == cast(Host, self.app).viewer:
            self.tasks_still_open(message.task_ids)

    def tasks_still_open(self, task_ids: frozenset[int]) -> None:
        raise NotImplementedError

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:  # to the app's one error handler
            self.app.post_message(Worker.StateChanged(event.worker, event.state))


class TaskPickerScreen(FollowsOpenTasks):
    """The open tasks of a case offered to mark done (values: task ids)."""

    def __init__(self, case_id: int, choices: Sequence[tuple[str, str]]) -> None:
        super().__init__(case_id, "Mark which task done?", choices)

    def tasks_still_open(self, task_ids: frozenset[int]) -> None:
        self.keep_choices({str(task_id) for task_id in task_ids})


class TaskQuestionScreen(FollowsOpenTasks):
    """A question naming one open task (``task_id``): closed once it is not read."""

    def __init__(self, case_id: int, task_id: int, title: str,
                 choices: Sequence[tuple[str, str]], note: str = "") -> None:
        super().__init__(case_id, title, choices, note=note)
        self.task_id = task_id

    def tasks_still_open(self, task_ids: frozenset[int]) -> None:
        if self.task_id not in task_ids:
            self.dismiss(None)
