"""The error log names no young person: not even through an ``AnchorError``.

An ``AnchorError``'s message is written for the person who met it, and an edit
conflict's names the young person ("Aino A.'s case was changed by someone else"). The
log wrote those messages: client names in a file kept for months. Now the log keeps the
error's class and its category (the class's fixed title), never its message; the error
modal still tells the person what happened. A crash by such an error prints one line on
the terminal, without the message or a local variable.
"""

from __future__ import annotations

import pytest
from textual.binding import Binding

from anchor_tui.app import AnchorApp, crash_line
from anchor_tui.crashlog import LOG_NAME, describe
from anchor_tui.db import models as m
from anchor_tui.errors import ConflictError
from anchor_tui.screens import ErrorScreen
from anchor_tui.services.backend import Backend
from anchor_tui.settings import Settings
from tests.ui.asking import confirm
from tests.ui.conftest import AppFactory, board_for, focused_card, settle, sign_in

NAME = "Vilja Kestrelsson"
"""A young person's name, in an error's message and in a local variable."""


async def test_an_edit_conflict_is_logged_without_the_young_persons_name(
        make_app: AppFactory, demo_backend: Backend, demo_settings: Settings) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await board_for(app, pilot, "social")
        card = focused_card(app)
        with demo_backend.sessions.system("test: another terminal") as s:
            case = s.get(m.Case, card.case_id)
            assert case is not None
            case.priority = 3  # changed meanwhile: the move below conflicts
        await pilot.press("greater_than_sign")
        await confirm(pilot, yes=True)
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, ErrorScreen)
        assert card.person_label in modal.error_message  # told to the person who moved it
    entry = (demo_settings.log_dir / LOG_NAME).read_text()
    assert card.person_label not in entry
    assert card.person_label.split()[0] not in entry
    assert "changed by someone else" not in entry and "Nothing was changed" not in entry
    assert "anchor_tui.errors.ConflictError" in entry
    assert "category: Changed by someone else" in entry


class ConflictCrashApp(AnchorApp):
    """A test key that fails, outside any worker, with a name in the message and a local."""

    BINDINGS = [Binding("f9", "crash", "Crash", id="test.crash")]  # noqa: RUF012

    def action_crash(self) -> None:
        young_person = NAME
        raise ConflictError(f"{young_person}'s case was changed by someone else.",
                            f"Read {young_person}'s case again.")


async def test_a_crash_by_an_anchor_error_shows_one_line_and_logs_no_name(
        make_app: AppFactory, demo_settings: Settings,
        capsys: pytest.CaptureFixture[str]) -> None:
    app = make_app(ConflictCrashApp)
    with pytest.raises(ConflictError):  # run_test re-raises it for the test
        async with app.run_test(size=(100, 30)) as pilot:
            await sign_in(pilot, "nurse")
            await pilot.press("f9")
            await pilot.pause()
    log = demo_settings.log_dir / LOG_NAME
    out, err = capsys.readouterr()
    assert err.strip() == crash_line(log)
    assert NAME not in out + err and "young_person" not in out + err
    assert "Traceback" not in out + err
    entry = log.read_text()
    assert NAME not in entry and "young_person" not in entry
    assert "ConflictError" in entry and "action_crash" in entry


def test_the_category_is_the_classs_never_an_instances() -> None:
    error = ConflictError(f"{NAME}'s case was changed.", f"Ask {NAME}.")
    error.title = NAME  # an instance's own "title" is not the class's category
    try:
        raise error
    except ConflictError as raised:
        entry = describe(raised)
    assert NAME not in entry
    assert "category: Changed by someone else" in entry
