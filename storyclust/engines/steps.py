"""Pipeline steps: small callables, set up once, a batch of records in and the batch with new columns out.

A batch is a dict of equal-length columns (lists or numpy arrays), the form
Ray Data's ``map_batches`` passes and returns; the records' fields are those
:func:`~storyclust.load_articles` reads (``id``, ``text``, ``title``, ``date`` ...).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Mapping

import numpy as np

from ..dedup.signatures import ArticleSketch, Signature
from ..documents import Article, load_articles
from ..documents.article import adopt_cleaned
from ..documents.cleaning import CleanText, RemovedLine

if TYPE_CHECKING:
    from ..embeddings import ArticleEmbeddings

__all__ = ["EmbedStep", "SketchStep", "articles_from_rows", "embeddings_from_rows", "sketches_from_rows"]

_EMBEDDING = ("vector", "headline_vector", "chunk_vectors", "chunk_texts", "truncated")
_CLEANED = ("clean_title", "clean_paragraphs", "removed_text", "removed_reason", "language", "entity_terms", "ages",
            "times")
_SKETCH = ("digest", "word_signature", "word_shingles", "char_signature", "char_shingles")
_COLUMNS = _EMBEDDING + _CLEANED + _SKETCH  # what steps add; the rest of a row is the input record


class EmbedStep:
    """Embeds a batch of article records: adds ``vector``, ``headline_vector``, ``chunk_vectors``,
    ``chunk_texts`` and ``truncated`` columns, as :meth:`Embedder.embed_articles` makes them.

    The model loads once, when the step is made (once per Ray actor). With
    ``prepare=True`` the batch also gets what the later stages read of each
    article, made from the same cleaned text: the cleaning's result, the
    language and the storylines' entity terms, ages and clock times (``clean_title``,
    ``clean_paragraphs``, ``removed_text``, ``removed_reason``, ``language``,
    ``entity_terms``, ``ages``, ``times``) and the dedup sketch (:class:`SketchStep`'s
    columns), so the driver does not clean, read or sketch the articles again
    (:func:`articles_from_rows`, :func:`sketches_from_rows`).

    >>> step = EmbedStep(cache=False)
    >>> out = step({"id": ["a"], "text": ["First paragraph.\\n\\nSecond one."], "title": ["Title"]})
    >>> out["vector"].shape, list(out["chunk_texts"][0])
    ((1, 512), ['Title', 'First paragraph.', 'Second one.'])
    """

    def __init__(self, model: str | None = None, *, cache: bool = True, cache_dir=None, precision: str = "auto",
                 prepare: bool = False, num_perm: int = 128):
        from ..embeddings import Embedder

        self.embedder = Embedder(model, cache=cache, cache_dir=cache_dir, precision=precision, show_progress=False)
        self.prepare = prepare
        self.num_perm = num_perm

    def __call__(self, batch: Mapping) -> dict:
        n = len(batch["id"])
        articles = _articles(batch)
        emb = self.embedder.embed_articles(articles)
        out = dict(batch)
        if self.prepare:
            out.update(_cleaned_columns(articles))
            out.update(_sketch_columns(articles, self.num_perm))
        out["vector"] = emb.vectors
        out["headline_vector"] = emb.headline_vectors
        chunks = [emb.chunks(i) for i in range(n)]
        out["chunk_vectors"] = _objects([v for _, v in chunks])
        out["chunk_texts"] = _objects([np.array(t, dtype=object) for t, _ in chunks])
        truncated = set(emb.truncated)
        out["truncated"] = np.array([str(batch["id"][i]) in truncated for i in range(n)])
        return out


class SketchStep:
    """Adds each article's dedup sketch (:class:`~storyclust.dedup.ArticleSketch`): ``digest``,
    ``word_signature``, ``word_shingles``, ``char_signature`` and ``char_shingles`` columns. No model: on Ray
    it runs as tasks.

    >>> out = SketchStep()({"id": ["a"], "text": ["The council approved the budget on Monday."]})
    >>> out["word_signature"].shape, out["word_shingles"].tolist()
    ((1, 128), [3])
    """

    def __init__(self, num_perm: int = 128):
        self.num_perm = num_perm

    def __call__(self, batch: Mapping) -> dict:
        return {**batch, **_sketch_columns(_articles(batch), self.num_perm)}


def articles_from_rows(rows) -> list[Article]:
    """The :class:`~storyclust.Article` of each row (the input record's fields); when the rows went through
    ``EmbedStep(prepare=True)``, each keeps the cleaned text and language made there."""
    articles = load_articles([{k: _plain(v) for k, v in r.items() if k not in _COLUMNS} for r in rows])
    for a, r in zip(articles, rows):
        _adopt(a, r)
    return articles


def _adopt(article: Article, row) -> None:
    """Give ``article`` the cleaned text, language, entity terms, ages and times in ``row`` (from
    ``EmbedStep(prepare=True)``), if any."""
    if "clean_paragraphs" in row:
        removed = [RemovedLine(str(t), str(why)) for t, why in zip(row["removed_text"], row["removed_reason"])]
        adopt_cleaned(article, CleanText(_plain(row["clean_title"]), [str(p) for p in row["clean_paragraphs"]],
                                         removed), _plain(row["language"]),
                      tuple(str(t) for t in row["entity_terms"]), frozenset(str(x) for x in row["ages"]),
                      frozenset(int(x) for x in row["times"]))


def sketches_from_rows(rows) -> list[ArticleSketch]:
    """The :class:`~storyclust.dedup.ArticleSketch` of rows that went through :class:`SketchStep` (or
    ``EmbedStep(prepare=True)``), in their order: pass them to ``find_duplicates(..., sketches=)``."""
    return [ArticleSketch(bytes(r["digest"]),
                          Signature(np.asarray(r["word_signature"], dtype=np.uint32), int(r["word_shingles"])),
                          Signature(np.asarray(r["char_signature"], dtype=np.uint32), int(r["char_shingles"])))
            for r in rows]


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


def _articles(batch: Mapping) -> list[Article]:
    """The batch's records as articles (the columns steps add are left out)."""
    n = len(batch["id"])
    return load_articles([{k: _plain(v[i]) for k, v in batch.items() if k not in _COLUMNS} for i in range(n)])


def _cleaned_columns(articles: list[Article]) -> dict:
    cleaned = [a.cleaned for a in articles]
    return {"clean_title": _objects([c.title for c in cleaned]),
            "clean_paragraphs": _objects([np.array(c.paragraphs, dtype=object) for c in cleaned]),
            "removed_text": _objects([np.array([r.text for r in c.removed], dtype=object) for c in cleaned]),
            "removed_reason": _objects([np.array([r.reason for r in c.removed], dtype=object) for c in cleaned]),
            "language": _objects([a.language for a in articles]),
            "entity_terms": _objects([np.array(a.entity_terms, dtype=object) for a in articles]),
            "ages": _objects([np.array(sorted(a.ages), dtype=object) for a in articles]),
            "times": _objects([np.array(sorted(a.times), dtype=np.int64) for a in articles])}


def _sketch_columns(articles: list[Article], num_perm: int) -> dict:
    sketches = [ArticleSketch.of(a, num_perm) for a in articles]
    return {"digest": _objects([k.digest for k in sketches]),
            "word_signature": np.stack([k.words.values for k in sketches]),
            "word_shingles": np.array([k.words.size for k in sketches], dtype=np.int64),
            "char_signature": np.stack([k.chars.values for k in sketches]),
            "char_shingles": np.array([k.chars.size for k in sketches], dtype=np.int64)}


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
