"""A kept form is given back only on the very thing it was typed over.

A task typed over a note is saved with that note, and shown only to whoever may read
it (its category). Kept at a takeover, it must not come back over a note of another
category on the same case: saved there, words typed for the nurses alone would reach
every profession that may read the other note.
"""

from __future__ import annotations

from textual.widgets import Input

from anchor_tui.app import AnchorApp
from anchor_tui.screens.kept_form import KeptFormNote
from anchor_tui.screens.task_form import TaskFormScreen
from anchor_tui.services.backend import Backend
from tests.ui.conftest import AppFactory, settle, sign_in
from tests.ui.test_forms_kept_at_takeover import back_as, kept_forms, take_over
from tests.ui.test_note_editor import CASE, until

HEALTH_TASK = "Ask about the new medication and the clinic's dose plan"


async def _over_note(app: AnchorApp, pilot: object, category: str) -> TaskFormScreen:
    form = TaskFormScreen(CASE, note_category=category, viewer=app.viewer,
                          backend=app.backend)
    await app.push_screen(form)
    await settle(pilot)  # type: ignore[arg-type]
    return form


async def test_a_task_kept_over_a_health_note_is_not_given_back_over_a_general_one(
        make_app: AppFactory, demo_backend: Backend) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, "nurse")
        form = await _over_note(app, pilot, "health")
        form.query_one("#task-title", Input).value = HEALTH_TASK
        await take_over(app, pilot)
        assert len(kept_forms(demo_backend, "nurse")) == 1
        await back_as(app, pilot, "nurse")
        form = await _over_note(app, pilot, "general")
        await settle(pilot)
        assert form.query_one("#task-title", Input).value == ""
        assert not form.query_one(KeptFormNote).has_class("said")
        await pilot.press("escape")
        await settle(pilot)
        # Over a health note again, it is given back.
        form = await _over_note(app, pilot, "health")
        await until(pilot, lambda: form.query_one("#task-title", Input).value == HEALTH_TASK)


async def test_a_kept_task_never_shown_is_not_discarded_by_saving_another(
        make_app: AppFactory, demo_backend: Backend) -> None:
    """A form that opens already filled in (a refused task given back) is never filled
    from the kept one: saving it must not throw the kept words away unseen."""
    from anchor_tui.screens.task_form import TypedTask
    from tests.ui.test_forms_kept_at_takeover import TITLE, typed_task_taken_over

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await typed_task_taken_over(app, pilot)  # social's task kept at a takeover
        await back_as(app, pilot, "social")
        form = TaskFormScreen(CASE, again=TypedTask("Another task", None, None,
                                                    "Not saved: the case had changed."))
        await app.push_screen(form)
        await settle(pilot)
        assert form.query_one("#task-title", Input).value == "Another task"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: not form.is_attached)
        await settle(pilot)
        assert [fields["title"] for _k, _t, fields in kept_forms(demo_backend, "social")] \
            == [TITLE]
