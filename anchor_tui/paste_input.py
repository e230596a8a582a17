"""A paste stays text: no escape sequence inside it reaches the app as keys.

A terminal wraps a paste in ``ESC [200~`` ... ``ESC [201~`` (bracketed paste), and
Textual gathers what is between into one ``Paste`` event. But when the pasted text holds
an escape sequence Textual does not know (an OSC 52 clipboard write, ``ESC ]52;c;...
BEL``), its parser gives up on it after a few dozen characters and replays it as key
presses, inside the paste or not: the BEL became ctrl+g (the terminal locked, and the
rest of the paste was typed into the lock screen, its line end submitted as a wrong
passphrase); a ctrl+o in it switches user, a ctrl+q quits, and letters after it are
keys of whatever screen is on (``>`` then ``y`` on the board moves a case).

So, between the paste's brackets, every control character but line ends and tabs is
replaced by its visible escape (``\\x1b``, ``\\x07``) before Textual's parser reads it:
the same characters ``services.note_text.clean_text`` would show in the editor and
store, so what a paste holds is unchanged as far as anyone can see, and none of it can
act. Outside a paste nothing changes (typed keys, function keys, mouse).

:class:`PasteGuard` is the rule (pure: it sees the terminal's input as it comes, in
pieces that may split a bracket); :class:`PasteGuardDriver` is Textual's Linux/macOS
driver reading through it (``AnchorApp.get_driver_class``).

Bytes that are not UTF-8 (a paste from a Latin-1 source, a terminal set to another
encoding) are read as U+FFFD, the replacement character, and the rest of the input goes
on: a strict decoder stopped the input thread, and with it the whole app, on one such
byte, with whatever was typed still unsaved on the screen.
"""

from __future__ import annotations

import os
import selectors
import unicodedata
from codecs import getincrementaldecoder
from collections.abc import Callable

from textual import events
from textual._loop import loop_last
from textual._parser import ParseError
from textual._xterm_parser import XTermParser
from textual.drivers.linux_driver import LinuxDriver
from textual.message import Message
from textual.widgets import Input

PASTE_START = "\x1b[200~"
PASTE_END = "\x1b[201~"
_KEPT = frozenset("\n\r\t")


def _visible(char: str) -> str:
    if char in _KEPT or unicodedata.category(char) != "Cc":
        return char
    return f"\\x{ord(char):02x}"


def _held_back(text: str, marker: str) -> int:
    """How many characters at the end of ``text`` could be the start of ``marker``."""
    for size in range(min(len(text), len(marker) - 1), 0, -1):
        if marker.startswith(text[-size:]):
            return size
    return 0


class PasteGuard:
    """Terminal input with the control characters inside bracketed pastes made visible.

    Feed it the input as it arrives (:meth:`filter`); it returns what the parser should
    read. Outside a paste the input passes at once, unchanged. Inside, a piece that may
    be the start of the closing bracket waits for the next read (the paste's end always
    follows).
    """

    def __init__(self) -> None:
        self.in_paste = False
        self._recent = ""
        """The last characters passed outside a paste: an opening bracket split across
        reads is found all the same."""
        self._held = ""
        """Inside a paste: the end of the last read, which may start the closing bracket."""

    def filter(self, data: str) -> str:
        out: list[str] = []
        while data:
            if not self.in_paste:
                seen = self._recent + data
                found = seen.find(PASTE_START)
                if found < 0:
                    out.append(data)
                    self._recent = seen[-(len(PASTE_START) - 1):]
                    break
                cut = found + len(PASTE_START) - len(self._recent)
                out.append(data[:cut])
                data, self._recent, self.in_paste = data[cut:], "", True
            else:
                pending = self._held + data
                self._held = ""
                found = pending.find(PASTE_END)
                if found < 0:
                    keep = _held_back(pending, PASTE_END)
                    self._held = pending[len(pending) - keep:]
                    out.append("".join(map(_visible, pending[:len(pending) - keep])))
                    break
                out.append("".join(map(_visible, pending[:found])))
                out.append(PASTE_END)
                data, self.in_paste = pending[found + len(PASTE_END):], False
        return "".join(out)


