"""Each running huddle marked in its terminal's state folder, so that the next start of
anchor-tui on that machine ends one whose process is gone.

A huddle is run only by the process that started it: nothing resumes one, no other
terminal joins it. So when that process is gone with the huddle still on (it quit
anyway while the database could not take the end, it was killed, the power went), the
huddle is over for certain, and its own terminal is the one place that can know it
without a guess. Elsewhere a huddle left on can only be judged by its quiet
(``huddle_left_on``: the command a person runs).

While the huddle runs, its process holds an exclusive ``flock`` on a small file
(``<state>/huddles/<database>-<machine>-<id>.json``: the huddle's id and start, nothing
said in it). The operating system releases the lock when the process ends, however it ends. At
start, anchor-tui tries each such file of the same database without waiting: a file it
can lock is a huddle whose process is gone, and it is ended
(``huddle_left_on.end_orphaned``); one it cannot lock is running in another anchor-tui
on this machine and is left alone. A file is put in place already locked (written under
another name, locked, then renamed), so no start can find it unlocked while its
huddle runs. The database is named by a digest of its address (without password): a
huddle of the demo database is never looked for in another. The machine is named by a
digest of its host name: a home folder shared or synced between terminals (a network
home, a sync tool) shows one machine's marks to another without their locks, and a
start only ever looks at its own machine's. The file is on disk (``fsync``) before it is
put in place, so a power cut, the case it is for, does not leave it empty.

Where ``fcntl`` does not exist (Windows), nothing is marked: a huddle left on is ended by
the command alone, as before. No Textual here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import socket
import threading
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: nothing is marked
    fcntl = None  # type: ignore[assignment]

FOLDER = "huddles"


def database_key(address: str) -> str:
    """A short digest naming the database (``address`` without its password)."""
    return hashlib.sha256(address.encode("utf-8")).hexdigest()[:16]


def machine_key() -> str:
    """A short digest naming this machine (its host name)."""
    return hashlib.sha256(socket.gethostname().encode("utf-8")).hexdigest()[:12]


def _lock(file: IO[Any]) -> bool:
    """Lock the file without waiting: False when another process holds it."""
    assert fcntl is not None
    try:
        fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _sync_folder(folder: Path) -> None:
    """The folder's entries on disk (a rename is not, until then)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass
class HuddleMarks:
    """The huddles this process runs, each marked and locked (thread-safe: a huddle
    starts in a worker and ends in the save queue's)."""

    state_dir: Path
    database: str
    """``database_key`` of the database the huddles are in."""
    machine: str = field(default_factory=machine_key)
    _held: dict[int, IO[Any]] = field(default_factory=dict)
    _guard: threading.Lock = field(default_factory=threading.Lock)

    @property
    def folder(self) -> Path:
        return self.state_dir / FOLDER

    @property
    def _prefix(self) -> str:
        return f"{self.database}-{self.machine}-"

    def _path(self, huddle_id: int) -> Path:
        return self.folder / f"{self._prefix}{huddle_id}.json"

    def hold(self, huddle_id: int, started_at: dt.datetime) -> None:
        """Mark the huddle as running here, until :meth:`release`. Raises ``OSError``
        when the folder cannot be written (the caller logs it: that huddle, if left
        on, is then ended by the command only)."""
        if fcntl is None:
            return
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        part = self.folder / f".{self._prefix}{huddle_id}.{os.getpid()}.part"
        fd = os.open(part, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
        file = os.fdopen(fd, "r+", encoding="utf-8")
        try:
            if not _lock(file):  # (a file of this very name, held: not possible)
                raise OSError(f"could not lock {part.name}")
            file.write(json.dumps({"huddle_id": huddle_id,
                                   "started_at": started_at.isoformat()}))
            file.flush()
            os.fsync(file.fileno())
            os.replace(part, self._path(huddle_id))  # in place, locked already
            _sync_folder(self.folder)
        except BaseException:
            file.close()
            part.unlink(missing_ok=True)
            raise
        with self._guard:
            old = self._held.pop(huddle_id, None)
            self._held[huddle_id] = file
        if old is not None:
            old.close()

    def release(self, huddle_id: int) -> None:
        """The huddle has ended (here or elsewhere): its mark goes."""
        with self._guard:
            file = self._held.pop(huddle_id, None)
        if file is None:
            return
        with suppress(OSError):
            self._path(huddle_id).unlink(missing_ok=True)
        file.close()

    def release_all(self) -> None:
        """The app goes: every lock is let go, each file kept (their huddles are still
        on: the next start ends them)."""
        with self._guard:
            files, self._held = list(self._held.values()), {}
        for file in files:
            file.close()

    def orphans(self) -> Iterator[Orphan]:
        """The marked huddles of this database whose process is gone, each locked for
        as long as the caller works on it (it must call ``done`` or ``keep``)."""
        if fcntl is None or not self.folder.is_dir():
            return
        for path in sorted(self.folder.glob(f"{self._prefix}*.json")):
            try:
                file = path.open("r+", encoding="utf-8")
            except OSError:
                continue
            try:
                free = _lock(file)
            except OSError:  # (no locks on this file system: nothing is known)
                free = False
            if not free:
                file.close()  # running in another anchor-tui on this machine
                continue
            try:
                entry = json.loads(file.read())
                started = dt.datetime.fromisoformat(entry["started_at"])
                if started.tzinfo is None:
                    raise ValueError("a mark's start is written with its zone")
                orphan = Orphan(int(entry["huddle_id"]), started, path, file)
            except (OSError, ValueError, KeyError, TypeError):
                # Not written by us, or cut short: nothing to end by it.
                with suppress(OSError):
                    path.unlink()
                file.close()
                continue
            yield orphan


@dataclass
class Orphan:
    """A marked huddle whose process is gone, locked while it is ended."""

    huddle_id: int
    started_at: dt.datetime
    path: Path
    file: IO[Any]

    def done(self) -> None:
        """Ended (or not to be ended: over already, or not that huddle): forgotten."""
        with suppress(OSError):
            self.path.unlink(missing_ok=True)
        self.file.close()

    def keep(self) -> None:
        """Not ended now (the database could not take it): tried at the next start."""
        self.file.close()
