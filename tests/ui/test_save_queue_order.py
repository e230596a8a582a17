"""The save queue's rules, with a small Textual app and saves the test holds.

At most one save is on its way at any moment; a save asked for meanwhile waits behind
it and runs after it, in the order asked for. One that finds the connection lost goes
back to the head of the line, and nothing after it starts until ``resume()``. A refused
save does not stop the line. Only saves waiting for a lost connection are kept: said
so (``on_kept``) and counted (``on_waiting``); a save in line on a working connection
is neither.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from textual.app import App
from textual.pilot import Pilot

from anchor_tui.errors import ConflictError, ConnectionLostError, DatabaseBusyError
from anchor_tui.saving import SaveQueue
from tests.ui.conftest import settle
from tests.ui.test_note_editor import until


class Host(App[None]):
    """An app with a save queue, whose person at the terminal may leave."""

    def __init__(self) -> None:
        super().__init__()
        self.counted: list[int] = []
        self.lost: list[ConnectionLostError] = []
        self.saves = SaveQueue(self, on_waiting=self.counted.append, on_lost=self.lost.append)
        self.person = 1
        """Who is at the terminal: a switch of user makes it the next."""
        self.logged: list[BaseException] = []
        self.shown: list[BaseException] = []
        self.error_log = self  # (``log_only`` writes here)

    def write(self, error: BaseException) -> None:
        self.logged.append(error)

    def show_error(self, _node: object, error: BaseException) -> None:
        """The app's one error handler (the shared terminal's shows a modal)."""
        self.shown.append(error)

    def context_alive(self) -> Callable[[], bool]:
        person = self.person
        return lambda: self.person == person


class Held:
    """Saves the test lets through one by one; what each did, in the order done."""

    def __init__(self) -> None:
        self.written: list[str] = []
        self.started: list[str] = []
        self.on_way = 0
        self.most_on_way = 0
        self.entered: dict[str, threading.Event] = {}
        self.release: dict[str, threading.Event] = {}
        self.outcome: dict[str, list[BaseException | None]] = {}
        self._lock = threading.Lock()

    def save(self, name: str, *outcomes: BaseException | None) -> Callable[[], str]:
        """A save called ``name``: each attempt waits for the test's release, then fails
        with the next of ``outcomes`` (None: written; past the end: written)."""
        self.outcome[name] = list(outcomes)
        self.entered[name] = threading.Event()
        self.release[name] = threading.Event()

        def attempt() -> str:
            with self._lock:
                self.started.append(name)
                self.on_way += 1
                self.most_on_way = max(self.most_on_way, self.on_way)
            try:
                self.entered[name].set()
                assert self.release[name].wait(10), f"the test never released {name}"
                self.release[name].clear()
                self.entered[name].clear()
                error = self.outcome[name].pop(0) if self.outcome[name] else None
                if error is not None:
                    raise error
                with self._lock:
                    self.written.append(name)
                return name
            finally:
                with self._lock:
                    self.on_way -= 1

        return attempt

    def let_through(self, *names: str) -> None:
        for name in names:
            self.release[name].set()


def lost() -> ConnectionLostError:
    return ConnectionLostError("The connection to the database server was lost.")


async def quiet(pilot: Pilot[None]) -> None:
    """Let the app run on a while (a save that should not start has every chance to)."""
    for _ in range(20):
        await pilot.pause()


async def test_saves_asked_for_back_to_back_are_written_one_at_a_time_in_order() -> None:
    app, held = Host(), Held()
    saved: list[Any] = []
    async with app.run_test() as pilot:
        for name in ("A", "B", "C"):
            app.saves.submit(name, held.save(name), on_saved=saved.append)
        await until(pilot, held.entered["A"].is_set)
        # B and C are let through before A: they must still wait for it.
        held.let_through("C", "B")
        await quiet(pilot)
        assert held.started == ["A"], "a save started while another was on its way"
        assert app.saves.waiting == ("B", "C")
        held.let_through("A")
        await until(pilot, lambda: saved == ["A", "B", "C"])
        await settle(pilot)
    assert held.written == ["A", "B", "C"]
    assert held.most_on_way == 1
    # In line on a working connection: nothing kept, nothing counted.
    assert app.counted == [] and app.lost == []


async def test_a_save_lost_on_its_way_holds_the_line_until_the_connection_is_back() -> None:
    app, held = Host(), Held()
    saved: list[Any] = []
    kept: list[str] = []
    async with app.run_test() as pilot:
        app.saves.submit("A", held.save("A", lost()), on_saved=saved.append,
                         on_kept=lambda: kept.append("A"))
        app.saves.submit("B", held.save("B"), on_saved=saved.append,
                         on_kept=lambda: kept.append("B"))
        await until(pilot, held.entered["A"].is_set)
        assert kept == [] and app.counted == []  # B is in line, not kept
        held.let_through("B", "A")  # A finds the server gone
        await until(pilot, lambda: app.lost != [])
        await quiet(pilot)
        assert held.started == ["A"], "a save overtook one that found the server gone"
        assert held.written == []
        assert app.saves.waiting == ("A", "B")
        assert kept == ["A", "B"]  # both wait for the connection now, and are told so
        assert app.counted == [2]

        app.saves.submit("C", held.save("C"), on_saved=saved.append,
                         on_kept=lambda: kept.append("C"))  # kept at once: it is lost
        assert kept == ["A", "B", "C"] and app.counted == [2, 3]

        app.saves.resume()
        await until(pilot, held.entered["A"].is_set)
        held.let_through("A", "B", "C")
        await until(pilot, lambda: saved == ["A", "B", "C"])
        await settle(pilot)
    assert held.written == ["A", "B", "C"] and held.most_on_way == 1
    assert app.counted == [2, 3, 2, 1, 0]


async def test_a_save_lost_again_when_resumed_keeps_the_ones_behind_it_waiting() -> None:
    app, held = Host(), Held()
    saved: list[Any] = []
    kept: list[str] = []
    async with app.run_test() as pilot:
        app.saves.submit("A", held.save("A", lost(), DatabaseBusyError("busy")),
                         on_saved=saved.append, on_kept=lambda: kept.append("A"))
        held.let_through("A")
        await until(pilot, lambda: len(app.lost) == 1)
        app.saves.submit("B", held.save("B"), on_saved=saved.append,
                         on_kept=lambda: kept.append("B"))
        app.saves.resume()  # A is made again, and the database is busy this time
        app.saves.resume()  # (said twice: the watcher and a restored message) no matter
        await until(pilot, held.entered["A"].is_set)
        # A, kept and on its way again, is not saved yet: quitting now would lose it.
        assert app.saves.waiting == ("A", "B")
        app.saves.submit("C", held.save("C"), on_saved=saved.append,
                         on_kept=lambda: kept.append("C"))  # in line: the server is back
        assert kept == ["A", "B"]
        held.let_through("C", "B", "A")
        await until(pilot, lambda: len(app.lost) == 2)
        await quiet(pilot)
        assert held.started == ["A", "A"] and held.written == []
        assert isinstance(app.lost[1], DatabaseBusyError)
        assert app.saves.waiting == ("A", "B", "C")
        assert kept == ["A", "B", "A", "C"]  # A lost again; C waits for the server now

        app.saves.resume()
        held.let_through("A")  # its third attempt (B and C were let through already)
        await until(pilot, lambda: saved == ["A", "B", "C"])
        await settle(pilot)
    assert held.written == ["A", "B", "C"] and held.most_on_way == 1
    assert app.counted == [1, 2, 3, 2, 1, 0]


async def test_a_refused_save_does_not_stop_the_line() -> None:
    app, held = Host(), Held()
    saved: list[Any] = []
    failed: list[BaseException] = []
    async with app.run_test() as pilot:
        app.saves.submit("A", held.save("A", ConflictError("changed meanwhile")),
                         on_saved=saved.append, on_failed=failed.append)
        app.saves.submit("B", held.save("B"), on_saved=saved.append, on_failed=failed.append)
        held.let_through("A", "B")
        await until(pilot, lambda: saved == ["B"])
        await settle(pilot)
    assert [type(error) for error in failed] == [ConflictError]
    assert held.written == ["B"] and app.counted == [] and app.logged == []
    assert [type(error) for error in app.shown] == [ConflictError]


async def test_a_refusal_for_someone_who_has_left_goes_to_the_log_only() -> None:
    app, held = Host(), Held()
    saved: list[Any] = []
    async with app.run_test() as pilot:
        app.saves.submit("A", held.save("A", lost(), ConflictError("changed meanwhile")))
        held.let_through("A")
        await until(pilot, lambda: app.lost != [])
        app.person += 1  # a switch of user: A was the one before's
        app.saves.submit("B", held.save("B"), on_saved=saved.append)  # the next person's
        app.saves.resume()
        held.let_through("A", "B")
        await until(pilot, lambda: saved == ["B"])
        await settle(pilot)
    assert [type(error) for error in app.logged] == [ConflictError]
    assert app.shown == [], "shown to the next person"
    assert app.saves.waiting == ()