def one_line_paste(text: str, room: int | None) -> tuple[str, str]:
    """What a one-line field takes of a paste: its lines joined with single spaces (blank
    lines dropped; a paste of one line as it is), cut to ``room`` characters (None: no
    limit); and what to tell the person ("" when the paste went in as it was)."""
    lines = text.splitlines()
    several = len(lines) > 1
    joined = (" ".join(line.strip() for line in lines if line.strip()) if several
              else "".join(lines))
    if room is not None and len(joined) > room:
        left_out = len(joined) - max(room, 0)
        if room <= 0:
            return "", (f"The field is full: nothing of the paste went in "
                        f"({len(joined)} characters). Shorten what is written first.")
        return joined[:room], (f"The paste was too long for this field: the first {room} "
                               f"characters went in, {left_out} were left out.")
    if several:
        return joined, "The pasted lines were joined into one line: this field holds one."
    return joined, ""


class OneLineInput(Input):
    """A one-line field whose paste keeps every line (joined) and says what it cut."""

    class PasteAdjusted(Message):
        """A paste did not go in as it was: ``note`` says how (our words only)."""

        def __init__(self, field: OneLineInput, note: str) -> None:
            super().__init__()
            self.field = field
            self.note = note

    def _on_paste(self, event: events.Paste) -> None:
        event.stop()
        event.prevent_default()  # Textual's own (first line only) does not run after it
        if not event.text:
            return
        selection = self.selection
        start, end = sorted((selection.start, selection.end))
        room = (self.max_length - (len(self.value) - (end - start))
                if self.max_length else None)
        text, note = one_line_paste(event.text, room)
        if text:
            if selection.is_empty:
                self.insert_text_at_cursor(text)
            else:
                self.replace(text, start, end)
        if note:
            self.post_message(self.PasteAdjusted(self, note))
            self.notify(note, title="Paste", severity="warning", markup=False)


def input_decoder() -> Callable[..., str]:
    """The terminal's input decoder: UTF-8, an undecodable byte read as U+FFFD (shown,
    cleaned and stored like any other character) instead of an error."""
    return getincrementaldecoder("utf-8")(errors="replace").decode


class PasteGuardDriver(LinuxDriver):
    """Textual's driver for Linux and macOS terminals, reading through a :class:`PasteGuard`.

    ``run_input_thread`` is ``LinuxDriver``'s own (Textual 8) with one change: what is
    read goes through the guard before the parser (Textual has no hook for it).
    ``tests/ui/test_paste_tmux.py`` pastes into the real app in tmux, so a Textual that
    reads its input otherwise fails there, not in a meeting.

    Should reading input fail all the same, the exception is kept in :attr:`stopped_by`
    before the app is told to stop (Textual's own wrapper hands the app only a rendered
    traceback, which names neither the exception's class for the error log nor anything
    the app may safely write).
    """

    stopped_by: BaseException | None = None
    """What stopped the input thread, if anything (read by ``AnchorApp.panic``)."""

    def _run_input_thread(self) -> None:
        try:
            self.run_input_thread()
        except BaseException as error:
            self.stopped_by = error
            self._app.call_later(self._app.panic)

    def run_input_thread(self) -> None:
        selector = selectors.SelectSelector()
        selector.register(self.fileno, selectors.EVENT_READ)
        fileno = self.fileno
        parser = XTermParser(self._debug)
        guard = PasteGuard()
        decode = input_decoder()

        def process_selector_events(
            selector_events: list[tuple[selectors.SelectorKey, int]], final: bool = False
        ) -> None:
            for last, (_key, mask) in loop_last(selector_events):
                if mask & selectors.EVENT_READ:
                    data = decode(os.read(fileno, 1024 * 4), final=final and last)
                    if not data:
                        break
                    for event in parser.feed(guard.filter(data)):
                        self.process_message(event)
            for event in parser.tick():
                self.process_message(event)

        try:
            while not self.exit_event.is_set():
                process_selector_events(selector.select(0.1))
            selector.unregister(self.fileno)
            process_selector_events(selector.select(0.1), final=True)
        finally:
            selector.close()
            try:
                for _event in parser.feed(""):
                    pass
            except (EOFError, ParseError):
                pass
