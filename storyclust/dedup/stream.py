"""Streaming deduplication: each article checked against the articles kept so far."""

from __future__ import annotations

import io
import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np
from tqdm.auto import tqdm

from .._files import write_atomically
from ..documents import Article, load_articles
from ..errors import InputError, ModelMismatchError
from .alignment import ParagraphIndex, aligned_share, earlier_near
from .bands import BandIndex
from .signatures import ArticleSketch, Signature, containment_estimate

__all__ = ["Deduplicator", "Decision"]

FORMAT_VERSION = 2
_CHAR_ROWS = 3       # values per band of the character signature: candidates from Jaccard ≈ 0.3 up
_CHAR_MIN = 200      # character 7-grams the shorter text needs for the character stage to count
_UNIT_MIN_WORDS = 8   # paragraphs the semantic stage aligns: shorter ones are headlines, bylines, datelines
_MAX_UNITS = 8        # of each article, its first: a bounded state, and the cost of embedding them
_UNIT_COSINE = 0.9    # a near-identical paragraph
_MIN_ALIGNED = 2      # paragraphs that must align: one shared paragraph is a quote or a template, not a reprint
_COMMON = 3           # a paragraph near-identical to paragraphs of this many kept articles is boilerplate


@dataclass(frozen=True)
class Decision:
    """What the deduplicator made of one article.

    ``duplicate_of`` is the id of the kept article it repeats, or None when the
    article is kept. ``kind`` is ``"exact"`` (same normalised text), ``"near"``
    (an edited reprint), ``"seen"`` (this id was checked before, in an earlier
    batch or a saved state: an overlapping crawl; ``duplicate_of`` is then
    the id itself and the article is not checked again) or None. ``score`` is the estimated share of the
    shorter text's word 5-grams (character 7-grams when the ``"character"`` stage decided) found in the
    other; ``stage`` says which stage decided a duplicate: ``"exact"``, ``"lexical"``, ``"character"``,
    ``"semantic"`` or ``"state"`` (already seen).
    """

    article: Article
    duplicate_of: str | None = None
    kind: str | None = None
    score: float = 0.0
    stage: str | None = None

    @property
    def id(self) -> str:
        return self.article.id

    @property
    def is_duplicate(self) -> bool:
        return self.duplicate_of is not None


