"""Many terminals editing the same cases and tasks at once lose no update.

Eight processes (each its own engine and connections, like eight terminals) make 500
edits each on the same three cases and two tasks: read the case (or task) as the board
or queue shows it, then change it from that version. Every edit must end either
applied or as a conflict the person is shown, and the database must hold exactly the
applied ones: each case's version grew by one per applied move, its history has one
stage event per applied move, and each event starts from the stage the previous one
ended in (a lost update would break that chain). Run on PostgreSQL (500 edits per
process) and on SQLite (100 per process: its writers queue on one file).

Also: a real deadlock between two units of work is retried, and both changes land.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import pytest
from sqlalchemy import Engine, select

from anchor_tui.db.engine import make_engine
from anchor_tui.db.models import Case, CaseEvent, CaseMember, Person, Task, User
from anchor_tui.db.retry import retry_transient
from anchor_tui.errors import ConflictError
from anchor_tui.policy import load_policy
from anchor_tui.services.auth import viewer_for
from anchor_tui.services.backend import Backend
from anchor_tui.services.case_actions import assign_task, case_ref, move_stage
from anchor_tui.services.users import ensure_team_users
from anchor_tui.settings import DEMO_PASSPHRASE, PACKAGE_CONFIG_DIR, load_team_config

PROCESSES = 8
CASES = 3
TASKS = 2
MEMBERS = ("police", "social", "nurse", "youth")
TODAY = dt.date.today()
YESTERDAY = TODAY - dt.timedelta(days=1)


def _backend(url: str) -> Backend:
    team = load_team_config(None)
    return Backend.from_engine(make_engine(url),
                               load_policy(PACKAGE_CONFIG_DIR / "disclosure.yaml", team=team),
                               team)


@dataclass(frozen=True)
class Shared:
    case_ids: tuple[int, ...]
    task_ids: tuple[int, ...]
    member_ids: tuple[int, ...]
    start_stage: str


def _prepare(engine: Engine) -> Shared:
    """The team, three cases all four professions work, two tasks."""
    backend = _backend(engine.url.render_as_string(hide_password=False))
    ensure_team_users(backend, DEMO_PASSPHRASE)
    with backend.sessions.system("test: the shared cases") as s:
        ids = {u.username: u.id for u in s.scalars(select(User))}
        cases = []
        for n in range(CASES):
            person = Person(first_name="Jaettu", last_name=f"Tapaus {n}")
            s.add(person)
            s.flush()
            case = Case(person_id=person.id, category="substance_use", stage="screening",
                        priority=2)
            s.add(case)
            s.flush()
            cases.append(case.id)
            s.add_all(CaseMember(case_id=case.id, user_id=ids[name], valid_from=YESTERDAY)
                      for name in MEMBERS)
        tasks = []
        for n in range(TASKS):
            task = Task(case_id=cases[n], title=f"seuranta {n}", created_by_id=ids["social"],
                        assignee_id=ids["police"])
            s.add(task)
            s.flush()
            tasks.append(task.id)
    backend.close()
    return Shared(tuple(cases), tuple(tasks), tuple(ids[n] for n in MEMBERS), "screening")


@dataclass
class Tally:
    moves: Counter[int] = field(default_factory=Counter)
    moved: Counter[tuple[int, str, str]] = field(default_factory=Counter)
    """Applied moves as (case, the stage the person saw, the stage chosen)."""
    assignments: Counter[int] = field(default_factory=Counter)
    conflicts: int = 0
    other: list[str] = field(default_factory=list)


def terminal(url: str, index: int, edits: int, shared: Shared) -> Tally:
    """One terminal's edits (runs in its own process)."""
    rng = random.Random(index)
    backend = _backend(url)
    tally = Tally()
    with backend.sessions.system("test: who edits") as s:
        user = s.get(User, shared.member_ids[index % len(shared.member_ids)])
        assert user is not None
        viewer = viewer_for(user)
    stages = [s.id for s in backend.team.stages if not s.closed]
    for _ in range(edits):
        try:
            if rng.random() < 0.7:
                case_id = rng.choice(shared.case_ids)
                seen = case_ref(backend, viewer, case_id)
                target = rng.choice([stage for stage in stages if stage != seen.stage])
                time.sleep(rng.random() * 0.002)  # the person decides: others act meanwhile
                move_stage(backend, viewer, case_id, seen.version, target)
                tally.moves[case_id] += 1
                tally.moved[(case_id, seen.stage, target)] += 1
            else:
                task_id = rng.choice(shared.task_ids)
                with backend.sessions.read(viewer) as s:
                    version, assignee = s.execute(
                        select(Task.version, Task.assignee_id).where(Task.id == task_id)).one()
                to = rng.choice([m for m in shared.member_ids if m != assignee])
                time.sleep(rng.random() * 0.002)
                assign_task(backend, viewer, task_id, version, to, TODAY)
                tally.assignments[task_id] += 1
        except ConflictError:
            tally.conflicts += 1
        except Exception as exc:  # reported: every edit must be applied or a conflict
            tally.other.append(f"{exc.__class__.__name__}: {exc}")
    backend.close()
    return tally


