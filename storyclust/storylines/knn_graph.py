"""Stage 1 of storyline clustering: the sparse k-nearest-neighbour distance graph.

Every article is linked to its ``k`` most similar articles (cosine similarity,
FAISS inner-product search on unit vectors: exact up to 50,000 articles, an
inverted file of about 256 rows per list above, or any FAISS factory string); the graph is made symmetric and
stored as a sparse CSR matrix of cosine distances, so no n x n matrix is ever
built. Disconnected parts are then bridged by edges longer than any real edge,
which density clustering never merges across but which keep the graph in one
piece as scikit-learn's HDBSCAN requires.
"""

from __future__ import annotations

import re

import faiss
import numpy as np
from scipy.sparse import coo_matrix, csr_matrix, spmatrix
from scipy.sparse.csgraph import connected_components
from tqdm.auto import tqdm

from ..errors import InputError
from ..index.factory import EXACT_MAX, trained_index

__all__ = ["MIN_DISTANCE", "bridge_components", "candidate_pairs", "knn_graph", "nearest_neighbours"]

# Cosine distances are floored here: a sparse matrix cannot hold an explicit
# zero (identical vectors) without it meaning "no edge".
MIN_DISTANCE = 1e-6
_QUERY_BATCH = 4096


CELL_SIZE = 256  # rows per inverted list of the "auto" search above EXACT_MAX


def _kmeans(x: np.ndarray, k: int, cosine: bool, seed: int) -> np.ndarray:
    """``k`` centroids of ``x`` (faiss k-means, 10 iterations, on a seeded sample of up to 40 rows per centroid)."""
    rng = np.random.default_rng(seed)
    sample = x if len(x) <= 40 * k else x[np.sort(rng.choice(len(x), size=40 * k, replace=False))]
    km = faiss.Kmeans(x.shape[1], k, niter=10, seed=seed, spherical=cosine, min_points_per_centroid=1)
    km.train(sample)
    return km.centroids


def _nearest_centroids(x: np.ndarray, centroids: np.ndarray, k: int = 1) -> np.ndarray:
    """Each row's ``k`` nearest centroids (L2; on unit centroids the same order as cosine), nearest first."""
    index = faiss.IndexFlatL2(centroids.shape[1])
    index.add(centroids)
    return index.search(x, min(k, len(centroids)))[1]


def _one_level_cells(x, nlist, cosine, seed):
    centroids = _kmeans(x, nlist, cosine, seed)
    return _nearest_centroids(x, centroids)[:, 0], centroids


def _two_level_cells(x, cell_size, cosine, seed, spill: int = 3):
    """Lists of about ``cell_size`` rows: k-means into sqrt(n / cell_size) groups, then each group into lists.

    Every row then goes to its nearest list among those of its ``spill`` nearest groups, so that a row near
    the border of two groups lands where a one-level k-means would put it. Assigning n rows costs about
    n * (1 + spill) * sqrt(n / cell_size) distances instead of n * n / cell_size with one level, and every list
    stays near ``cell_size`` rows, so the self-join costs the same per row at any n.
    """
    n = len(x)
    k1 = max(1, int(round(np.sqrt(n / cell_size))))
    nearest_groups = _nearest_centroids(x, _kmeans(x, k1, cosine, seed), spill)
    top = nearest_groups[:, 0]
    centroids, first = [], [0]
    for g in range(k1):
        members = np.flatnonzero(top == g)
        k2 = max(1, int(round(len(members) / cell_size))) if len(members) else 0
        if k2 == 1:
            c = x[members].mean(axis=0, keepdims=True)
            if cosine:
                c /= max(float(np.linalg.norm(c)), 1e-12)
        elif k2 > 1:
            c = _kmeans(x[members], k2, cosine, seed + 1 + g)
        else:
            c = np.zeros((0, x.shape[1]), dtype=np.float32)
        centroids.append(c.astype(np.float32))
        first.append(first[-1] + len(c))
    best = np.full(n, -np.inf, dtype=np.float32)
    assign = np.zeros(n, dtype=np.int64)
    half_sq = [0.5 * (c * c).sum(axis=1) for c in centroids]
    for g in range(k1):
        if not len(centroids[g]):
            continue
        rows = np.flatnonzero((nearest_groups == g).any(axis=1))
        for start in range(0, len(rows), 8192):
            r = rows[start:start + 8192]
            score = x[r] @ centroids[g].T - half_sq[g]  # larger = nearer in L2
            j = score.argmax(axis=1)
            s = score[np.arange(len(r)), j]
            better = s > best[r]
            best[r[better]] = s[better]
            assign[r[better]] = first[g] + j[better]
    return assign, np.vstack(centroids)


