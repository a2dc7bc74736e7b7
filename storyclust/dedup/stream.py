"""Streaming deduplication: each article checked against the articles kept so far."""

from __future__ import annotations

import hashlib
import json
import os
import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np
from tqdm.auto import tqdm

from ..documents import Article, load_articles
from ..documents.cleaning import normalize_paragraphs
from ..errors import InputError, ModelMismatchError
from .bands import BandIndex
from .signatures import Signature, article_signatures, containment_estimate, dedup_paragraphs

__all__ = ["Deduplicator", "Decision"]

FORMAT_VERSION = 2
_CHAR_N = 7          # character n-grams of the noise-robust sketch
_CHAR_ROWS = 3       # values per band of the character signature: candidates from Jaccard ≈ 0.3 up
_CHAR_MIN = 200      # character 7-grams the shorter text needs for the character stage to count
_LEAD_CHARS = 1000  # what the semantic stage embeds of an article: its start, a fixed-size state
_LEAD_MIN_WORDS = 8
_SENTENCE_COSINE = 0.9
_MAX_SENTENCES = 4  # of each start, for the semantic stage: its cost is the embedding of these sentences
_SENTENCE_RE = re.compile(r"(?<=[.!?])\s+")


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
    4. **semantic** (with ``semantic=True``), only for pairs below both
       thresholds whose character overlap is in the uncertain band
       ``[uncertain, char_threshold)`` (a reworded reprint): the sentences of
       both articles' starts are embedded, and the pair is a near duplicate
       when at least ``min_shared`` of the shorter start's sentences have a
       near-identical sentence (cosine ≥ 0.9) in the other. Articles on one event by different outlets say similar
       things in different sentences, so they stay apart.

    Articles about one event from different outlets share few 5-grams and
    are not duplicates (find them with related search).

    The state kept per article has a fixed size, whatever the length of the
    text: a 16-byte digest, two ``num_perm``-value signatures (words and
    characters), their band keys and the first 1,000 characters (for the
    semantic stage). Only kept articles are stored; :attr:`state_bytes`
    reports the total.

    The semantic stage is off by default: on ``benchmarks/dedup.py`` it adds
    little F1 and costs a large share of the throughput (see its results),
    because each uncertain pair means embedding sentences.

    Parameters
    ----------
    threshold : float, default 0.6
    char_threshold : float, default 0.65
        Share of the shorter text's character 7-grams in the other that makes a near duplicate.
    semantic : bool, default False
        Embed the uncertain pairs (stage 4).
    uncertain : float, default 0.45
        Lower end of the band of character overlap sent to the semantic stage.
    min_shared : float, default 0.7
    min_length_ratio : float, default 0.25
    embedder : Embedder, optional
        Used by the semantic stage; default: the default model, loaded the
        first time an uncertain pair turns up.
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
                 uncertain: float = 0.45, min_shared: float = 0.7, min_length_ratio: float = 0.25,
                 embedder=None, num_perm: int = 128,
                 show_progress: bool | None = None):
        if not 0 < threshold <= 1:
            raise InputError(f"threshold must be in (0, 1], got {threshold!r}", field="threshold")
        if not 0 < char_threshold <= 1:
            raise InputError(f"char_threshold must be in (0, 1], got {char_threshold!r}", field="char_threshold")
        if not 0 < uncertain <= char_threshold:
            raise InputError(f"uncertain must be in (0, char_threshold], got {uncertain!r}", field="uncertain")
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
        self.uncertain = uncertain
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
        self._leads: list[str] = []
        self._seen: set[str] = set()

    def __len__(self) -> int:
        """The number of kept articles."""
        return len(self._ids)

    @property
    def state_bytes(self) -> int:
        """Bytes held for the kept articles: digests, signatures, sizes, starts and band keys (ids excluded)."""
        n = len(self._ids)
        per_band_entry = 8 + 24  # a 64-bit key and its share of a dict slot
        bands = self._bands.bands + self._char_bands.bands
        return (n * (16 + 2 * (4 * self.num_perm + 8) + bands * per_band_entry)
                + sum(len(x.encode("utf-8")) for x in self._leads))

    # ------------------------------------------------------------ checking

    def check(self, articles: Iterable[Article]) -> list[Decision]:
        """Decide a batch of articles in order; kept ones join the state."""
        given = _unique_articles(articles)  # the whole batch is validated before any state changes
        seen = [a.id in self._seen for a in given]
        batch = [a for a, s in zip(given, seen) if not s]
        self._seen.update(a.id for a in given)
        out = self._check_new(batch)[::-1]
        return [Decision(a, a.id, "seen", 1.0, "state") if s else out.pop() for a, s in zip(given, seen)]

    def _check_new(self, batch: list) -> list[Decision]:
        """:meth:`check` for articles whose ids were never seen."""
        views = [_View.of(a, self.num_perm) for a in batch]

        # pass 1: candidates of each article among the kept ones and the earlier ones in this batch, from
        # the word and the character LSH; key >= 0 is a state row, key < 0 the batch article -1-key
        local, local_chars = (BandIndex(b.bands, b.rows) for b in (self._bands, self._char_bands))
        # a text too short for the character stage stays out of its LSH (templated briefs would share buckets)
        keys = [(self._bands.keys(v.sig.values),
                 self._char_bands.keys(v.chars.values) if v.chars.size >= _CHAR_MIN else []) for v in views]
        cands: list[list[tuple[int, float, float]]] = []  # (key, word containment, character containment)
        floor = self.uncertain if self.semantic else self.char_threshold
        for i, v in enumerate(views):
            words, chars = keys[i]
            found = set(self._bands.query(keys=words)) | set(self._char_bands.query(keys=chars))
            found |= {-1 - j for j in local.query(keys=words) + local_chars.query(keys=chars)}
            scored = []
            for k in sorted(found):
                other = self._view(k, views)
                w, c = self._score(v.sig, other.sig), self._score(v.chars, other.chars, _CHAR_MIN)
                if w >= self.threshold or c >= floor:
                    scored.append((k, w, c))
            cands.append(scored)
            local.add(i, keys=keys[i][0])
            local_chars.add(i, keys=keys[i][1])

        # the semantic stage embeds, in one call, the starts of the articles in uncertain pairs
        shared = self._shared_sentences(views, cands)

        # pass 2: decide in input order; only kept articles can be duplicated
        out, kept_in_batch = [], {}
        for i, (a, v) in enumerate(zip(batch, views)):
            dup = self._digests.get(v.digest)
            if dup is not None:
                out.append(Decision(a, self._ids[dup], "exact", 1.0, "exact"))
                continue
            best = None
            for k, w, c in sorted(cands[i], key=lambda x: (-max(x[1], x[2]), x[0])):
                if k < 0 and -1 - k not in kept_in_batch:
                    continue  # an earlier article of this batch that was itself a duplicate
                if w >= self.threshold:
                    best = (k, w, "lexical")
                elif c >= self.char_threshold:
                    best = (k, c, "character")
                elif shared.get((i, k), 0.0) >= self.min_shared:
                    best = (k, w, "semantic")
                if best:
                    break
            if best is None:
                kept_in_batch[i] = self._keep(a, v, keys[i])
                out.append(Decision(a))
            else:
                k, score, stage = best
                row = k if k >= 0 else kept_in_batch[-1 - k]
                out.append(Decision(a, self._ids[row], "near", round(score, 4), stage))
        return out

    def check_all(self, articles: Iterable[Article]) -> list[Decision]:
        """Decide a whole collection, earliest first: each group keeps its earliest article.

        The articles are checked by date (undated last, then id), so the kept
        ones do not depend on the input order; the decisions come back in
        input order. :func:`~storyclust.find_duplicates` and ``storyclust
        dedup`` decide this way.
        """
        articles = _unique_articles(articles)  # across batches a repeated id would pass as already seen
        decided = {d.id: d for d in self.dedup(sorted(articles, key=lambda a: a.chronological_key))}
        return [decided[a.id] for a in articles]

    def dedup(self, articles: Iterable, *, keep: str = "all", batch_size: int = 512) -> Iterator:
        """Check a stream of articles (or batches / DataFrames of them) as it arrives.

        Yields a :class:`Decision` for every article (``keep="all"``) or only the
        kept :class:`~storyclust.Article` objects (``keep="first"``), in input order.
        """
        if keep not in ("all", "first"):
            raise InputError(f"keep must be 'all' or 'first', not {keep!r}", field="keep")
        off = None if self.show_progress is None else not self.show_progress  # None: shown on a terminal
        bar = tqdm(desc="dedup", unit="doc", disable=off)
        try:
            for batch in _batches(articles, batch_size):
                for d in self.check(batch):
                    if keep == "all":
                        yield d
                    elif not d.is_duplicate:
                        yield d.article
                bar.update(len(batch))
        finally:
            bar.close()

    # ------------------------------------------------------------ internals

    def _view(self, key: int, views: list) -> "_View":
        """The batch article ``-1 - key``, or what the state holds of row ``key``."""
        if key < 0:
            return views[-1 - key]
        return _View(b"", Signature(self._sigs[key], self._sizes[key]),
                     Signature(self._char_sigs[key], self._char_sizes[key]), "")

    def _score(self, a: Signature, b: Signature, min_size: int = 0) -> float:
        small, large = sorted((a.size, b.size))
        if small < self.min_length_ratio * large or small < min_size:
            return 0.0
        return containment_estimate(a, b)

    def _keep(self, a: Article, v: "_View", keys: tuple) -> int:
        row = len(self._ids)
        self._ids.append(a.id)
        self._digests.setdefault(v.digest, row)
        self._row_digests.append(v.digest)
        self._sigs.append(v.sig.values)
        self._sizes.append(v.sig.size)
        self._char_sigs.append(v.chars.values)
        self._char_sizes.append(v.chars.size)
        self._leads.append(v.lead)
        self._bands.add(row, keys=keys[0])
        self._char_bands.add(row, keys=keys[1])
        return row

    def _shared_sentences(self, views, cands) -> dict:
        """Semantic overlap of each uncertain pair: the share of the shorter start's sentences that have a
        near-identical sentence (cosine ≥ ``_SENTENCE_COSINE``) in the other start."""
        pairs = [(i, k) for i, c in enumerate(cands) for k, w, ch in c
                 if w < self.threshold and ch < self.char_threshold]
        if not pairs:
            return {}
        if self.embedder is None:
            from ..embeddings import Embedder

            self.embedder = Embedder(show_progress=False)

        def lead(key):
            return views[key[1]].lead if key[0] == "b" else self._leads[key[1]]

        keys = {("b", i) for i, _ in pairs} | {("s", k) if k >= 0 else ("b", -1 - k) for _, k in pairs}
        sents = {key: ([x for x in _SENTENCE_RE.split(lead(key)) if x.strip()] or [lead(key)])[:_MAX_SENTENCES]
                 for key in keys}
        flat = sorted({x for v in sents.values() for x in v})
        vec = dict(zip(flat, self.embedder.encode(flat)))
        mats = {key: np.stack([vec[x] for x in v]) for key, v in sents.items()}
        out = {}
        for i, k in pairs:
            a, b = mats[("b", i)], mats[("s", k) if k >= 0 else ("b", -1 - k)]
            if len(a) > len(b):
                a, b = b, a
            out[i, k] = float(((a @ b.T).max(axis=1) >= _SENTENCE_COSINE).mean())
        return out

    # ------------------------------------------------------------ persistence

    def save(self, path) -> Path:
        """Write the state to a folder (``state-*.npz`` arrays, ``dedup.json``); atomic, no pickles."""
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        name = f"state-{uuid.uuid4().hex}.npz"
        def stack(rows):
            return np.stack(rows) if rows else np.zeros((0, self.num_perm), dtype=np.uint32)

        with open(path / name, "wb") as fh:
            digests = np.frombuffer(b"".join(self._row_digests), dtype=np.uint8).reshape(-1, 16)
            np.savez(fh, sigs=stack(self._sigs), sizes=np.asarray(self._sizes, dtype=np.int64),
                     char_sigs=stack(self._char_sigs), char_sizes=np.asarray(self._char_sizes, dtype=np.int64),
                     digests=digests)
            fh.flush()
            os.fsync(fh.fileno())
        meta = {"format_version": FORMAT_VERSION, "state": name, "ids": self._ids, "leads": self._leads,
                "seen": sorted(self._seen),
                "params": {"threshold": self.threshold, "char_threshold": self.char_threshold,
                           "semantic": self.semantic, "uncertain": self.uncertain, "min_shared": self.min_shared,
                           "min_length_ratio": self.min_length_ratio, "num_perm": self.num_perm},
                "embedder": getattr(self.embedder, "fingerprint", None)}
        tmp = path / f".dedup.json.{uuid.uuid4().hex}.tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(meta, fh, ensure_ascii=False)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path / "dedup.json")
        for p in path.iterdir():  # earlier states and temporaries of interrupted saves
            if p.name != name and (p.name.startswith("state-") or p.name.startswith(".dedup.json.")):
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
        for row, (i, lead) in enumerate(zip(meta["ids"], meta["leads"])):
            digest = digests[row].tobytes()
            d._digests.setdefault(digest, row)
            d._row_digests.append(digest)
            d._ids.append(i)
            d._sigs.append(sigs[row])
            d._sizes.append(int(sizes[row]))
            d._char_sigs.append(char_sigs[row])
            d._char_sizes.append(int(char_sizes[row]))
            d._leads.append(lead)
            d._bands.add(row, sigs[row])
            if char_sizes[row] >= _CHAR_MIN:
                d._char_bands.add(row, char_sigs[row])
        d._seen = set(meta["seen"])
        return d


@dataclass(frozen=True)
class _View:
    """What the deduplicator reads of an article."""

    digest: bytes
    sig: Signature
    chars: Signature
    lead: str

    @classmethod
    def of(cls, a: Article, num_perm: int) -> "_View":
        paras = dedup_paragraphs(a)
        norm = normalize_paragraphs(paras)
        digest = hashlib.blake2b(" ".join(norm).encode(), digest_size=16).digest()
        # the start of the story itself: lines of a few words (headline, byline, dateline) are left out
        body = [p for p in paras if len(p.split()) >= _LEAD_MIN_WORDS] or paras
        words, chars = article_signatures(norm, num_perm, n=_CHAR_N, normalized=True)
        return cls(digest, words, chars, " ".join(body)[:_LEAD_CHARS])


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

