"""A new follow-up task on a case: what, when (typed naturally), for whom.

``TaskFormScreen(case_id)`` opens from the case view (``t``, binding ``task.new``) and the
note editor (F5). The due day is read as it is typed ("fri", "+3d", "2026-12-01") and
shown as a date, or the reason it is not one; nothing is saved until it reads. Enter moves
on field by field and saves on the assignee; ctrl+s or F2 saves from anywhere; Esc
cancels.

Saved, the form closes and the task goes through the app's save queue
(``saving.save_or_keep``), as a case edit does: with the database away it is kept (and
said so) and added when it is back; added, "Task added" is said and the screens showing
the case read it again. An addition whose commit reached the server while its answer was
lost is made again too: it carries the moment the person added it, and the second
attempt first looks for the task the first wrote then (``saving.made_once``,
``services.tasks.added_at``), so it is added once. Refused (an assignee who may not see
the task, the case gone), maybe long after, the form comes back with what was typed
(title, due day, assignee) and why, so nothing typed is lost.

Opened from the note editor (``note_category``), the task is typed over the note being
written: it is checked, not saved, and dismissed with as a ``NoteTask`` that the editor
saves with the note, made from it, so its title reaches nobody the note does not. In a
huddle the task tells of what the room sees of the case and is disclosed as an action's
task is (``services.tasks``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState

from anchor_tui.domain import Viewer
from anchor_tui.errors import AnchorError
from anchor_tui.messages import CasesChanged
from anchor_tui.paste_input import OneLineInput
from anchor_tui.saving import context_alive, later_notifier, made_once, save_or_keep
from anchor_tui.screens.kept_form import KeepsTypedForm, KeptFormNote
from anchor_tui.screens.modal import AnchorModal
from anchor_tui.screens.quit_form import QuitQuestion
from anchor_tui.services.backend import Backend
from anchor_tui.services.clock import moment_on, utcnow
from anchor_tui.services.due_dates import EXAMPLES, describe_day, parse_optional_day
from anchor_tui.services.form_drafts import case_target
from anchor_tui.services.tasks import (
    AddedTask,
    NoteTask,
    TaskForm,
    add_task,
    added_at,
    check_note_task,
    clean_title,
    task_form,
)
from anchor_tui.widgets.plain_text import plain

NOBODY = "nobody"


@dataclass(frozen=True)
class TypedTask:
    """What was typed into a form whose task was refused, to give the form back with."""

    title: str
    due: dt.date | None
    assignee_id: int | None
    why: str
    """Why it was not saved, shown at the top of the form given back."""


class TaskFormRead(Message):
    def __init__(self, form: TaskForm) -> None:
        super().__init__()
        self.form = form


class TaskAdded(Message):
    def __init__(self, added: NoteTask) -> None:
        super().__init__()
        self.added = added


class TaskFormScreen(AnchorModal[NoteTask | None], KeepsTypedForm):
    """Add one task to one case. What was typed is kept for its author if the terminal
    passes to someone else while it is open (``kept_form``): given back the next time
    they add a task to the case (typed over a note: the next time they do from the note
    editor)."""

    QUIT_QUESTION = QuitQuestion(
        "Quit and discard this task?",
        "Go back to the task",
        "Quit: discard what was written",
        "The task is not saved yet. Esc goes back to it.")

    HELP = ("A new follow-up task. Write what is to be done, when it is due (fri, "
            "tomorrow, +3d, +2w, 2026-12-01 or 1.12.2026; empty for no due day) and who "
            "does it (someone who works the case). Enter moves on; ctrl+s or F2 saves.")

    DEFAULT_CSS = """
    TaskFormScreen { align: center middle; background: $background 60%; }
    TaskFormScreen #task-fields { height: auto; max-height: 100%; }
    TaskFormScreen #task-assignee { height: auto; max-height: 6; }
    TaskFormScreen #task-due-said { color: $text-muted; height: 1; }
    TaskFormScreen #task-with-note, TaskFormScreen #task-in-huddle { color: $text-muted; }
    TaskFormScreen #task-due-said.problem, TaskFormScreen #task-message {
        color: $text-error; }
    """

    BINDINGS = [  # noqa: RUF012 - Textual reads class-level bindings
        Binding("escape", "cancel", "Cancel", id="task.cancel"),
        Binding("ctrl+s", "save", "Save", id="task.save"),
        Binding("f2", "save", "Save", id="task.save_f2"),
    ]

    def __init__(self, case_id: int, title: str = "", *, note_category: str | None = None,
                 viewer: Viewer | None = None, backend: Backend | None = None,
                 again: TypedTask | None = None) -> None:
        """``note_category``: opened from the note editor, whose note (of this category,
        not saved yet) the task is typed over; ``viewer`` and ``backend``: the editor's.
        ``again``: a task that was refused, given back with what was typed and why."""
        super().__init__()
        self.case_id = case_id
        self.initial_title = again.title if again is not None else title
        self.note_category = note_category
        self.again = again
        self._given = (viewer, backend)
        self.form: TaskForm | None = None
        self._saving = False
        self._assignee_wanted: int | str | None = None
        """The assignee of a form filled in from a kept one (``NOBODY``: nobody), chosen
        once the list reads; None: the form's default."""

    @property
    def viewer(self) -> Viewer | None:
        return self._given[0] or self.host.viewer

    @property
    def backend(self) -> Backend:
        return self._given[1] or self.host.backend

    def compose(self) -> ComposeResult:
        # Scrolled within the box: at 80x24 the form is taller than the screen, and the
        # field with focus (who does it) and a problem said must show.
        with Vertical(id="task-box", classes="modal-box"), VerticalScroll(id="task-fields"):
            yield Static("New task", id="task-heading", classes="modal-title")
            yield Static("", id="task-message")  # up here: in view when a field is wrong
            yield KeptFormNote(id="task-kept")
            yield Static("What is to be done")
            yield OneLineInput(self.initial_title, placeholder="Call the school about Monday",
                               id="task-title", max_length=500)
            yield Static(f"Due ({EXAMPLES}; empty: no due day)")
            yield Input(self.again.due.isoformat() if self.again and self.again.due else "",
                        placeholder="fri", id="task-due", max_length=40)
            yield Static("", id="task-due-said")
            yield Static("Given to")
            yield OptionList(id="task-assignee")
            if self.note_category is not None:
                yield Static("Saved with the note, and shown only to whoever may read the "
                             "note: its words are typed over it.", id="task-with-note")
            elif self.viewer is not None and self.viewer.purpose != "individual":
                yield Static("Typed in the huddle: shown only to whoever may see all the "
                             "huddle sees of this case, as an action is (a on the huddle "
                             "screen also puts it in the minutes).", id="task-in-huddle")
            yield Static("Enter moves on and saves · ctrl+s / F2 saves · Esc cancels",
                         classes="modal-hint")

    def on_mount(self) -> None:
        self.query_one("#task-title", Input).focus()
        if self.again is not None:
            self.query_one("#task-message", Static).update(plain(self.again.why))
            self._read_due()
        self.read_form()
        self.offer_kept_form()

    @work(thread=True, exclusive=True, group="task-form", exit_on_error=False)
    def read_form(self) -> None:
        viewer = self.viewer
        if viewer is not None:
            self.post_message(TaskFormRead(task_form(self.backend, viewer, self.case_id,
                                                     self.host.today())))

    def on_task_form_read(self, message: TaskFormRead) -> None:
        form = self.form = message.form
        self.query_one("#task-heading", Static).update(plain(f"New task · {form.person_label}"))
        options = self.query_one("#task-assignee", OptionList)
        options.clear_options()
        told = self.note_category is not None or (
            self.viewer is not None and self.viewer.purpose != "individual")
        nobody = ("Nobody yet (the case's members who may see what it was typed over see "
                  "it)" if told else "Nobody yet (the case's members see it)")
        options.add_options([Option(plain(nobody), id=NOBODY)] + [
            Option(plain(f"{mc.display_name} ({self._profession(mc.profession)})"),
                   id=str(mc.user_id)) for mc in form.members])
        ids = [NOBODY] + [str(mc.user_id) for mc in form.members]
        chosen = form.default_assignee if self.again is None else self.again.assignee_id
        if self._assignee_wanted is not None:  # filled in from a kept form
            chosen = self._assignee_wanted if isinstance(self._assignee_wanted, int) else None
        wanted = str(chosen) if chosen else NOBODY
        options.highlighted = ids.index(wanted) if wanted in ids else 0

    def _profession(self, profession: str) -> str:
        return self.backend.policy.professions.get(profession, profession)

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "task-due":
            event.stop()
            self._read_due()

    def _read_due(self) -> tuple[bool, dt.date | None]:
        said = self.query_one("#task-due-said", Static)
        text = self.query_one("#task-due", Input).value
        today = self.host.today()
        try:
            day = parse_optional_day(text, today)
        except AnchorError as error:
            said.set_class(True, "problem")
            said.update(plain(f"{error.message} {error.fix}"))
            return False, None
        said.set_class(False, "problem")
        said.update(plain("No due day" if day is None else describe_day(day, today)))
        return True, day

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "task-title":
            self.query_one("#task-due", Input).focus()
        else:
            self.query_one("#task-assignee", OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_save()

    def action_save(self) -> None:
        message = self.query_one("#task-message", Static)
        if self._saving or self.form is None:
            return
        try:
            title = clean_title(self.query_one("#task-title", Input).value)
        except AnchorError as error:
            self._say(plain(error.message), "#task-title")
            return
        ok, day = self._read_due()
        if not ok:
            self._say("The due day does not read as a day (see above).", "#task-due")
            return
        options = self.query_one("#task-assignee", OptionList)
        chosen = options.get_option_at_index(options.highlighted).id \
            if options.highlighted is not None else NOBODY
        assignee = None if chosen in (None, NOBODY) else int(str(chosen))
        message.update("")
        self._saving = True
        self.forget_kept_form()  # saved now, or given back with its words if refused
        if self.note_category is not None:
            self.check_with_note(title, day, assignee)
        else:
            self.write_task(title, day, assignee)

    def _say(self, problem: str | Content, field: str) -> None:
        """What is wrong, at the top of the form, and the wrong field focused: both in
        view (the form scrolls at 80x24)."""
        self.query_one("#task-message", Static).update(problem)
        self.query_one(field, Input).focus(scroll_visible=False)
        self.query_one("#task-fields", VerticalScroll).scroll_home(animate=False)

    @work(thread=True, exclusive=True, group="task-save", exit_on_error=False)
    def check_with_note(self, title: str, due: dt.date | None, assignee: int | None) -> None:
        """Typed over the note being written: checked now, saved with the note."""
        viewer = self.viewer
        if viewer is not None and self.note_category is not None:
            self.post_message(TaskAdded(check_note_task(
                self.backend, viewer, self.case_id, self.note_category, title, due,
                assignee, self.host.today(), moment_on(self.host.today()))))

    def write_task(self, title: str, due: dt.date | None, assignee: int | None) -> None:
        """Close the form and add the task through the app's save queue: kept while the
        database is away, added once after a lost answer, and, refused, the form given
        back with what was typed."""
        viewer = self.viewer
        if viewer is None:
            return
        app, backend, case_id = self.app, self.backend, self.case_id
        today = self.host.today()
        now = moment_on(today)  # what the task may tell of is judged at, as before
        made = utcnow()  # the moment it was added, the same for every attempt
        once = made_once(
            partial(add_task, backend, viewer, case_id, title, due, assignee, today, now,
                    at=made),
            partial(added_at, backend, viewer, case_id, title, made, now))
        tell, alive = later_notifier(app), context_alive(app)

        def saved(added: AddedTask) -> None:
            day = f", due {added.due.isoformat()}" if added.due else ""
            tell(f"Task added{day}.", title="Task added", markup=False)
            if alive():  # the case view (and the board) read the case again
                app.post_message(CasesChanged(frozenset({case_id})))

        def refused(error: AnchorError) -> None:
            # Handed back only to whoever typed it (save_or_keep), maybe long after: the
            # form comes back with their words, on their own screens (behind the lock,
            # if it is locked: ``terminal_screens``).
            app.push_screen(TaskFormScreen(case_id, again=TypedTask(
                title, due, assignee, f"Not saved: {error.message} {error.fix}")))

        save_or_keep(app, f"add a task on case {case_id}", "The task", once,
                     on_saved=saved, on_refused=refused, keep_if_refused=self.keep_if_refused())
        self.dismiss(None)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "task-save" and event.state in (
                WorkerState.ERROR, WorkerState.CANCELLED):
            self._saving = False  # the error modal says why; the form keeps what was typed

    def on_task_added(self, message: TaskAdded) -> None:
        added = message.added
        due = f", due {added.due.isoformat()}" if added.due else ""
        self.app.notify(f"Task kept with the note{due}: it is saved when the note is.",
                        title="Task with the note", markup=False)
        self.dismiss(added)

    def filled_in(self) -> bool:
        """Something typed: a title other than the one it opened with, or a due day; a
        form given back after a refusal holds words not saved, whatever is in it."""
        if self.again is not None:
            return True
        return (self.query_one("#task-title", Input).value.strip()
                != self.initial_title.strip()
                or bool(self.query_one("#task-due", Input).value.strip()))

    def action_cancel(self) -> None:
        self.dismiss_or_ask("Discard this task?",
                            "The task is not saved yet. Discard what was written?")

    # --- kept for its author (``kept_form``) --------------------------------------------

    FORM_KIND = "task"

    def form_kind(self) -> str:
        """A task typed over a note is given back over a note: apart from the case's."""
        return "task" if self.note_category is None else "note_task"

    def form_target(self) -> tuple[str, int | None]:
        """Typed over a note: over a note of that category, whose readers alone it is
        shown to. Given back over a note of another category, it would be saved with
        that note and reach whoever may read it."""
        if self.note_category is None:
            return case_target(self.case_id), self.case_id
        return case_target(self.case_id, ("category", self.note_category)), self.case_id

    def form_viewer(self) -> Viewer | None:
        return self.viewer

    def form_backend(self) -> Backend:
        return self.backend

    def form_fields(self) -> dict[str, object]:
        fields: dict[str, object] = {"title": self.query_one("#task-title", Input).value,
                                     "due": self.query_one("#task-due", Input).value}
        options = self.query_one("#task-assignee", OptionList)
        if self.form is not None and options.highlighted is not None:
            # (Not read yet: none chosen, the default is chosen when it is given back.)
            chosen = options.get_option_at_index(options.highlighted).id
            fields["assignee_id"] = None if chosen in (None, NOBODY) else int(str(chosen))
        return fields

    def fill_form(self, fields: Mapping[str, Any]) -> None:
        self.query_one("#task-title", Input).value = str(fields.get("title") or "")
        self.query_one("#task-due", Input).value = str(fields.get("due") or "")
        assignee = fields.get("assignee_id", self)  # (self: not kept, the default)
        self._assignee_wanted = assignee if isinstance(assignee, int) \
            else NOBODY if assignee is None else None
        if self.form is not None:  # the list is read: choose in it now
            ids = [NOBODY] + [str(mc.user_id) for mc in self.form.members]
            wanted = self._assignee_wanted if self._assignee_wanted is not None \
                else self.form.default_assignee
            key = str(wanted) if wanted and wanted != NOBODY else NOBODY
            self.query_one("#task-assignee", OptionList).highlighted = \
                ids.index(key) if key in ids else 0
