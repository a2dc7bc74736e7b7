"""Paragraph alignment: the semantic test of a reprint, on paragraph vectors found through FAISS.

Two outlets' reports of one event share a topic, names and a few phrases; a
reprint, however retyped, misread or reworded, says the same thing paragraph
by paragraph. :func:`aligned_share` measures that: the share of the shorter
article's paragraphs that pair off, one to one, with a near-identical
paragraph (cosine at least ``min_cosine``) of the other. :class:`ParagraphIndex`
holds the paragraph vectors of the kept articles and finds, for a new
article, the kept ones that have any such paragraph.

>>> import numpy as np
>>> a = np.eye(4, dtype=np.float32)[:3]            # three paragraphs
>>> b = np.eye(4, dtype=np.float32)[[0, 1, 3]]      # two of them, and another
>>> aligned_share(a, b, 0.9)
(2, 0.6666666666666666)
>>> idx = ParagraphIndex(dim=4)
>>> idx.add(7, b)
>>> idx.rows_near(a, 0.9)
[{7}, {7}, set()]
"""

from __future__ import annotations

import faiss
import numpy as np

__all__ = ["ParagraphIndex", "aligned_share", "earlier_near"]


def aligned_share(a: np.ndarray, b: np.ndarray, min_cosine: float) -> tuple[int, float]:
    """How many of the shorter list's unit vectors match one to one (greedily, closest first) a vector of the
    other at cosine ``min_cosine`` or more, and their share of the shorter list; (0, 0.0) when one is empty."""
    if not len(a) or not len(b):
        return 0, 0.0
    sims = a @ b.T
    i, j = np.nonzero(sims >= min_cosine)
    used_i, used_j, matched = set(), set(), 0
    for k in np.argsort(-sims[i, j], kind="stable"):
        if i[k] not in used_i and j[k] not in used_j:
            used_i.add(i[k])
            used_j.add(j[k])
            matched += 1
    return matched, matched / min(len(a), len(b))


def earlier_near(units: list, min_cosine: float) -> list[list[set]]:
    """For each article's unit vectors (``units[i]``, one row per paragraph) and each of its paragraphs, the
    earlier articles ``j < i`` holding a paragraph within cosine ``min_cosine`` of it.

    One FAISS range search over all the paragraphs, so the cost follows the pairs found rather than the
    square of the number of articles.
    """
    sizes = [len(u) for u in units]
    out = [[set() for _ in range(n)] for n in sizes]
    if sum(sizes) == 0:
        return out
    flat = np.ascontiguousarray(np.vstack([u for u in units if len(u)]), dtype=np.float32)
    owner = np.repeat(np.arange(len(units)), sizes)
    para = np.concatenate([np.arange(n) for n in sizes])
    index = faiss.IndexFlatIP(flat.shape[1])
    index.add(flat)
    lims, _, found = index.range_search(flat, min_cosine)
    for q in range(len(flat)):
        i = owner[q]
        others = owner[found[lims[q]:lims[q + 1]]]
        out[i][para[q]].update(int(j) for j in others[others < i])
    return out


class ParagraphIndex:
    """Unit paragraph vectors of kept articles (rows), searched exactly by inner product.

    The memory is ``4 * dim`` bytes per paragraph; the deduplicator keeps a
    bounded number of paragraphs per article.
    """

    def __init__(self, dim: int):
        self.dim = dim
        self._index = faiss.IndexFlatIP(dim)
        self._rows: list[int] = []       # the row of each stored paragraph
        self._by_row: dict[int, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self._rows)

    def add(self, row: int, vectors: np.ndarray) -> None:
        """Store the paragraph vectors of kept article ``row``."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, self.dim)
        self._by_row[row] = vectors
        if len(vectors):
            self._index.add(vectors)
            self._rows += [row] * len(vectors)

    def vectors(self, row: int) -> np.ndarray:
        """The paragraph vectors stored for ``row`` (none: an empty array)."""
        return self._by_row.get(row, np.zeros((0, self.dim), dtype=np.float32))

    def rows_near(self, vectors: np.ndarray, min_cosine: float, k: int = 10) -> list[set]:
        """For each of ``vectors``, the rows holding a paragraph within cosine ``min_cosine`` of it (among its
        ``k`` nearest paragraphs)."""
        if not len(self._rows) or not len(vectors):
            return [set() for _ in range(len(vectors))]
        sims, idx = self._index.search(np.ascontiguousarray(vectors, dtype=np.float32), min(k, len(self._rows)))
        return [{self._rows[j] for s, j in zip(srow, irow) if j >= 0 and s >= min_cosine}
                for srow, irow in zip(sims, idx)]

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """``(vectors, rows)``: what :meth:`from_arrays` rebuilds the index from."""
        if not self._by_row:
            return np.zeros((0, self.dim), dtype=np.float32), np.zeros(0, dtype=np.int64)
        rows = sorted(self._by_row)
        return (np.concatenate([self._by_row[r] for r in rows]),
                np.concatenate([np.full(len(self._by_row[r]), r, dtype=np.int64) for r in rows]))

    @classmethod
    def from_arrays(cls, dim: int, vectors: np.ndarray, rows: np.ndarray) -> "ParagraphIndex":
        out = cls(dim)
        for r in np.unique(rows):
            out.add(int(r), vectors[rows == r])
        return out
