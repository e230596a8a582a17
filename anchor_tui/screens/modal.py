"""A modal question that does database work itself (a form that saves what it asks).

Like :class:`~anchor_tui.screens.base.AnchorScreen`, a failed worker goes to the app's one
error handler, which shows the error modal on top; the form stays open underneath with
everything typed, so the person can correct it or try again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Protocol, TypeVar, cast

from textual.screen import ModalScreen
from textual.worker import Worker, WorkerState

from anchor_tui.domain import Viewer
from anchor_tui.services.backend import Backend

ResultType = TypeVar("ResultType")


class Host(Protocol):
    """What a screen opened from anywhere needs from the app (``AnchorApp``)."""

    backend: Backend
    viewer: Viewer | None
    today: Callable[[], dt.date]


class AnchorModal(ModalScreen[ResultType]):
    """A modal form; its failed workers reach the app's error handler."""

    @property
    def host(self) -> Host:
        return cast(Host, self.app)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            self.app.post_message(Worker.StateChanged(event.worker, event.state))
