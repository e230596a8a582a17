"""The error log: what went wrong, where in the code, and nothing about clients.

An entry holds a timestamp, the class names of the exception chain and the stack
frames as ``file:line function``. It never holds exception messages (they may quote
note text or SQL parameters) nor local variables. That holds for
:class:`~anchor_tui.errors.AnchorError` too: its message is written for the person who
met it and may name a young person ("Aino A.'s case was changed by someone else"),
which the screen may show to them but a log file, kept for months and read by whoever
looks into a failure, must not hold. Of an ``AnchorError`` the entry keeps its class and
its category (the class's fixed title, "Changed by someone else"), never an instance's
text.

The log directory is created ``0700`` and the file ``0600``: only the signed-in OS user
can read it. Pure Python, no Textual: the command line can use it too.
"""

from __future__ import annotations

import datetime as dt
import os
import traceback
from collections.abc import Iterator
from pathlib import Path

from anchor_tui.errors import AnchorError

LOG_NAME = "anchor-tui-errors.log"
MAX_BYTES = 1_000_000
"""When the log grows past this, it is moved aside to ``<name>.1`` (one old log is kept)."""


def exception_chain(error: BaseException) -> Iterator[tuple[str, BaseException]]:
    """The error, then what caused it or was being handled, and so on (each once)."""
    seen: set[int] = set()
    relation = "raised"
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield relation, current
        if current.__cause__ is not None:
            relation, current = "caused by", current.__cause__
        elif not current.__suppress_context__:
            relation, current = "while handling", current.__context__
        else:
            current = None


def describe(error: BaseException, *, when: dt.datetime | None = None) -> str:
    """One log entry for ``error``: safe to write, never a message or a local variable."""
    moment = (when or dt.datetime.now(dt.UTC)).astimezone().isoformat(timespec="seconds")
    chain = list(exception_chain(error))
    lines = [f"{moment} " + " <- ".join(_qualified_name(e) for _, e in chain)]
    for relation, exc in chain:
        lines.append(f"  {relation} {_qualified_name(exc)}")
        if isinstance(exc, AnchorError):
            # The class's own title, never the instance's message (it may name a client).
            lines.append(f"    category: {_category(exc)}")
        for frame in traceback.extract_tb(exc.__traceback__):
            lines.append(f"    at {frame.filename}:{frame.lineno} {frame.name}")
    return "\n".join(lines) + "\n"


def _category(error: AnchorError) -> str:
    """The fixed title of the error's class (the first class in its MRO that sets one),
    read from the class: an instance attribute of the same name is ignored."""
    for cls in type(error).__mro__:
        title = vars(cls).get("title")
        if isinstance(title, str):
            return title
    return "Error"


def _qualified_name(error: BaseException) -> str:
    cls = type(error)
    module = cls.__module__
    return cls.__qualname__ if module == "builtins" else f"{module}.{cls.__qualname__}"


class ErrorLog:
    """Appends entries to ``<log_dir>/anchor-tui-errors.log`` (dir 0700, file 0600)."""

    def __init__(self, log_dir: Path) -> None:
        self.path = log_dir / LOG_NAME

    def write(self, error: BaseException) -> Path | None:
        """Append an entry for ``error``. Returns the log path, or None if it failed.

        Never raises: a crash handler that crashes would show the traceback we hide.
        """
        try:
            self._append(describe(error))
        except OSError:
            return None
        return self.path

    def write_event(self, what: str) -> Path | None:
        """Append a line for a failure without an exception object (``what`` is our text)."""
        moment = dt.datetime.now(dt.UTC).astimezone().isoformat(timespec="seconds")
        try:
            self._append(f"{moment} {what}\n")
        except OSError:
            return None
        return self.path

    def _append(self, entry: str) -> None:
        directory = self.path.parent
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(directory, 0o700)
        try:
            if self.path.stat().st_size > MAX_BYTES:
                os.replace(self.path, self.path.with_name(LOG_NAME + ".1"))
        except FileNotFoundError:
            pass
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            if hasattr(os, "fchmod"):
                os.fchmod(fd, 0o600)  # also tightens a file someone created more openly
            os.write(fd, entry.encode("utf-8", "replace"))
        finally:
            os.close(fd)
