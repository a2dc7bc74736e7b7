"""Stage 3 of storyline clustering: average linkage on the sparse same-story graph.

Articles are merged bottom-up, always the two groups whose candidate pairs
(the edges between them) have the highest mean same-story probability, until
no two groups connected by an edge average ``threshold`` or more. On a
complete graph this is UPGMA cut at ``1 - threshold`` (the tests check it
against scipy's ``linkage(method="average")``); on the sparse k-NN graph the
mean runs over the pairs that were scored, so a storyline of hundreds of
articles is not torn apart merely because each article has only
``n_neighbors`` candidates. (Counting unscored pairs as probability 0 would
cap a storyline at about ``4 * n_neighbors`` articles.)

A merge needs an edge of probability ``threshold`` or more between the two
groups, so storylines never cross the connected components of the graph
restricted to such edges.

How it runs: in rounds over the whole graph, as array operations. Each round
every group finds its best neighbour, and every two groups that are each
other's best neighbour (at ``threshold`` or more) merge. This gives the same
groups as merging one best pair at a time, because this average is
*reducible*: the average between a merged group ``a + b`` and a third group
``c`` is a weighted mean of ``a``-``c`` and ``b``-``c`` (or equals the one
that was scored), so it is never higher than both. A group whose best
neighbour is below ``threshold`` can therefore never merge again, and it
leaves the graph with its edges. (Ties break towards the smaller row number.)

Hand-written because neither scipy nor scikit-learn offers average linkage on
a sparse precomputed graph (scipy needs the condensed n x n matrix;
scikit-learn's connectivity-constrained version recomputes distances from
feature vectors). The rounds replaced a merge-one-pair-at-a-time heap in
Python, whose loop ran per merge; ``benchmarks/scale.py`` times this stage at
up to a million rows.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import coo_matrix, csr_matrix
from tqdm.auto import tqdm

__all__ = ["attach_alone", "average_linkage"]


def average_linkage(n: int, rows: np.ndarray, cols: np.ndarray, similarity: np.ndarray,
                    threshold: float = 0.5, show_progress: bool | None = False) -> np.ndarray:
    """Group labels (0..k-1, every row in one group, singletons included) from average linkage.

    ``(rows[t], cols[t], similarity[t])`` are the undirected edges; an edge
    given twice counts twice. Labels are numbered by each group's smallest row,
    so the result depends only on the row numbering.

    >>> import numpy as np
    >>> average_linkage(4, np.array([0, 1, 2]), np.array([1, 2, 3]), np.array([0.9, 0.2, 0.8])).tolist()
    [0, 0, 1, 1]
    """
    rows = np.asarray(rows, dtype=np.int64)
    cols = np.asarray(cols, dtype=np.int64)
    sim = np.asarray(similarity, dtype=np.float64)
    if not len(rows) == len(cols) == len(sim):
        raise ValueError(f"rows, cols and similarity differ in length ({len(rows)}, {len(cols)}, {len(sim)})")
    parent = np.arange(n)  # row -> the row it merged into (itself while it names a group)
    ids = np.arange(n)  # the groups still in play, as their smallest row (ascending); edges index into ids
    keep = rows != cols
    a, b = np.minimum(rows[keep], cols[keep]), np.maximum(rows[keep], cols[keep])
    a, b, total, count = _combine(n, a, b, sim[keep], np.ones(keep.sum()))
    disable = None if show_progress is None else not show_progress  # None: shown on a terminal only
    with tqdm(desc="average linkage", unit=" round", disable=disable, leave=False) as bar:
        while len(a):
            m = len(ids)
            best, partner = _best_neighbours(m, a, b, total / count)
            # a group whose best edge is below the threshold never merges again: it leaves with its edges
            alive = best >= threshold
            i = np.flatnonzero(alive)
            j = partner[i]
            pair = (partner[j] == i) & (i < j)
            i, j = i[pair], j[pair]
            parent[ids[j]] = ids[i]  # merge j into i (i < j: the group keeps its smallest row as its name)
            stays = alive.copy()
            stays[j] = False
            target = np.cumsum(stays) - 1  # old position -> new position
            target[j] = target[i]
            keep = alive[a] & alive[b]
            a, b, total, count = target[a[keep]], target[b[keep]], total[keep], count[keep]
            outer = a != b
            a, b = np.minimum(a[outer], b[outer]), np.maximum(a[outer], b[outer])
            ids = ids[stays]
            a, b, total, count = _combine(len(ids), a, b, total[outer], count[outer])
            bar.update()
            bar.set_postfix(groups=len(ids), edges=len(a), refresh=False)
    while True:  # follow the merges to each group's name
        up = parent[parent]
        if np.array_equal(up, parent):
            break
        parent = up
    return np.unique(parent, return_inverse=True)[1]


def _combine(n, a, b, total, count):
    """Sum ``total`` and ``count`` over repeated ``(a, b)`` edges (one sparse conversion: count rides as i)."""
    if not len(a):
        return a, b, total, count
    m = coo_matrix((total + 1j * count, (a, b)), shape=(n, n)).tocsr().tocoo()  # tocsr sums duplicates
    return m.row.astype(np.int64), m.col.astype(np.int64), m.data.real.copy(), m.data.imag.copy()


def _best_neighbours(n, a, b, value):
    """Per node: its best edge value (-inf without edges) and the neighbour at the other end (smallest on ties)."""
    m = csr_matrix((np.r_[value, value], (np.r_[a, b], np.r_[b, a])), shape=(n, n))
    starts = m.indptr[:-1]
    nonempty = np.flatnonzero(np.diff(m.indptr))
    best = np.full(n, -np.inf)
    partner = np.arange(n)
    if len(nonempty):
        best[nonempty] = np.maximum.reduceat(m.data, starts[nonempty])
        row_of = np.repeat(np.arange(n), np.diff(m.indptr))
        cand = np.where(m.data == best[row_of], m.indices, n)
        partner[nonempty] = np.minimum.reduceat(cand, starts[nonempty])
    return best, partner


def attach_alone(groups: np.ndarray, rows: np.ndarray, cols: np.ndarray, similarity: np.ndarray,
                 threshold: float = 0.5) -> np.ndarray:
    """Groups after each article left alone joins the group of its most probable pair, when that pair reaches
    ``threshold`` and its other end is in a group of two or more.

    Average linkage asks a group's scored pairs to *average* ``threshold``; a report that tells one side of a
    story is left alone by its weak pairs to the rest, though one pair says it is more likely than not that
    story. Each lone article looks at the groups as linkage left them, so the result does not depend on the
    order in which they are attached (ties go to the smaller row). Labels are renumbered 0..k-1, keeping their
    order.

    >>> import numpy as np
    >>> groups = np.array([0, 0, 0, 1, 2])      # rows 3 and 4 alone
    >>> rows, cols, p = np.array([0, 1, 0, 1]), np.array([1, 2, 3, 4]), np.array([0.9, 0.8, 0.6, 0.3])
    >>> attach_alone(groups, rows, cols, p).tolist()  # row 3 joins (0.6 with row 0), row 4 stays alone (0.3)
    [0, 0, 0, 0, 1]
    """
    groups = np.asarray(groups, dtype=np.int64)
    rows, cols = np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)
    sim = np.asarray(similarity, dtype=np.float64)
    alone = np.bincount(groups)[groups] == 1
    src, dst, val = np.r_[rows, cols], np.r_[cols, rows], np.r_[sim, sim]
    ok = alone[src] & ~alone[dst] & (val >= threshold)
    src, dst, val = src[ok], dst[ok], val[ok]
    if not len(src):
        return np.unique(groups, return_inverse=True)[1]
    order = np.lexsort((dst, -val, src))  # per lone row: the most probable pair first, then the smaller row
    src, dst = src[order], dst[order]
    first = np.r_[True, src[1:] != src[:-1]]
    out = groups.copy()
    out[src[first]] = groups[dst[first]]
    return np.unique(out, return_inverse=True)[1]