def _ivf_self_join(x: np.ndarray, k: int, nlist: int | None, nprobe: int, cosine: bool, random_state, disable):
    """Each row's k nearest among the rows of its own and its ``nprobe - 1`` nearest inverted lists.

    A list whose searched lists hold ``k`` rows or fewer searches further
    lists until they hold more, so every row gets ``k`` neighbours.
    The lists come from k-means with ``nlist`` centroids, or (``nlist=None``)
    from two-level k-means with about ``CELL_SIZE`` rows per list. The
    candidates are those an IVF index searched with ``nprobe`` lists per
    query cell would see, but computed cell by cell as matrix products: on a
    2-core machine this is about ten times faster than per-query IVF search
    at a million rows (``benchmarks/scale.py`` reports its recall@10 beside
    FAISS's own indexes).
    """
    seed = 0 if random_state is None else int(np.random.default_rng(random_state).integers(2**31 - 1000))
    if nlist is None:
        assign, centroids = _two_level_cells(x, CELL_SIZE, cosine, seed)
    else:
        assign, centroids = _one_level_cells(x, nlist, cosine, seed)
    nlist = len(centroids)
    near = _nearest_centroids(centroids, centroids, max(nprobe + 1, 64))  # spare lists for sparse cells
    order = np.argsort(assign, kind="stable")
    bounds = np.searchsorted(assign[order], np.arange(nlist + 1))
    rows, cols, scores = [], [], []
    sq = (x * x).sum(axis=1) if not cosine else None
    for c in tqdm(range(nlist), desc=f"k-NN graph ({nlist} lists, self-join)", unit="list", disable=disable,
                  leave=False):
        members = order[bounds[c]:bounds[c + 1]]
        if len(members) == 0:
            continue
        others = [j for j in near[c].tolist() if j != c and j >= 0]
        cells = [c] + others[: nprobe - 1]
        count = sum(bounds[j + 1] - bounds[j] for j in cells)
        for j in others[nprobe - 1:]:  # lists too small for k neighbours: search further ones until there are
            if count > k:
                break
            cells.append(j)
            count += bounds[j + 1] - bounds[j]
        cand = np.concatenate([order[bounds[j]:bounds[j + 1]] for j in cells])
        kk = min(k, len(cand) - 1)
        if kk < 1:
            continue
        xc = x[cand]
        for start in range(0, len(members), 2048):
            mem = members[start:start + 2048]
            sim = x[mem] @ xc.T
            if not cosine:  # negative squared distance, so that larger is nearer in both cases
                sim = 2 * sim - sq[mem][:, None] - sq[cand][None, :]
            sim[np.arange(len(mem)), start + np.arange(len(mem))] = -np.inf  # members come first in cand
            top = np.argpartition(-sim, kk - 1, axis=1)[:, :kk]
            rows.append(np.repeat(mem, kk))
            cols.append(cand[top].ravel())
            s = np.take_along_axis(sim, top, axis=1).ravel()
            scores.append(s if cosine else -s)
    return (np.concatenate(rows).astype(np.int64), np.concatenate(cols).astype(np.int64),
            np.concatenate(scores).astype(np.float32))


