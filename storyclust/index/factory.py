"""Choosing the FAISS index by size, as a faiss ``index_factory`` string."""

from __future__ import annotations

import math

import faiss
import numpy as np

from ..errors import InputError

__all__ = ["EXACT_MAX", "build_faiss_index", "choose_factory", "trained_index"]

# Up to this many vectors, exact search (brute force inner product) is fast
# enough on 2 cores (a query scans 50k x 512 floats in a few ms) and has
# perfect recall; above it an inverted-file index is used.
EXACT_MAX = 50_000


def choose_factory(n: int) -> str:
    """The factory string ``"auto"`` means for ``n`` vectors.

    >>> choose_factory(1000), choose_factory(1_000_000)
    ('Flat', 'IVF4000,Flat')
    """
    if n <= EXACT_MAX:
        return "Flat"
    nlist = int(4 * math.sqrt(n))
    return f"IVF{nlist - nlist % 100},Flat"


def build_faiss_index(factory: str, dim: int):
    """An empty inner-product FAISS index that takes its own 64-bit ids and supports removal."""
    try:
        index = faiss.index_factory(dim, factory, faiss.METRIC_INNER_PRODUCT)
    except RuntimeError as e:
        raise InputError(f"faiss cannot build {factory!r}: {str(e).strip().splitlines()[-1]}", field="factory") from None
    if isinstance(index, faiss.IndexIVF):
        # a hash-table direct map lets reconstruct(), remove_ids() and our own ids work together
        index.set_direct_map_type(faiss.DirectMap.Hashtable)
        return index
    if isinstance(index, faiss.IndexFlat):
        return faiss.IndexIDMap2(index)
    raise InputError(
        f"{factory!r} is not supported: StoryIndex needs removal by id, which FAISS offers for Flat and IVF "
        "indexes (e.g. 'Flat', 'IVF1024,Flat', 'IVF1024,PQ32')", field="factory",
    )


def trained_index(x: np.ndarray, factory: str, *, cosine: bool = True, nprobe: int = 16, random_state=None):
    """A FAISS search index over the rows of ``x``, from a factory string (``"Flat"``, ``"IVF1024,PQ48"``, ``"HNSW32"``).

    Inner product when ``cosine`` (unit rows), else squared L2. An index that
    needs training is trained on a seeded sample of ``x`` (FAISS k-means
    seeded too), so the same ``random_state`` gives the same index; IVF
    indexes search ``nprobe`` lists, HNSW at least 128 candidates.

    >>> import numpy as np
    >>> x = np.eye(4, dtype=np.float32)
    >>> trained_index(x, "Flat").search(x[:1], 1)[1].tolist()
    [[0]]
    """
    metric = faiss.METRIC_INNER_PRODUCT if cosine else faiss.METRIC_L2
    try:
        index = faiss.index_factory(x.shape[1], factory, metric)
    except RuntimeError as e:
        raise InputError(f"faiss cannot build {factory!r}: {str(e).strip().splitlines()[-1]}", field="index") from None
    if not index.is_trained:
        ivf = faiss.extract_index_ivf(index)
        if len(x) < ivf.nlist:
            raise InputError(f"{factory!r} needs at least {ivf.nlist} vectors, got {len(x)}; use index='auto'",
                             field="index")
        # train on a seeded sample (faiss k-means itself is seeded too): the same random_state, the same index
        seed = 0 if random_state is None else int(np.random.default_rng(random_state).integers(2**31 - 1))
        rng = np.random.default_rng(seed)
        sample = x[np.sort(rng.choice(len(x), size=min(len(x), 64 * ivf.nlist), replace=False))]
        ivf.cp.seed = seed
        index.train(sample)
        ivf.nprobe = nprobe
    if hasattr(index, "hnsw"):
        index.hnsw.efSearch = max(index.hnsw.efSearch, 128)
    index.add(x)
    return index
