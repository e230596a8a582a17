"""When the database cannot say who is present after a roster change, the screen counts
everyone either roster counts (``services.huddle.joined_rosters``): never fewer people
than present, so never more shown than all of them may see."""

from __future__ import annotations

import datetime as dt

from anchor_tui.services.huddle import Present, Roster, joined_rosters

AT = dt.datetime(2026, 11, 16, 9, 0, tzinfo=dt.UTC)


def person(user_id: int, minutes: int) -> Present:
    return Present(user_id, f"u{user_id}", f"U {user_id}", "police", "member",
                   AT + dt.timedelta(minutes=minutes))


def roster(*present: Present) -> Roster:
    return Roster(7, 1, AT, present)


def test_a_leave_not_confirmed_keeps_the_leaver_and_a_join_adds_the_joiner() -> None:
    social, nurse, police = person(1, 0), person(2, 1), person(3, 5)
    on_screen = roster(social, nurse)
    after_leave = roster(social)
    after_join = roster(social, nurse, police)
    assert joined_rosters(on_screen, after_leave) == on_screen
    assert joined_rosters(on_screen, after_join) == after_join
    assert joined_rosters(after_leave, after_join).present == (social, nurse, police)


def test_each_person_once_at_their_earliest_join() -> None:
    first, again = person(2, 1), person(2, 9)
    joined = joined_rosters(roster(person(1, 0), again), roster(first))
    assert [(p.user_id, p.joined_at) for p in joined.present] == [
        (1, AT), (2, AT + dt.timedelta(minutes=1))]
