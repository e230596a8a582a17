"""Working a case from its view: notes, tasks and edits of the case itself.

A mixin of ``CaseScreen`` (its keys are merged into the case view's). Keys and binding
ids (F1 lists them):

- ``n`` [note.new] writes a note; ``e`` [note.revise] corrects one of one's own notes;
  ``x`` [note.error] marks one "entered in error" (with a reason); ``h`` [note.history]
  shows a note's revisions;
- ``t`` [task.new] adds a follow-up task; ``T`` [task.done] marks one done;
- ``s`` [case.edit_stage], ``p`` [case.edit_priority], ``d`` [case.edit_review] and
  ``w`` [case.edit_members] change the stage, priority, next review and who works the case.

Each edit reads the case as it is now, asks, and writes at the version read. If another
terminal changed the case meanwhile, the conflict screen shows both versions and the
person chooses; nothing is overwritten unseen. The edits, the entered-in-error mark and
a task marked done (and a new task, through its form: ``task_form``) go through the
app's save queue (``saving.save_or_keep``): made
while the database is away, they are kept and saved when it is back; a refused mark asks
for its reason again, filled in; a task someone else changed or finished meanwhile is
shown as refused, naming the task. An edit or a task marked done whose commit reached
the server while its answer was lost is made again too: it is written with the moment
the person made it, and the second attempt first looks for what the first wrote at that
moment (``saving.made_once``), so it is said done, not shown as a conflict with the
person's own change nor written twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from functools import partial
from typing import Any, cast

from textual import work
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen

from anchor_tui.db.types import utcnow
from anchor_tui.domain import PRIORITY_LABELS
from anchor_tui.errors import AnchorError
from anchor_tui.palette import PaletteCommand
from anchor_tui.safe_text import printable
from anchor_tui.saving import later_notifier, made_once, save_or_keep
from anchor_tui.screens.modal import Host
from anchor_tui.screens.prompt import ChoiceScreen, ReasonScreen, reason_kept_if_refused
from anchor_tui.services.case_edits import (
    CaseChange,
    CaseConflict,
    CaseState,
    apply_change,
    case_state,
    change_made_at,
    people_to_add,
)
from anchor_tui.services.case_view import CaseRecord, NoteEntry
from anchor_tui.services.due_dates import EXAMPLES, describe_day, parse_optional_day
from anchor_tui.services.form_drafts import case_target
from anchor_tui.services.notes import OwnNote, mark_entered_in_error, note_history, own_notes
from anchor_tui.services.tasks import OpenTask, complete_task, completed_at, open_tasks


def _first_line(body: str) -> str:
    line = next((part for part in body.splitlines() if part.strip()), "")
    return line[:50] + ("…" if len(line) > 50 else "")


class Read(Message):
    """Something a case action needed was read (``what`` says what, ``value`` holds it)."""

    def __init__(self, what: str, value: Any) -> None:
        super().__init__()
        self.what = what
        self.value = value


class CaseChanged(Message):
    """A note, task or case edit was written: the case view reads the case again."""

    def __init__(self, said: str) -> None:
        super().__init__()
        self.said = said


class CaseEditConflicted(Message):
    def __init__(self, conflict: CaseConflict) -> None:
        super().__init__()
        self.conflict = conflict


class CaseWork(Screen[None]):
    """Note, task and case-edit actions of the case view."""

    BINDINGS = [  # noqa: RUF012 - Textual reads class-level bindings
        Binding("n", "new_note", "New note", id="note.new"),
        Binding("t", "new_task", "New task", id="task.new"),
        Binding("T", "task_done", "Task done…", show=False, id="task.done"),
        Binding("e", "own_notes('revise')", "Correct a note…", show=False, id="note.revise"),
        Binding("x", "own_notes('error')", "Entered in error…", show=False, id="note.error"),
        Binding("h", "note_history", "Note history…", show=False, id="note.history"),
        Binding("s", "edit('stage')", "Stage…", show=False, id="case.edit_stage"),
        Binding("p", "edit('priority')", "Priority…", show=False, id="case.edit_priority"),
        Binding("d", "edit('next_review')", "Next review…", show=False,
                id="case.edit_review"),
        Binding("w", "edit('members')", "Members…", show=False, id="case.edit_members"),
    ]

    case_id: int
    record: CaseRecord | None

    def load_case(self) -> object:
        raise NotImplementedError

    @property
    def work_host(self) -> Host:
        return cast(Host, self.app)

    def _viewer_or_none(self) -> Any:
        return self.work_host.viewer

    # --- notes -------------------------------------------------------------------------

    def action_new_note(self) -> None:
        from anchor_tui.screens.note_editor import open_note_editor

        open_note_editor(self.app, self.case_id, on_saved=lambda _note: self.load_case())

    def action_own_notes(self, purpose: str) -> None:
        self.read_own_notes(purpose)

    @work(thread=True, exclusive=True, group="case-work-read", exit_on_error=False)
    def read_own_notes(self, purpose: str) -> None:
        viewer = self._viewer_or_none()
        if viewer is not None:
            notes = own_notes(self.work_host.backend, viewer, self.case_id)
            self.post_message(Read(f"own-notes:{purpose}", notes))

    @work(exclusive=True, group="case-work-ask")
    async def pick_own_note(self, purpose: str, notes: tuple[OwnNote, ...]) -> None:
        if not notes:
            self.notify("You have no note on this case that can be changed.",
                        title="No note of yours", markup=False)
            return
        choices = [(str(n.note_id), f"{n.created_at.astimezone():%Y-%m-%d %H:%M} · "
                    f"{n.category} · {n.first_line}") for n in notes]
        title = "Correct which note?" if purpose == "revise" else \
            "Which note was entered in error?"
        chosen = await self.app.push_screen_wait(ChoiceScreen(
            title, choices, note="Your newest revisions, newest first. The note stays in "
            "the timeline either way."))
        if chosen is None:
            return
        if purpose == "revise":
            from anchor_tui.screens.note_editor import open_note_editor

            open_note_editor(self.app, self.case_id, supersedes_id=int(chosen),
                             on_saved=lambda _note: self.load_case())
            return
        self.ask_error_reason(int(chosen))

    # Asked again by a save's refusal, maybe long after (kept while the database was
    # away) while another question is open: never exclusive, in a group of its own. An
    # exclusive worker cancelled the one awaiting the open question, whose answer, typed
    # and confirmed, then went nowhere.
    @work(group="case-work-again")
    async def ask_error_reason(self, note_id: int, value: str = "", note: str = "") -> None:
        reason = await self.app.push_screen_wait(ReasonScreen(
            "Entered in error", "Why is this note wrong? It stays in the timeline, marked, "
            "with your reason.", placeholder="e.g. written on the wrong case",
            value=value, note=note,
            kept_as=self._error_reason_kept_as(note_id)))
        if reason is not None:
            self.write_error_mark(note_id, reason)

    def write_error_mark(self, note_id: int, reason: str) -> None:
        viewer = self._viewer_or_none()
        if viewer is None:
            return

        def refused(error: AnchorError) -> None:
            if self.is_attached:
                self.ask_error_reason(note_id, reason, f"Not saved: {error.message} "
                                      f"{error.fix}")
                return
            # The case view has closed (the mark was kept for the database and made
            # later): the person who wrote the reason is still here (a refusal is handed
            # back only then), so it is given back to them, not dropped.
            from anchor_tui.screens.error import ErrorScreen, show_held

            show_held(self.app, ErrorScreen(
                "Entered-in-error mark not saved", error.message,
                f"{error.fix}\nYour reason: “{reason}”. Mark the note again from its "
                f"case (x)."))

        save_or_keep(self.app, f"mark a note on case {self.case_id} entered in error",
                     "The entered-in-error mark",
                     partial(mark_entered_in_error, self.work_host.backend, viewer, note_id,
                             reason),
                     on_saved=lambda _r: self._changed("The note is marked entered in error."),
                     on_refused=refused,
                     keep_if_refused=reason_kept_if_refused(
                         viewer, self.work_host.backend, self._error_reason_kept_as(note_id),
                         reason))

    def _error_reason_kept_as(self, note_id: int) -> tuple[str, str, int | None]:
        """The reason form of marking this note entered in error (``ReasonScreen``)."""
        return "reason:error", case_target(self.case_id, ("note", note_id)), self.case_id

    def _changed(self, said: str) -> None:
        if self.is_attached:
            self.post_message(CaseChanged(said))

    def action_note_history(self) -> None:
        notes = self.record.notes.notes if self.record is not None else ()
        if notes:
            self.pick_history(notes)

    @work(exclusive=True, group="case-work-ask")
    async def pick_history(self, notes: tuple[NoteEntry, ...]) -> None:
        choices = [(str(n.note_id), f"{n.created_at.astimezone():%Y-%m-%d %H:%M} · "
                    f"{n.author} · rev. {n.revision} · {_first_line(n.body)}") for n in notes]
        from anchor_tui.screens.note_history import NotePickerScreen

        # The picker follows a change while open (a consent withdrawn elsewhere takes
        # the notes it let through off it), as the history it opens does.
        chosen = await self.app.push_screen_wait(NotePickerScreen(self.case_id, choices))
        if chosen is not None:
            self.read_history(int(chosen))

    @work(thread=True, exclusive=True, group="case-work-read", exit_on_error=False)
    def read_history(self, note_id: int) -> None:
        viewer = self._viewer_or_none()
        if viewer is not None:
            from anchor_tui.services.clock import moment_on

            entries = note_history(self.work_host.backend, viewer, note_id,
                                   moment_on(self.work_host.today()))
            self.post_message(Read("history", (note_id, entries)))

    # --- tasks -------------------------------------------------------------------------

    def action_new_task(self) -> None:
        from anchor_tui.screens.task_form import TaskFormScreen

        self.app.push_screen(TaskFormScreen(self.case_id), self._reload_if)

    def _reload_if(self, result: object) -> None:
        if result:
            self.load_case()

    def action_task_done(self) -> None:
        self.read_open_tasks()

    @work(thread=True, exclusive=True, group="case-work-read", exit_on_error=False)
    def read_open_tasks(self) -> None:
        viewer = self._viewer_or_none()
        if viewer is not None:
            self.post_message(Read("tasks", open_tasks(self.work_host.backend, viewer,
                                                       self.case_id)))

    @work(exclusive=True, group="case-work-ask")
    async def pick_task(self, tasks: tuple[OpenTask, ...]) -> None:
        if not tasks:
            self.notify("No open task on this case.", title="Nothing to mark", markup=False)
            return
        choices = [(str(t.task_id), f"{t.title} · due {t.due.isoformat() if t.due else '—'}"
                    f" · {t.assignee or 'nobody'}") for t in tasks]
        from anchor_tui.screens.task_picker import TaskPickerScreen

        chosen = await self.app.push_screen_wait(TaskPickerScreen(self.case_id, choices))
        task = next((t for t in tasks if str(t.task_id) == chosen), None)
        if task is None:
            return
        if task.notification_id is not None:
            from anchor_tui.screens.child_welfare import ChildWelfareScreen

            self.app.push_screen(ChildWelfareScreen(task.notification_id), self._reload_if)
            return
        self.write_task_done(task)

    def write_task_done(self, task: OpenTask) -> None:
        """Mark the task done at the version read, through the app's save queue: kept
        while the database is away, made once after a lost answer. Refused (someone else
        changed or finished the task meanwhile), the person is shown why, as before."""
        viewer = self._viewer_or_none()
        if viewer is None:
            return
        backend = self.work_host.backend
        made = utcnow()  # the moment it was marked done, the same for every attempt
        once = made_once(
            partial(complete_task, backend, viewer, task.task_id, task.version, at=made),
            partial(completed_at, backend, viewer, task.task_id, task.version, made))

        def refused(error: AnchorError) -> None:
            # Shown as before (a conflict, already done), naming the task: a refusal of a
            # mark kept while the database was away may come long after, elsewhere.
            from anchor_tui.screens.error import ErrorScreen, show_held

            show_held(self.app, ErrorScreen(error.title, error.message,
                                            f"{error.fix}\nThe task: “{task.title}”."))
            if self.is_attached:
                self.load_case()

        save_or_keep(self.app, f"mark a task on case {self.case_id} done",
                     "The task marked done", once,
                     on_saved=lambda _r: self._changed("Task marked done."),
                     on_refused=refused)

    # --- case edits --------------------------------------------------------------------

    def action_edit(self, field: str) -> None:
        self.read_state(field)

    @work(thread=True, exclusive=True, group="case-work-read", exit_on_error=False)
    def read_state(self, field: str) -> None:
        viewer = self._viewer_or_none()
        if viewer is not None:
            at = utcnow()
            state = case_state(self.work_host.backend, viewer, self.case_id,
                               self.work_host.today())
            self.post_message(Read(f"state:{field}", (state, at)))

    @work(exclusive=True, group="case-work-ask")
    async def ask_edit(self, field: str, state: CaseState, at: dt.datetime) -> None:
        change = await self._ask_change(field, state)
        if change is not None:
            self.write_change(state, change, at)

    async def _ask_change(self, field: str, state: CaseState) -> CaseChange | None:
        team = self.work_host.backend.team
        who = state.person_label
        if field == "stage":
            stage = await self.app.push_screen_wait(ChoiceScreen(
                f"Move {who} to which stage?", [(s.id, s.label) for s in team.stages
                                                if s.id != state.stage],
                note=f"Now in {team.stage_label(state.stage)}. Any stage may be chosen."))
            if stage is None:
                return None
            reason = None
            if next((s.closed for s in team.stages if s.id == stage), False):
                reason = await self.app.push_screen_wait(ChoiceScreen(
                    f"Why is {who}'s case closed?",
                    [(c.id, c.label) for c in team.closed_reasons]))
                if reason is None:
                    return None
            return CaseChange("stage", stage, reason)
        if field == "priority":
            chosen = await self.app.push_screen_wait(ChoiceScreen(
                f"Priority of {who}'s case", [(str(k), v.capitalize())
                                               for k, v in PRIORITY_LABELS.items()],
                current=str(state.priority)))
            return CaseChange("priority", int(chosen)) if chosen else None
        if field == "next_review":
            return await self._ask_review(state)
        return await self._ask_members(state)

    async def _ask_review(self, state: CaseState) -> CaseChange | None:
        now = state.next_review.isoformat() if state.next_review else "none"
        today = self.work_host.today()
        while True:
            text = await self.app.push_screen_wait(ReasonScreen(
                "Next review", f"When is {state.person_label}'s case reviewed next? Now: "
                f"{now}. Write {EXAMPLES}, or none.", placeholder="fri"))
            if text is None:
                return None
            try:
                day = parse_optional_day(text, today)
            except AnchorError as error:
                self.notify(f"{error.message} {error.fix}", title="Not a day",
                            severity="warning", markup=False)
                continue
            if day is not None:
                self.notify(describe_day(day, today), title="Next review", markup=False)
            return CaseChange("next_review", day)

    async def _ask_members(self, state: CaseState) -> CaseChange | None:
        if state.members is None:
            self.notify("Your profession does not see who works a case.",
                        title="Members", markup=False)
            return None
        choices = [("add", "Add someone to the case…")] + [
            (str(mc.user_id), f"End {mc.display_name}'s work on the case")
            for mc in state.members]
        chosen = await self.app.push_screen_wait(ChoiceScreen(
            f"Who works {state.person_label}'s case", choices,
            note="Members see the case's notes as the policy allows, from today."))
        if chosen is None:
            return None
        if chosen != "add":
            return CaseChange("member_removed", int(chosen))
        self.read_people(state)
        return None

    @work(thread=True, exclusive=True, group="case-work-read", exit_on_error=False)
    def read_people(self, state: CaseState) -> None:
        viewer = self._viewer_or_none()
        if viewer is not None:
            people = people_to_add(self.work_host.backend, viewer, state)
            self.post_message(Read("people", (state, people)))

    @work(exclusive=True, group="case-work-ask")
    async def pick_person(self, state: CaseState, people: tuple[Any, ...]) -> None:
        professions = self.work_host.backend.policy.professions
        chosen = await self.app.push_screen_wait(ChoiceScreen(
            f"Add whom to {state.person_label}'s case?",
            [(str(p.user_id), f"{p.display_name} ({professions.get(p.profession, p.profession)})")
             for p in people]))
        if chosen is not None:
            self.write_change(state, CaseChange("member_added", int(chosen)), utcnow())

    def write_change(self, state: CaseState, change: CaseChange, at: dt.datetime) -> None:
        """Write the edit at the version read; kept while the database is away. A
        conflict (another terminal changed the case) shows both versions."""
        viewer = self._viewer_or_none()
        if viewer is None:
            return
        backend, today = self.work_host.backend, self.work_host.today()
        made = utcnow()  # the moment of the edit, the same for every attempt
        once = made_once(
            partial(apply_change, backend, viewer, state, change, today=today, seen_at=at,
                    at=made),
            partial(change_made_at, backend, viewer, state, change, today=today, at=made))

        def change_case() -> CaseConflict | None:
            try:
                once()
            except CaseConflict as conflict:
                return conflict
            return None

        tell = later_notifier(self.app)

        def written(conflict: CaseConflict | None) -> None:
            if not self.is_attached:  # a kept edit, made after its case view was left
                if conflict is not None:
                    tell(printable(f"Your change of {state.person_label}'s case was not "
                                   "written: someone else changed the case meanwhile."),
                         title="Nothing changed", severity="warning", markup=False)
                return
            if conflict is not None:
                self.post_message(CaseEditConflicted(conflict))
            else:
                self.post_message(CaseChanged("Case changed."))

        save_or_keep(self.app, f"change {state.person_label}'s case "
                     f"({change.field.replace('_', ' ')})",
                     "The change of the case", change_case, on_saved=written)

    def on_case_edit_conflicted(self, message: CaseEditConflicted) -> None:
        self.resolve(message.conflict)

    @work(group="case-work-again")  # (a kept edit's conflict: see ask_error_reason)
    async def resolve(self, conflict: CaseConflict) -> None:
        from anchor_tui.screens.conflict import ConflictScreen

        choice = await self.app.push_screen_wait(ConflictScreen(
            self.work_host.backend.team, conflict))
        if choice == "apply":
            self.write_change(conflict.now, conflict.wanted, utcnow())
        else:
            self.notify("Kept the current version; your change was not written.",
                        title="Nothing changed", markup=False)
            self.load_case()

    # --- results -----------------------------------------------------------------------

    def on_read(self, message: Read) -> None:
        kind, _, detail = message.what.partition(":")
        if kind == "own-notes":
            self.pick_own_note(detail, message.value)
        elif kind == "history":
            from anchor_tui.screens.note_history import NoteHistoryScreen

            note_id, entries = message.value
            self.app.push_screen(NoteHistoryScreen(self.case_id, note_id, entries))
        elif kind == "tasks":
            self.pick_task(message.value)
        elif kind == "state":
            state, at = message.value
            self.ask_edit(detail, state, at)
        elif kind == "people":
            self.pick_person(*message.value)

    def on_case_changed(self, message: CaseChanged) -> None:
        self.notify(message.said, title="Saved", markup=False)
        self.load_case()

    def work_commands(self) -> Iterable[PaletteCommand]:
        """Palette commands for the case view ("note: new", "task: new", "case: priority")."""
        yield PaletteCommand("note: new", "Write a note on this case (n)", self.action_new_note)
        yield PaletteCommand("note: correct", "Correct one of your notes (e)",
                             lambda: self.action_own_notes("revise"))
        yield PaletteCommand("note: entered in error", "Mark one of your notes (x)",
                             lambda: self.action_own_notes("error"))
        yield PaletteCommand("note: history", "A note's revisions (h)", self.action_note_history)
        yield PaletteCommand("task: new", "Add a follow-up task (t)", self.action_new_task)
        yield PaletteCommand("task: done", "Mark a task done (T)", self.action_task_done)
        for field, key, label in (("stage", "s", "stage"), ("priority", "p", "priority"),
                                  ("next_review", "d", "next review"),
                                  ("members", "w", "members")):
            yield PaletteCommand(f"case: {label}", f"Change the case's {label} ({key})",
                                 partial(self.action_edit, field))

    def palette_commands(self) -> Iterable[PaletteCommand]:
        yield from self.work_commands()