class Deduplicator:
    """Finds exact copies and edited reprints in a stream of articles.

    Each article is compared with the articles kept so far; the first
    occurrence is kept and later copies point to it. Four stages:

    1. **exact**: the same normalised text (case, punctuation and white space
       do not count);
    2. **lexical**: a MinHash LSH finds kept articles sharing word 5-grams; when
       at least ``threshold`` of the shorter text's 5-grams are in the other
       (estimated from the signatures) and the shorter has at least
       ``min_length_ratio`` of the longer's 5-grams, it is a near duplicate;
    3. **character**: the same on character 7-grams, with ``char_threshold``:
       a misread letter (OCR, PDF extraction, a retyped copy) breaks every
       word 5-gram it falls in but only seven character 7-grams, so a copy
       with a few percent of its letters wrong keeps most of them. Its own
       LSH finds the candidates, and an abridged copy (the first paragraphs
       of the article) is contained in the full text at either level. In a
       text of a few lines a changed name or number weighs as much as noise,
       so texts under about 200 characters are left to the word stage;
    4. **semantic** (with ``semantic=True``): the first paragraphs of each
       article (up to eight of at least eight words) are embedded, and a
       FAISS search over the kept articles' paragraphs finds those with a
       near-identical paragraph (cosine ≥ 0.9), whatever their wording; the
       pair is a near duplicate when at least ``min_shared`` of the shorter
       one's paragraphs pair off one to one with such a paragraph of the
       other (:func:`~storyclust.dedup.alignment.aligned_share`). Articles on
       one event by different outlets say similar things in different
       paragraphs, so they stay apart. Pass the paragraph vectors you have
       (``embeddings=`` of :meth:`check`, from
       :meth:`~storyclust.Embedder.embed_articles`) and nothing is embedded
       twice.

    Articles about one event from different outlets share few 5-grams and
    are not duplicates (find them with related search).

    The state kept per article has a fixed size, whatever the length of the
    text: a 16-byte digest, two ``num_perm``-value signatures (words and
    characters), their band keys and, with the semantic stage, up to eight
    paragraph vectors. Only kept articles are stored; :attr:`state_bytes`
    reports the total.

    The semantic stage is off by default: embedding paragraphs costs far more
    than the rest (``benchmarks/dedup.py`` measures both).

    Parameters
    ----------
    threshold : float, default 0.6
    char_threshold : float, default 0.65
        Share of the shorter text's character 7-grams in the other that makes a near duplicate.
    semantic : bool, default False
        Embed paragraphs and align them (stage 4).
    min_shared : float, default 0.7
        Share of the shorter article's paragraphs that must align (stage 4).
    min_length_ratio : float, default 0.25
    embedder : Embedder, optional
        Used by the semantic stage; default: the default model, loaded the
        first time paragraphs are to be embedded.
    num_perm : int, default 128
    show_progress : bool, optional

    Examples
    --------
    >>> from storyclust import Article
    >>> body = ("The council approved the new budget on Monday after a debate that lasted six hours. "
    ...         "Spending on schools rises by four percent.")
    >>> d = Deduplicator()
    >>> out = d.check([Article("a", body), Article("b", body.upper()),
    ...                Article("c", "A storm closed the harbour for two days and ferries were cancelled.")])
    >>> [(x.id, x.duplicate_of, x.kind) for x in out]
    [('a', None, None), ('b', 'a', 'exact'), ('c', None, None)]
    >>> len(d)
    2

    In a pipeline, :meth:`dedup` takes any iterable (a generator reading a
    crawl, batches, DataFrames) and yields as it goes; ``keep="first"`` yields
    only the articles that are kept::

        dd = Deduplicator.load("state/") if Path("state/").exists() else Deduplicator()
        for article in dd.dedup(crawl(), keep="first"):
            write(article)
        dd.save("state/")   # tomorrow's crawl is checked against today's articles too
    """

    def __init__(self, threshold: float = 0.6, *, char_threshold: float = 0.65, semantic: bool = False,
                 min_shared: float = 0.7, min_length_ratio: float = 0.25,
                 embedder=None, num_perm: int = 128,
                 show_progress: bool | None = None):
        if not 0 < threshold <= 1:
            raise InputError(f"threshold must be in (0, 1], got {threshold!r}", field="threshold")
        if not 0 < char_threshold <= 1:
            raise InputError(f"char_threshold must be in (0, 1], got {char_threshold!r}", field="char_threshold")
        if not 0 < min_shared <= 1:
            raise InputError(f"min_shared must be in (0, 1], got {min_shared!r}", field="min_shared")
        if not 0 <= min_length_ratio <= 1:
            raise InputError(f"min_length_ratio must be in [0, 1], got {min_length_ratio!r}",
                             field="min_length_ratio")
        if not isinstance(num_perm, int) or num_perm < 16 or num_perm & (num_perm - 1):
            raise InputError(f"num_perm must be a power of two ≥ 16, got {num_perm!r}", field="num_perm")
        self.threshold = threshold
        self.char_threshold = char_threshold
        self.semantic = semantic
        self.min_shared = min_shared
        self.min_length_ratio = min_length_ratio
        self.embedder = embedder
        self.num_perm = num_perm
        self.show_progress = show_progress
        self._bands = BandIndex(bands=num_perm // 2, rows=2)
        self._char_bands = BandIndex(bands=num_perm // _CHAR_ROWS, rows=_CHAR_ROWS)
        self._ids: list[str] = []
        self._digests: dict[bytes, int] = {}   # digest -> row of the first kept article with it
        self._row_digests: list[bytes] = []
        self._sigs: list[np.ndarray] = []
        self._sizes: list[int] = []
        self._char_sigs: list[np.ndarray] = []
        self._char_sizes: list[int] = []
        self._paragraphs: ParagraphIndex | None = None  # made when the first vectors come
        self._given: dict[str, np.ndarray] = {}         # paragraph vectors passed in, by id
        self._given_sketches: dict[str, ArticleSketch] = {}  # sketches passed in, by id
        self._seen: set[str] = set()

    def __len__(self) -> int:
        """The number of kept articles."""
        return len(self._ids)

    @property
    def state_bytes(self) -> int:
        """Bytes held for the kept articles: digests, signatures, sizes, band keys and paragraph vectors (ids
        excluded)."""
        n = len(self._ids)
        per_band_entry = 8 + 24  # a 64-bit key and its share of a dict slot
        bands = self._bands.bands + self._char_bands.bands
        vectors = 0 if self._paragraphs is None else len(self._paragraphs) * (4 * self._paragraphs.dim + 8)
        return n * (16 + 2 * (4 * self.num_perm + 8) + bands * per_band_entry) + vectors

    # ------------------------------------------------------------ checking

    def check(self, articles: Iterable[Article], *, embeddings=None, sketches=None) -> list[Decision]:
        """Decide a batch of articles in order; kept ones join the state.

        ``embeddings``: the :class:`~storyclust.ArticleEmbeddings` of these
        articles (same order), whose paragraph vectors the semantic stage
        then uses instead of embedding. ``sketches``: their
        :class:`~storyclust.dedup.ArticleSketch` (same order), made elsewhere
        (on a Ray cluster's workers), used instead of sketching them here.
        """
        given = _unique_articles(articles)  # the whole batch is validated before any state changes
        self._take_embeddings(given, embeddings)
        self._take_sketches(given, sketches)
        try:
            return self._decide(given)
        finally:
            self._given.clear()
            self._given_sketches.clear()

    def _decide(self, given: list) -> list[Decision]:
        """Already-seen ids are reported as such; the others are checked."""
        seen = [a.id in self._seen for a in given]
        out = self._check_new([a for a, s in zip(given, seen) if not s])[::-1]
        self._seen.update(a.id for a in given)
        return [Decision(a, a.id, "seen", 1.0, "state") if s else out.pop() for a, s in zip(given, seen)]

    def _check_new(self, batch: list) -> list[Decision]:
        """:meth:`check` for articles whose ids were never seen."""
        views = [self._given_sketches.pop(a.id, None) or ArticleSketch.of(a, self.num_perm) for a in batch]
        units = self._units(batch) if self.semantic else None

        # pass 1: candidates of each article among the kept ones and the earlier ones in this batch, from
        # the word and the character LSH (and the paragraph vectors); key >= 0 is a state row, key < 0 the
        # batch article -1-key
        local, local_chars = (BandIndex(b.bands, b.rows) for b in (self._bands, self._char_bands))
        # a text too short for the character stage stays out of its LSH (templated briefs would share buckets)
        keys = [(self._bands.keys(v.words.values),
                 self._char_bands.keys(v.chars.values) if v.chars.size >= _CHAR_MIN else []) for v in views]
        cands: list[list[tuple[int, float, float]]] = []  # (key, word containment, character containment)
        # per article and paragraph: the kept rows, and the earlier articles of this batch, with a near-identical
        # paragraph (each found in one search for the whole batch)
        near_rows, near_batch = self._near_paragraphs(units) if units is not None else ([], [])
        for i, v in enumerate(views):
            words, chars = keys[i]
            found = set(self._bands.query(keys=words)) | set(self._char_bands.query(keys=chars))
            found |= {-1 - j for j in local.query(keys=words) + local_chars.query(keys=chars)}
            semantic = set()
            if units is not None:
                semantic = set().union(*near_rows[i]) | {-1 - j for j in set().union(*near_batch[i])}
            scored = []
            for k in sorted(found | semantic):
                other = self._view(k, views)
                w, c = self._score(v.words, other.words), self._score(v.chars, other.chars, _CHAR_MIN)
                if w >= self.threshold or c >= self.char_threshold or k in semantic:
                    scored.append((k, w, c))
            cands.append(scored)
            local.add(i, keys=words)
            local_chars.add(i, keys=chars)

        # pass 2: decide in input order; only kept articles can be duplicated
        out, kept_in_batch = [], {}
        for i, (a, v) in enumerate(zip(batch, views)):
            dup = self._digests.get(v.digest)
            if dup is not None:
                out.append(Decision(a, self._ids[dup], "exact", 1.0, "exact"))
                continue
            best, story = None, None
            for k, w, c in sorted(cands[i], key=lambda x: (-max(x[1], x[2]), x[0])):
                if k < 0 and -1 - k not in kept_in_batch:
                    continue  # an earlier article of this batch that was itself a duplicate
                if w >= self.threshold:
                    best = (k, w, "lexical")
                elif c >= self.char_threshold:
                    best = (k, c, "character")
                else:
                    if story is None:
                        story = self._without_boilerplate(units[i], near_rows[i], near_batch[i], kept_in_batch)
                    matched, share = aligned_share(story, units[-1 - k] if k < 0 else self._paragraphs.vectors(k),
                                                   _UNIT_COSINE)
                    if matched >= _MIN_ALIGNED and share >= self.min_shared:
                        best = (k, share, "semantic")
                if best:
                    break
            if best is None:
                kept_in_batch[i] = self._keep(a, v, keys[i], None if units is None else units[i])
                out.append(Decision(a))
            else:
                k, score, stage = best
                row = k if k >= 0 else kept_in_batch[-1 - k]
                out.append(Decision(a, self._ids[row], "near", round(score, 4), stage))
        return out

    def check_all(self, articles: Iterable[Article], *, embeddings=None, sketches=None) -> list[Decision]:
        """Decide a whole collection, earliest first: each group keeps its earliest article.

        The articles are checked by date (undated last, then id), so the kept
        ones do not depend on the input order; the decisions come back in
        input order. :func:`~storyclust.find_duplicates` and ``storyclust
        dedup`` decide this way. ``embeddings``, ``sketches``: as in :meth:`check`.
        """
        articles = _unique_articles(articles)  # across batches a repeated id would pass as already seen
        self._take_embeddings(articles, embeddings)
        self._take_sketches(articles, sketches)
        try:
            decided = {d.id: d for d in self._stream(sorted(articles, key=lambda a: a.chronological_key))}
        finally:
            self._given.clear()
            self._given_sketches.clear()
        return [decided[a.id] for a in articles]

    def dedup(self, articles: Iterable, *, keep: str = "all", batch_size: int = 512) -> Iterator:
        """Check a stream of articles (or batches / DataFrames of them) as it arrives.

        Yields a :class:`Decision` for every article (``keep="all"``) or only the
        kept :class:`~storyclust.Article` objects (``keep="first"``), in input order.
        """
        if keep not in ("all", "first"):
            raise InputError(f"keep must be 'all' or 'first', not {keep!r}", field="keep")
        for d in self._stream(articles, batch_size):
            if keep == "all":
                yield d
            elif not d.is_duplicate:
                yield d.article

    def _stream(self, articles: Iterable, batch_size: int = 512) -> Iterator[Decision]:
        off = None if self.show_progress is None else not self.show_progress  # None: shown on a terminal
        bar = tqdm(desc="dedup", unit="doc", disable=off)
        try:
            for batch in _batches(articles, batch_size):
                yield from self._decide(_unique_articles(batch))
                bar.update(len(batch))
        finally:
            bar.close()

    # ------------------------------------------------------------ internals

    def _view(self, key: int, views: list) -> ArticleSketch:
        """The batch article ``-1 - key``, or what the state holds of row ``key``."""
        if key < 0:
            return views[-1 - key]
        return ArticleSketch(b"", Signature(self._sigs[key], self._sizes[key]),
                             Signature(self._char_sigs[key], self._char_sizes[key]))

    def _score(self, a: Signature, b: Signature, min_size: int = 0) -> float:
        small, large = sorted((a.size, b.size))
        if small < self.min_length_ratio * large or small < min_size:
            return 0.0
        return containment_estimate(a, b)

    def _keep(self, a: Article, v: ArticleSketch, keys: tuple, units: np.ndarray | None) -> int:
        row = len(self._ids)
        self._ids.append(a.id)
        self._digests.setdefault(v.digest, row)
        self._row_digests.append(v.digest)
        self._sigs.append(v.words.values)
        self._sizes.append(v.words.size)
        self._char_sigs.append(v.chars.values)
        self._char_sizes.append(v.chars.size)
        self._bands.add(row, keys=keys[0])
        self._char_bands.add(row, keys=keys[1])
        if units is not None:
            if self._paragraphs is None:
                self._paragraphs = ParagraphIndex(units.shape[1])
            self._paragraphs.add(row, units)
        return row

    def _take_embeddings(self, articles: list, embeddings) -> None:
        """Keep the paragraph vectors of ``embeddings`` (for ``articles``, in order) for the semantic stage."""
        if embeddings is None or not self.semantic:
            return
        n = len(embeddings.chunk_offsets) - 1
        if n != len(articles):
            raise InputError(f"embeddings of {n} articles for {len(articles)} articles; pass the embeddings of "
                             "these articles, in order", field="embeddings")
        self._embedder()
        if embeddings.chunk_vectors.shape[1] != self.embedder.dim:
            raise ModelMismatchError(f"embeddings of dimension {embeddings.chunk_vectors.shape[1]}, the semantic "
                                     f"stage uses {self.embedder.fingerprint} ({self.embedder.dim}); pass its "
                                     "embedder as embedder=")
        for i, a in enumerate(articles):
            texts, vecs = embeddings.chunks(i)
            keep = _unit_positions(a, texts)
            self._given[a.id] = vecs[keep]

    def _take_sketches(self, articles: list, sketches) -> None:
        """Keep the given :class:`ArticleSketch` of ``articles`` (in order) for the lexical and character stages."""
        if sketches is None:
            return
        sketches = list(sketches)
        if len(sketches) != len(articles):
            raise InputError(f"{len(sketches)} sketches for {len(articles)} articles; pass the sketches of these "
                             "articles, in order", field="sketches")
        for a, k in zip(articles, sketches):
            if not isinstance(k, ArticleSketch) or k.words.values.size != self.num_perm:
                raise InputError(f"expected an ArticleSketch of num_perm={self.num_perm} "
                                 "(ArticleSketch.of(article, num_perm))", where=f"id {a.id!r}", field="sketches")
            self._given_sketches[a.id] = k

    def _units(self, batch: list) -> list[np.ndarray]:
        """The unit vectors of each article's first paragraphs: given, or embedded in one call."""
        todo = [a for a in batch if a.id not in self._given]
        if todo:
            emb = self._embedder()
            texts = [[t for t, _ in emb.split_chunks(a)] for a in todo]
            picked = [[t[k] for k in _unit_positions(a, t)] for a, t in zip(todo, texts)]
            flat = emb.encode([t for p in picked for t in p])
            pos = 0
            for a, p in zip(todo, picked):
                self._given[a.id] = flat[pos:pos + len(p)]
                pos += len(p)
        return [self._given.pop(a.id) for a in batch]

    def _near_paragraphs(self, units: list) -> tuple[list, list]:
        """Per batch article and paragraph: the kept rows with a near-identical paragraph, and the earlier
        articles of the batch with one."""
        if self._paragraphs is not None and any(len(u) for u in units):
            flat = self._paragraphs.rows_near(np.vstack([u for u in units if len(u)]), _UNIT_COSINE)
            ends = np.cumsum([len(u) for u in units])
            rows = [flat[e - len(u):e] for u, e in zip(units, ends)]
        else:
            rows = [[set() for _ in u] for u in units]
        return rows, earlier_near(units, _UNIT_COSINE)

    def _without_boilerplate(self, units: np.ndarray, rows: list[set], batch: list[set],
                             kept_in_batch: dict) -> np.ndarray:
        """``units`` less those near-identical to paragraphs of many kept articles (``rows`` in the state,
        ``batch`` the earlier articles of this batch, of which the kept ones count): a site's or a template's
        boilerplate. A reprint is not kept, so a reprinted paragraph stays rare."""
        keep = [len(r) + sum(j in kept_in_batch for j in b) < _COMMON for r, b in zip(rows, batch)]
        return units[np.asarray(keep, dtype=bool)] if len(units) else units

    def _embedder(self):
        if self.embedder is None:
            from ..embeddings import Embedder

            self.embedder = Embedder(show_progress=False)
        return self.embedder

    # ------------------------------------------------------------ persistence

    def save(self, path) -> Path:
        """Write the state to a folder (``state-*.npz`` arrays, ``dedup.json``); atomic, no pickles."""
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        name = f"state-{uuid.uuid4().hex}.npz"

        def stack(rows):
            return np.stack(rows) if rows else np.zeros((0, self.num_perm), dtype=np.uint32)

        digests = np.frombuffer(b"".join(self._row_digests), dtype=np.uint8).reshape(-1, 16)
        units, unit_rows = self._paragraphs.arrays() if self._paragraphs else (np.zeros((0, 0)), np.zeros(0))
        arrays = io.BytesIO()
        np.savez(arrays, sigs=stack(self._sigs), sizes=np.asarray(self._sizes, dtype=np.int64),
                 char_sigs=stack(self._char_sigs), char_sizes=np.asarray(self._char_sizes, dtype=np.int64),
                 digests=digests, units=units.astype(np.float32), unit_rows=unit_rows.astype(np.int64))
        write_atomically(path / name, arrays.getvalue())
        meta = {"format_version": FORMAT_VERSION, "state": name, "ids": self._ids,
                "seen": sorted(self._seen),
                "params": {"threshold": self.threshold, "char_threshold": self.char_threshold,
                           "semantic": self.semantic, "min_shared": self.min_shared,
                           "min_length_ratio": self.min_length_ratio, "num_perm": self.num_perm},
                "embedder": getattr(self.embedder, "fingerprint", None)}
        write_atomically(path / "dedup.json", json.dumps(meta, ensure_ascii=False).encode())
        for p in path.iterdir():  # earlier states and temporaries of interrupted saves
            if p.name != name and (p.name.startswith("state-") or p.name.startswith(".dedup.json.")
                                   or p.name.startswith(".state-")):
                p.unlink(missing_ok=True)
        return path

    @classmethod
    def load(cls, path, *, embedder=None, show_progress: bool | None = None) -> "Deduplicator":
        """Read a state written by :meth:`save` (arrays and JSON; nothing is unpickled)."""
        path = Path(path)
        meta_path = path / "dedup.json"
        if not meta_path.exists():
            raise InputError("no dedup.json here; save a Deduplicator to this folder first", where=str(path))
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if meta.get("format_version") != FORMAT_VERSION:
            raise InputError(f"saved with dedup format {meta.get('format_version')}, this storyclust reads "
                             f"{FORMAT_VERSION}; re-run the dedup to rebuild the state", where=str(path))
        if embedder is not None and meta["embedder"] and embedder.fingerprint != meta["embedder"]:
            raise ModelMismatchError(f"state was built with {meta['embedder']}, not {embedder.fingerprint}; "
                                     "pass that model or rebuild the state")
        d = cls(**meta["params"], embedder=embedder, show_progress=show_progress)
        with np.load(path / meta["state"], allow_pickle=False) as z:
            sigs, sizes, digests = z["sigs"], z["sizes"], z["digests"]
            char_sigs, char_sizes = z["char_sigs"], z["char_sizes"]
            units, unit_rows = z["units"], z["unit_rows"]
        for row, i in enumerate(meta["ids"]):
            digest = digests[row].tobytes()
            d._digests.setdefault(digest, row)
            d._row_digests.append(digest)
            d._ids.append(i)
            d._sigs.append(sigs[row])
            d._sizes.append(int(sizes[row]))
            d._char_sigs.append(char_sigs[row])
            d._char_sizes.append(int(char_sizes[row]))
            d._bands.add(row, sigs[row])
            if char_sizes[row] >= _CHAR_MIN:
                d._char_bands.add(row, char_sigs[row])
        if len(units):
            d._paragraphs = ParagraphIndex.from_arrays(units.shape[1], units, unit_rows)
        d._seen = set(meta["seen"])
        return d


def _unit_positions(article: Article, chunks: list[str]) -> list[int]:
    """Which of an article's embedded chunks (title first, when it has one) the semantic stage aligns: its
    first paragraphs of at least a few words."""
    first = 1 if article.cleaned.title and chunks else 0
    return [k for k in range(first, len(chunks)) if len(chunks[k].split()) >= _UNIT_MIN_WORDS][:_MAX_UNITS]


def _unique_articles(articles: Iterable) -> list[Article]:
    """``articles`` as a list, refused when one is not an :class:`Article` or an id repeats."""
    out, ids = list(articles), set()
    for i, a in enumerate(out):
        if not isinstance(a, Article):
            raise InputError(f"expected an Article, got {type(a).__name__}; use load_articles() first",
                             where=f"article {i}")
        if a.id in ids:
            raise InputError("duplicate id; ids must be unique", where=f"id {a.id!r}", field="id")
        ids.add(a.id)
    return out


def _batches(items: Iterable, size: int) -> Iterator[list]:
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover
        pd = None
    batch: list = []
    for item in items:
        if pd is not None and isinstance(item, pd.DataFrame):
            if batch:
                yield batch
                batch = []
            yield list(load_articles(item))
            continue
        if isinstance(item, list):
            if batch:
                yield batch
                batch = []
            yield item
            continue
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch

