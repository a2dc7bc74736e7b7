"""Stage 1b of storyline clustering: names and numbers, the words that tell two events of one kind apart.

Dense embeddings put two shootings in two towns close together; the town, the
victims' names, the ages and the dates differ. An article's *entity terms*
are its capitalised words that do not start a sentence, and its numbers, in
any language. German capitalises every noun, so in German text a capitalised
word that is a common German word and not an English one ("Regierung",
"Polizei", "Prozent"), or a compound ending in one ("Agenturmeldungen"), is
taken for a noun, not a name, unless it follows a
bare preposition as places do ("in Köln"); names of people and places that
the news of both languages use ("Putin", "Seoul") and rare names ("Schoigu",
a village) stay. Names and numbers are also what a German and an
English report of one event share word for word.

Two more signals come from the same words: *rare names* (entity terms that
at most a handful of the input articles mention, such as a victim's name:
sharing one is strong evidence) and *ages* ("a 17-year-old", "John Doe, 35,",
"der 19-Jährige"): two reports of one event give the same ages, two events
of one kind seldom do.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Sequence

import numpy as np
from scipy.sparse import csr_matrix
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.preprocessing import normalize

from ..documents import Article, guess_language, stop_words
from ..errors import InputError

__all__ = ["TermCounts", "ages", "entity_terms", "entity_matrix", "rare_term_matrix"]

# A "rare" entity term is in at most this many input articles, and in at most this share of them
# (in a handful of articles every shared term would count as rare).
RARE_MAX_ARTICLES = 10
RARE_MAX_SHARE = 0.01
_AGE = re.compile(r"\b(\d{1,3})[- ]years?[- ]old\b|,\s(\d{1,2}),\s|\b(\d{1,3})-?jährige|\b(\d{1,3}) Jahre alt\b",
                  re.IGNORECASE)

_NOUN_MIN_ZIPF = 3.0   # at least this common in German
_NOUN_MIN_GAP = 2.0    # and this much more common in German than in English (100 times)
_COMPOUND_MIN_TAIL = 4  # the shortest noun a compound may end in ("-land", "-kurs")
_BARE_PLACE = frozenset({"in", "aus", "nach", "bei", "von", "bis", "gegen", "über", "durch", "nahe", "zwischen"})
_SENTENCE_END = re.compile(r"(?<=[.!?:;])\s+|\n+")
_STRIP = "\"'“”„‚‘’«»()[]{}<>.,;:!?*|/\\–—-"
_TEXT_CACHE = 65_536  # texts whose terms and ages are kept (about a tracker's window)


def entity_terms(text: str, lang: str | None = None) -> list[str]:
    """Capitalised words not at a sentence start, and numbers, lower-cased; in German, not its common nouns.

    ``lang``: the text's language (default: :func:`~storyclust.documents.guess_language`).

    >>> entity_terms("Police in Rocky Mount said 3 men were shot. The suspect, 19, fled to Durham.")
    ['rocky', 'mount', '3', '19', 'durham']
    >>> entity_terms("Die Polizei in Köln meldete am Montag, Minister Schoigu sei mit der Regierung in Seoul.")
    ['köln', 'minister', 'schoigu', 'seoul']
    >>> entity_terms("Laut Agenturmeldungen sprach der Flüchtlings-Koordinator mit Mikl-Leitner in Greifswald.")
    ['mikl-leitner', 'greifswald']
    """
    return list(_entity_terms(text, lang))


@lru_cache(maxsize=_TEXT_CACHE)
def _entity_terms(text: str, lang: str | None) -> tuple:
    """:func:`entity_terms`, kept for the texts seen last: a tracker reads its window again at every batch."""
    stop = stop_words()
    german = (lang or guess_language(text)) == "de"
    terms = []
    for sentence in _SENTENCE_END.split(text):
        words = sentence.split()
        for pos, raw in enumerate(words):
            w = raw.strip(_STRIP)
            if len(w) < 2 and not w.isdigit():
                continue
            if any(c.isdigit() for c in w):
                terms.append(w.lower())
            elif pos > 0 and w[0].isupper() and w.lower() not in stop:
                # a German noun takes an article; a place after a bare preposition ("in Köln") is a name
                if not german or words[pos - 1] in _BARE_PLACE or not _german_noun(w.lower()):
                    terms.append(w.lower())
    return tuple(terms)


@lru_cache(maxsize=200_000)
def _german_noun(word: str) -> bool:
    """A common German word that English does not use: a capitalised noun, not a name.

    Word frequencies from ``wordfreq`` (Zipf scale: 3 is once per million words). The two bounds were read
    off a list of German nouns and names (``Regierung`` 5.2 in German, 1.1 in English; ``Putin`` 4.4 and 4.1;
    ``Schoigu`` 2.0 and 0), not fitted to any corpus here.
    """
    from wordfreq import zipf_frequency

    def common(w: str) -> bool:
        de = zipf_frequency(w, "de")
        return de >= _NOUN_MIN_ZIPF and de - zipf_frequency(w, "en") >= _NOUN_MIN_GAP

    if common(word):
        return True
    # a compound ("Agenturmeldungen", "Flüchtlings-Thema") ending in a common noun is a noun too
    last = word.rsplit("-", 1)[-1]
    first = 0 if "-" in word else 3  # the head of a closed compound is at least three letters
    return any(common(last[i:]) for i in range(first, len(last) - _COMPOUND_MIN_TAIL + 1))


def ages(text: str) -> set[str]:
    """The ages a text gives its people ("17-year-old", "Doe, 35,", "19-Jährige", "40 Jahre alt").

    >>> sorted(ages("A 17-year-old was shot. John Doe, 35, was arrested; the 19-Jährige fled."))
    ['17', '19', '35']
    """
    return set(_ages(text))


@lru_cache(maxsize=_TEXT_CACHE)
def _ages(text: str) -> frozenset:
    return frozenset(g for m in _AGE.finditer(text) for g in m.groups() if g)


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
    term only looks rarer, which it was).

    >>> c = TermCounts()
    >>> c.add([["smith", "ohio"], ["ohio", "ohio"]])
    >>> c.counts["ohio"], c.n_documents
    (2, 2)
    """

    def __init__(self, counts: dict | None = None, n_documents: int = 0, max_terms: int = 2_000_000):
        self.counts: dict[str, int] = dict(counts or {})
        self.n_documents = int(n_documents)
        self.max_terms = max_terms

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

