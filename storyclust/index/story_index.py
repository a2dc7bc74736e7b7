"""A FAISS vector index of articles, with their metadata, that can be saved and loaded."""

from __future__ import annotations

import functools
import json
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Sequence

import faiss
import numpy as np

from .._files import write_atomically
from ..documents.entities import RULES_VERSION, check_rules_version
from ..errors import InputError, ModelMismatchError
from .factory import EXACT_MAX, build_faiss_index, choose_factory
from .terms import TermIndex, article_terms

__all__ = ["StoryIndex", "Hit", "FORMAT_VERSION"]

FORMAT_VERSION = 2
_META_FIELDS = ("date", "source", "lang", "title")
# What related-story reranking reads besides the metadata (see :meth:`StoryIndex.add_articles`).
_EVIDENCE_FIELDS = ("site", "ages", "times", "titled", "terms")


def _locked(method):
    """Run a StoryIndex method under the index's lock."""
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        with self._lock:
            return method(self, *args, **kwargs)
    return wrapper


@dataclass(frozen=True)
class Hit:
    """One search result: an article id, its score, and its metadata.

    ``score`` is the cosine similarity to the query for :meth:`StoryIndex.search`,
    the BM25 score for :meth:`StoryIndex.search_terms`, and the same-story
    probability for :func:`~storyclust.find_related` (which also gives the ``cosine``).
    """

    id: str
    score: float
    date: datetime | None = None
    source: str | None = None
    lang: str | None = None
    title: str | None = None
    cosine: float | None = None


