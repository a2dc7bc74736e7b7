"""An on-disk embedding cache keyed by model fingerprint and text hash.

SQLite (from the standard library) holds the vectors as raw float32 bytes: no
pickling, safe for several processes at once, and each write is a transaction.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from pathlib import Path

import numpy as np

__all__ = ["EmbeddingCache", "default_cache_dir"]


def default_cache_dir() -> Path:
    """``$STORYCLUST_CACHE_DIR``, else ``$XDG_CACHE_HOME/storyclust``, else ``~/.cache/storyclust``."""
    if os.environ.get("STORYCLUST_CACHE_DIR"):
        return Path(os.environ["STORYCLUST_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "storyclust"


class EmbeddingCache:
    """Vectors of texts already embedded by one model.

    >>> import tempfile, numpy as np
    >>> c = EmbeddingCache(tempfile.mkdtemp(), "toy-model@1", dim=2)
    >>> c.put(["a"], np.array([[1, 0]], dtype=np.float32))
    >>> c.get(["a", "b"])[0].tolist(), c.get(["a", "b"])[1] is None
    ([1.0, 0.0], True)
    """

    def __init__(self, directory, fingerprint: str, dim: int):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.fingerprint = fingerprint
        self.dim = dim
        self._conn = sqlite3.connect(self.directory / "embeddings.sqlite", timeout=60, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("CREATE TABLE IF NOT EXISTS vectors (key BLOB PRIMARY KEY, vec BLOB NOT NULL)")
        self._conn.commit()

    def _key(self, text: str) -> bytes:
        return hashlib.sha256(f"{self.fingerprint}\0{text}".encode("utf-8", "surrogatepass")).digest()

    def get(self, texts: list[str]) -> list:
        """For each text its cached vector, or None."""
        keys = [self._key(t) for t in texts]
        found: dict[bytes, bytes] = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            q = f"SELECT key, vec FROM vectors WHERE key IN ({','.join('?' * len(chunk))})"
            found.update(self._conn.execute(q, chunk).fetchall())
        out = []
        for k in keys:
            blob = found.get(k)
            out.append(np.frombuffer(blob, dtype=np.float32) if blob is not None and len(blob) == 4 * self.dim else None)
        return out

    def put(self, texts: list[str], vectors: np.ndarray) -> None:
        rows = [(self._key(t), np.ascontiguousarray(v, dtype=np.float32).tobytes()) for t, v in zip(texts, vectors)]
        with self._conn:
            self._conn.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)", rows)

    def close(self) -> None:
        self._conn.close()
