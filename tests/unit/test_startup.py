"""The cycle collector paused while the app starts, and turned on again once drawn."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from anchor_tui import startup


@pytest.fixture
def collector_restored() -> Iterator[None]:
    was_enabled = gc.isenabled()
    yield
    startup._paused = False
    gc.unfreeze()
    if was_enabled:
        gc.enable()
    else:
        gc.disable()


@pytest.mark.usefixtures("collector_restored")
def test_pause_stops_collection_and_resume_freezes_what_exists_and_collects_again() -> None:
    gc.enable()
    gc.unfreeze()
    startup.pause()
    assert not gc.isenabled()
    startup.resume()
    assert gc.isenabled()
    frozen = gc.get_freeze_count()
    assert frozen > 0
    made_after = [[n] for n in range(10_000)]  # tracked containers, made after the freeze
    startup.resume()  # a second resume (the app's, then the command's) freezes nothing
    assert gc.isenabled() and gc.get_freeze_count() < frozen + len(made_after)


@pytest.mark.usefixtures("collector_restored")
def test_resume_without_a_pause_neither_freezes_nor_turns_collection_on() -> None:
    """Tests make many apps in one process: their sign-in must not freeze anything."""
    gc.unfreeze()
    gc.disable()
    startup.resume()
    assert not gc.isenabled() and gc.get_freeze_count() == 0
    gc.enable()
    startup.pause()
    startup.pause()  # already off: the second pause leaves the first in charge
    startup.resume()
    assert gc.isenabled()


@pytest.mark.usefixtures("collector_restored")
def test_until_drawn_turns_collection_back_on_when_the_app_stops_before_drawing() -> None:
    gc.enable()
    with pytest.raises(RuntimeError), startup.until_drawn():
        assert not gc.isenabled()
        raise RuntimeError("the app could not start")
    assert gc.isenabled()
