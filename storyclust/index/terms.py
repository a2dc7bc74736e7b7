"""An inverted index of article terms, searched by BM25: the lexical side of related-story lookup.

Vectors find articles on the same topic; a name, a number or a headline's
words find the article itself. The terms of an article are its entity terms
(:func:`~storyclust.documents.entities.entity_terms`) and its headline's
words; a query's terms are all its words but stop words.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from typing import Iterable, Mapping, Sequence

from ..documents import stop_words
from ..documents.entities import entity_terms
from ..errors import InputError

__all__ = ["TermIndex", "article_terms", "query_terms"]

_STRIP = "\"'“”„‚‘’«»()[]{}<>.,;:!?*|/\\–—-"


def query_terms(text: str) -> list[str]:
    """The lower-cased words of ``text`` but stop words and one-letter words (numbers stay).

    >>> query_terms("Two men shot at a bar in Rocky Mount, 3 hurt")
    ['shot', 'bar', 'rocky', 'mount', '3', 'hurt']
    """
    stop = stop_words()
    out = []
    for raw in text.split():
        w = raw.strip(_STRIP).lower()
        if (len(w) >= 2 or w.isdigit()) and w not in stop:
            out.append(w)
    return out


def article_terms(text: str, headline: str | None = None, lang: str | None = None,
                  terms: Sequence[str] | None = None) -> dict[str, int]:
    """The terms an article is indexed under: its entity terms with their counts, and its headline's words once.

    ``terms``: the text's entity terms when already made (:attr:`Article.entity_terms <storyclust.Article.entity_terms>`).

    >>> article_terms("Police in Rocky Mount said 3 men were shot.", "Shooting in Rocky Mount")
    {'rocky': 1, 'mount': 1, '3': 1, 'shooting': 1}
    """
    counts = Counter(entity_terms(text, lang) if terms is None else terms)
    counts.update(set(query_terms(headline or "")) - set(counts))
    return dict(counts)


class TermIndex:
    """Term counts per document, searchable by BM25, with document frequencies for TF-IDF weights.

    Documents can be added and removed at any time (a hand-written inverted
    index because the BM25 packages on PyPI index a fixed corpus).

    Parameters
    ----------
    k1, b : float
        BM25's term-frequency saturation and length normalisation.
    max_df : float
        Query terms in more than this share of the documents (and more than
        100 of them) carry almost no BM25 weight and are not looked up, so a
        query costs little however large the index.

    >>> t = TermIndex()
    >>> t.add(1, {"rocky": 1, "mount": 1, "shot": 2}); t.add(2, {"durham": 1, "shot": 1})
    >>> [doc for doc, _ in t.search(["rocky", "shot"], k=2)]
    [1, 2]
    >>> t.df("shot"), len(t)
    (2, 2)
    """

    def __init__(self, k1: float = 1.2, b: float = 0.75, max_df: float = 0.1):
        if k1 < 0 or not 0 <= b <= 1:
            raise InputError(f"BM25 needs k1 >= 0 and 0 <= b <= 1, got k1={k1}, b={b}", field="k1")
        if not 0 < max_df <= 1:
            raise InputError(f"max_df must be in (0, 1], got {max_df}", field="max_df")
        self.k1, self.b, self.max_df = k1, b, max_df
        self._postings: dict[str, dict[int, int]] = defaultdict(dict)
        self._lengths: dict[int, int] = {}
        self._total = 0

    def __len__(self) -> int:
        return len(self._lengths)

    def add(self, doc: int, counts: Mapping[str, int]) -> None:
        """Add a document's term counts under ``doc``."""
        if doc in self._lengths:
            raise InputError("document is already in the term index", where=f"doc {doc!r}")
        for term, c in counts.items():
            self._postings[term][doc] = int(c)
        self._lengths[doc] = length = int(sum(counts.values()))
        self._total += length

    def remove(self, doc: int, counts: Mapping[str, int]) -> None:
        """Remove a document added with these ``counts``."""
        for term in counts:
            post = self._postings.get(term)
            if post is not None:
                post.pop(doc, None)
                if not post:
                    del self._postings[term]
        self._total -= self._lengths.pop(doc, 0)

    def df(self, term: str) -> int:
        """How many documents have ``term``."""
        post = self._postings.get(term)
        return len(post) if post else 0

    def search(self, terms: Iterable[str], k: int) -> list[tuple[int, float]]:
        """The ``k`` documents with the highest BM25 score for ``terms``, best first (ties: smaller doc)."""
        return sorted(self._scores(terms).items(), key=lambda t: (-t[1], t[0]))[:k]

    def scores(self, terms: Iterable[str], docs: Iterable[int]) -> list[float]:
        """The BM25 score of each of ``docs`` for ``terms`` (0 for a document without them)."""
        docs = list(docs)
        s = self._scores(terms, set(docs))
        return [s.get(d, 0.0) for d in docs]

    def best_score(self, terms: Iterable[str]) -> float:
        """BM25's upper bound for ``terms``: each looked-up term's idf times ``k1 + 1`` (a term the index
        lacks counts with the idf of a term no document has). A score over it is the share of the query's
        evidence a document holds."""
        n = len(self._lengths)
        total = 0.0
        for term, qtf in Counter(terms).items():
            d = len(self._postings.get(term, ()))
            if d > 100 and d > self.max_df * n:
                continue
            total += qtf * math.log(1.0 + (n - d + 0.5) / (d + 0.5)) * (self.k1 + 1.0)
        return total

    def _scores(self, terms: Iterable[str], only: set | None = None) -> Counter:
        n = len(self._lengths)
        scores: Counter = Counter()
        if not n:
            return scores
        avg = max(self._total / n, 1.0)
        for term, qtf in Counter(terms).items():
            post = self._postings.get(term)
            if not post or (len(post) > 100 and len(post) > self.max_df * n):
                continue
            idf = math.log(1.0 + (n - len(post) + 0.5) / (len(post) + 0.5))
            for doc in (post if only is None else only.intersection(post)):
                tf = post[doc]
                norm = tf + self.k1 * (1.0 - self.b + self.b * self._lengths[doc] / avg)
                scores[doc] += qtf * idf * tf * (self.k1 + 1.0) / norm
        return scores
