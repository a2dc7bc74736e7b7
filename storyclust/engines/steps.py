"""Pipeline steps: small callables, set up once, a batch of records in and the batch with new columns out.

A batch is a dict of equal-length columns (lists or numpy arrays), the form
Ray Data's ``map_batches`` passes and returns; the records' fields are those
:func:`~storyclust.load_articles` reads (``id``, ``text``, ``title``, ``date`` ...).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Mapping

import numpy as np

from ..documents import load_articles

if TYPE_CHECKING:
    from ..embeddings import ArticleEmbeddings

__all__ = ["EmbedStep", "embeddings_from_rows"]

_COLUMNS = ("vector", "headline_vector", "chunk_vectors", "chunk_texts", "truncated")


class EmbedStep:
    """Embeds a batch of article records: adds ``vector``, ``headline_vector``, ``chunk_vectors``,
    ``chunk_texts`` and ``truncated`` columns, as :meth:`Embedder.embed_articles` makes them.

    The model loads once, when the step is made (once per Ray actor).

    >>> step = EmbedStep(cache=False)
    >>> out = step({"id": ["a"], "text": ["First paragraph.\\n\\nSecond one."], "title": ["Title"]})
    >>> out["vector"].shape, list(out["chunk_texts"][0])
    ((1, 512), ['Title', 'First paragraph.', 'Second one.'])
    """

    def __init__(self, model: str | None = None, *, cache: bool = True, cache_dir=None, precision: str = "auto"):
        from ..embeddings import Embedder

        self.embedder = Embedder(model, cache=cache, cache_dir=cache_dir, precision=precision, show_progress=False)

    def __call__(self, batch: Mapping) -> dict:
        n = len(batch["id"])
        records = [{k: _plain(v[i]) for k, v in batch.items() if k not in _COLUMNS} for i in range(n)]
        emb = self.embedder.embed_articles(load_articles(records))
        out = dict(batch)
        out["vector"] = emb.vectors
        out["headline_vector"] = emb.headline_vectors
        chunks = [emb.chunks(i) for i in range(n)]
        out["chunk_vectors"] = _objects([v for _, v in chunks])
        out["chunk_texts"] = _objects([np.array(t, dtype=object) for t, _ in chunks])
        truncated = set(emb.truncated)
        out["truncated"] = np.array([str(batch["id"][i]) in truncated for i in range(n)])
        return out


def embeddings_from_rows(rows) -> "ArticleEmbeddings":
    """The :class:`~storyclust.ArticleEmbeddings` of records that went through :class:`EmbedStep`, in their order."""
    from ..embeddings import ArticleEmbeddings

    rows = list(rows)
    if not rows:
        raise ValueError("no rows")
    counts = [len(r["chunk_texts"]) for r in rows]
    offsets = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    dim = len(rows[0]["vector"])
    chunk_vectors = np.vstack([np.asarray(r["chunk_vectors"], dtype=np.float32).reshape(-1, dim) for r in rows])
    texts = [str(t) for r in rows for t in r["chunk_texts"]]
    return ArticleEmbeddings(np.stack([np.asarray(r["vector"], dtype=np.float32) for r in rows]), chunk_vectors,
                             offsets, texts, [str(r["id"]) for r in rows if r["truncated"]])


def _objects(items: list) -> np.ndarray:
    """A 1-d object array of ``items`` (numpy would otherwise try to stack equal-shaped ones)."""
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return out


def _plain(v):
    """A numpy scalar as the Python value load_articles reads (None for NaN and NaT)."""
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and v != v:
        return None
    return v
