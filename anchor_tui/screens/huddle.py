"""The huddle screen: the agenda on the left, the case under discussion on the right.

Everything here is read for the huddle's viewer: the intersection of what every person
present may see (a new screen, with new reads, after every roster change). The agenda
comes from the queue (new notifications, reviews due, cases flagged for the huddle); the
case shows its summary, the notes and tasks everyone present may see, and the decisions
and actions recorded on it. A timer counts the time spent on the case; ``n`` moves to
the next case (``p`` back), ``d`` records a decision, ``a`` an action (it becomes a task
with an assignee and a due date), ``w`` writes a note on the case (the note editor, as
from the board or the case view: ``n`` is taken by the next case here), ``+`` lets
someone join with their own passphrase, ``-`` removes someone (asked first: the screen
may then show more), ``e`` ends the huddle.

A decision or an action goes through the app's save queue (``saving.save_or_keep``):
typed while the database is away, it is kept and saved when it is back (said to the
room that typed it, never to whoever is at the terminal after); refused (the huddle
changed, an assignee who could not see its task), its form opens again with its words.
So do someone leaving (kept, the screen shows what everyone still counted present may
see until it is saved) and the time spent on a case as the room moves on: each is made
once after a lost answer, never a second leave refused nor the seconds added twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol, cast

from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import WorkerCancelled, get_current_worker

from anchor_tui.domain import MemberChoice, Viewer
from anchor_tui.errors import AnchorError
from anchor_tui.messages import CasesChanged
from anchor_tui.palette import PaletteCommand
from anchor_tui.saving import log_only, made_once, save_or_keep, save_queue
from anchor_tui.screens.base import AnchorScreen
from anchor_tui.screens.case import AppHost
from anchor_tui.screens.terminal_messages import HuddleEndConfirmed, RosterChanged
from anchor_tui.services import huddle as service
from anchor_tui.services.backend import Backend
from anchor_tui.services.case_actions import case_members
from anchor_tui.services.clock import Clock, moment_on
from anchor_tui.services.huddle_agenda import (
    AgendaEntry,
    HuddleCaseView,
    huddle_case,
    read_agenda,
    visible_items,
)
from anchor_tui.services.huddle_time import time_recorder
from anchor_tui.services.minutes import duration_words
from anchor_tui.settings import Settings
from anchor_tui.widgets.huddle_agenda import (
    agenda_content,
    case_body,
    case_heading,
    items_content,
)
from anchor_tui.widgets.huddle_banner import HuddleBanner
from anchor_tui.widgets.key_footer import KeyFooter

if TYPE_CHECKING:
    from anchor_tui.screens.huddle_modals import ActionDraft


def _not_saved(error: AnchorError) -> str:
    return f"Not saved: {error.message} {error.fix} What you wrote is here again."


def _recorded(backend: Backend, viewer: Viewer, case_id: int, kind: str, text: str,
              at: dt.datetime) -> int | None:
    """The item a first attempt of this save wrote (its commit reached the server, its
    answer did not): found by its case, kind, moment and words (``saving.made_once``)."""
    return next((item.item_id for item in visible_items(backend, viewer, [case_id],
                                                        viewer.audience, at)
                 if item.kind == kind and item.created_at == at and item.text == text.strip()),
                None)


def save_time(app: App[Any], backend: Backend, viewer: Viewer, case_id: int, seconds: int,
              now: dt.datetime) -> None:
    """Add the ``seconds`` the room spent on a case to its time, through the app's save
    queue: after the saves asked for before (the huddle's end among them: the time is
    in its minutes), kept while the database is away (counted on the status line, and
    asked about before quitting), and added once after a lost answer
    (``huddle.time_recorder``)."""
    if seconds > 0:
        save_queue(app).submit(f"record the time spent on case {case_id}",
                               time_recorder(backend, viewer, case_id, seconds, now))


class HuddleHost(AppHost, Protocol):
    settings: Settings
    clock: Clock


class AgendaRead(Message):
    def __init__(self, viewer: Viewer, agenda: tuple[AgendaEntry, ...]) -> None:
        super().__init__()
        self.viewer = viewer
        self.agenda = agenda


class HuddleCaseRead(Message):
    def __init__(self, viewer: Viewer, case_id: int, view: HuddleCaseView) -> None:
        super().__init__()
        self.viewer = viewer
        self.case_id = case_id
        self.view = view



def _tell_room(app: App[Any], viewer: Viewer, what: str, _error: AnchorError) -> None:
    """A decision or action kept while the database was away, refused when it came back
    after the roster changed: the room, still in the same huddle and unlocked, hears
    that one was not recorded, without its words or its case (typed for the room as it
    was; someone who has joined since may not see them)."""
    session = getattr(app, "session", None)
    roster = getattr(session, "roster", None)
    if session is None or session.locked or roster is None \
            or roster.huddle_id != viewer.huddle_id:
        return
    app.notify(f"A {what} typed before someone joined or left, kept while the database "
               "was away, was not recorded when it came back: it is not in the minutes. "
               "Record it again if it still holds.", title="Not recorded",
               severity="warning", markup=False)

class HuddleScreen(AnchorScreen):
    """The shared screen of a huddle, for one roster."""

    HELP = ("The huddle: the screen shows only what everyone present may see. n next "
            "case, p previous, d a decision, a an action (a task with who and when), w a "
            "note on the case, + someone joins with their own passphrase, - someone "
            "leaves (asked first), b the board, o the whole case, e ends the huddle and "
            "writes the minutes.")

    BINDINGS = [  # noqa: RUF012 - Textual reads class-level bindings
        Binding("n", "step(1)", "Next case", id="huddle.next"),
        Binding("p", "step(-1)", "Previous", id="huddle.previous"),
        Binding("d", "decision", "Decision", id="huddle.decision"),
        Binding("a", "action", "Action", id="huddle.action"),
        Binding("w", "write_note", "Note", id="huddle.note"),
        Binding("plus", "join", "Join", key_display="+", id="huddle.join"),
        Binding("minus", "remove", "Remove", key_display="-", id="huddle.remove"),
        Binding("b", "board", "Board", show=False, id="huddle.board"),
        Binding("o", "open_case", "Open case", show=False, id="huddle.open_case"),
        Binding("e", "end", "End huddle", id="huddle.end"),
        Binding("j", "agenda(1)", "Down", show=False, id="huddle.down"),
        Binding("k", "agenda(-1)", "Up", show=False, id="huddle.up"),
    ]

    DEFAULT_CSS = """
    HuddleScreen #huddle-body { height: 1fr; }
    HuddleScreen #huddle-agenda { width: 34; max-width: 45%; height: 100%; }
    HuddleScreen #huddle-case { width: 1fr; height: 100%; padding: 0 1; }
    HuddleScreen #huddle-case-title { text-style: bold; height: auto; }
    HuddleScreen #huddle-timer { color: $text-muted; height: 1; }
    HuddleScreen #huddle-case-scroll { height: 1fr; }
    HuddleScreen .huddle-part { margin-top: 1; height: auto; }
    """

    def __init__(self, viewer: Viewer, roster: service.Roster,
                 resume_case: int | None = None) -> None:
        super().__init__()
        self.viewer = viewer
        self.roster = roster
        self.resume_case = resume_case
        self.agenda: tuple[AgendaEntry, ...] = ()
        self.current: int | None = None
        self.view: HuddleCaseView | None = None
        self._case_since: float | None = None

    @property
    def host(self) -> HuddleHost:
        return cast(HuddleHost, self.app)

    def compose(self) -> ComposeResult:
        yield HuddleBanner(self.roster, self.host.backend.policy.professions)
        with Horizontal(id="huddle-body"):
            yield OptionList(id="huddle-agenda")
            with Vertical(id="huddle-case"):
                yield Static("Reading the agenda…", id="huddle-case-title")
                yield Static("", id="huddle-timer")
                with VerticalScroll(id="huddle-case-scroll"):
                    yield Static("", id="huddle-case-body", classes="huddle-part")
                    yield Static("", id="huddle-items", classes="huddle-part")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.set_interval(1, self.show_time)
        if not self.viewer.audience:
            self.query_one("#huddle-case-title", Static).update(
                "Nobody is present, so nothing is shown. Press + to join.")
            return
        self.load_agenda()

    # --- reading --------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="huddle-agenda", exit_on_error=False)
    def load_agenda(self) -> None:
        agenda = read_agenda(self.host.backend, self.viewer, self.host.today())
        if not get_current_worker().is_cancelled:
            self.post_message(AgendaRead(self.viewer, agenda))

    def on_agenda_read(self, message: AgendaRead) -> None:
        if message.viewer != self.viewer:
            return
        self.agenda = message.agenda
        options = self.query_one("#huddle-agenda", OptionList)
        options.clear_options()
        options.add_options([Option(agenda_content(e), id=f"agenda-{e.case_id}")
                             for e in self.agenda])
        if not self.agenda:
            self.query_one("#huddle-case-title", Static).update("The agenda is empty.")
            return
        ids = [e.case_id for e in self.agenda]
        start = ids.index(self.resume_case) if self.resume_case in ids else 0
        self._go(start)
        options.focus()

    @work(thread=True, exclusive=True, group="huddle-case", exit_on_error=False)
    def load_case(self, case_id: int) -> None:
        view = huddle_case(self.host.backend, self.viewer, case_id,
                           moment_on(self.host.today()))
        if not get_current_worker().is_cancelled:
            self.post_message(HuddleCaseRead(self.viewer, case_id, view))

    def on_cases_changed(self, message: CasesChanged) -> None:
        """The case on the shared screen changed, or anything may have (a consent withdrawn
        on another terminal): read it again for the people present, so it never shows
        what one of them may no longer see."""
        entry = self.entry()
        if entry is not None and self.view is not None and message.touches(entry.case_id):
            self.load_case(entry.case_id)

    def on_huddle_case_read(self, message: HuddleCaseRead) -> None:
        entry = self.entry()
        if message.viewer != self.viewer or entry is None or entry.case_id != message.case_id:
            return
        self.view = message.view
        self.query_one("#huddle-case-title", Static).update(case_heading(message.view))
        self.query_one("#huddle-case-body", Static).update(
            case_body(message.view, self.host.today()))
        self.query_one("#huddle-items", Static).update(items_content(message.view.items))

    # --- moving along the agenda ------------------------------------------------------

    def entry(self) -> AgendaEntry | None:
        if self.current is None or not 0 <= self.current < len(self.agenda):
            return None
        return self.agenda[self.current]

    def take_time(self) -> tuple[int, int] | None:
        """(case id, whole seconds) spent on the current case since last taken."""
        entry = self.entry()
        if entry is None or self._case_since is None:
            return None
        now = self.host.clock.monotonic()
        seconds = int(now - self._case_since)
        self._case_since += seconds
        return entry.case_id, seconds

    def _go(self, index: int) -> None:
        taken = self.take_time()
        if taken is not None:
            self.save_time(*taken)
        self.current = index
        self._case_since = self.host.clock.monotonic()
        self.view = None
        entry = self.agenda[index]
        self.query_one("#huddle-agenda", OptionList).highlighted = index
        self.query_one("#huddle-case-title", Static).update(f"Reading case {entry.case_id}…")
        self.query_one("#huddle-case-body", Static).update("")
        self.query_one("#huddle-items", Static).update("")
        self.show_time()
        self.load_case(entry.case_id)

    def save_time(self, case_id: int, seconds: int) -> None:
        save_time(self.app, self.host.backend, self.viewer, case_id, seconds,
                  self.host.clock.now())

    def show_time(self) -> None:
        """The time on this case and on the whole huddle, as of the clock now (every
        second, and when the case changes)."""
        entry = self.entry()
        whole = int((self.host.clock.now() - self.roster.started_at).total_seconds())
        text = f"Huddle {duration_words(whole)}"
        if entry is not None and self._case_since is not None:
            spent = entry.seconds_spent + int(self.host.clock.monotonic() - self._case_since)
            text = f"This case {duration_words(spent)} · {text}"
        self.query_one("#huddle-timer", Static).update(text)

    def action_step(self, step: int) -> None:
        if self.agenda:
            current = self.current if self.current is not None else -step
            self._go(max(0, min(len(self.agenda) - 1, current + step)))

    def action_agenda(self, step: int) -> None:
        options = self.query_one("#huddle-agenda", OptionList)
        (options.action_cursor_down if step > 0 else options.action_cursor_up)()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option_list.id == "huddle-agenda":
            event.stop()
            self._go(event.option_index)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("step", "decision", "action", "write_note", "open_case", "board",
                      "agenda"):
            return bool(self.viewer.audience) and (action in ("board", "agenda", "step")
                                                   or self.entry() is not None)
        if action == "remove":
            return bool(self.roster.present)
        return True

    # --- capturing decisions and actions ---------------------------------------------

    def action_decision(self) -> None:
        entry = self.entry()
        if entry is not None:
            self.ask_decision(entry.case_id, entry.person_label)

    # The decision's and the action's questions are never exclusive, and in a group of
    # their own: one is asked again by a save's refusal, which may come back long after
    # (kept while the database was away) while another question is open. An exclusive
    # worker cancelled the one awaiting that question, whose form stayed on screen and
    # whose answer, typed and saved, then went nowhere.
    @work(group="huddle-typed")
    async def ask_decision(self, case_id: int, person_label: str, value: str = "",
                           note: str = "") -> None:
        """Ask for the decision (again, with ``value`` and why, after a refusal)."""
        from anchor_tui.screens.prompt import ReasonScreen

        text = await self.app.push_screen_wait(ReasonScreen(
            "Decision", f"What did the huddle decide on {person_label}?",
            placeholder="The decision, in a line", value=value, note=note))
        if text:
            self.write_decision(case_id, person_label, text)

    def write_decision(self, case_id: int, person_label: str, text: str) -> None:
        backend, viewer, now = self.host.backend, self.viewer, self.host.clock.now()
        save_or_keep(
            self.app, f"record a decision on case {case_id}", "The decision",
            made_once(partial(service.add_decision, backend, viewer, case_id, text, now),
                      partial(_recorded, backend, viewer, case_id, "decision", text, now)),
            on_saved=lambda _item: self._reread(case_id),
            on_refused=lambda error: self._again(partial(
                self.ask_decision, case_id, person_label, text, _not_saved(error)), error),
            on_refused_later=partial(_tell_room, self.app, viewer, "decision"))

    def action_action(self) -> None:
        entry = self.entry()
        if entry is not None:
            self.ask_action(entry.case_id, entry.person_label)

    @work(group="huddle-typed")  # (never exclusive: see ask_decision)
    async def ask_action(self, case_id: int, person_label: str,
                         draft: ActionDraft | None = None, note: str = "") -> None:
        """Ask for the action (again, with ``draft`` and why, after a refusal)."""
        from anchor_tui.screens.huddle_modals import ActionScreen

        today = self.host.today()
        try:
            members = await self._members(case_id)
        except AnchorError:
            members = ()  # this audience does not see who works the case: nobody, for now
        except WorkerCancelled:
            return  # the read went with its screen (the huddle ended or changed): ask nothing
        typed = await self.app.push_screen_wait(ActionScreen(
            person_label, members, today, self.host.backend.policy.professions,
            draft=draft, note=note))
        if typed is not None:
            self.write_action(case_id, person_label, typed)

    async def _members(self, case_id: int) -> tuple[MemberChoice, ...]:
        worker = self.run_worker(
            lambda: case_members(self.host.backend, self.viewer, case_id, self.host.today()),
            thread=True, group="huddle-members", exit_on_error=False)
        return tuple(await worker.wait())

    def write_action(self, case_id: int, person_label: str, typed: ActionDraft) -> None:
        backend, viewer = self.host.backend, self.viewer
        today, now = self.host.today(), self.host.clock.now()
        save_or_keep(
            self.app, f"record an action on case {case_id}", "The action",
            made_once(partial(service.add_action, backend, viewer, case_id, typed.text,
                              typed.assignee_id, typed.due, today, now),
                      partial(_recorded, backend, viewer, case_id, "action", typed.text,
                              now)),
            on_saved=lambda _item: self._reread(case_id),
            on_refused=lambda error: self._again(partial(
                self.ask_action, case_id, person_label, typed, _not_saved(error)), error),
            on_refused_later=partial(_tell_room, self.app, viewer, "action"))

    def _again(self, ask: Callable[[], object], error: AnchorError) -> None:
        """A decision or action refused: asked again with its words, while this screen
        holds the huddle (after a roster change, ``_tell_room`` says it was not
        recorded; the error log has the class)."""
        if self.is_attached:
            ask()
        else:
            log_only(self.app, error)

    def _reread(self, case_id: int) -> None:
        entry = self.entry()
        if entry is not None and entry.case_id == case_id:
            self.load_case(case_id)

    # --- the roster -------------------------------------------------------------------

    def action_join(self) -> None:
        from anchor_tui.screens.huddle_modals import JoinScreen

        host = self.host
        entry = self.entry()
        self.app.push_screen(JoinScreen(host.backend, host.settings, host.clock, self.viewer,
                                        host.today(), entry.case_id if entry else None))

    @work(exclusive=True, group="huddle-ask")
    async def action_remove(self) -> None:
        from anchor_tui.screens.confirm import ConfirmScreen
        from anchor_tui.screens.prompt import ChoiceScreen

        professions = self.host.backend.policy.professions
        chosen = await self.app.push_screen_wait(ChoiceScreen(
            "Who leaves the huddle?",
            [(str(p.user_id), f"{p.display_name} · {professions.get(p.profession, p.profession)}")
             for p in self.roster.present]))
        if chosen is None:
            return
        who = next(p for p in self.roster.present if str(p.user_id) == chosen)
        question = (f"Remove {who.display_name} "
                    f"({professions.get(who.profession, who.profession)}) from the huddle? "
                    "The screen then shows what the others present may see, which can be "
                    "more than now.")
        if await self.app.push_screen_wait(ConfirmScreen("Someone leaves", question,
                                                         yes="Remove")):
            entry = self.entry()
            self.write_leave(who.user_id, who.display_name, entry.case_id if entry else None)

    def write_leave(self, user_id: int, name: str, resume_case: int | None) -> None:
        """``user_id`` leaves, through the app's save queue: kept while the database is
        away (said so; the screen shows what everyone still counted present may see
        meanwhile, never more), made once after a lost answer. Once it is saved the
        terminal shows the new roster (if this huddle is still on)."""
        backend, viewer, now = self.host.backend, self.viewer, self.host.clock.now()
        app = self.app

        def left(roster: service.Roster) -> None:
            # To the terminal, not this screen: it may have closed while the leave was kept.
            app.post_message(RosterChanged(roster, resume_case))

        save_or_keep(
            app, f"remove {name} from the huddle", f"The removal of {name} from the huddle",
            made_once(partial(service.leave_huddle, backend, viewer, user_id, now),
                      partial(service.left_at, backend, viewer, user_id, now)),
            on_saved=left)

    @work(exclusive=True, group="huddle-ask")
    async def action_end(self) -> None:
        from anchor_tui.screens.confirm import ConfirmScreen

        if await self.app.push_screen_wait(ConfirmScreen(
                "End the huddle",
                "End the huddle for everyone? The minutes are stored and written to a file "
                "(only what everyone present could see); then the terminal shows the "
                "sign-in.", yes="End")):
            self.post_message(HuddleEndConfirmed())

    # --- other screens, under the same huddle viewer -------------------------------------

    def action_board(self) -> None:
        from anchor_tui.screens.board import BoardScreen

        self.app.push_screen(BoardScreen(self.host.backend, self.viewer, self.host.today))

    def action_write_note(self) -> None:
        """The note editor on the case under discussion (one key, as ``n`` elsewhere)."""
        from anchor_tui.screens.note_editor import open_note_editor

        entry = self.entry()
        if entry is not None:
            case_id = entry.case_id
            open_note_editor(self.app, case_id, on_saved=lambda _note: self._reread(case_id))

    def action_open_case(self) -> None:
        from anchor_tui.screens.case import CaseScreen

        entry = self.entry()
        if entry is not None:
            self.app.push_screen(CaseScreen(entry.case_id))

    def palette_commands(self) -> Iterable[PaletteCommand]:
        yield PaletteCommand("huddle: next case", "Move to the next case (n)",
                             lambda: self.action_step(1))
        yield PaletteCommand("huddle: previous case", "Back to the previous case (p)",
                             lambda: self.action_step(-1))
        yield PaletteCommand("huddle: decision", "Record a decision on this case (d)",
                             self.action_decision)
        yield PaletteCommand("huddle: action", "Record an action: a task with who and "
                             "when (a)", self.action_action)
        yield PaletteCommand("note: new", "Write a note on the case under discussion (w)",
                             self.action_write_note)
        yield PaletteCommand("huddle: join", "Someone joins with their own passphrase (+)",
                             self.action_join)
        yield PaletteCommand("huddle: remove attendee", "Someone leaves the huddle (-)",
                             self.action_remove)
        yield PaletteCommand("huddle: board", "The board, as everyone present may see it "
                             "(b)", self.action_board)
        yield PaletteCommand("huddle: end", "End the huddle and write the minutes (e)",
                             self.action_end)