@pytest.mark.parametrize("db_kind", [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
], indirect=True)
@pytest.mark.slow(seconds=40)
def test_eight_terminals_lose_no_update(engine: Engine) -> None:
    edits = 500 if engine.dialect.name == "postgresql" else 100
    shared = _prepare(engine)
    url = engine.url.render_as_string(hide_password=False)
    context = multiprocessing.get_context("spawn")
    with context.Pool(PROCESSES) as pool:
        tallies = pool.starmap(terminal, [(url, i, edits, shared) for i in range(PROCESSES)])
    for tally in tallies:
        assert tally.other == []
        assert sum(tally.moves.values()) + sum(tally.assignments.values()) \
            + tally.conflicts == edits
    moves = sum((t.moves for t in tallies), Counter())
    moved = sum((t.moved for t in tallies), Counter())
    assignments = sum((t.assignments for t in tallies), Counter())
    conflicts = sum(t.conflicts for t in tallies)
    print(f"{engine.dialect.name}: {PROCESSES} x {edits} edits: "
          f"{sum(moves.values())} moves and {sum(assignments.values())} task assignments "
          f"applied, {conflicts} conflicts shown, 0 lost")
    assert conflicts > 0, "the terminals never raced: the test proved nothing"
    backend = _backend(url)
    with backend.sessions.system("test: what the database holds") as s:
        # Each applied move changed the stage its person saw: nobody's change was made
        # over one they had not seen.
        written = Counter((case_id, before, after) for case_id, before, after in s.execute(
            select(CaseEvent.case_id, CaseEvent.from_value, CaseEvent.to_value)
            .where(CaseEvent.kind == "stage")))
        assert written == moved
        for case_id in shared.case_ids:
            case = s.get(Case, case_id)
            assert case is not None
            assert case.version == 1 + moves[case_id]
            events = s.execute(select(CaseEvent.from_value, CaseEvent.to_value)
                               .where(CaseEvent.case_id == case_id, CaseEvent.kind == "stage")
                               .order_by(CaseEvent.id)).all()
            assert len(events) == moves[case_id]
            stage = shared.start_stage
            for before, after in events:
                assert before == stage  # each move started from the stage the last ended in
                stage = after
            assert case.stage == stage
        for task_id in shared.task_ids:
            task = s.get(Task, task_id)
            assert task is not None and task.version == 1 + assignments[task_id]
    backend.close()


@pytest.mark.postgres
@pytest.mark.parametrize("db_kind", [pytest.param("postgres", id="postgres")], indirect=True)
def test_a_deadlock_is_retried_and_both_changes_land(engine: Engine) -> None:
    """Two units of work take two cases in opposite order: PostgreSQL aborts one
    (SQLSTATE 40P01), which runs again and succeeds."""
    shared = _prepare(engine)
    backend = _backend(engine.url.render_as_string(hide_password=False))
    first, second = shared.case_ids[0], shared.case_ids[1]
    both_hold_one = threading.Barrier(2)
    attempts: list[str] = []
    errors: list[BaseException] = []

    @retry_transient
    def change(name: str, one: int, other: int) -> None:
        attempts.append(name)
        with backend.sessions.system(f"test: {name}") as s:
            a = s.get(Case, one)
            assert a is not None
            a.priority = 1
            s.flush()
            if attempts.count(name) == 1:
                both_hold_one.wait(10)
            b = s.get(Case, other)
            assert b is not None
            b.priority = 3
            s.flush()

    def run(name: str, one: int, other: int) -> None:
        try:
            change(name, one, other)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=("left", first, second)),
               threading.Thread(target=run, args=("right", second, first))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert sorted(Counter(attempts).values()) == [1, 2]  # one of them ran twice
    with backend.sessions.system("test: both changes") as s:
        versions = [s.get(Case, case_id).version for case_id in (first, second)]  # type: ignore[union-attr]
    assert versions == [3, 3]
    backend.close()
