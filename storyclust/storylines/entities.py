"""Stage 1b of storyline clustering: names and numbers, the words that tell two events of one kind apart.

Dense embeddings put two shootings in two towns close together; the town, the
victims' names, the ages and the dates differ. Each article's entity terms and
ages (:mod:`storyclust.documents.entities`) become here a TF-IDF matrix of
entity terms, and *rare names*: entity terms that at most a handful of the
input articles mention, such as a victim's name (sharing one is strong
evidence). Two reports of one event give the same ages, two events of one kind
seldom do. Names and numbers are also what a German and an English report of
one event share word for word.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from scipy.sparse import csr_matrix
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.preprocessing import normalize

from tqdm.auto import tqdm

from ..documents import Article, as_articles
from ..documents.entities import ages, entity_terms, times
from ..errors import InputError

__all__ = ["TermCounts", "ages", "entity_terms", "entity_matrix", "rare_term_matrix", "times"]

# A "rare" entity term is in at most this many input articles, and in at most this share of them
# (in a handful of articles every shared term would count as rare).
RARE_MAX_ARTICLES = 10
RARE_MAX_SHARE = 0.01


def entity_matrix(articles: Sequence[Article], terms: Sequence[Sequence[str]] | None = None,
                  corpus: "TermCounts | None" = None) -> csr_matrix:
    """One L2-normalised row of entity-term TF-IDF weights per article (title and cleaned text).

    ``terms``: each article's :func:`entity_terms`, when already extracted.
    Rows of articles without entity terms are all zero. ``corpus``: the
    document frequencies to weight by (default: those of ``articles``).
    """
    if terms is None:
        terms = [a.entity_terms for a in articles]
    if corpus is not None:
        vocab = sorted({t for ts in terms for t in ts})
        if not vocab:
            return csr_matrix((len(terms), 1), dtype=np.float32)
        tf = CountVectorizer(analyzer=_given, vocabulary=vocab, dtype=np.float32).transform(terms).tocsr()
        tf.data = 1.0 + np.log(tf.data)  # sublinear, as below
        df = np.array([max(corpus.counts.get(t, 0), 1) for t in vocab], dtype=np.float32)
        idf = np.log((1.0 + max(corpus.n_documents, len(terms))) / (1.0 + df)) + 1.0  # scikit-learn's smooth idf
        return normalize(tf.multiply(idf[None, :]).tocsr().astype(np.float32))
    vec = TfidfVectorizer(analyzer=_given, sublinear_tf=True, dtype=np.float32)
    try:
        return vec.fit_transform(terms).tocsr()
    except ValueError:  # not one entity term in the whole input
        return csr_matrix((len(terms), 1), dtype=np.float32)


def rare_term_matrix(terms: Sequence[Sequence[str]], max_articles: int = RARE_MAX_ARTICLES,
                     max_share: float = RARE_MAX_SHARE, corpus: "TermCounts | None" = None) -> csr_matrix:
    """Which rare terms each article has (0/1), a rare term being one at most ``max_articles`` articles have
    and at most ``max_share`` of them.

    The product of two rows counts the rare terms two articles share. A term
    in one article only is never shared, so fewer than ``2 / max_share``
    articles (200 by default) have no rare terms. ``corpus``: judge rarity
    by these counts (the articles of a stream so far) instead of ``terms``
    alone, so that a small batch of a large stream has rare names too.

    >>> m = rare_term_matrix([["smith", "ohio"], ["smith", "ohio"], ["ohio"]], max_articles=2, max_share=1.0)
    >>> int(m[0].multiply(m[1]).sum()), int(m[0].multiply(m[2]).sum())
    (1, 0)
    """
    if max_articles < 1:
        raise InputError(f"max_articles must be at least 1, got {max_articles}", field="max_articles")
    if not 0 < max_share <= 1:
        raise InputError(f"max_share must be in (0, 1], got {max_share}", field="max_share")
    if corpus is not None:
        limit = int(min(max_articles, max_share * corpus.n_documents))
        rare = sorted({t for ts in terms for t in ts if corpus.counts.get(t, 0) <= limit})
        if limit < 2 or not rare:
            return csr_matrix((len(terms), 1), dtype=np.float32)
        return CountVectorizer(analyzer=_given, binary=True, vocabulary=rare, dtype=np.float32).transform(terms).tocsr()
    limit = int(min(max_articles, max_share * len(terms)))
    if limit < 2:
        return csr_matrix((len(terms), 1), dtype=np.float32)
    try:
        m = CountVectorizer(analyzer=_given, binary=True, max_df=limit, dtype=np.float32).fit_transform(terms)
    except ValueError:  # no term at all, or none rare enough
        return csr_matrix((len(terms), 1), dtype=np.float32)
    return m.tocsr()


class TermCounts:
    """In how many articles of a stream each entity term appeared, for judging rarity beyond one batch.

    Bounded: past ``max_terms`` terms, those seen once are dropped (a dropped
    term only looks rarer, which it was). :class:`~storyclust.StoryTracker`
    keeps one over its stream; ``StoryClusterer().fit(X, term_counts=...)``
    reads one of your archive, so that a small input has rare names too.

    >>> c = TermCounts()
    >>> c.add([["smith", "ohio"], ["ohio", "ohio"]])
    >>> c.counts["ohio"], c.n_documents
    (2, 2)
    >>> TermCounts.of(["Police in Akron named Jimmy Shopteese.", "A vigil was held in Akron."]).counts["akron"]
    2
    """

    def __init__(self, counts: dict | None = None, n_documents: int = 0, max_terms: int = 2_000_000):
        self.counts: dict[str, int] = dict(counts or {})
        self.n_documents = int(n_documents)
        self.max_terms = max_terms

    @classmethod
    def of(cls, articles, max_terms: int = 2_000_000, show_progress: bool | None = None) -> "TermCounts":
        """The counts of ``articles`` (anything :func:`~storyclust.load_articles` reads, or Articles).

        ``show_progress``: a progress bar (default: on a terminal only).
        """
        arts = as_articles(articles)
        if arts is None:
            raise InputError("TermCounts.of needs articles (texts, dicts, Articles or a path), not vectors",
                             field="articles")
        counts = cls(max_terms=max_terms)
        bar = tqdm(arts, desc="archive names", unit="doc", disable=None if show_progress is None else not show_progress)
        counts.add([a.entity_terms for a in bar])
        return counts

    @staticmethod
    def check(value, field: str = "term_counts") -> None:
        """Refuse anything but a TermCounts (or None) passed as ``field``."""
        if value is not None and not isinstance(value, TermCounts):
            raise InputError(f"{field} must be a TermCounts (TermCounts.of(archive)), got {type(value).__name__}",
                             field=field)

    def copy(self) -> "TermCounts":
        return TermCounts(self.counts, self.n_documents, self.max_terms)

    def add(self, terms: Sequence[Sequence[str]]) -> None:
        for ts in terms:
            for t in set(ts):
                self.counts[t] = self.counts.get(t, 0) + 1
        self.n_documents += len(terms)
        if len(self.counts) > self.max_terms:
            self.counts = {t: c for t, c in self.counts.items() if c > 1}


def _given(terms):
    """Analyzer for already extracted terms."""
    return terms

