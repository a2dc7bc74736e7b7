"""Writing output files whole or not at all."""

from __future__ import annotations

import os
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_output(path):
    """A text file handle whose content replaces ``path`` only when the block ends without an error.

    Written beside the target and renamed into place, so an interrupted run leaves the old file (or none) and
    no temporary. The temporary is created like any new file (mode 0666 less the umask), not with mkstemp's
    0600, so the output is as readable as the user's other files.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.name}.{uuid.uuid4().hex}.tmp"
    try:
        with open(tmp, "x", encoding="utf-8") as fh:
            yield fh
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def write_atomically(path: Path, data: bytes) -> None:
    """``data`` at ``path``, whole or not at all, also after a power cut: written to a temporary beside it,
    synced, renamed into place, and the folder synced."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dfd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)
