"""Stage 1 of storyline clustering: the sparse k-nearest-neighbour distance graph.

Every article is linked to its ``k`` most similar articles (cosine similarity,
FAISS inner-product search on unit vectors); the graph is made symmetric and
stored as a sparse CSR matrix of cosine distances, so no n x n matrix is ever
built. Disconnected parts are then bridged by edges longer than any real edge,
which density clustering never merges across but which keep the graph in one
piece as scikit-learn's HDBSCAN requires.
"""

from __future__ import annotations

import faiss
import numpy as np
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import connected_components

__all__ = ["knn_graph", "bridge_components", "MIN_DISTANCE"]

# Cosine distances are floored here: a sparse matrix cannot hold an explicit
# zero (identical vectors) without it meaning "no edge".
MIN_DISTANCE = 1e-6
_QUERY_BATCH = 4096


def knn_graph(vectors: np.ndarray, k: int, metric: str = "cosine") -> csr_matrix:
    """Symmetric sparse distance graph of each row's ``k`` nearest other rows.

    ``metric="cosine"`` expects unit-norm rows and stores ``1 - cosine``;
    ``"euclidean"`` stores Euclidean distances.

    >>> import numpy as np
    >>> g = knn_graph(np.eye(3, dtype=np.float32), k=1)
    >>> g.shape, g.nnz
    ((3, 3), 4)
    """
    x = np.ascontiguousarray(vectors, dtype=np.float32)
    n = len(x)
    k = min(k, n - 1)
    if n < 2 or k < 1:
        return csr_matrix((n, n), dtype=np.float64)
    cosine = metric == "cosine"
    index = faiss.IndexFlatIP(x.shape[1]) if cosine else faiss.IndexFlatL2(x.shape[1])
    index.add(x)
    rows, cols, dists = [], [], []
    for start in range(0, n, _QUERY_BATCH):
        q = x[start:start + _QUERY_BATCH]
        sims, nbrs = index.search(q, k + 1)
        for r in range(len(q)):
            i = start + r
            keep = (nbrs[r] != i) & (nbrs[r] >= 0)
            nb = nbrs[r][keep][:k]
            rows.append(np.full(len(nb), i))
            cols.append(nb)
            found = sims[r][keep][:k]
            dists.append(1.0 - found if cosine else np.sqrt(np.maximum(found, 0)))
    rows, cols = np.concatenate(rows), np.concatenate(cols)
    d = np.maximum(np.concatenate(dists).astype(np.float64), MIN_DISTANCE)
    g = coo_matrix((d, (rows, cols)), shape=(n, n)).tocsr()
    # symmetric: an edge found from either side, with its (equal) distance
    return g.maximum(g.T).tocsr()


def bridge_components(graph: csr_matrix) -> tuple[csr_matrix, int]:
    """The graph with its connected components chained by edges longer than any edge in it.

    Returns the bridged graph and the number of components there were.
    """
    n_comp, labels = connected_components(graph, directed=False)
    if n_comp <= 1:
        return graph, n_comp
    firsts = np.array([np.flatnonzero(labels == c)[0] for c in range(n_comp)])
    bridge = 2.0 * max(float(graph.data.max()) if graph.nnz else 1.0, 1.0) + 1.0
    a, b = firsts[:-1], firsts[1:]
    extra = coo_matrix((np.full(2 * len(a), bridge), (np.r_[a, b], np.r_[b, a])), shape=graph.shape)
    return (graph + extra).tocsr(), n_comp
