"""The editor's drafts: autosave while writing, and the draft offered back after a crash.

A draft is saved once typing pauses for a second, at least every 1.5 s while it goes on
(``services.drafts.AutosaveSchedule``), whenever focus moves, and when the editor is
left. One draft save runs at a time, in a thread worker; the text stays in the editor
until the note itself is saved, so a database that is away (a server restart) costs
nothing: the status line says the draft is not saved and the next tick tries again.

The tasks typed over the note (F5) are kept in the draft with its text, and offered
back with it: a task waits for its note, never left behind when the note is.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections.abc import Callable
from typing import cast

from textual import work
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Static
from textual.worker import Worker, WorkerState

from anchor_tui.domain import Viewer
from anchor_tui.errors import AnchorError
from anchor_tui.screens.base import AnchorScreen
from anchor_tui.screens.modal import Host
from anchor_tui.services.backend import Backend
from anchor_tui.services.drafts import AutosaveSchedule, DraftText, discard_draft, save_draft
from anchor_tui.services.note_text import is_blank
from anchor_tui.services.tasks import NoteTask
from anchor_tui.widgets.note_text_area import NoteTextArea
from anchor_tui.widgets.plain_text import plain


class DraftKept(Message):
    """The draft was saved (``at``), or dropped because the text became blank (None)."""

    def __init__(self, at: dt.datetime | None) -> None:
        super().__init__()
        self.at = at


class DraftNotKept(Message):
    """The draft could not be saved (``problem`` says why); the text is still here."""

    def __init__(self, problem: str) -> None:
        super().__init__()
        self.problem = problem


class DraftDiscarded(Message):
    """The author chose to drop the draft."""


class NoteDrafts(AnchorScreen):
    """Autosave for the note editor (a mixin of ``NoteEditorScreen``)."""

    case_id: int
    supersedes_id: int | None
    viewer: Viewer
    backend: Backend
    category: str
    template_id: str | None
    baseline: str
    _saved: object | None

    note_tasks: tuple[NoteTask, ...] = ()
    """Tasks typed over this note (F5), saved with it and made from it: their words are
    typed over the note, so they reach nobody the note does not; never saved without
    it. Until then they are kept in its draft, with its text."""

    def init_drafts(self) -> None:
        self.schedule = AutosaveSchedule()
        self._draft_in_flight = False
        self._autosave_on = False
        """Off until the editor has opened (and off again once saved or discarded)."""
        self._opened = False
        self._discarded = False
        """The author chose to discard the text: nothing of it is kept any more."""
        self.note_kept = False
        """The note's save is kept for the server (in the save queue, made when it is back)."""
        self.note_save_running = False
        """The note's own save is running (not kept for later): if it fails, it keeps
        the text as the author's draft itself."""
        self.draft_on_offer: DraftText | None = None
        """The author's earlier draft, offered back and not answered yet: until then it
        is not overwritten (a draft written meanwhile is that draft and the new text)."""
        self._dropping = False
        """The offered draft is being discarded: autosave waits for it to go."""
        self.huddle_key: str | None = None
        """In a huddle: this editor's key, under which its note's draft is kept apart
        from the author's own draft of the case (``services.drafts``)."""
        self.draft_moved_from: int | None = None
        """The draft continued here was kept under an earlier revision of the note being
        corrected: the next draft save moves it here."""
        self._after_draft: Callable[[], object] | None = None
        self._after_draft_anyway = False
        """Whether ``_after_draft`` runs even when the draft is not saved (the note's own
        save: it does not need the draft, it waits only so as not to race it)."""
        self._keep_asked = False
        """The author chose to keep the text as a draft: it is written even while the
        note's own save runs (autosave is off then)."""
        self.draft_saved_at: dt.datetime | None = None

    @property
    def host(self) -> Host:
        return cast(Host, self.app)

    @property
    def body(self) -> NoteTextArea:
        # Held once found: the text is still read (to keep it) while the editor is being
        # removed, when its widgets are no longer found by a query.
        held = self.__dict__.get("_body")
        if held is None:
            held = self.__dict__["_body"] = self.query_one("#note-body", NoteTextArea)
        return cast(NoteTextArea, held)

    def status(self, text: str, *, problem: bool = False) -> None:
        line = self.query_one("#editor-status", Static)
        line.set_class(problem, "problem")
        line.update(plain(text))

    def start_autosave(self) -> None:
        self._autosave_on = True
        self._opened = True
        self.set_interval(self.schedule.tick, self._tick)
        # Focus moving within the editor, to a modal on top (a picker, help, a form) or
        # away from the terminal: each saves the draft at once.
        self.watch(self, "focused", self._focus_moved, init=False)
        self.watch(self.app, "app_focus", self._focus_moved, init=False)

    def text_changed(self) -> None:
        self.schedule.changed(time.monotonic())

    def _tick(self) -> None:
        if self.schedule.due(time.monotonic()):
            self.save_draft_now()

    def _focus_moved(self, focused: Widget | bool | None) -> None:
        if self.schedule.pending:
            self.save_draft_now()

    def on_screen_suspend(self) -> None:
        self._focus_moved(None)

    def save_draft_now(self, then: Callable[[], object] | None = None, *,
                       anyway: bool = False, keep: bool = False) -> None:
        """Save the draft as the text is now (if it changed); then call ``then`` (if the
        draft could not be saved: only when ``anyway``, else the editor stays open).

        ``keep``: the author chose to keep the text as a draft, so it is written even
        while the note's own save runs (kept in memory until the server is back, it
        would die with the process)."""
        if then is not None:
            self._after_draft = then
            self._after_draft_anyway = anyway
            self._keep_asked = keep
        if not self._autosave_on and not (self._keep_asked and self.keepable()):
            self._run_after_draft()
            return
        if self._draft_in_flight:
            return  # the result handler saves again if more changed meanwhile
        if not self.schedule.pending:
            self._run_after_draft()
            return
        if (self.draft_on_offer is not None or self._dropping) and self._after_draft is None:
            return  # the earlier draft stays as it is until the author answers the offer
        self.schedule.saving()
        self._draft_in_flight = True
        self.write_draft(*self.draft_fields(), self._moved_from(), self.huddle_key)

    def _moved_from(self) -> int | None:
        offered = self.draft_on_offer
        if offered is not None and offered.supersedes_id != self.supersedes_id:
            return offered.supersedes_id
        return self.draft_moved_from

    def draft_fields(self) -> tuple[str, str, str | None, tuple[NoteTask, ...]]:
        """The draft as it is to be written: body, category, template, tasks."""
        text = self.body.text
        offered = self.draft_on_offer
        if offered is not None:
            # Not answered yet (the author quits, or the context closes): keep both, as
            # "Continue the draft" would.
            typed = text if text.rstrip() != self.baseline.rstrip() else ""
            return (offered.body + ("\n" + typed if typed.strip() else ""), offered.category,
                    offered.template, offered.tasks + self.note_tasks)
        # Text that is only the template or the note being corrected is not a draft.
        return ("" if text.rstrip() == self.baseline.rstrip() else text, self.category,
                self.template_id, self.note_tasks)

    @work(thread=True, group="note-draft", exit_on_error=False)
    def write_draft(self, text: str, category: str, template_id: str | None,
                    tasks: tuple[NoteTask, ...], moved_from: int | None,
                    huddle_key: str | None) -> None:
        try:
            at = save_draft(self.backend, self.viewer, self.case_id, self.supersedes_id,
                            category, template_id, text, moved_from=moved_from,
                            huddle_key=huddle_key, tasks=tasks)
        except AnchorError as error:  # the database is away: visible, not fatal
            self.post_message(DraftNotKept(error.message))
            return
        self.post_message(DraftKept(at))

    def on_draft_kept(self, message: DraftKept) -> None:
        self._draft_in_flight = False
        if self.draft_on_offer is None:
            self.draft_moved_from = None  # moved here
        self.draft_saved_at = message.at
        if message.at is not None:
            self.status(f"Draft saved {message.at.astimezone():%H:%M:%S} (only you see it).")
        if self.schedule.pending and self._after_draft is not None:
            self.save_draft_now()  # typed on while it was saving: keep that too first
            return
        self._run_after_draft()

    def on_draft_not_kept(self, message: DraftNotKept) -> None:
        self._draft_failed(message.problem)

    def _draft_failed(self, problem: str) -> None:
        self._draft_in_flight = False
        self.schedule.failed(time.monotonic())
        self.status(f"Draft not saved: {problem} Your text stays here; trying again.",
                    problem=True)
        if self._after_draft is not None and self._after_draft_anyway:
            self._run_after_draft()  # the note's save goes on: it holds the text itself
        elif self._after_draft is not None:
            self._after_draft = None
            self._keep_asked = False
            undone = self.kept_nothing()
            self.notify("The draft could not be saved, so the editor stays open with your "
                        f"text.{undone} Save the note (ctrl+s) or try again.",
                        title="Not saved yet", severity="warning", markup=False)

    def _run_after_draft(self) -> None:
        then, self._after_draft = self._after_draft, None
        self._keep_asked = False
        if then is not None:
            then()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.group == "note-draft":
            self._dropping = False
            self._draft_failed("an internal error (logged, without your text).")

    @work(thread=True, group="note-draft", exit_on_error=False)
    def drop_draft(self, supersedes_id: int | None = None) -> None:
        """Discard the draft (kept under ``supersedes_id`` when it is an earlier revision's,
        offered back here). In a huddle, this editor's draft only: the author's own
        draft of the case stays."""
        if self.huddle_key is not None:
            discard_draft(self.backend, self.viewer, self.case_id, huddle_key=self.huddle_key)
        keys = {self.supersedes_id, supersedes_id, self.draft_moved_from} - {None} or {None}
        for key in () if self.huddle_key is not None else keys:
            discard_draft(self.backend, self.viewer, self.case_id, key)
        self.post_message(DraftDiscarded())

    def offered_draft_dropped(self) -> None:
        """The draft offered back is gone (the author chose so): autosave goes on."""
        self._dropping = False
        if self.schedule.pending:
            self.save_draft_now()  # what was typed before the question, kept now

    def kept_nothing(self) -> str:
        """What ``save_draft_now(then=...)`` was to do next is dropped: the draft could
        not be saved. The editor undoes what it had started (quitting); the words say
        so (" anchor-tui has not quit.") or are empty."""
        return ""

    def stop_autosave(self) -> None:
        self._autosave_on = False

    def keepable(self) -> bool:
        """Whether the text is the author's unsaved work, to keep as a draft: the editor
        has opened, the note is not saved, the text was not discarded, and it is not
        blank or a task is typed over it (F5).
        """
        return (self._opened and not self._discarded and self._saved is None
                and (not is_blank(self.body.text) or bool(self.note_tasks)))

    def keep_on_unmount(self) -> None:
        """Leaving without the question (sign-out, the app closing): keep what is typed.

        Also while the note's own save runs or waits for the server (autosave is off
        then): until it is saved, a note kept only in memory would die with the process
        or the viewer's context. Saving the note later drops this draft in its own unit
        of work."""
        saver = self.draft_saver()
        if saver is not None:
            # If the database is away nothing more can be done here; the last autosave
            # (at most 2 s old) remains.
            with contextlib.suppress(AnchorError):
                saver()

    def draft_saver(self) -> Callable[[], None] | None:
        """What is typed, read now, and how to keep it as the draft: a callable doing
        database work only (``terminal.SavesDraftsAside``: the closing context's drafts
        are saved off the UI thread, so a database that does not answer cannot hold the
        last person's note on the shared screen). None: nothing to keep."""
        if not self.schedule.pending or not self.keepable() or self.note_save_running:
            return None
        self.schedule.saving()  # tried once: the editor is going, its text changes no more
        body, category, template, tasks = self.draft_fields()
        backend, viewer, case_id = self.backend, self.viewer, self.case_id
        supersedes_id, moved_from, huddle_key = self.supersedes_id, self._moved_from(), \
            self.huddle_key

        def keep() -> None:
            save_draft(backend, viewer, case_id, supersedes_id, category, template, body,
                       moved_from=moved_from, huddle_key=huddle_key, tasks=tasks)

        return keep