def nearest_neighbours(vectors: np.ndarray, k: int, metric: str = "cosine", index: str = "auto", nprobe: int = 16,
                       random_state=None, show_progress: bool | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(rows, cols, scores)``: each row's ``k`` nearest other rows (inner product, or squared L2).

    ``index`` is a FAISS factory string: ``"Flat"`` (exact), ``"IVF4000,Flat"``,
    ``"HNSW32"``, ``"IVF4000,PQ48"``, ...; ``"auto"`` is exact up to 50,000 rows
    (``EXACT_MAX``) and above an inverted file with about ``CELL_SIZE`` (256)
    rows per list, its lists found by two-level k-means, searched in ``nprobe``
    lists (``"IVF,Flat"`` asks for that inverted file at any size; it and
    ``IVF...,Flat`` run as a cell-by-cell self-join, the other types through FAISS search). Rows that are exact
    duplicates find each other; a row never lists itself. ``scores`` are inner
    products for cosine and squared distances for Euclidean.
    """
    x = np.ascontiguousarray(vectors, dtype=np.float32)
    n = len(x)
    k = min(k, n - 1)
    if n < 2 or k < 1:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32)
    disable = None if show_progress is None else not show_progress  # None: shown on a terminal only
    if index == "IVF,Flat" or (index == "auto" and n > EXACT_MAX):
        return _ivf_self_join(x, k, None, nprobe, metric == "cosine", random_state, disable)
    factory = "Flat" if index == "auto" else index
    ivf = re.fullmatch(r"IVF(\d+),Flat", factory)
    if ivf:
        nlist = int(ivf.group(1))
        if n < nlist:
            raise InputError(f"{factory!r} needs at least {nlist} vectors, got {n}; use index='auto'", field="index")
        return _ivf_self_join(x, k, nlist, nprobe, metric == "cosine", random_state, disable)
    faiss_index = trained_index(x, factory, cosine=metric == "cosine", nprobe=nprobe, random_state=random_state)
    rows, cols, scores = [], [], []
    for start in tqdm(range(0, n, _QUERY_BATCH), desc=f"k-NN graph ({factory})", unit="batch", disable=disable,
                      leave=False):
        q = x[start:start + _QUERY_BATCH]
        sims, nbrs = faiss_index.search(q, k + 1)
        me = np.arange(start, start + len(q))[:, None]
        ok = (nbrs != me) & (nbrs >= 0)
        ok &= np.cumsum(ok, axis=1) <= k  # at most k, self and missing results left out
        rows.append(np.broadcast_to(me, nbrs.shape)[ok])
        cols.append(nbrs[ok])
        scores.append(sims[ok])
    return np.concatenate(rows).astype(np.int64), np.concatenate(cols).astype(np.int64), np.concatenate(scores)


def knn_graph(vectors: np.ndarray, k: int, metric: str = "cosine", index: str = "auto", nprobe: int = 16,
              random_state=None, show_progress: bool | None = None) -> csr_matrix:
    """Symmetric sparse distance graph of each row's ``k`` nearest other rows.

    ``metric="cosine"`` expects unit-norm rows and stores ``1 - cosine``;
    ``"euclidean"`` stores Euclidean distances. ``index``, ``nprobe`` and
    ``random_state`` choose the search (:func:`nearest_neighbours`).

    >>> import numpy as np
    >>> g = knn_graph(np.eye(3, dtype=np.float32), k=1)
    >>> g.shape, g.nnz
    ((3, 3), 4)
    """
    n = len(vectors)
    rows, cols, s = nearest_neighbours(vectors, k, metric, index, nprobe, random_state, show_progress)
    if len(rows) == 0:
        return csr_matrix((n, n), dtype=np.float64)
    d = (1.0 - s.astype(np.float64)) if metric == "cosine" else np.sqrt(np.maximum(s.astype(np.float64), 0))
    g = coo_matrix((np.maximum(d, MIN_DISTANCE), (rows, cols)), shape=(n, n)).tocsr()
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


def _sparse_neighbours(m: spmatrix, k: int, block: int = 2048) -> tuple[np.ndarray, np.ndarray]:
    """(rows, cols) of each row's ``k`` most similar other rows of a sparse L2-normalised matrix (cosine > 0).

    Ties go to the smaller row. The loop per row stays on purpose: one lexsort
    over a whole block's products was several times slower when tried on GVA's
    entity terms, because the products are nearly dense (most pairs of
    articles share some term) and a per-row sort of a short list is cheap.
    """
    m = csr_matrix(m)
    mt = m.T.tocsc()
    rows, cols = [], []
    for start in range(0, m.shape[0], block):
        sims = (m[start:start + block] @ mt).tocsr()
        for r in range(sims.shape[0]):
            lo, hi = sims.indptr[r], sims.indptr[r + 1]
            c, v = sims.indices[lo:hi], sims.data[lo:hi]
            keep = (c != start + r) & (v > 0)
            c, v = c[keep], v[keep]
            if len(c) > k:  # top k by similarity, ties to the smaller row
                c = c[np.lexsort((c, -v))[:k]]
            rows.append(np.full(len(c), start + r))
            cols.append(c)
    if not rows:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(rows).astype(np.int64), np.concatenate(cols).astype(np.int64)


def candidate_pairs(vectors: np.ndarray, k: int, entities: spmatrix | None = None, index: str = "auto",
                    random_state=None, nprobe: int = 16, show_progress: bool | None = None
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Pairs ``(i, j)``, ``i < j``, where one is among the other's ``k`` nearest by vector or by entity terms.

    Only these pairs are scored as possible same-story pairs; the linkage
    averages over them and ignores the rest. Returned sorted by ``(i, j)``, each once.
    ``index``, ``nprobe``, ``random_state`` and ``show_progress`` go to
    :func:`nearest_neighbours`.

    >>> import numpy as np
    >>> x = np.array([[1, 0], [0.8, 0.6], [0, 1]], dtype=np.float32)
    >>> rows, cols = candidate_pairs(x, k=1)
    >>> list(zip(rows.tolist(), cols.tolist()))
    [(0, 1), (1, 2)]
    """
    x = np.ascontiguousarray(vectors, dtype=np.float32)
    n = len(x)
    k = min(k, n - 1)
    if n < 2 or k < 1:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    r, c, _ = nearest_neighbours(x, k, index=index, nprobe=nprobe, random_state=random_state,
                                 show_progress=show_progress)
    if entities is not None:
        r2, c2 = _sparse_neighbours(entities, k)
        r, c = np.r_[r, r2], np.r_[c, c2]
    lo, hi = np.minimum(r, c), np.maximum(r, c)
    pairs = np.unique(lo.astype(np.int64) * n + hi)
    return pairs // n, pairs % n
