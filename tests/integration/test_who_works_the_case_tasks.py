"""The "mark a task done" picker (``tasks.open_tasks``, "title · assignee") and a task's
conflict name its assignee, who works the case, only to a profession that may see who
works it: as the case view's task list does."""

from __future__ import annotations

from sqlalchemy import Engine

from anchor_tui.services.case_view import open_case
from anchor_tui.services.tasks import open_tasks
from tests.integration.case_world import NOW, build, make_backend
from tests.integration.test_who_works_the_case import NAMELESS, SHIPPED


def test_open_tasks_do_not_name_members_to_a_profession_without_members(
        engine: Engine) -> None:
    text = open(make_backend(engine).policy.path, encoding="utf-8").read()  # noqa: SIM115
    world = build(make_backend(engine, text.replace(SHIPPED, NAMELESS)))
    youth = world.viewers["youth"]
    record = open_case(world.backend, youth, world.case_a, now=NOW)
    assert record.members is None
    hidden = world.viewers["social"].display_name
    assert hidden not in {t.assignee for t in record.tasks}  # the case view holds it back
    named = {t.assignee for t in open_tasks(world.backend, youth, world.case_a)}
    assert hidden not in named, f"open_tasks names a case member: {named}"


def test_a_task_conflict_does_not_name_the_assignee(engine: Engine) -> None:
    from anchor_tui.errors import AnchorError
    from anchor_tui.services.case_actions import assign_task

    text = open(make_backend(engine).policy.path, encoding="utf-8").read()  # noqa: SIM115
    world = build(make_backend(engine, text.replace(SHIPPED, NAMELESS)))
    youth = world.viewers["youth"]
    hidden = world.viewers["social"].display_name
    task = open_tasks(world.backend, youth, world.case_a)[0]
    try:
        assign_task(world.backend, youth, task.task_id, task.version + 7, youth.user_id, NOW.date())
    except AnchorError as error:
        said = f"{error.message} {error.fix}"
    else:
        raise AssertionError("no conflict")
    assert hidden not in said, said
