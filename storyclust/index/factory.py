"""Choosing the FAISS index by size, as a faiss ``index_factory`` string."""

from __future__ import annotations

import math

import faiss

from ..errors import InputError

__all__ = ["EXACT_MAX", "choose_factory", "build_faiss_index"]

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
