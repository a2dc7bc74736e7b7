"""Locality-sensitive hashing of MinHash signatures: candidate pairs without comparing all pairs.

The signature is cut into ``bands`` bands of ``rows`` values; two articles are
candidates when one band is equal. With 64 bands of 2 rows (128 values) a pair
with Jaccard 0.25 becomes a candidate with probability 1 - (1 - 0.25²)⁶⁴ ≈ 0.98
and one with Jaccard 0.02 (unrelated articles) with about 0.03. The buckets
hold small integers only; they are rebuilt from the stored signatures on load,
so a saved deduplicator holds arrays and JSON, nothing pickled. (datasketch's
``MinHashLSH`` does the same banding but can only be saved by pickling, which
storyclust never loads; it is the baseline in ``benchmarks/dedup.py``.)

>>> import numpy as np
>>> idx = BandIndex(bands=4, rows=2)
>>> idx.add(0, np.array([1, 2, 3, 4, 5, 6, 7, 8], dtype=np.uint32))
>>> idx.query(np.array([1, 2, 9, 9, 9, 9, 9, 9], dtype=np.uint32)), idx.query(np.full(8, 9, dtype=np.uint32))
([0], [])
"""

from __future__ import annotations

import numpy as np

__all__ = ["BandIndex"]


class BandIndex:
    """Buckets of integer keys by signature band."""

    def __init__(self, bands: int = 64, rows: int = 2):
        self.bands = bands
        self.rows = rows
        self._buckets: list[dict[int, int | list[int]]] = [{} for _ in range(bands)]

    def keys(self, values: np.ndarray) -> list[int]:
        """One integer per band of a signature (compute once, pass to :meth:`add` and :meth:`query`)."""
        v = np.asarray(values[: self.bands * self.rows], dtype=np.uint64).reshape(self.bands, self.rows)
        keys = v[:, 0].copy()
        with np.errstate(over="ignore"):
            for r in range(1, self.rows):
                keys = keys * np.uint64(0x100000001B3) + v[:, r]
        return keys.tolist()

    def add(self, key: int, values: np.ndarray | None = None, *, keys: list[int] | None = None) -> None:
        """Put ``key`` in the bucket of each band of ``values`` (or of the precomputed ``keys``)."""
        for bucket, k in zip(self._buckets, self.keys(values) if keys is None else keys):
            old = bucket.get(k)
            if old is None:
                bucket[k] = key  # one member: a plain int (a list per bucket would triple the memory)
            elif isinstance(old, list):
                old.append(key)
            else:
                bucket[k] = [old, key]

    def query(self, values: np.ndarray | None = None, *, keys: list[int] | None = None) -> list[int]:
        """Keys sharing at least one band with ``values`` (or the precomputed ``keys``), in ascending order."""
        found: set[int] = set()
        for hit in map(dict.get, self._buckets, self.keys(values) if keys is None else keys):
            if hit is None:
                continue
            if hit.__class__ is list:
                found.update(hit)
            else:
                found.add(hit)
        return sorted(found)
