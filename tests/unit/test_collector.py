"""The garbage collection policy: settling freezes what exists and slows the young
collections; full collections run only when the terminal has been idle a moment."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

from anchor_tui import collector as collector_module
from anchor_tui.collector import FULL, OLDER, YOUNG, Collector


def test_settling_freezes_what_exists_and_slows_young_collections() -> None:
    """In a fresh interpreter (freezing is for the whole process)."""
    code = ("import gc; from anchor_tui.collector import Collector; c = Collector(); "
            "before = gc.get_freeze_count(); c.settle(); c.settle(); "
            "print(before, gc.get_freeze_count() > 1000, gc.get_threshold())")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, timeout=60)
    assert done.stdout.strip().split(maxsplit=2) == ["0", "True", str((YOUNG, OLDER, FULL))]


def test_a_full_collection_waits_for_a_quiet_moment_and_its_turn(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    collections: list[None] = []
    monkeypatch.setattr(collector_module.gc, "collect", lambda *a: collections.append(None))
    clock = [1000.0]
    monkeypatch.setattr(collector_module.time, "monotonic", lambda: clock[0])
    tidy = Collector(quiet_after=1.0, every=20.0)
    clock[0] += 60
    assert not tidy.tidy(idle_for=5.0)  # not settled yet: the app is still loading
    tidy.settled = True
    assert not tidy.tidy(idle_for=0.2)  # someone is typing
    assert tidy.tidy(idle_for=1.5) and len(collections) == 1
    clock[0] += 5
    assert not tidy.tidy(idle_for=6.5)  # one ran 5 s ago
    clock[0] += 16
    assert tidy.tidy(idle_for=22.5) and len(collections) == 2


def test_a_tidy_collection_gives_freed_memory_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(collector_module.gc, "collect", lambda *a: None)
    released: list[int] = []
    tidy = Collector(quiet_after=1.0, every=0.0)
    tidy.settled = True
    tidy._trim, tidy._trim_looked_up = released.append, True  # type: ignore[assignment]
    assert tidy.tidy(idle_for=2.0)
    assert released == [0]


def test_release_where_the_c_library_has_no_malloc_trim(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not Linux, or not glibc (musl, macOS, Windows): nothing is called, nothing fails."""
    monkeypatch.setattr(collector_module.sys, "platform", "darwin")
    assert collector_module._malloc_trim() is None
    assert not Collector().release()


@pytest.mark.skipif(not sys.platform.startswith("linux")
                    or platform.libc_ver()[0] != "glibc",
                    reason="malloc_trim is glibc's")
def test_release_returns_freed_memory_on_glibc() -> None:
    """In a fresh interpreter: many small blocks freed stay resident until released."""
    code = (
        "from anchor_tui.collector import Collector\n"
        "def rss():\n"
        "    for line in open('/proc/self/status'):\n"
        "        if line.startswith('VmRSS'): return int(line.split()[1])\n"
        "blocks = [bytearray(4000) for _ in range(20000)]\n"  # 80 MB in the heap
        "keep = blocks[-1]; del blocks\n"  # freed; the last one pins the heap's top
        "before = rss(); released = Collector().release(); after = rss()\n"
        "print(released, before - after)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, timeout=60)
    released, freed_kib = done.stdout.split()
    assert released == "True"
    assert int(freed_kib) > 40_000
