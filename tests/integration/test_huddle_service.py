"""The huddle service on SQLite and PostgreSQL: joining by one's own passphrase, the
intersection (checked against ``decide()``), the agenda, decisions and actions (tasks),
the minutes and what they may hold, drafts and break-the-glass never in a huddle."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import stat
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from anchor_tui.db import models as m
from anchor_tui.domain import Attendee, Viewer
from anchor_tui.errors import AnchorError, SignInError
from anchor_tui.services import huddle as service
from anchor_tui.services import huddle_flags, huddle_time
from anchor_tui.services.backend import Backend
from anchor_tui.services.disclosure import load_context, note_facts
from anchor_tui.services.huddle_agenda import huddle_case, read_agenda, visible_items
from anchor_tui.services.minutes import end_huddle
from tests.integration.huddle_world import (
    CASE_B_WORD,
    CASE_C_WORD,
    NOW,
    PASSPHRASE,
    TODAY,
    WORDS,
    HuddleWorld,
    build,
    make_backend,
)


@pytest.fixture
def world(engine: Engine) -> HuddleWorld:
    return build(make_backend(engine))


def at(minutes: float) -> dt.datetime:
    return NOW + dt.timedelta(minutes=minutes)


def started(world: HuddleWorld, starter: str, *others: str) -> tuple[service.Roster, Viewer]:
    """A huddle started by ``starter`` that ``others`` joined, one minute apart."""
    roster = service.start_huddle(world.backend, world.viewers[starter], TODAY, at(0))
    for minute, name in enumerate(others, start=1):
        viewer = service.huddle_viewer(roster, world.viewers[starter])
        roster = service.join_huddle(world.backend, viewer, name, PASSPHRASE, TODAY,
                                     at(minute))
    return roster, service.huddle_viewer(roster, world.viewers[starter])


def events(world: HuddleWorld, *actions: str) -> list[tuple[str, int | None, int | None]]:
    with world.backend.sessions.system("test") as s:
        rows = s.scalars(select(m.AuditEvent).where(m.AuditEvent.action.in_(actions))
                         .order_by(m.AuditEvent.id))
        return [(e.action, e.object_id, e.huddle_id) for e in rows]


def test_an_attendee_joins_only_with_their_own_passphrase(world: HuddleWorld) -> None:
    roster, viewer = started(world, "social")
    assert [p.username for p in roster.present] == ["social"]
    with pytest.raises(SignInError, match="Wrong"):
        service.join_huddle(world.backend, viewer, "nurse", "the social worker's guess",
                            TODAY, at(1))
    with pytest.raises(SignInError, match="Wrong"):  # an unknown name adds nobody either
        service.join_huddle(world.backend, viewer, "nobody", PASSPHRASE, TODAY, at(1))
    with world.backend.sessions.system("test") as s:
        assert s.scalars(select(m.HuddleAttendee)).all()[-1].user_id == roster.present[0].user_id
        nurse = s.scalars(select(m.User).where(m.User.username == "nurse")).one()
        assert nurse.failed_sign_ins == 1 and nurse.retry_after is not None  # counted
        nurse.retry_after = None
    roster = service.join_huddle(world.backend, viewer, "nurse", PASSPHRASE, TODAY, at(2))
    assert [p.username for p in roster.present] == ["social", "nurse"]
    assert roster.professions() == ("social_work", "health")
    with pytest.raises(AnchorError, match="in the huddle already"):
        service.join_huddle(world.backend, viewer, "nurse", PASSPHRASE, TODAY, at(3))
    ids = [world.viewers[n].user_id for n in ("social", "nurse")]
    assert events(world, "huddle.join") == [("huddle.join", i, roster.huddle_id) for i in ids]


def _allowed_for_each(world: HuddleWorld, audience: tuple[Attendee, ...],
                      case_id: int) -> set[int]:
    """Notes of the case that decide() allows to every attendee on their own."""
    backend = world.backend
    by_id = {v.user_id: v for v in world.viewers.values()}
    with backend.sessions.system("test") as s:
        notes = s.scalars(select(m.Note).where(m.Note.case_id == case_id)).all()
        person_id = s.get(m.Case, case_id).person_id  # type: ignore[union-attr]
        ctx = load_context(s, [case_id], NOW)
    return {note.id for note in notes
            if all(backend.policy.decide(by_id[who.user_id], note_facts(note, person_id),
                                         ctx).allowed for who in audience)}


@pytest.mark.parametrize("names", [("social", "nurse"), ("social", "police"),
                                   ("nurse", "youth", "social"), ("police", "nurse", "youth")])
def test_the_huddle_sees_the_intersection_of_what_each_may_see(
        world: HuddleWorld, names: tuple[str, ...]) -> None:
    _, viewer = started(world, *names)
    for case_id in (world.case_a, world.case_b, world.case_c):
        try:
            shown = {n.note_id for n in huddle_case(world.backend, viewer, case_id,
                                                    at(10)).record.notes.notes}
        except AnchorError:
            shown = set()
        expected = _allowed_for_each(world, viewer.audience, case_id)
        assert shown == expected
    # Each joiner narrows: what three see is within what two saw.
    if len(names) == 3:
        _, two = started(world, *names[:2])
        fewer = {n.note_id for n in huddle_case(world.backend, viewer, world.case_a,
                                                at(10)).record.notes.notes}
        more = {n.note_id for n in huddle_case(world.backend, two, world.case_a,
                                               at(10)).record.notes.notes}
        assert fewer <= more


def test_police_intelligence_never_shows_even_to_a_police_only_huddle(
        world: HuddleWorld) -> None:
    _, viewer = started(world, "police")
    shown = {n.note_id for n in huddle_case(world.backend, viewer, world.case_a,
                                            at(5)).record.notes.notes}
    assert world.notes["police_intel"] not in shown
    assert world.notes["general"] in shown


def test_drafts_and_break_the_glass_never_show_in_a_huddle(world: HuddleWorld) -> None:
    roster, viewer = started(world, "social", "nurse")
    with world.backend.sessions.system("test") as s:
        s.add(m.Draft(author_id=world.viewers["social"].user_id, case_id=world.case_a,
                      category="general", body="unsaved draft text"))
    glass = dataclasses.replace(viewer, break_glass=True)
    with world.backend.sessions.read(glass, NOW) as s:
        assert s.scalars(select(m.Draft)).all() == []
    assert service.huddle_viewer(roster, dataclasses.replace(
        world.viewers["social"], break_glass=True)).break_glass is False
    plain = {n.note_id for n in huddle_case(world.backend, viewer, world.case_a,
                                            at(5)).record.notes.notes}
    broken = {n.note_id for n in huddle_case(world.backend, glass, world.case_a,
                                             at(5)).record.notes.notes}
    assert broken == plain  # the break-glass rule does not hold in a huddle


def test_an_empty_huddle_sees_nothing(world: HuddleWorld) -> None:
    roster, viewer = started(world, "social", "nurse")
    assert read_agenda(world.backend, viewer, TODAY)
    for who in roster.present:
        roster = service.leave_huddle(world.backend, viewer, who.user_id, at(5))
        viewer = service.huddle_viewer(roster, world.viewers["social"])
    assert roster.present == () and viewer.audience == ()
    assert read_agenda(world.backend, viewer, TODAY) == ()
    assert visible_items(world.backend, viewer, None, viewer.audience, at(6)) == ()
    with pytest.raises(AnchorError, match="nobody present"):
        huddle_case(world.backend, viewer, world.case_a, at(6))
    with world.backend.sessions.read(viewer, NOW) as s:
        assert s.scalars(select(m.Note)).all() == [] and s.scalars(select(m.Task)).all() == []
    with pytest.raises(AnchorError, match="Nobody is present"):
        service.add_decision(world.backend, viewer, world.case_a, "anything", at(7))
    assert [a for a, _, _ in events(world, "huddle.leave")] == ["huddle.leave"] * 2


def test_the_agenda_comes_from_the_queue_and_grows_as_people_join(world: HuddleWorld) -> None:
    _, viewer = started(world, "police")
    agenda = read_agenda(world.backend, viewer, TODAY)
    # New notification (B), the police's review due (A), the flagged case (C).
    assert [e.case_id for e in agenda] == [world.case_b, world.case_a, world.case_c]
    reasons = {e.case_id: e.reasons for e in agenda}
    assert reasons[world.case_b] == ("New notification",)
    assert reasons[world.case_a] == ((TODAY + dt.timedelta(days=2)).strftime(
        "Review on %Y-%m-%d"),)
    assert "Flagged for the huddle" in reasons[world.case_c]
    assert agenda[0].person_label == "Bertta Bojaani"
    huddle_time.time_recorder(world.backend, viewer, world.case_b, 75)()
    assert read_agenda(world.backend, viewer, TODAY)[0].seconds_spent == 75


def test_decisions_and_actions_become_items_and_tasks(world: HuddleWorld) -> None:
    _, viewer = started(world, "social", "nurse")
    nurse = world.viewers["nurse"].user_id
    service.add_decision(world.backend, viewer, world.case_a, "Meet the family", at(3))
    service.add_action(world.backend, viewer, world.case_a, "Call the school", nurse,
                       TODAY + dt.timedelta(days=7), TODAY, at(4))
    with pytest.raises(AnchorError, match="works the case"):
        service.add_action(world.backend, viewer, world.case_b, "Someone else's case",
                           nurse, TODAY, TODAY, at(5))
    with pytest.raises(AnchorError, match="past"):
        service.add_action(world.backend, viewer, world.case_a, "Too late", nurse,
                           TODAY - dt.timedelta(days=1), TODAY, at(5))
    with pytest.raises(AnchorError, match="empty"):
        service.add_decision(world.backend, viewer, world.case_a, "   ", at(5))
    items = huddle_case(world.backend, viewer, world.case_a, at(6)).items
    assert [(i.kind, i.text, i.assignee, i.due) for i in items] == [
        ("decision", "Meet the family", None, None),
        ("action", "Call the school", "Nurse Worker", TODAY + dt.timedelta(days=7))]
    with world.backend.sessions.system("test") as s:
        task = s.scalars(select(m.Task).where(m.Task.title == "Call the school")).one()
        assert (task.assignee_id, task.due, task.case_id) == (
            nurse, TODAY + dt.timedelta(days=7), world.case_a)
        assert s.scalars(select(m.HuddleItem.task_id).where(
            m.HuddleItem.kind == "action")).one() == task.id


def test_a_decision_is_shown_later_only_to_those_who_could_see_its_case(
        world: HuddleWorld) -> None:
    roster, viewer = started(world, "social", "nurse")
    service.add_decision(world.backend, viewer, world.case_a, "Over the health note", at(3))
    service.add_decision(world.backend, viewer, world.case_b, "On the new notification",
                         at(3))
    # The youth worker joins: they may not see case A's health note (no consent for youth
    # work), which the two saw when deciding; case B showed the two nothing they lack.
    youth = world.viewers["youth"]
    roster = service.join_huddle(world.backend, viewer, youth.username, PASSPHRASE, TODAY,
                                 at(4))
    three = service.huddle_viewer(roster, world.viewers["social"])
    assert [i.text for i in huddle_case(world.backend, three, world.case_a, at(5)).items] \
        == []
    assert [i.text for i in huddle_case(world.backend, three, world.case_b, at(5)).items] \
        == ["On the new notification"]
    # ...and the two who were there still see both once the youth worker leaves.
    roster = service.leave_huddle(world.backend, three, youth.user_id, at(6))
    two = service.huddle_viewer(roster, world.viewers["social"])
    assert [i.text for i in huddle_case(world.backend, two, world.case_a, at(7)).items] \
        == ["Over the health note"]


def test_the_minutes_hold_only_what_everyone_present_could_see(
        world: HuddleWorld, tmp_path: Path) -> None:
    roster, viewer = started(world, "social", "nurse")
    service.add_decision(world.backend, viewer, world.case_a, "Kept between two", at(3))
    huddle_time.time_recorder(world.backend, viewer, world.case_a, 130)()
    roster = service.join_huddle(world.backend, viewer, "youth", PASSPHRASE, TODAY, at(4))
    viewer = service.huddle_viewer(roster, world.viewers["social"])
    hostile = "Phone [the school](javascript:alert(1)) <b>now</b> \x1b]52;c;SGk=\x07 \u202eok"
    service.add_action(world.backend, viewer, world.case_c, hostile, None, TODAY, TODAY,
                       at(5))
    huddle_time.time_recorder(world.backend, viewer, world.case_c, 40)()
    ended = end_huddle(world.backend, viewer, tmp_path / "minutes", TODAY, at(8))
    text = ended.minutes
    assert ended.path is not None and ended.path.read_text() == text
    assert stat.S_IMODE(ended.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(ended.path.parent.stat().st_mode) == 0o700
    assert "Kept between two" not in text  # typed over a note the youth worker may not see
    assert "Aino Ankkuri" in text and "Cecilia Celsius" in text
    assert "2 min 10 s" in text and "40 s" in text
    assert "Social work: Social Worker" in text and "Youth work: Youth Worker" in text
    for word in (*WORDS.values(), CASE_B_WORD, CASE_C_WORD):
        assert word not in text  # notes never go into the minutes
    # The hostile action is there, inert: no link, no HTML, no escape code, no override.
    assert "\\[the school\\]\\(javascript\\:alert\\(1\\)\\)" in text
    assert "\\<b\\>" in text and "\x1b" not in text and "\u202e" not in text
    assert "\\\\x1b" in text and "\\\\u202e" in text
    assert "Not reached: 1 case on the agenda." in text  # case B
    with world.backend.sessions.system("test") as s:
        huddle = s.get(m.Huddle, roster.huddle_id)
        assert huddle is not None and huddle.minutes == text and huddle.ended_at is not None
        assert all(a.left_at is not None for a in s.scalars(select(m.HuddleAttendee)))
        flag = s.scalars(select(m.HuddleFlag)).one()
        assert flag.cleared_in_huddle_id == roster.huddle_id  # case C was discussed
    assert len(events(world, "huddle.leave")) == 3
    with pytest.raises(AnchorError, match="ended"):
        service.add_decision(world.backend, viewer, world.case_a, "Too late", at(9))


def test_retention_erases_a_case_from_the_stored_minutes_and_their_file(
        world: HuddleWorld, tmp_path: Path) -> None:
    from anchor_tui.services import retention

    roster, viewer = started(world, "social", "nurse")
    service.add_decision(world.backend, viewer, world.case_a, "Decision kept AQZ", at(2))
    service.add_decision(world.backend, viewer, world.case_c, "Decision erased CQZ", at(3))
    huddle_time.time_recorder(world.backend, viewer, world.case_a, 60)()
    huddle_time.time_recorder(world.backend, viewer, world.case_c, 60)()
    ended = end_huddle(world.backend, viewer, tmp_path / "minutes", TODAY, at(8))
    assert ended.path is not None
    assert "Decision erased CQZ" in ended.minutes and "Cecilia Celsius" in ended.minutes
    with world.backend.sessions.system("test: close case C") as s:
        case_c = s.get(m.Case, world.case_c)
        assert case_c is not None
        case_c.stage, case_c.closed_reason = "closed", "declined"
        case_c.closed_at = at(10)
    later = at(10) + dt.timedelta(days=400)
    plans = retention.plan(world.backend, later)
    assert [p.case_id for p in plans if p.case_content] == [world.case_c]
    retention.apply(world.backend, plans, later, minutes_dir=tmp_path / "minutes")
    with world.backend.sessions.system("test") as s:
        huddle = s.get(m.Huddle, roster.huddle_id)
        assert huddle is not None and huddle.minutes is not None
        stored = huddle.minutes
    for text in (stored, ended.path.read_text()):
        assert "Decision kept AQZ" in text and "Aino Ankkuri" in text
        assert "Decision erased CQZ" not in text and "Cecilia" not in text
        assert f"Rebuilt {later.astimezone().date().isoformat()}" in text


def test_minutes_name_cases_as_every_attendee_may_see_them(engine: Engine,
                                                           tmp_path: Path) -> None:
    from anchor_tui.policy import load_policy
    from anchor_tui.services.backend import Backend
    from anchor_tui.settings import PACKAGE_CONFIG_DIR

    policy_text = (PACKAGE_CONFIG_DIR / "disclosure.yaml").read_text().replace(
        "youth_work: [person_name, municipality, summary, lead, members]",
        "youth_work: [municipality, summary, lead, members]")
    default = make_backend(engine)
    backend = Backend.from_engine(engine, load_policy(
        PACKAGE_CONFIG_DIR / "disclosure.yaml", team=default.team, text=policy_text),
        default.team)
    world = build(backend)
    _, viewer = started(world, "social", "youth")
    labels = [e.person_label for e in read_agenda(backend, viewer, TODAY)]
    assert "A. A." in labels and "Aino Ankkuri" not in labels
    huddle_time.time_recorder(backend, viewer, world.case_a, 10)()
    text = end_huddle(backend, viewer, tmp_path, TODAY, at(3)).minutes
    assert "A\\. A\\." in text and "Ankkuri" not in text


def test_a_flag_is_set_to_what_is_wanted(world: HuddleWorld) -> None:
    """``!`` is saved as "set to": made twice (a retry after a lost answer) it stays as
    wanted, never taken away by itself."""
    police = world.viewers["police"]
    assert huddle_flags.flagged_now(world.backend, police, world.case_a) is False
    assert huddle_flags.set_flag(world.backend, police, world.case_a, True) is True
    assert huddle_flags.set_flag(world.backend, police, world.case_a, True) is True
    assert huddle_flags.flagged_now(world.backend, police, world.case_a) is True
    assert huddle_flags.set_flag(world.backend, police, world.case_a, False) is False
    assert huddle_flags.set_flag(world.backend, police, world.case_a, False) is False
    assert huddle_flags.flagged_now(world.backend, police, world.case_c) is True  # seeded flag
    assert huddle_flags.set_flag(world.backend, police, world.case_c, False) is False
    with world.backend.sessions.system("test") as s:
        assert s.scalars(select(m.HuddleFlag)).all() == []


def test_rosters_in_every_order_never_show_more_than_each_may_see(world: HuddleWorld) -> None:
    names = ["police", "social", "nurse", "youth"]
    for size in (2, 3):
        for group in itertools.combinations(names, size):
            _, viewer = started(world, *group)
            shown = {n.note_id for n in huddle_case(world.backend, viewer, world.case_a,
                                                    at(9)).record.notes.notes}
            assert shown == _allowed_for_each(world, viewer.audience, world.case_a)


def test_the_minutes_name_no_assignee_that_someone_ever_present_may_not_see(
        world: HuddleWorld, tmp_path: Path) -> None:
    """The minutes are for everyone who was present: an action's assignee and due date
    are read for all of them, not for those left at the end (social alone here, who may
    see the task; youth work and the police, present before, may not: not members of
    case C, not its assignee or creator; the screen said "nobody assigned" then)."""
    social, nurse = world.viewers["social"], world.viewers["nurse"]
    roster = service.start_huddle(world.backend, social, TODAY, at(0))
    viewer = service.huddle_viewer(roster, social)
    roster = service.join_huddle(world.backend, viewer, "youth", PASSPHRASE, TODAY, at(1))
    viewer = service.huddle_viewer(roster, social)
    service.add_action(world.backend, viewer, world.case_c, "Phone the school", nurse.user_id,
                       TODAY + dt.timedelta(days=9), TODAY, at(2))
    for minute, name in ((3, "youth"), (4, "police"), (5, "police")):
        if minute == 4:
            roster = service.join_huddle(world.backend, viewer, name, PASSPHRASE, TODAY,
                                         at(minute))
        else:
            roster = service.leave_huddle(world.backend, viewer,
                                          world.viewers[name].user_id, at(minute))
        viewer = service.huddle_viewer(roster, social)
    alone = {i.text: (i.assignee, i.due) for i in visible_items(
        world.backend, viewer, [world.case_c], (Attendee(social.user_id, social.profession),),
        at(6))}
    assert alone["Phone the school"] == ("Nurse Worker", TODAY + dt.timedelta(days=9))
    text = end_huddle(world.backend, viewer, tmp_path, TODAY, at(6)).minutes
    assert "Phone the school" in text
    assert "Nurse Worker" not in text
    assert (TODAY + dt.timedelta(days=9)).isoformat() not in text


def _memberless_youth(engine: Engine) -> Backend:
    """The shipped policy, but youth work sees neither a case's members nor its lead."""
    from anchor_tui.policy import load_policy
    from anchor_tui.settings import PACKAGE_CONFIG_DIR

    shipped = (PACKAGE_CONFIG_DIR / "disclosure.yaml").read_text(encoding="utf-8")
    text = shipped.replace("youth_work: [person_name, municipality, summary, lead, members]",
                           "youth_work: [person_name, municipality, summary]")
    assert text != shipped
    default = make_backend(engine)
    return Backend.from_engine(engine, load_policy(
        PACKAGE_CONFIG_DIR / "disclosure.yaml", team=default.team, text=text), default.team)


