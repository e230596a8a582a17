"""Files only their owner may read (an export of a young person's record, a huddle's
minutes): written whole into a new file that is 0600 from its first byte, then renamed
over the target.

Writing the target and then restricting it leaves the text readable meanwhile; and a
file someone else made there beforehand (in a shared folder) would keep the text as
theirs to read even when restricting it then fails. A new file made beside the target
(``mkstemp``: 0600, ``O_EXCL``) and renamed over it has neither problem; a failed
rename leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def write_private(path: Path, text: str, *, folder_mode: int | None = None) -> None:
    """Write ``text`` to ``path``, readable by its owner only. ``folder_mode``: make the
    folder (and its parents) if missing, and give it this mode (0700: a folder of the
    app's own)."""
    if folder_mode is not None:
        path.parent.mkdir(mode=folder_mode, parents=True, exist_ok=True)
        os.chmod(path.parent, folder_mode)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
