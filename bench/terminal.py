"""A real terminal for bench/board.py: tmux on a server socket of its own.

``Terminal.start(command)`` opens a tmux session running ``command`` and returns the
moment it was asked for; ``wait_for(words)`` polls ``capture-pane`` until every word is
on screen and returns the moment they were seen (the poll costs a few milliseconds,
the same for the app and the bare baseline). ``rss_kib()`` reads the resident memory
of the program in the pane (the command is ``exec``-ed, so the pane's process is it).
"""

from __future__ import annotations

import shutil
import subprocess
import time
import uuid
from pathlib import Path


class TerminalTimeout(Exception):
    """The screen did not show the words in time."""


class Terminal:
    def __init__(self, width: int = 120, height: int = 40) -> None:
        if shutil.which("tmux") is None:
            raise RuntimeError("tmux is not installed (the launch figures need a real terminal)")
        self.socket = f"anchor-bench-{uuid.uuid4().hex[:10]}"
        self.width = width
        self.height = height
        self.session: str | None = None
        # A session that stays while runs come and go, so the server never exits (and
        # restarts) between two runs.
        self.tmux("new-session", "-d", "-s", "keeper", "-x", "20", "-y", "5", "sleep 86400")

    def tmux(self, *args: str) -> str:
        done = subprocess.run(["tmux", "-L", self.socket, "-f", "/dev/null", *args],
                              capture_output=True, text=True, check=True, timeout=20)
        return done.stdout

    def start(self, command: str) -> float:
        """Run ``command`` (a shell line) in a new session; the moment it was started."""
        self.session = f"s{uuid.uuid4().hex[:8]}"
        started = time.perf_counter()
        self.tmux("new-session", "-d", "-s", self.session, "-x", str(self.width),
                  "-y", str(self.height), command)
        return started

    def screen(self) -> str:
        assert self.session is not None
        return self.tmux("capture-pane", "-p", "-t", self.session)

    def keys(self, *keys: str, literal: bool = False) -> None:
        assert self.session is not None
        self.tmux("send-keys", "-t", self.session, *(["-l"] if literal else []), *keys)

    def wait_for(self, *words: str, absent: tuple[str, ...] = (), timeout: float = 120.0,
                 poll: float = 0.003) -> float:
        """The moment every word (and none of ``absent``) was first seen on screen."""
        end = time.perf_counter() + timeout
        while True:
            shown = self.screen()
            seen = time.perf_counter()
            if all(w in shown for w in words) and not any(w in shown for w in absent):
                return seen
            if seen > end:
                raise TerminalTimeout(f"not shown within {timeout:.0f} s: {words!r}\n{shown}")
            time.sleep(poll)

    def pid(self) -> int:
        assert self.session is not None
        return int(self.tmux("display-message", "-p", "-t", self.session,
                             "#{pane_pid}").strip())

    def rss_kib(self) -> int:
        for line in Path(f"/proc/{self.pid()}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError("no VmRSS in /proc")

    def stop(self) -> None:
        if self.session is not None:
            subprocess.run(["tmux", "-L", self.socket, "kill-session", "-t", self.session],
                           capture_output=True, check=False, timeout=20)
            self.session = None

    def close(self) -> None:
        self.stop()
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True,
                       check=False, timeout=20)
