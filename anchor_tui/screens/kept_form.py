"""A form whose words are kept for its author when the terminal passes on.

A takeover at the idle lock or a switch of user removes the closing viewer's screen
stack, every open form with it. A form with :class:`KeepsTypedForm` is a
``terminal.SavesDraftsAside``: as its context closes it hands the terminal what was
typed (read on the UI thread), which keeps it off the UI thread as its author's kept form
(``services.form_drafts``). When the same person next opens the same kind of form for
the same thing, the form asks for it as it opens and, if it is still empty, fills itself
in and says so plainly, with when it was typed; ctrl+r clears it (and discards it). A
kept form is removed when the form is saved, or when its author discards what was typed.

A form says what it is and holds through five small methods: ``FORM_KIND`` and
``form_target()`` (what it is about), ``form_fields()`` and ``fill_form()`` (its fields
as a JSON object, and back), and the viewer and backend it works for. It shows
:class:`KeptFormNote` where it likes; the mixin writes in it.

A change saved from such a form while the database was away, and refused when it came
back after its author had left the terminal, is kept the same way (``keep_if_refused``,
read as the save is asked for: ``saving.save_or_keep``); given back, the form says why
it was refused.

Forms typed in a huddle are not kept (``form_viewer().purpose``): a kept form is given
back to its author working alone, where a task or reason typed over what the room saw
could reach readers the room did not have. (Nor is the huddle's own action: the huddle
ends, minutes stored, at the takeover; the minutes hold what the room decided.)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any, ClassVar

from textual import work
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Static

from anchor_tui.domain import Viewer
from anchor_tui.saving import KeepIfRefused
from anchor_tui.screens.quit_form import AsksBeforeQuit
from anchor_tui.services.backend import Backend
from anchor_tui.services.form_drafts import KeptForm, discard_form, keep_form, load_form
from anchor_tui.widgets.plain_text import plain


def typed_when(saved_at: dt.datetime) -> str:
    """``4 Dec at 14:02``, on the terminal's clock."""
    local = saved_at.astimezone()
    return f"{local.day} {local:%b} at {local:%H:%M}"


class KeptFormNote(Static):
    """Where a form says it was filled in from what its author typed before (plain
    text; not shown while empty)."""

    DEFAULT_CSS = """
    KeptFormNote { height: auto; color: $text-warning; display: none; }
    KeptFormNote.said { display: block; }
    """

    def say(self, text: str) -> None:
        self.update(plain(text, one_line=False))
        self.set_class(bool(text), "said")


class KeptFormRead(Message):
    """The author's kept form of this kind and target, read as the form opened."""

    def __init__(self, kept: KeptForm) -> None:
        super().__init__()
        self.kept = kept


