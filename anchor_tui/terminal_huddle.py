"""The shared terminal's huddle: starting one, its roster changing as people join and
leave, ending it with its minutes, and the banner on every screen of its context.

A mixin of ``SharedTerminal`` (``terminal.py``), which holds the session, the viewer
contexts and the lock: a huddle's roster is a viewer context of its own, opened with
``open_context`` as a sign-in is, so nothing shown for one roster stays for the next.

A huddle ends for everyone in the room, so nothing ends it without a question: `e` on
the huddle screen asks, and so do switching user (ctrl+o, "app: sign out"), quitting
(ctrl+q) and someone not present signing in at the huddle's lock. Each question keeps
the huddle unless "end" is chosen (Enter and Esc both stay).

The board opened from the huddle (`b`) closes with Esc (when no filter is on), back
to the agenda.

Huddles left on (their terminal quit while the database was away, or was killed) are
ended by the next start of the terminal that ran them, which alone knows its process
has gone: each running huddle is marked with a lock the system lets go when the
process ends (``services.huddle_marks``; ``end_orphaned_huddles``). No other terminal
ends them behind anyone's back: a room quietly on one case records nothing the app can
see, and each terminal stamps its huddle with its own clock, so no terminal can be sure
another room has gone. ``anchor-tui huddle end-left-on`` lists them and ends them, with
their minutes, when a person who knows says so (``services.huddle_left_on``).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from textual import work
from textual.app import App
from textual.binding import Binding
from textual.screen import ModalScreen, Screen

from anchor_tui.crashlog import ErrorLog
from anchor_tui.screens.terminal_messages import (
    HuddleEndConfirmed,
    HuddleEnded,
    HuddleStarted,
    RosterChanged,
    RosterRead,
)
from anchor_tui.services.clock import Clock
from anchor_tui.services.session_state import TerminalSession
from anchor_tui.settings import Settings

if TYPE_CHECKING:
    import datetime as dt
    from pathlib import Path

    from anchor_tui.domain import Viewer
    from anchor_tui.services.backend import Backend
    from anchor_tui.services.huddle import Roster
    from anchor_tui.services.huddle_marks import HuddleMarks
    from anchor_tui.services.minutes import EndedHuddle

# The services and screens are imported in the methods that use them: the sign-in
# screen is drawn before they are loaded (see services.opening).


END = "end"
STAY = "stay"
ENDED, KEPT, REFUSED = "ended", "kept", "refused"
"""What became of a huddle's end that quitting waits for."""
_MARKS_MADE = threading.Lock()
QUIT_WAIT_SECONDS = 5.0
"""How long quitting waits for a huddle's end (with the sign-out), or for the sign-out
alone (``terminal.sign_out_to_quit``), to be made."""


def end_question(doing: str) -> tuple[str, list[tuple[str, str]], str]:
    """The question before ``doing`` ("switch user", "quit") ends a huddle: its title,
    its answers (staying first) and its note. Names nobody: it may be asked at the lock."""
    return ("End the huddle?",
            [(STAY, "Stay in the huddle"), (END, f"End the huddle for everyone and {doing}")],
            "This ends the huddle for everyone present: its minutes are stored and "
            "written to a file. Enter or Esc stays in the huddle.")


