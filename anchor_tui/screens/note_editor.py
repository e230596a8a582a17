"""The note editor: write a note (or correct one) on a case, from the keyboard, never
losing a word.

Open it from anywhere with one line, ``open_note_editor(app, case_id)`` (the board, the
queue, the case view, the huddle). Keys (binding ids in brackets; F1 lists them):

- ctrl+s [note.save] or F2 [note.save_f2] saves (F2 for terminals and tmux setups that
  keep ctrl+s for themselves);
- F3 [note.template] picks a template, F4 [note.category] the category;
- F5 [note.task_new] adds a follow-up task to the case, saved with the note (made from
  it: shown only to whoever may read the note) and kept in its draft until then;
- Esc [note.leave] leaves: with unsaved text it asks (save, keep as draft, discard).

A draft offered back brings its tasks back too. Each is checked again (the case's
members change, a due day passes); one that can no longer be saved as it was is given
back in the task form, with its words and why, never dropped (``screens.note_tasks``).

Under the text, the disclosure preview says who will see the note and why. The draft is
autosaved (``screens.note_drafts``). Saving is append-only: a correction is a new
revision; nothing is deleted.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from functools import partial
from typing import cast

from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Static, TextArea
from textual.worker import get_current_worker

from anchor_tui.domain import Viewer
from anchor_tui.errors import ConnectionLostError, DatabaseError
from anchor_tui.palette import PaletteCommand
from anchor_tui.saving import later_notifier, save_queue
from anchor_tui.screens.note_drafts import DraftDiscarded, NoteDrafts
from anchor_tui.screens.note_settings import PREVIEW_REFRESH_SECONDS, NoteSettings
from anchor_tui.screens.note_tasks import NoteTasks
from anchor_tui.screens.prompt import ChoiceScreen
from anchor_tui.services.backend import Backend
from anchor_tui.services.clock import moment_on
from anchor_tui.services.drafts import keep_unsaved_note
from anchor_tui.services.note_form import EditorStart, start_editor
from anchor_tui.services.note_text import is_blank
from anchor_tui.services.notes import NoteInput, SavedNote, save_note
from anchor_tui.widgets.disclosure_preview import DisclosurePreview
from anchor_tui.widgets.key_footer import KeyFooter
from anchor_tui.widgets.note_text_area import NoteTextArea
from anchor_tui.widgets.plain_text import plain


class EditorStarted(Message):
    def __init__(self, start: EditorStart) -> None:
        super().__init__()
        self.start = start


class EditorNotStarted(Message):
    """The case could not be read to open the editor (the database away or busy)."""

    def __init__(self, error: DatabaseError) -> None:
        super().__init__()
        self.error = error


START_RETRY_SECONDS = 3.0
"""How soon an editor whose case could not be read (the database away) tries again."""


class NoteWritten(Message):
    """The note was saved (durably, with its audit event)."""

    def __init__(self, saved: SavedNote) -> None:
        super().__init__()
        self.saved = saved


class NoteEditorScreen(NoteSettings, NoteTasks, NoteDrafts):
    """Write one note on one case (a new note, or a correction of one's own)."""

    HELP = ("The note editor. Write, then ctrl+s or F2 to save. F3 picks a template, F4 the "
            "category; F5 adds a task, saved with the note. The lines under the text say who "
            "will see the note and why. Your draft, with its tasks, is saved as you write "
            "(only you see it, never in a huddle) and offered back if the terminal stops. "
            "Esc leaves and asks first if anything is unsaved. A saved note is never "
            "changed or deleted: a correction is a new revision.")

    DEFAULT_CSS = """
    NoteEditorScreen #editor-title { height: 1; background: $panel; padding: 0 1; }
    NoteEditorScreen #editor-settings { height: auto; max-height: 3; padding: 0 1;
                                        color: $text-muted; }
    NoteEditorScreen #note-body { height: 1fr; min-height: 4; }
    NoteEditorScreen #note-preview { height: auto; max-height: 6; padding: 0 1; }
    NoteEditorScreen #editor-status { height: 1; padding: 0 1; color: $text-muted; }
    NoteEditorScreen #editor-status.problem { color: $text-error; text-style: bold; }
    """

    BINDINGS = [  # noqa: RUF012 - Textual reads class-level bindings
        Binding("ctrl+s", "save", "Save", id="note.save"),
        Binding("f2", "save", "Save", id="note.save_f2"),
        Binding("f3", "pick_template", "Template", id="note.template"),
        Binding("f4", "pick_category", "Category", id="note.category"),
        Binding("f5", "new_task", "Task", id="note.task_new"),
        Binding("escape", "leave", "Leave", id="note.leave"),
    ]

    AUTO_FOCUS = "#note-body"

    def __init__(self, case_id: int, *, supersedes_id: int | None = None,
                 on_saved: Callable[[int], object] | None = None,
                 viewer: Viewer | None = None, backend: Backend | None = None) -> None:
        super().__init__()
        self.case_id = case_id
        self.supersedes_id = supersedes_id
        self.on_saved = on_saved
        self._given = (viewer, backend)
        self.start: EditorStart | None = None
        self.category = ""
        self.template_id: str | None = None
        self.baseline = ""
        """Text that holds nothing of the author's (empty, a template, the note being
        corrected): leaving with it asks nothing."""
        self._saving = False
        self._saved: SavedNote | None = None
        self._quitting = False
        self._quit_answered = False
        """The author answered the editor's quit question: the app's quit, asked again,
        goes on to its own questions (changes still waiting for the server)."""
        self.init_drafts()
        self.init_tasks()

    def compose(self) -> ComposeResult:
        yield Static(f"Opening case {self.case_id}…", id="editor-title")
        yield Static("", id="editor-settings")
        yield NoteTextArea(id="note-body")
        yield DisclosurePreview("", id="note-preview")
        yield Static("", id="editor-status")
        yield KeyFooter()

    def on_mount(self) -> None:
        viewer, backend = self._given
        self.viewer = viewer or cast(Viewer, self.host.viewer)
        self.backend = backend or self.host.backend
        if self.viewer.purpose != "individual":
            self.huddle_key = uuid.uuid4().hex  # this editor's draft, apart from the author's
            # Nothing is typed onto the shared screen before the editor knows which
            # categories everyone present may read (there may be none).
            self.body.read_only = True
        self.load_start()
        self.set_interval(PREVIEW_REFRESH_SECONDS, self.refresh_facts)

    def on_unmount(self) -> None:
        if self._saved is None:
            self.keep_on_unmount()

    # --- opening ------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="note-open", exit_on_error=False)
    def load_start(self) -> None:
        try:
            start = start_editor(self.backend, self.viewer, self.case_id, self.supersedes_id,
                                 now=moment_on(self.host.today()))
        except DatabaseError as error:
            # Said here, not in a modal (one every few seconds): the text typed stays,
            # and the editor tries again until it opens.
            if not get_current_worker().is_cancelled:
                self.post_message(EditorNotStarted(error))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(EditorStarted(start))

    def on_editor_not_started(self, message: EditorNotStarted) -> None:
        if self.start is not None:
            return
        self.status(f"The case could not be read to open the editor ({message.error.message}"
                    f"). Your text stays here; anchor-tui tries again every "
                    f"{START_RETRY_SECONDS:.0f} s.", problem=True)
        self.set_timer(START_RETRY_SECONDS, self._start_again)

    def _start_again(self) -> None:
        if self.is_attached and self.start is None:
            self.load_start()

    def on_editor_started(self, message: EditorStarted) -> None:
        start = self.start = message.start
        if self.huddle_key is not None and not start.categories:
            self._nothing_to_write_here(start)
            return
        self.body.read_only = False
        source = start.supersedes
        what = "New note" if source is None else (
            f"Correcting your note of {source.created_at.astimezone():%Y-%m-%d %H:%M} "
            f"(revision {source.revision} → {source.revision + 1})")
        where = ""
        if self.viewer.purpose == "huddle":
            # A huddle's notes are written by its chair (the earliest attendee present),
            # whoever holds the keyboard: say so before anyone writes.
            profession = self.backend.policy.professions.get(self.viewer.profession,
                                                             self.viewer.profession)
            where = f" · in the huddle, written as {self.viewer.display_name} ({profession})"
        self.query_one("#editor-title", Static).update(plain(
            f"{what} · {start.person_label} · case {start.case_id}{where}"))
        self.category = start.default_category
        typed = self.body.text
        if source is not None:
            self.template_id = source.template
            self.baseline = source.body
            self.body.load_body(source.body + ("\n" + typed if typed.strip() else ""))
        self.show_settings()
        draft = start.draft
        apart = (draft is not None and typed.strip() != "" and self.supersedes_id is None
                 and (draft.category, draft.template) != (self.category, self.template_id))
        if apart:
            # Typed before the earlier draft could be offered, under another category:
            # joining them would move one text under the other's category (and its
            # readers). What was typed goes on here, in a draft of its own; the earlier
            # one is left as it is and offered again once this note is saved or left.
            self.huddle_key = uuid.uuid4().hex
            draft = None
        # The earlier draft is not written over before the author answers the offer.
        self.draft_on_offer = draft
        self.start_autosave()
        if typed.strip():
            self.text_changed()
        if apart and start.draft is not None:
            earlier = start.draft.category
            label = next((c.label for c in start.categories if c.id == earlier), earlier)
            self.status(f"You have an earlier draft of this case ({label}): it is kept as "
                        "it is and offered when you next write here. What you typed is "
                        "kept apart from it.")
        elif draft is not None:
            self.offer_draft()
        elif self.huddle_key is not None:
            self.status("Writing in the huddle. ctrl+s or F2 saves; your draft is kept as "
                        "you type, apart from your own, for you alone.")
        else:
            self.status("Writing. ctrl+s or F2 saves; your draft is kept as you type.")

    @work(exclusive=True, group="note-offer")  # (ctrl+q's question goes on top of it)
    async def offer_draft(self) -> None:
        draft = self.start.draft if self.start else None
        if draft is None:
            return
        lines = [line for line in draft.body.splitlines() if line.strip()][:3]
        lines += [f"Task: {task.title}" for task in draft.tasks][:max(0, 5 - len(lines))]
        count = len(draft.tasks)
        tasks = "" if not count else (", 1 task" if count == 1 else f", {count} tasks")
        # Notes left unsaved in huddles were joined to it just now, after its own text:
        # said, so that discarding it never throws a huddle's words away unseen.
        joined = draft.from_huddles
        huddles = "" if not joined else (
            "It now holds the note you left unsaved in a huddle, after its own text.\n"
            if joined == 1 else
            f"It now holds the {joined} notes you left unsaved in huddles, after its own "
            "text.\n")
        choice = await self.app.push_screen_wait(ChoiceScreen(
            "You have an unsaved draft of this note",
            [("continue", f"Continue the draft ({len(draft.body):,} characters{tasks}, "
                          f"saved {draft.updated_at.astimezone():%Y-%m-%d %H:%M:%S})"),
             ("discard", "Discard the draft"
              + (" with the huddle's note" if joined == 1 else
                 " with the huddles' notes" if joined else "")
              + (" and its tasks" if count else "") + " and start afresh")],
            current="continue", note=huddles + "\n".join(lines)))
        self.draft_on_offer = None
        if choice == "discard":
            self._dropping = True
            self.drop_draft(draft.supersedes_id)
            return
        typed = self.body.text if self.body.text != self.baseline else ""
        self.category = draft.category
        self.template_id = draft.template
        if not is_blank(draft.body):  # (a draft kept for its tasks alone has no text)
            self.body.load_body(draft.body + ("\n" + typed if typed.strip() else ""))
        # Before those typed meanwhile (F5 while the offer waited), as the draft holds.
        self.note_tasks = (*draft.tasks, *self.note_tasks)
        self.schedule.saving()  # what is shown is what the database holds...
        if typed.strip() or len(self.note_tasks) > len(draft.tasks):
            self.text_changed()  # ...except what was typed meanwhile
        self.show_settings()
        restored = len(draft.tasks)
        self.status(f"Draft of {draft.updated_at.astimezone():%H:%M:%S} recovered" + (
            "." if not restored else
            ", with its task, saved with the note." if restored == 1 else
            f", with its {restored} tasks, saved with the note."))
        if draft.tasks:
            self.recheck_tasks(draft.tasks)
        if draft.supersedes_id != self.supersedes_id:
            # Written on an earlier revision (corrected since): it moves to this one now,
            # or it would be offered again after this correction is saved.
            self.draft_moved_from = draft.supersedes_id
            self.text_changed()
            self.save_draft_now()

    def on_draft_discarded(self, message: DraftDiscarded) -> None:
        if self._dropping:
            self.offered_draft_dropped()
            self.status("Draft discarded.")
        elif self._closing_after_discard:
            self._close()
        else:
            self.status("Draft discarded.")

    _closing_after_discard = False

    def _nothing_to_write_here(self, start: EditorStart) -> None:
        """No category is one whose notes everyone present may read: no editor, and why."""
        from anchor_tui.screens.error import ErrorScreen

        self.stop_autosave()
        why = ErrorScreen(
            "No note everyone here may read",
            "A note on this case written in the huddle would be shown on the shared "
            "screen, and no category's notes may be read by everyone present. "
            + start.in_huddle_why_not(),
            "Write the note in your own work after the huddle, or when those who may not "
            "read it have left.")
        if self._on_top():
            self.app.switch_screen(why)  # the editor goes, and the room is told why
        else:
            self.app.push_screen(why)

    # --- writing --------------------------------------------------------------------------

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        self.text_changed()

    # --- saving -----------------------------------------------------------------------------

    def action_save(self) -> None:
        if self._saving or self._saved is not None:
            return
        if is_blank(self.body.text):
            self.status("An empty note is not saved. Write the note first.", problem=True)
            self.notify("An empty note is not saved. Write the note first.",
                        title="Nothing to save", severity="warning", markup=False)
            return
        if self.start is None:
            self.status("Still opening the case; save again in a moment.", problem=True)
            return
        if self.category not in {c.id for c in self.start.categories}:
            # (In a huddle only the categories everyone present may read are offered.)
            self.status("Choose the category first (F4).", problem=True)
            return
        self._saving = True
        # What is saved is the text as it is now: nothing more is typed into it until
        # the save is made or refused (kept while the database is away, it is made
        # later, and the editor closes then: words typed meanwhile would go with it).
        self.body.read_only = True
        self.status("Saving the note…")
        # A draft save still running could otherwise write the draft back after the note's
        # unit of work dropped it: wait for it first (and save the note whatever its end:
        # a draft that failed wrote nothing, and the note carries the text).
        if self._draft_in_flight:
            self.save_draft_now(then=self._write, anyway=True)
        else:
            self._write()

    def _write(self) -> None:
        """Save through the app's save queue: with the connection lost the note is kept
        (here, with its text, and in the queue) and saved when the server is back."""
        self.stop_autosave()
        note = NoteInput(self.case_id, self.body.text, self.category, self.template_id,
                         self.supersedes_id, tasks=self.note_tasks)
        backend, viewer, today = self.backend, self.viewer, self.host.today()
        # One moment for every attempt: a save made again after its commit's answer was
        # lost finds the note it wrote (``notes._already_saved``), not a second one.
        now = moment_on(today)
        self.note_save_running = True
        huddle_key = self.huddle_key

        def save() -> SavedNote:
            try:
                # In a huddle, this editor's draft goes; the author's own stays.
                return save_note(backend, viewer, note, today=today, now=now,
                                 huddle_key=huddle_key)
            except ConnectionLostError:
                raise  # kept, text and all, and saved when the server is back
            except Exception:
                # Not saved (the case closed meanwhile, the corrected note changed): the
                # text becomes the author's draft, so a save kept for later that fails
                # after they have left the terminal still loses nothing.
                keep_unsaved_note(backend, viewer, note.case_id, note.supersedes_id,
                                  note.category, note.template, note.body,
                                  huddle_key=huddle_key, tasks=note.tasks)
                raise

        tell = later_notifier(self.app)
        save_queue(self.app).submit(f"save a note on case {self.case_id}", save,
                                    on_saved=partial(self._written, tell),
                                    on_failed=self._not_written, on_kept=self._kept)

    def _written(self, tell: Callable[..., None], saved: SavedNote) -> None:
        self.note_save_running = self.note_kept = False
        if self.is_attached:
            self.post_message(NoteWritten(saved))
        else:  # kept while the server was away, saved after the editor was left
            tell(f"The note on case {self.case_id} was saved.", title="Saved", markup=False)

    def _kept(self) -> None:
        # Kept in memory until the server is back: from now on, closing the editor (a
        # switch of user, quitting) keeps the text as a draft too.
        self.note_save_running = False
        self.note_kept = True
        if self.is_attached:
            self.status("The database cannot take the note now (away or busy: the status "
                        "line says which). The note is kept as it is and is saved when it "
                        "can be; Esc leaves it to be saved.", problem=True)

    def _not_written(self, _error: BaseException) -> None:
        self.note_save_running = self.note_kept = False
        if not self.is_attached:
            return
        self._saving = False
        self._quitting = False
        self.body.read_only = False
        self.start_autosave_again()
        self.status("Not saved. Your text stays here (and in your draft).", problem=True)
        if self.note_tasks:
            self.recheck_tasks(self.note_tasks)  # one refused is given back to change

    def start_autosave_again(self) -> None:
        self._autosave_on = True
        self.text_changed()

    def on_note_written(self, message: NoteWritten) -> None:
        saved = self._saved = message.saved
        self._saving = False
        self.status("Saved.")
        if saved.notification_id is not None:
            from anchor_tui.screens.child_welfare import ChildWelfareScreen

            self.app.push_screen(ChildWelfareScreen(saved.notification_id),
                                 lambda _recorded: self._finish(saved))
            return
        self._finish(saved)

    def _finish(self, saved: SavedNote) -> None:
        what = "Correction saved" if saved.revision > 1 else "Note saved"
        extra = ""
        if saved.follow_up is not None and saved.follow_up.due is not None:
            extra = f" Follow-up task due {saved.follow_up.due.isoformat()}."
        self.app.notify(f"{what}.{extra}", title=what, markup=False)
        if self.on_saved is not None:
            self.on_saved(saved.note_id)
        self._close()

    # --- leaving ------------------------------------------------------------------------------

    def has_unsaved_text(self) -> bool:
        text = self.body.text
        return self._saved is None and not is_blank(text) and \
            text.rstrip() != self.baseline.rstrip()

    def has_unsaved_work(self) -> bool:
        """Unsaved text, or a task typed over the note (F5) that only its save keeps."""
        return self.has_unsaved_text() or (self._saved is None and bool(self.note_tasks))

    def action_leave(self) -> None:
        if self._saving and self.note_kept:
            # Kept for the database as it is (nothing more can be typed into it): Esc
            # leaves it to be saved; the text is kept as a draft too until it is.
            self._close()
            return
        if self._saving:
            return
        if self.has_unsaved_work():
            self.ask_leave()
        else:
            self.save_draft_now(then=self._close)  # a blank text drops its draft

    def ask_before_quit(self) -> bool:
        """The app is quitting: with unsaved text, ask first (True: the question is up)."""
        answered, self._quit_answered = self._quit_answered, False
        if answered or not self.has_unsaved_work():
            return False
        if self._asking_leave:
            return True  # the question is up already: asked once, however often pressed
        self._quitting = True
        self.ask_leave()
        return True

    _asking_leave = False

    # Not exclusive, and apart from the pickers' group: ctrl+q asks this over an open
    # category or template picker, and an exclusive worker cancelled the one awaiting
    # the picker, whose choice (made after "Go on writing") then went nowhere.
    @work(group="note-leave")
    async def ask_leave(self) -> None:
        if self._asking_leave:
            return
        self._asking_leave = True
        try:
            await self._ask_leave()
        finally:
            self._asking_leave = False

    async def _ask_leave(self) -> None:
        tasks = len(self.note_tasks)
        # The draft keeps the tasks typed over the note (F5) with its text, so keeping
        # it is the default with tasks too: nothing typed is left behind.
        their = "" if not tasks else (
            " The task typed with it is kept with the draft and saved with the note."
            if tasks == 1 else
            f" The {tasks} tasks typed with it are kept with the draft and saved with "
            "the note.")
        choice = await self.app.push_screen_wait(ChoiceScreen(
            "Quit with an unsaved note?" if self._quitting else "Leave the note?",
            [("draft", "Keep it as a draft (offered when you next write on this case)"
              + (", with its tasks" if tasks else "")),
             ("save", "Save the note now" + (" with its tasks" if tasks else "")),
             ("discard", "Discard the text" + (" and its tasks" if tasks else "")),
             ("stay", "Go on writing")],
            current="draft",
            note=f"The note is not saved yet.{their} Esc goes back to writing."))
        if choice == "draft" and self.start is None and not is_blank(self.body.text):
            # Not opened yet (the database away): nothing can be kept yet; closing
            # would lose the text. It stays, and can be kept once the editor opens.
            self._quitting = False
            self.status("The editor has not opened yet (the database is away), so the "
                        "text cannot be kept as a draft yet: it stays here. Try again once "
                        "it opens.", problem=True)
            return
        if choice == "save":
            self.action_save()
        elif choice == "draft":
            self.save_draft_now(then=self._close, keep=True)
        elif choice == "discard":
            self.stop_autosave()
            self._discarded = True
            self._closing_after_discard = True
            self.drop_draft()
        else:
            self._quitting = False

    def kept_nothing(self) -> str:
        quitting, self._quitting = self._quitting, False
        return " anchor-tui has not quit." if quitting else ""

    def _close(self) -> None:
        if self._quitting:
            # The app's own quit, asked again: it still asks about changes kept for the
            # server (this note's save among them) and signs out first (audited). The
            # autosave goes on: the person may choose to stay.
            self._quitting = False
            self._quit_answered = True
            self.app.call_later(self.app.action_quit)
            return
        self.stop_autosave()
        if self._on_top():
            self.dismiss()

    def _on_top(self) -> bool:
        """The editor is the top of its own stack (saved behind the lock, it closes there
        too: left open, text typed into it after unlocking would go nowhere)."""
        on_top = getattr(self.app, "on_top", None)
        return bool(on_top(self)) if callable(on_top) else self.app.screen is self

    # --- the command palette -----------------------------------------------------------------

    def palette_commands(self) -> Iterable[PaletteCommand]:
        yield PaletteCommand("note: save", "Save the note (ctrl+s or F2)", self.action_save)
        yield PaletteCommand("note: template", "Pick a template (F3)",
                             self.action_pick_template)
        yield PaletteCommand("note: category", "Pick the category (F4)",
                             self.action_pick_category)
        yield PaletteCommand("task: new", "Add a follow-up task to this case (F5)",
                             self.action_new_task)
        yield PaletteCommand("note: leave", "Leave the editor; asks if unsaved (Esc)",
                             self.action_leave)


def open_note_editor(app: App[object], case_id: int, *, supersedes_id: int | None = None,
                     on_saved: Callable[[int], object] | None = None) -> None:
    """Open the note editor on ``case_id`` (signed in only): one line from any screen.

    ``supersedes_id`` corrects one of the viewer's notes; ``on_saved`` gets the new note's
    id once it is saved (e.g. to read the case again).
    """
    if getattr(app, "viewer", None) is None or isinstance(app.screen, NoteEditorScreen):
        return
    app.push_screen(NoteEditorScreen(case_id, supersedes_id=supersedes_id, on_saved=on_saved))
