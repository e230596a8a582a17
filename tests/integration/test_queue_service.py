"""The triage queue on a hand-made team with a fixed day, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from anchor_tui.domain import QueueSection
from anchor_tui.services.case_actions import snooze_case
from anchor_tui.services.queue import queue_sections
from tests.integration.board_world import TODAY, backend_for, build_world, days


def by_id(sections: tuple[QueueSection, ...]) -> dict[str, QueueSection]:
    return {section.id: section for section in sections}


def case_ids(section: QueueSection) -> list[int]:
    return [item.case_id for item in section.items]


def test_queue_sections_for_the_social_worker(engine: Engine) -> None:
    backend = backend_for(engine)
    world = build_world(backend)
    c = world.cases
    sections = by_id(queue_sections(backend, world.users["social"], TODAY))
    assert list(sections) == ["to_screen", "my_tasks", "input_asked", "consents_expiring",
                              "reviews_due"]
    # Not screened yet, in the first stage; the screened one is not there.
    assert case_ids(sections["to_screen"]) == [c["new"]]
    assert sections["to_screen"].total == 1
    # Overdue first, then by due date; done tasks never.
    tasks = sections["my_tasks"]
    assert [i.what for i in tasks.items] == ["Task overdue", "Task elsewhere", "Task upcoming"]
    assert [i.overdue for i in tasks.items] == [True, False, False]
    assert tasks.total == 3
    assert tasks.items[0].task_id == world.tasks["overdue"]
    # Input asked of health, not of social work.
    assert sections["input_asked"].total == 0
    assert "Social work" in sections["input_asked"].label
    # The consent ending in 5 days on a case social works; the one in 40 days is not.
    consents = sections["consents_expiring"]
    assert case_ids(consents) == [c["asked"]] and consents.items[0].due == days(5)
    assert "Health to Social work" in consents.items[0].what
    # Reviews within 7 days on cases social works or leads, overdue first; the snoozed
    # case is hidden until its day, the one whose snooze ended today is back; the closed
    # case and police's own case are not social's.
    reviews = sections["reviews_due"]
    assert case_ids(reviews) == [c["mine"], c["woke"]]
    assert [i.overdue for i in reviews.items] == [True, False]


def test_queue_for_the_nurse_shows_input_asked_of_health(engine: Engine) -> None:
    backend = backend_for(engine)
    world = build_world(backend)
    sections = by_id(queue_sections(backend, world.users["nurse"], TODAY))
    asked = sections["input_asked"]
    assert asked.total == 1 and case_ids(asked) == [world.cases["asked"]]
    assert "Is a health check needed?" in asked.items[0].what  # the answered one is gone
    assert sections["my_tasks"].total == 0
    # The nurse works "asked": its review is 10 days away, not due.
    assert sections["reviews_due"].total == 0


def test_snoozing_hides_a_case_from_my_queue_only(engine: Engine) -> None:
    backend = backend_for(engine)
    world = build_world(backend)
    social, nurse = world.users["social"], world.users["nurse"]
    snooze_case(backend, social, world.cases["asked"], days(7), "waiting for the family",
                TODAY)
    mine = by_id(queue_sections(backend, social, TODAY))
    assert mine["consents_expiring"].total == 0
    theirs = by_id(queue_sections(backend, nurse, TODAY))
    assert theirs["input_asked"].total == 1  # the nurse's queue is the nurse's
    later = by_id(queue_sections(backend, social, days(7)))  # the day has come
    assert world.cases["asked"] in case_ids(later["reviews_due"])


@pytest.mark.parametrize("bad", ["", "   "])
def test_snooze_needs_a_reason_and_a_later_day(engine: Engine, bad: str) -> None:
    from anchor_tui.errors import AnchorError

    backend = backend_for(engine)
    world = build_world(backend)
    with pytest.raises(AnchorError, match="reason"):
        snooze_case(backend, world.users["social"], world.cases["mine"], days(3), bad, TODAY)
    with pytest.raises(AnchorError, match="after today"):
        snooze_case(backend, world.users["social"], world.cases["mine"], TODAY, "x", TODAY)


def test_tasks_in_the_queue_pass_the_disclosure_filter(engine: Engine) -> None:
    """With a policy that shows tasks to case members only, a task assigned to social on
    a case social does not work is neither listed nor counted."""
    backend = backend_for(engine, tasks_only_to_members=True)
    world = build_world(backend)
    tasks = by_id(queue_sections(backend, world.users["social"], TODAY))["my_tasks"]
    assert [i.what for i in tasks.items] == ["Task overdue", "Task upcoming"]
    assert tasks.total == 2


def test_a_huddle_has_no_queue(engine: Engine) -> None:
    import dataclasses

    backend = backend_for(engine)
    world = build_world(backend)
    huddle = dataclasses.replace(world.users["social"], purpose="huddle", attendees=())
    assert all(s.total == 0 and not s.items for s in queue_sections(backend, huddle, TODAY))


def test_a_section_reads_as_many_items_as_asked_and_counts_them_all(engine: Engine) -> None:
    backend = backend_for(engine)
    world = build_world(backend)
    social = world.users["social"]
    sections = by_id(queue_sections(backend, social, TODAY, per_section=1,
                                    limits={"my_tasks": 2}))
    assert [i.what for i in sections["my_tasks"].items] == ["Task overdue", "Task elsewhere"]
    assert sections["my_tasks"].total == 3
    assert len(sections["reviews_due"].items) == 1 and sections["reviews_due"].total == 2


def test_a_long_section_is_counted_up_to_its_limit(engine: Engine,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Counting stops one past the limit, and the bar says "limit+"."""
    from anchor_tui import domain
    from anchor_tui.services import queue as queue_service
    from anchor_tui.widgets.queue_list import count_text

    backend = backend_for(engine)
    world = build_world(backend)
    for module in (domain, queue_service):
        monkeypatch.setattr(module, "QUEUE_COUNT_AT_MOST", 2)
    monkeypatch.setattr("anchor_tui.widgets.queue_list.QUEUE_COUNT_AT_MOST", 2)
    tasks = by_id(queue_sections(backend, world.users["social"], TODAY))["my_tasks"]
    assert tasks.total == 3 and tasks.many  # three tasks wait: counted as "more than 2"
    assert [i.what for i in tasks.items] == ["Task overdue", "Task elsewhere", "Task upcoming"]
    assert count_text(tasks.total) == "2+" and count_text(2) == "2"
