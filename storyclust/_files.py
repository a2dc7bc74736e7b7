"""Writing output files whole or not at all."""

from __future__ import annotations

import os
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
