"""The tasks typed over a note in the editor (F5): a mixin of ``NoteEditorScreen``.

A task typed over a note is saved with it, made from it (its words are typed over the
note, so it reaches nobody the note does not), and kept in the note's draft until then
(``screens.note_drafts``). A draft offered back brings its tasks back; each is checked
again as the save will check it (the case's members change, a due day passes, a task
typed in a huddle is not saved unchecked with one's own note), and one that can no
longer be saved as it was is given back in the task form with its words and why, never
dropped.
"""

from __future__ import annotations

import dataclasses
from functools import partial

from textual import work
from textual.message import Message

from anchor_tui.errors import AnchorError, DatabaseError
from anchor_tui.screens.note_drafts import NoteDrafts
from anchor_tui.services.clock import moment_on
from anchor_tui.services.note_form import EditorStart
from anchor_tui.services.tasks import NoteTask, check_note_task


class TasksRefused(Message):
    """Tasks kept with the note that can no longer be saved as they are, and why."""

    def __init__(self, refused: tuple[tuple[NoteTask, str], ...]) -> None:
        super().__init__()
        self.refused = refused


class NoteTasks(NoteDrafts):
    """F5 and the tasks kept with the note (a mixin of ``NoteEditorScreen``)."""

    start: EditorStart | None
    _saving: bool

    def init_tasks(self) -> None:
        self._given_back: set[NoteTask] = set()
        """The tasks whose task form is open (given back, not answered yet): a second
        check finding one again does not open a second form, whose answer would be
        dropped."""

    def action_new_task(self) -> None:
        from anchor_tui.screens.task_form import TaskFormScreen

        if self._saving or self._saved is not None or self.start is None:
            return  # opening (no category yet) or saved: the task would have no note
        self.app.push_screen(TaskFormScreen(self.case_id, note_category=self.category,
                                            viewer=self.viewer, backend=self.backend),
                             self._task_typed)

    def _as_typed_here(self, task: NoteTask) -> NoteTask:
        """``task`` as typed in this editor: in a huddle, over what the room sees, it is
        marked so, and never saved later with a note of one's own work unchecked. Every
        task the task form answers passes here (typed with F5, or given back), since
        the form's answer does not carry the mark."""
        if self.viewer.purpose != "individual":
            return dataclasses.replace(task, in_huddle=True)
        return task

    def _task_typed(self, task: object) -> None:
        if isinstance(task, NoteTask):
            task = self._as_typed_here(task)
            self.note_tasks = (*self.note_tasks, task)
            self.text_changed()  # kept in the draft with the text
            self.status(f"{len(self.note_tasks)} task(s) to save with this note; kept in "
                        "its draft until then.")

    @work(thread=True, group="note-tasks", exit_on_error=False)
    def recheck_tasks(self, tasks: tuple[NoteTask, ...]) -> None:
        """Check the tasks kept with the note as its save will (offered back from the
        draft, or the note's save refused): the case's members change, a due day passes.
        With the database away nothing is said: the save checks them again."""
        today = self.host.today()
        refused: list[tuple[NoteTask, str]] = []
        for task in tasks:
            if task.in_huddle and self.viewer.purpose == "individual":
                refused.append((task, "It was typed in a huddle, over what the room saw: "
                                "saved with your own note it is shown to whoever may read "
                                "the note. Check it and who it is for, then save it."))
                continue
            try:
                check_note_task(self.backend, self.viewer, self.case_id, self.category,
                                task.title, task.due, task.assignee_id, today,
                                moment_on(today))
            except DatabaseError:
                return
            except AnchorError as error:
                refused.append((task, f"{error.message} {error.fix}"))
        if refused:
            self.post_message(TasksRefused(tuple(refused)))

    def on_tasks_refused(self, message: TasksRefused) -> None:
        """Each task that cannot be saved as it is comes back in the task form, with its
        words and why: kept with the note (and its draft) until the author answers."""
        from anchor_tui.screens.task_form import TaskFormScreen, TypedTask

        if self._saved is not None or self._saving or self._discarded:
            return
        for task, why in message.refused:
            if task not in self.note_tasks or task in self._given_back:
                continue  # given back already, or its form is open (a second check)
            self._given_back.add(task)
            self.app.push_screen(TaskFormScreen(
                self.case_id, note_category=self.category, viewer=self.viewer,
                backend=self.backend, again=TypedTask(
                    task.title, task.due, task.assignee_id,
                    f"A task kept with this note cannot be saved as it is: {why}")),
                partial(self._task_given_back, task))
        self.status("A task kept with this note cannot be saved as it is: it is given "
                    "back in the task form.", problem=True)

    def _task_given_back(self, was: NoteTask, task: object) -> None:
        """The task form given back was answered: its task in place of the one refused
        (or none: the author discarded it there). Given back in a huddle, it is marked
        as typed there again: the form's answer would have lost the mark."""
        self._given_back.discard(was)
        tasks = list(self.note_tasks)
        if was not in tasks:
            return
        at = tasks.index(was)
        tasks[at:at + 1] = [self._as_typed_here(task)] if isinstance(task, NoteTask) else []
        self.note_tasks = tuple(tasks)
        self.text_changed()
        self.status(f"{len(self.note_tasks)} task(s) to save with this note; kept in its "
                    "draft until then.")
