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

Hand-written because neither scipy nor scikit-learn offers average linkage on
a sparse precomputed graph (scipy needs the condensed n x n matrix;
scikit-learn's connectivity-constrained version recomputes distances from
feature vectors).
"""

from __future__ import annotations

import heapq

import numpy as np

__all__ = ["average_linkage"]


def average_linkage(n: int, rows: np.ndarray, cols: np.ndarray, similarity: np.ndarray,
                    threshold: float = 0.5) -> np.ndarray:
    """Group labels (0..k-1, every row in one group, singletons included) from average linkage.

    ``(rows[t], cols[t], similarity[t])`` are the undirected edges, each once.
    Ties break towards the groups with the smallest row numbers, so the result
    depends only on the row numbering.

    >>> import numpy as np
    >>> average_linkage(4, np.array([0, 1, 2]), np.array([1, 2, 3]), np.array([0.9, 0.2, 0.8])).tolist()
    [0, 0, 1, 1]
    """
    rows = np.asarray(rows, dtype=np.int64)
    cols = np.asarray(cols, dtype=np.int64)
    sim = np.asarray(similarity, dtype=np.float64)
    parent = np.arange(n)
    # adjacency[a][b] = [sum of edge similarities, number of edges] between groups a and b
    adjacency: dict[int, dict[int, list]] = {}
    for a, b, s in zip(rows.tolist(), cols.tolist(), sim.tolist()):
        if a == b:
            continue
        for u, v in ((a, b), (b, a)):
            e = adjacency.setdefault(u, {}).setdefault(v, [0.0, 0])
            e[0] += s
            e[1] += 1
    version = dict.fromkeys(adjacency, 0)
    heap = [(-s / c, a, b, 0, 0) for a, nb in adjacency.items() for b, (s, c) in nb.items()
            if a < b and s / c >= threshold]
    heapq.heapify(heap)
    while heap:
        _, a, b, va, vb = heapq.heappop(heap)
        if version.get(a) != va or version.get(b) != vb:
            continue  # stale entry: a or b has merged since
        # merge b into a (a < b keeps the group named after its smallest row)
        nb_a, nb_b = adjacency[a], adjacency.pop(b)
        nb_a.pop(b, None)
        nb_b.pop(a, None)
        for c, (s, cnt) in nb_b.items():
            e = nb_a.setdefault(c, [0.0, 0])
            e[0] += s
            e[1] += cnt
            nb_c = adjacency[c]
            nb_c.pop(b)
            nb_c[a] = e  # shared: both directions see the same sums
        version[a] += 1
        del version[b]
        parent[b] = a
        for c, (s, cnt) in nb_a.items():
            if s / cnt >= threshold:
                lo, hi = min(a, c), max(a, c)
                heapq.heappush(heap, (-s / cnt, lo, hi, version[lo], version[hi]))
    for i in range(n):  # follow parents to the group's name (always its smallest row)
        parent[i] = parent[parent[i]]
    return np.unique(parent, return_inverse=True)[1]