def _chaired(world: HuddleWorld, chair: str, *others: str) -> Viewer:
    roster = service.start_huddle(world.backend, world.viewers[chair], TODAY, at(0))
    for minute, name in enumerate(others, start=1):
        roster = service.join_huddle(world.backend, service.huddle_viewer(
            roster, world.viewers[chair]), name, PASSPHRASE, TODAY, at(minute))
    return service.huddle_viewer(roster, world.viewers[chair])


def test_where_the_room_may_not_see_who_works_a_case_nothing_depends_on_it(
        engine: Engine) -> None:
    """Under a policy where youth work sees no members or leads, a huddle with youth work
    present is not told whom its chair works with: its agenda's reviews do not follow
    the chair's cases (they are every open case's), and the task form offers the chair
    on no case rather than on exactly the chair's."""
    from anchor_tui.services.tasks import task_form

    world = build(_memberless_youth(engine))
    with world.backend.sessions.system("test: case D, the nurse's alone, due soon") as s:
        person = m.Person(first_name="Daniel", last_name="Dahlia")
        s.add(person)
        s.flush()
        case_d = m.Case(person_id=person.id, category="substance_use", stage="assessment",
                        next_review=TODAY + dt.timedelta(days=2))
        s.add(case_d)
        s.flush()
        s.add(m.CaseMember(case_id=case_d.id, user_id=world.viewers["nurse"].user_id,
                           valid_from=TODAY - dt.timedelta(days=10)))
    agendas = []
    for chair in ("nurse", "police"):
        room = _chaired(world, chair, "youth")
        assert not world.backend.policy.case_fields(room) & {"members", "lead"}
        agendas.append({e.case_id for e in read_agenda(world.backend, room, TODAY)})
        forms = [task_form(world.backend, room, case, TODAY) for case in
                 (world.case_c, world.case_b)]  # the nurse works C, not B
        assert all(f.members == () and f.default_assignee is None for f in forms), chair
    assert agendas[0] == agendas[1]