class HuddleTerminal(App[None]):
    """The huddle part of the shared terminal (a mixin; ``SharedTerminal`` holds the
    session and the contexts)."""

    BINDINGS = [  # noqa: RUF012 - Textual reads class-level bindings
        # Not priority: only where the screen on show does nothing with Esc (the board).
        Binding("escape", "back_to_huddle", "Huddle", id="app.back_to_huddle"),
    ]

    settings: Settings
    clock: Clock
    today: Callable[[], Any]
    session: TerminalSession
    error_log: ErrorLog
    _huddle_marks: HuddleMarks | None = None
    _viewer_mode: str | None

    @property
    def backend(self) -> Backend:
        raise NotImplementedError

    async def open_context(self, first: Callable[[], Screen[Any]]) -> None:
        raise NotImplementedError

    def sign_in_screen(self) -> Screen[Any]:
        raise NotImplementedError

    def holds_screen(self, screen: Screen[Any]) -> bool:
        raise NotImplementedError

    # --- nothing ends a huddle without a question ---------------------------------------

    _huddle_question: Screen[Any] | None = None

    def ask_to_end_huddle(self, doing: str, then: Callable[[], Awaitable[None]]) -> bool:
        """With a huddle on: ask whether ``doing`` may end it, and run ``then`` only if
        "end" is chosen. True: a question is up (asked now, or already up); False: no
        huddle is on, ``then`` is the caller's to run. Asked on the stack on show (over
        the lock too: quitting there ends the huddle as well)."""
        from anchor_tui.screens.prompt import ChoiceScreen

        if self.session.roster is None:
            return False
        asking = self._huddle_question
        if asking is not None and any(asking in stack for stack in self._screen_stacks.values()):
            return True  # one question at a time (ctrl+o pressed twice, then ctrl+q...)
        title, choices, note = end_question(doing)
        question = ChoiceScreen(title, choices, current=STAY, note=note)
        huddle_id = self.session.roster.huddle_id

        async def answered(choice: str | None) -> None:
            self._huddle_question = None
            roster = self.session.roster
            if choice == END and roster is not None and roster.huddle_id == huddle_id:
                await then()

        self._huddle_question = question
        self.push_screen(question, answered, mode=self.current_mode)
        return True

    # --- the board opened from the huddle -------------------------------------------------

    def huddle_board_on_show(self) -> bool:
        """Whether the screen on show is a board opened from the huddle screen below it."""
        if self.session.roster is None or self.session.locked \
                or self.current_mode != self._viewer_mode:
            return False
        from anchor_tui.screens.board import BoardScreen
        from anchor_tui.screens.huddle import HuddleScreen

        stack = self._screen_stacks.get(self._viewer_mode or "", [])
        return len(stack) > 1 and isinstance(stack[-1], BoardScreen) \
            and any(isinstance(screen, HuddleScreen) for screen in stack[:-1])

    async def action_back_to_huddle(self) -> None:
        """Esc on the huddle's board (no filter on): back to the agenda. The board had no
        way back: the chair was left on it, with only ctrl+o (ending the huddle) out."""
        if self.huddle_board_on_show():
            await self.pop_screen()

    def _huddle_time(self) -> tuple[int, int] | None:
        from anchor_tui.screens.huddle import HuddleScreen

        for screen in self._screen_stacks.get(self._viewer_mode or "", []):
            if isinstance(screen, HuddleScreen):
                return screen.take_time()
        return None

    @work(exclusive=True, group="huddle-start")
    async def action_start_huddle(self) -> None:
        from anchor_tui.screens.confirm import ConfirmScreen

        person = self.session.person
        if person is None or self.session.roster is not None or self.session.locked:
            return
        if await self.push_screen_wait(ConfirmScreen(
                "Start a huddle",
                "Start a huddle? Every screen closes; then the screen shows only what "
                "everyone present may see, and each person joins with their own "
                "passphrase (+).", yes="Start")):
            self.begin_huddle(person)

    @work(thread=True, exclusive=True, group="huddle-begin", exit_on_error=False)
    def begin_huddle(self, person: Viewer) -> None:
        from anchor_tui.services.huddle import start_huddle

        roster = start_huddle(self.backend, person, self.today(), self.clock.now())
        self._mark_huddle(roster)
        self.post_message(HuddleStarted(roster, person))

    async def on_huddle_started(self, message: HuddleStarted) -> None:
        from anchor_tui.services import huddle as huddle_service

        if self.session.person != message.starter or self.session.roster is not None:
            # The person switched meanwhile: this huddle never showed; end it at once.
            self.finish_huddle(huddle_service.huddle_viewer(message.roster, message.starter),
                               None, None, quiet=True)
            return
        await self._show_roster(message.roster, None)

    _roster_changes = 0
    """Roster changes told so far: a read of the roster made before the latest is stale."""

    async def on_roster_changed(self, message: RosterChanged) -> None:
        """Someone joined or left. The database alone says who is present: a change's
        own roster may be out of date by the time it arrives (a leave read before a join
        written at the same moment), and a join written as its form was closed by
        another change arrives on its own. So the change narrows the screen at once
        (everyone it or the screen counts present: a joiner is in the audience before
        anything more is drawn), and only a read of the roster made after the latest
        change may widen it (someone left)."""
        from anchor_tui.services.huddle import joined_rosters

        current = self.session.roster
        if current is None or current.huddle_id != message.roster.huddle_id:
            return
        self._roster_changes += 1
        self._read_roster(message.roster.huddle_id, self._roster_changes,
                          message.resume_case)
        narrowed = joined_rosters(current, message.roster)
        if narrowed != current:
            await self._change_roster(narrowed, message.resume_case)

    @work(thread=True, exclusive=True, group="huddle-roster", exit_on_error=False)
    def _read_roster(self, huddle_id: int, change: int, resume_case: int | None) -> None:
        from textual.worker import get_current_worker

        from anchor_tui.errors import AnchorError
        from anchor_tui.services.huddle import current_roster

        try:
            read = current_roster(self.backend, huddle_id)
        except AnchorError as error:  # (the database away: the screen stays narrow)
            self.error_log.write(error)
            return
        if not get_current_worker().is_cancelled:  # (a later change reads again)
            self.post_message(RosterRead(read, change, resume_case))

    async def on_roster_read(self, message: RosterRead) -> None:
        current = self.session.roster
        if current is None or current.huddle_id != message.roster.huddle_id \
                or message.change != self._roster_changes or message.roster == current:
            return  # (read before a later change: that change's own read decides)
        await self._change_roster(message.roster, message.resume_case)

    async def _change_roster(self, roster: Roster, resume_case: int | None) -> None:
        from anchor_tui.screens.huddle import save_time

        viewer = self.session.viewer
        spent = self._huddle_time()
        if viewer is not None and spent is not None:
            save_time(self, self.backend, viewer, *spent, self.clock.now())
        await self._show_roster(roster, resume_case)

    async def _show_roster(self, roster: Roster, resume_case: int | None) -> None:
        from anchor_tui.screens.huddle import HuddleScreen

        self.session.roster = roster
        viewer = self.session.viewer
        assert viewer is not None
        await self.open_context(lambda: HuddleScreen(viewer, roster, resume_case))

    async def on_huddle_end_confirmed(self, message: HuddleEndConfirmed) -> None:
        person, viewer = self.session.person, self.session.viewer
        if self.session.roster is None or viewer is None:
            return
        spent = self._huddle_time()
        self.session = TerminalSession()
        await self.open_context(self.sign_in_screen)
        self.finish_huddle(viewer, spent, person)

    def finish_huddle(self, viewer: Viewer, spent: tuple[int, int] | None,
                      person: Viewer | None, *, quiet: bool = False,
                      quitting: Callable[[str], bool] | None = None) -> None:
        """Store the minutes (and write their file); the person's session ends too.

        Through the app's save queue, after every save asked for before it: a decision,
        an action or a note still on its way, or kept while the database was away (or
        busy), is made first, while the huddle is still on, and is in its minutes.
        Written at once, the end could come first (the server back, the watcher not yet
        aware): the kept change, made then, was refused as the huddle had ended, and its
        words were lost. With the database away, the end itself is kept and made when it
        is back.

        The end carries the moment it was asked for, the same for every attempt: made
        again after its commit reached the server while the answer was lost, it finds
        the huddle ended at that moment (``saving.made_once``) and finishes what is
        left (the minutes file, the notice) instead of being refused as ended already.
        The person's sign-out is written with the end, so it is recorded once.

        ``quitting`` (quitting the app waits for the end) is told ``ENDED``, ``KEPT``
        (the database away or busy) or ``REFUSED``; it returns whether quitting still
        waited: an end made while the app goes shows no minutes notice. A huddle found
        ended meanwhile (another terminal, or ended as left on) is over: ``ENDED``."""
        from anchor_tui.saving import made_once, save_queue
        from anchor_tui.services.minutes import HuddleEndedElsewhere, huddle_ended_at

        today, now = self.today(), self.clock.now()  # the end's moment, for every attempt
        huddle_id = viewer.huddle_id

        def end() -> EndedHuddle | None:
            # The time on the last case is added with the end, in its unit of work:
            # added before it, a commit whose answer was lost added it twice.
            try:
                result = self._end_huddle(viewer, spent, person, today=today, now=now)
            except HuddleEndedElsewhere:
                self._unmark_huddle(huddle_id)
                if quitting is None:
                    raise
                # Ended meanwhile (another terminal, or as left on), the sign-out
                # written: over, and nothing to say as the app goes (an error modal
                # opened just as it went stopped it as an internal error).
                return None
            self._unmark_huddle(huddle_id)
            return result

        def ended(result: EndedHuddle | None) -> None:
            # (Also when a retry found the end made after its answer was lost.)
            self._unmark_huddle(huddle_id)
            if quitting is not None and quitting(ENDED):
                return  # the app is going
            if not quiet and result is not None:
                self.post_message(HuddleEnded(result))

        save_queue(self).submit(
            "end the huddle and store its minutes",
            made_once(end, partial(huddle_ended_at, self.backend, viewer,
                                   self._minutes_dir(), now)),
            on_saved=ended,
            on_kept=None if quitting is None else partial(quitting, KEPT),
            on_failed=None if quitting is None else lambda _error: quitting(REFUSED))

    async def end_huddle_to_quit(self, viewer: Viewer, spent: tuple[int, int] | None,
                                 person: Viewer | None) -> bool:
        """End the huddle as quitting does: True once it is ended (the app may go).

        Through the save queue as every end (``finish_huddle``): after every save asked
        for before it, kept for the database (the sign-out with it). Waited for at most
        ``QUIT_WAIT_SECONDS``. Not ended by then (the database away or busy, or the end
        refused), the person is told that the huddle stays on, its minutes not stored
        yet, and how it will end, and chooses: keep anchor-tui open (the end is made
        when the database takes it) or quit anyway (the huddle stays on, marked, until
        anchor-tui next starts on this terminal and ends it at its last activity, with
        its minutes, or ``anchor-tui huddle end-left-on --apply`` does:
        ``services.huddle_left_on``). False: that question is
        up, and its answer quits or stays. Quitting never waits for ever."""
        outcome: asyncio.Future[str] = asyncio.get_running_loop().create_future()

        def told(what: str) -> bool:
            if outcome.done():
                return False
            outcome.set_result(what)
            return what == ENDED

        self.finish_huddle(viewer, spent, person, quitting=told)
        try:
            what = await asyncio.wait_for(asyncio.shield(outcome), QUIT_WAIT_SECONDS)
        except TimeoutError:
            what = KEPT
            told(KEPT)  # (an end made later shows its minutes notice)
        if what == ENDED:
            return True
        from anchor_tui.screens.quit_huddle import QUIT, QuitWithHuddleOn

        async def answered(answer: str | None) -> None:
            if answer == QUIT:
                self.exit()  # (the huddle stays marked: the next start ends it)

        self.push_screen(QuitWithHuddleOn(self.settings.team.huddle_left_on_minutes,
                                          refused=what == REFUSED),
                         answered, mode=self.current_mode)
        return False

    def huddle_marks(self, backend: Backend) -> HuddleMarks:
        """The marks of the huddles this process runs (``services.huddle_marks``), in
        the state folder, for this database."""
        from anchor_tui.services.huddle_marks import HuddleMarks, database_key

        with _MARKS_MADE:  # (the start's worker and a huddle's may ask at once)
            if self._huddle_marks is None:
                address = backend.engine.url.render_as_string(hide_password=True)
                self._huddle_marks = HuddleMarks(self.settings.log_dir,
                                                 database_key(address))
            return self._huddle_marks

    def _mark_huddle(self, roster: Roster) -> None:
        """Off the UI thread: the huddle runs here (ended at the next start if this
        process goes without ending it). Not marked (the folder cannot be written):
        logged; the command ends it if it is left on."""
        try:
            self.huddle_marks(self.backend).hold(roster.huddle_id, roster.started_at)
        except OSError as error:
            self.error_log.write(error)

    def _unmark_huddle(self, huddle_id: int | None) -> None:
        if self._huddle_marks is not None and huddle_id is not None:
            self._huddle_marks.release(huddle_id)

    def end_orphaned_huddles(self, backend: Backend) -> None:
        """At start, off the UI thread: end the huddles of this machine whose process is
        gone without ending them (``services.huddle_left_on.end_orphaned``), each at
        its last activity, and say so in a notification (the huddle's id and where its
        minutes are: no name, nothing said in it, fit for whoever stands at the
        sign-in). A failure is logged, never in the way of signing in."""
        from anchor_tui.services.huddle_left_on import end_orphaned

        try:
            ended = end_orphaned(backend, self.huddle_marks(backend), self._minutes_dir())
        except Exception as error:  # start-up goes on; the log says why
            self.error_log.write(error)
            return
        for one in ended:
            where = (f"Its minutes: {one.path}" if one.path is not None
                     else f"Its minutes are stored; their file was not written: {one.problem}")
            self.call_from_thread(
                self.notify,
                f"Huddle {one.huddle_id}, left on when anchor-tui last stopped on this "
                f"terminal, is ended now, at its last activity. {where}",
                title="Huddle ended", timeout=30)

    def _minutes_dir(self) -> Path:
        from anchor_tui.services.minutes import default_minutes_dir

        return self.settings.minutes_dir or default_minutes_dir()

    def _end_huddle(self, viewer: Viewer, spent: tuple[int, int] | None,
                    person: Viewer | None, *, today: dt.date | None = None,
                    now: dt.datetime | None = None) -> EndedHuddle:
        """End the huddle at ``now`` (by default, the clock's now); the time ``spent`` on
        the last case is added and ``person`` signed out (audited) in the same unit of
        work, each once, with the end."""
        from anchor_tui.services.minutes import end_huddle

        return end_huddle(self.backend, viewer, self._minutes_dir(),
                          today if today is not None else self.today(),
                          now if now is not None else self.clock.now(), signing_out=person,
                          spent=spent)

    def on_huddle_ended(self, message: HuddleEnded) -> None:
        from anchor_tui.screens.huddle_modals import minutes_notice

        ended = message.ended
        self.push_screen(minutes_notice(ended.path, ended.problem))

    def _screen_changed(self, screen: Screen[Any]) -> None:
        """Every screen of a huddle's context carries the huddle banner."""
        roster = self.session.roster
        if roster is None:
            return  # (and the first screen is drawn without loading the data layer)
        from anchor_tui.screens.lock import LockScreen
        from anchor_tui.widgets.huddle_banner import HuddleBanner

        if isinstance(screen, ModalScreen | LockScreen) \
                or not self.holds_screen(screen) or screen.query(HuddleBanner):
            return
        screen.mount(HuddleBanner(roster, self.backend.policy.professions))
        if self.huddle_board_on_show():
            # (The footer's "esc Huddle" comes after the board's own keys: cut off on
            # all but the widest terminals.)
            self.notify("The board as everyone present may see it. Esc goes back to the "
                        "huddle.", title="Huddle")