class StoryIndex:
    """Article vectors in FAISS, searchable by cosine similarity, with id, date, source and language.

    Parameters
    ----------
    dim : int
        Vector dimension.
    model : str
        The fingerprint of the model that made the vectors (``Embedder.fingerprint``).
        Vectors from another model are refused, by :meth:`add` and by :meth:`load`.
    factory : str, default "auto"
        A faiss ``index_factory`` string (``"Flat"``, ``"IVF1024,Flat"``, ``"IVF1024,PQ32"``...)
        or ``"auto"``: exact ``Flat`` up to 50,000 vectors, then rebuilt as
        ``IVF{4*sqrt(n)},Flat`` (approximate) when it grows past that.
    nprobe : int, default 16
        Inverted lists visited per query by IVF indexes.

    Examples
    --------
    >>> import numpy as np
    >>> idx = StoryIndex(dim=3, model="toy@1")
    >>> idx.add(["a", "b"], np.array([[1, 0, 0], [0, 1, 0]], dtype=np.float32), model="toy@1")
    >>> [h.id for h in idx.search(np.array([0.9, 0.1, 0], dtype=np.float32), k=2)]
    ['a', 'b']
    >>> idx.remove(["a"]); len(idx)
    1

    Guarantees
    ----------
    - Thread safety: any number of threads may search while one thread adds or
      removes; every call sees the index either before or after a whole
      ``add``/``remove`` (calls are serialised by a lock; FAISS itself spreads
      one batched search over the cores).
    - :meth:`save` is atomic: after a crash at any moment, :meth:`load` gives
      the previously saved state or the new one, never a mix.
    - Nothing is unpickled: the folder holds FAISS index files and JSON.

    Besides the article vectors it keeps each article's headline vector and
    the evidence :func:`~storyclust.find_related` reranks with (entity terms
    and headline words in a BM25 :class:`~storyclust.index.terms.TermIndex`,
    site, ages, clock times).
    """

    def __init__(self, dim: int, model: str, *, factory: str = "auto", nprobe: int = 16):
        if not isinstance(dim, int) or dim < 1:
            raise InputError(f"dim must be a positive integer, got {dim!r}", field="dim")
        if not model or not isinstance(model, str):
            raise InputError("model must be the fingerprint of the embedding model (Embedder.fingerprint)",
                             field="model")
        self.dim = dim
        self.model = model
        self.factory = factory
        self.nprobe = nprobe
        self._index = None
        self._headlines = None               # headline vectors, exact search, same faiss ids
        self._terms = TermIndex()
        self._factory_used: str | None = None
        self._ids: dict[str, int] = {}       # article id -> faiss id
        self._rows: dict[int, dict] = {}     # faiss id -> {"id": ..., metadata}
        self._next = 0
        self._lock = threading.RLock()

    # ------------------------------------------------------------ building

    @_locked
    def __len__(self) -> int:
        return len(self._ids)

    @property
    def has_dates(self) -> bool:
        """Whether any indexed article has a date."""
        return any(r.get("date") is not None for r in self._rows.values())

    def __contains__(self, article_id) -> bool:
        return article_id in self._ids

    @property
    @_locked
    def ids(self) -> list[str]:
        """Article ids in the order they were added."""
        return list(self._ids)

    @property
    def factory_string(self) -> str | None:
        """The faiss factory string in use (None while empty)."""
        return self._factory_used

    @_locked
    def add(self, ids: Sequence[str], vectors: np.ndarray, *, model: str, metadata: Sequence[dict] | None = None,
            headline_vectors: np.ndarray | None = None) -> None:
        """Add vectors under article ids.

        ``model`` is the fingerprint of the model that made ``vectors`` and
        must equal the index's. ``metadata`` is one dict per id with any of
        ``date``, ``source``, ``lang``, ``title`` and the evidence fields
        ``site``, ``ages`` (list of str), ``times`` (minutes after midnight), ``titled`` (bool) and ``terms``
        ({term: count}). ``headline_vectors`` default to ``vectors``.
        """
        if model != self.model:
            raise ModelMismatchError(
                f"these vectors come from {model!r} but the index holds vectors from {self.model!r}; "
                "embed with the same model or build a new index")
        ids = [str(i) for i in ids]
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[1] != self.dim:
            raise InputError(f"vectors must have shape (n, {self.dim}), got {vectors.shape}", field="vectors")
        if len(ids) != len(vectors):
            raise InputError(f"{len(ids)} ids but {len(vectors)} vectors", field="ids")
        if metadata is not None and len(metadata) != len(ids):
            raise InputError(f"{len(ids)} ids but {len(metadata)} metadata records", field="metadata")
        if not np.isfinite(vectors).all():
            bad = ids[int(np.where(~np.isfinite(vectors).all(axis=1))[0][0])]
            raise InputError("vector has NaN or infinite values", where=f"id {bad!r}", field="vectors")
        seen = set()
        for i in ids:
            if i in self._ids or i in seen:
                raise InputError("id is already in the index; remove it first to replace it",
                                 where=f"id {i!r}", field="id")
            seen.add(i)
        heads = vectors if headline_vectors is None else np.ascontiguousarray(headline_vectors, dtype=np.float32)
        if heads.shape != vectors.shape or not np.isfinite(heads).all():
            raise InputError(f"headline_vectors must be finite with shape {vectors.shape}, got {heads.shape}",
                             field="headline_vectors")
        if not ids:
            return
        faiss_ids = np.arange(self._next, self._next + len(ids), dtype=np.int64)
        self._ensure_index(len(self) + len(ids), vectors)
        self._index.add_with_ids(_unit(vectors), faiss_ids)
        if self._headlines is None:
            self._headlines = build_faiss_index("Flat", self.dim)
        self._headlines.add_with_ids(_unit(heads), faiss_ids)
        for k, (i, fid) in enumerate(zip(ids, faiss_ids.tolist())):
            meta = dict(metadata[k]) if metadata is not None else {}
            row = {"id": i}
            row.update({f: meta.get(f) for f in _META_FIELDS + _EVIDENCE_FIELDS})
            row["terms"] = {str(t): int(c) for t, c in (row["terms"] or {}).items()}
            row["ages"] = sorted(row["ages"] or ())
            row["times"] = sorted(int(t) for t in row["times"] or ())
            self._ids[i] = fid
            self._rows[fid] = row
            self._terms.add(fid, row["terms"])
        self._next += len(ids)

    def add_articles(self, articles, embedder, embeddings=None) -> None:
        """Embed articles (or take their precomputed ``embeddings``) and add them with their metadata and evidence."""
        if embedder.fingerprint != self.model:
            raise ModelMismatchError(
                f"the embedder is {embedder.fingerprint!r} but the index holds vectors from {self.model!r}")
        articles = list(articles)
        emb = embeddings if embeddings is not None else embedder.embed_articles(articles)
        meta = [article_evidence(a) for a in articles]
        self.add([a.id for a in articles], emb.vectors, model=embedder.fingerprint, metadata=meta,
                 headline_vectors=emb.headline_vectors)

    def _ensure_index(self, n_after: int, new_vectors: np.ndarray) -> None:
        if self._index is None:
            factory = choose_factory(n_after) if self.factory == "auto" else self.factory
            self._index = self._new_index(factory, new_vectors)
            return
        if self.factory == "auto" and self._factory_used == "Flat" and n_after > EXACT_MAX:
            old_ids = faiss.vector_to_array(self._index.id_map).astype(np.int64)
            old = self._index.index.reconstruct_n(0, self._index.ntotal)
            index = self._new_index(choose_factory(n_after), np.vstack([old, new_vectors]))
            index.add_with_ids(old, old_ids)
            self._index = index

    def _new_index(self, factory: str, train_vectors: np.ndarray):
        index = build_faiss_index(factory, self.dim)
        if not index.is_trained:
            need = getattr(index, "nlist", 1)
            if len(train_vectors) < need:
                raise InputError(f"{factory!r} needs at least {need} vectors to train, got {len(train_vectors)}; "
                                 "add more vectors at once or use factory='auto'", field="factory")
            index.train(_unit(train_vectors))
        if isinstance(index, faiss.IndexIVF):
            index.nprobe = self.nprobe
        self._factory_used = factory
        return index

    @_locked
    def remove(self, ids: Sequence[str]) -> None:
        """Remove articles by id; unknown ids raise an error naming them."""
        ids = [str(i) for i in ids]
        missing = [i for i in ids if i not in self._ids]
        if missing:
            raise InputError(f"not in the index: {missing[:5]}", field="id")
        fids = np.array([self._ids.pop(i) for i in ids], dtype=np.int64)
        for f in fids.tolist():
            self._terms.remove(f, self._rows.pop(f)["terms"])
        if len(fids):
            self._index.remove_ids(fids)
            self._headlines.remove_ids(fids)

    @_locked
    def vector(self, article_id: str) -> np.ndarray:
        """The stored vector of an article."""
        if article_id not in self._ids:
            raise InputError("not in the index", where=f"id {article_id!r}", field="id")
        return self._index.reconstruct(self._ids[article_id])

    @_locked
    def headline_vector(self, article_id: str) -> np.ndarray:
        """The stored headline vector of an article (its article vector when none was given)."""
        if article_id not in self._ids:
            raise InputError("not in the index", where=f"id {article_id!r}", field="id")
        return self._headlines.reconstruct(self._ids[article_id])

    @_locked
    def metadata(self, article_id: str) -> dict:
        """An article's metadata and evidence fields (a copy)."""
        if article_id not in self._ids:
            raise InputError("not in the index", where=f"id {article_id!r}", field="id")
        return dict(self._rows[self._ids[article_id]])

    @_locked
    def document_frequency(self, term: str) -> int:
        """How many indexed articles have ``term`` among their terms."""
        return self._terms.df(term)

    # ------------------------------------------------------------ searching

    def _queries(self, queries) -> tuple[np.ndarray, bool]:
        q = np.asarray(queries, dtype=np.float32)
        single = q.ndim == 1
        q = np.atleast_2d(q)
        if q.shape[1] != self.dim:
            raise InputError(f"query vectors must have {self.dim} dimensions, got {q.shape[1]}", field="query")
        return _unit(q), single

    def _hit(self, fid: int, score: float) -> Hit:
        r = self._rows[fid]
        return Hit(r["id"], float(score), r.get("date"), r.get("source"), r.get("lang"), r.get("title"))

    @_locked
    def search(self, queries: np.ndarray, k: int = 10):
        """The ``k`` most similar articles to each query vector, best first.

        A single vector gives a list of :class:`Hit`; a matrix, a list of such lists.
        """
        if not isinstance(k, int) or k < 1:
            raise InputError(f"k must be a positive integer, got {k!r}", field="k")
        q, single = self._queries(queries)
        if not len(self):
            res = [[] for _ in q]
            return res[0] if single else res
        scores, fids = self._index.search(q, min(k, len(self)))
        res = [[self._hit(int(f), s) for f, s in zip(fr, sr) if f >= 0] for fr, sr in zip(fids, scores)]
        return res[0] if single else res

    @_locked
    def search_headlines(self, query: np.ndarray, k: int = 10) -> list[Hit]:
        """The ``k`` articles whose headline vector is most similar to the vector ``query`` (exact search)."""
        if not isinstance(k, int) or k < 1:
            raise InputError(f"k must be a positive integer, got {k!r}", field="k")
        q, _ = self._queries(query)
        if not len(self):
            return []
        scores, fids = self._headlines.search(q[:1], min(k, len(self)))
        return [self._hit(int(f), s) for f, s in zip(fids[0], scores[0]) if f >= 0]

    @_locked
    def search_terms(self, terms, k: int = 10) -> list[Hit]:
        """The ``k`` articles whose terms best match ``terms`` (BM25; see :func:`~storyclust.index.terms.query_terms`)."""
        if not isinstance(k, int) or k < 1:
            raise InputError(f"k must be a positive integer, got {k!r}", field="k")
        return [self._hit(f, s) for f, s in self._terms.search(terms, k)]

    @_locked
    def term_scores(self, terms, ids) -> list[float]:
        """The BM25 score of each article of ``ids`` for ``terms``, over the highest any article could have:
        the share of the query's term evidence each holds, in [0, 1]."""
        best = self._terms.best_score(terms)
        return [s / best if best > 0 else 0.0 for s in self._terms.scores(terms, [self._ids[i] for i in ids])]

    @_locked
    def range_search(self, query: np.ndarray, min_similarity: float):
        """Every article whose cosine similarity to ``query`` is at least ``min_similarity``, best first."""
        q, single = self._queries(query)
        if not len(self):
            return [] if single else [[] for _ in q]
        # faiss keeps inner products strictly greater than the radius
        lims, scores, fids = self._index.range_search(q, float(np.nextafter(np.float32(min_similarity), -np.inf)))
        res = []
        for i in range(len(q)):
            part = sorted(zip(scores[lims[i]:lims[i + 1]], fids[lims[i]:lims[i + 1]]), key=lambda t: (-t[0], t[1]))
            res.append([self._hit(int(f), s) for s, f in part])
        return res[0] if single else res

    # ------------------------------------------------------------ persistence

    @_locked
    def save(self, path) -> None:
        """Write the index to a folder: an ``index-*.faiss`` file and ``meta.json`` (no pickles).

        The index goes to a new file name; ``meta.json``, which names that file,
        is written to a temporary file, flushed to disk and renamed over the old
        one; only then are the previous index file and stale temporaries
        deleted. A crash at any point leaves the old or the new state loadable.
        """
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        index_name = f"index-{uuid.uuid4().hex}.faiss"  # never the file the current meta.json names
        headline_name = index_name.replace("index-", "headlines-", 1)
        if self._index is not None:
            write_atomically(path / index_name, faiss.serialize_index(self._index).tobytes())
            write_atomically(path / headline_name, faiss.serialize_index(self._headlines).tobytes())
        rows = [self._rows[f] for f in sorted(self._rows)]
        meta = {
            "format": "storyclust-index",
            "format_version": FORMAT_VERSION,
            "entity_rules": RULES_VERSION,
            "model": self.model,
            "dim": self.dim,
            "factory": self.factory,
            "factory_used": self.factory_string,
            "nprobe": self.nprobe,
            "next_id": self._next,
            "index_file": index_name if self._index is not None else None,
            "headline_file": headline_name if self._index is not None else None,
            "faiss_ids": sorted(self._rows),
            "rows": [{k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in r.items()} for r in rows],
        }
        write_atomically(path / "meta.json", json.dumps(meta, ensure_ascii=False).encode())
        # only now are the files of earlier saves, and temporaries of interrupted ones, unused
        for old in [*path.glob("index-*.faiss"), *path.glob("headlines-*.faiss"), *path.glob(".*.tmp")]:
            if old.name not in (index_name, headline_name):
                old.unlink(missing_ok=True)

    @classmethod
    def load(cls, path, *, model: str | None = None) -> "StoryIndex":
        """Read a folder written by :meth:`save`; ``model``, when given, must match the index's model."""
        path = Path(path)
        meta_path = path / "meta.json"
        if not meta_path.exists():
            raise InputError("not a storyclust index folder (no meta.json); build one with StoryIndex.save",
                             where=str(path))
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as e:
            raise InputError(f"meta.json is unreadable ({e}); rebuild the index", where=str(path)) from None
        if meta.get("format") != "storyclust-index" or meta.get("format_version") != FORMAT_VERSION:
            raise InputError(
                f"index format version {meta.get('format_version')!r} is not {FORMAT_VERSION}, which this "
                "storyclust reads; rebuild the index with this version", where=str(path))
        check_rules_version(meta.get("entity_rules"), str(path), "rebuild the index with this version")
        if model is not None and model != meta["model"]:
            raise ModelMismatchError(
                f"the index at {path} holds vectors from {meta['model']!r}, not {model!r}; "
                "query it with the model that built it or rebuild it")
        idx = cls(meta["dim"], meta["model"], factory=meta["factory"], nprobe=meta["nprobe"])
        idx._next = meta["next_id"]
        if meta["index_file"]:
            data = np.frombuffer((path / meta["index_file"]).read_bytes(), dtype=np.uint8)
            idx._index = faiss.deserialize_index(data)
            if isinstance(idx._index, faiss.IndexIVF):
                idx._index.nprobe = idx.nprobe
            idx._factory_used = meta["factory_used"]
            data = np.frombuffer((path / meta["headline_file"]).read_bytes(), dtype=np.uint8)
            idx._headlines = faiss.deserialize_index(data)
        for fid, row in zip(meta["faiss_ids"], meta["rows"]):
            if row.get("date"):
                row["date"] = datetime.fromisoformat(row["date"])
            idx._rows[fid] = row
            idx._ids[row["id"]] = fid
            idx._terms.add(fid, row["terms"])
        if idx._index is not None and idx._index.ntotal != len(idx._ids):
            raise InputError("index file and meta.json disagree; rebuild the index", where=str(path))
        return idx


def article_evidence(article) -> dict:
    """The metadata and evidence fields :meth:`StoryIndex.add_articles` stores for an article."""
    text = article.cleaned.full
    return {"date": article.date, "source": article.source, "lang": article.language,
            "title": article.headline, "site": article.site, "ages": sorted(article.ages),
            "times": sorted(article.times), "titled": bool(article.headline),
            "terms": article_terms(text, article.headline, article.language, article.entity_terms)}


def _unit(x: np.ndarray) -> np.ndarray:
    x = np.ascontiguousarray(x, dtype=np.float32)
    n = np.linalg.norm(x, axis=1, keepdims=True)
    n[n == 0] = 1
    return np.ascontiguousarray(x / n)