def test_a_consent_withdrawn_later_does_not_open_an_earlier_decision(
        world: HuddleWorld) -> None:
    """What the room saw when a decision was typed is read as of then: social work and
    health decided over the health note (social work sees it by consent); the consent is
    then withdrawn; youth work, who may not see the note, joins and must not be shown
    the decision (as when no consent changed)."""
    from anchor_tui.services.huddle_agenda import huddle_case

    social = world.viewers["social"]
    roster = service.start_huddle(world.backend, social, TODAY, at(0))
    viewer = service.huddle_viewer(roster, social)
    roster = service.join_huddle(world.backend, viewer, "nurse", PASSPHRASE, TODAY, at(1))
    viewer = service.huddle_viewer(roster, social)
    shown = {n.note_id for n in huddle_case(world.backend, viewer, world.case_a,
                                            at(2)).record.notes.notes}
    assert world.notes["health"] in shown  # on screen while deciding
    service.add_decision(world.backend, viewer, world.case_a, "Over the health note", at(3))
    with world.backend.sessions.system("test: the young person withdraws") as s:
        (consent,) = s.scalars(select(m.Consent)).all()
        consent.withdrawn_at = at(4)
    roster = service.join_huddle(world.backend, viewer, "youth", PASSPHRASE, TODAY, at(5))
    three = service.huddle_viewer(roster, social)
    assert [i.text for i in huddle_case(world.backend, three, world.case_a, at(6)).items] \
        == []
    assert [i.text for i in huddle_case(world.backend, viewer, world.case_a, at(6)).items] \
        == ["Over the health note"]  # the two who decided still see it