class KeepsTypedForm(AsksBeforeQuit):
    """Mixed into a form (instead of :class:`AsksBeforeQuit`, which it is too)."""

    FORM_KIND: ClassVar[str]
    """Which form: ``task``, ``consent``... (one kept form per author, kind, target);
    a form that is of several kinds says which in ``form_kind()``."""

    BINDINGS: ClassVar[list[Any]] = [
        Binding("ctrl+r", "clear_kept_form", "Clear what was kept", show=False,
                id="form.clear_kept"),
    ]

    _kept: KeptForm | None = None
    """The kept form found as this one opened (filled in from it, or not)."""
    _kept_for: tuple[Viewer, Backend, str, int | None] | None = None
    """Whose form this is and what about, read as it opened (the viewer is gone when
    its context closes)."""

    # --- what a form provides ---------------------------------------------------------

    def form_kind(self) -> str:
        return self.FORM_KIND

    def form_target(self) -> tuple[str, int | None]:
        """What the form is about: its target (``form_drafts.case_target``) and case."""
        raise NotImplementedError

    def form_fields(self) -> dict[str, Any]:
        """The fields as typed, as a JSON object (read on the UI thread)."""
        raise NotImplementedError

    def fill_form(self, fields: Mapping[str, Any]) -> None:
        """Put ``fields`` (as ``form_fields`` wrote them; {}: empty) into the form. A
        field that no longer reads (a choice not offered now) is left empty."""
        raise NotImplementedError

    def form_viewer(self) -> Viewer | None:
        raise NotImplementedError

    def form_backend(self) -> Backend:
        raise NotImplementedError

    # --- given back -------------------------------------------------------------------

    def offer_kept_form(self) -> None:
        """As the form opens (``on_mount``): whose it is, and the kept form, if any."""
        viewer = self.form_viewer()
        if viewer is None or viewer.purpose != "individual":
            return
        target, case_id = self.form_target()
        self._kept_for = (viewer, self.form_backend(), target, case_id)
        self._read_kept_form()

    @work(thread=True, exclusive=True, group="kept-form", exit_on_error=False)
    def _read_kept_form(self) -> None:
        if self._kept_for is None:
            return
        viewer, backend, target, _case = self._kept_for
        kept = load_form(backend, viewer, self.form_kind(), target)
        if kept is not None:
            self.post_message(KeptFormRead(kept))

    def on_kept_form_read(self, message: KeptFormRead) -> None:
        message.stop()
        if self.filled_in():
            # Typed into already (or a form given back after a refusal): never written
            # over, and the kept one, never shown, is not this form's to remove: saving
            # or discarding this one leaves it for the next time the form opens empty.
            when = typed_when(message.kept.saved_at)
            self.query_one(KeptFormNote).say(
                f"You also have this form kept from {when}: it fills in the form the "
                "next time it opens empty.")
            return
        self._kept = message.kept
        self.fill_form(message.kept.fields)
        when = typed_when(message.kept.saved_at)
        why = (message.kept.refused or "").rstrip()
        if why and not why.endswith((".", "!", "?")):
            why += "."  # (a refusal's fix without a full stop runs into what follows)
        self.query_one(KeptFormNote).say(
            f"Not saved when the database came back: {why} Filled in "
            f"from what you typed on {when}. ctrl+r clears it."
            if message.kept.refused is not None else
            f"Filled in from what you typed on {when}, before the terminal passed to "
            "someone else. ctrl+r clears it.")

    def action_clear_kept_form(self) -> None:
        if self._kept is None:
            return
        self.fill_form({})
        self.forget_kept_form()
        self.query_one(KeptFormNote).say("Cleared: what you typed before is discarded.")

    def discarded(self) -> None:
        self.forget_kept_form()

    def forget_kept_form(self) -> None:
        """The form was saved, or its author discarded what was typed: a kept form it
        was opened with goes (an app worker: the form is closing)."""
        if self._kept is None or self._kept_for is None:
            return
        kept_at, self._kept = self._kept.saved_at, None
        viewer, backend, target, _case = self._kept_for
        self.app.run_worker(partial(discard_form, backend, viewer, self.form_kind(), target,
                                    kept_at=kept_at),
                            thread=True, group="kept-form", exit_on_error=False)

    def keep_if_refused(self) -> KeepIfRefused | None:
        """What is typed, read now as it is saved: should the database refuse it after
        its author has left the terminal, it is kept for them as this form (None: no
        viewer, or a huddle's form, which is never kept)."""
        viewer = self.form_viewer()
        if viewer is None or viewer.purpose != "individual":
            return None
        target, case_id = self.form_target()
        return KeepIfRefused(viewer, self.form_backend(), self.form_kind(), target, case_id,
                             self.form_fields())

    # --- kept as the context closes -----------------------------------------------------

    def draft_saver(self) -> Callable[[], object] | None:
        """``terminal.SavesDraftsAside``: what is typed, read now, and how to keep it
        (database work only, on another thread). None: nothing typed, or not kept (a
        huddle's form, one that never opened)."""
        if self._kept_for is None or not self.is_mounted or not self.filled_in():
            return None
        viewer, backend, _target, _case = self._kept_for
        target, case_id = self.form_target()  # (a case read since it opened, now known)
        # Given back a kept copy: this form replaces it; else it is kept beside any other.
        replaces = self._kept.saved_at if self._kept is not None else None
        return partial(keep_form, backend, viewer, self.form_kind(), target, self.form_fields(),
                       case_id=case_id, replaces=replaces)
