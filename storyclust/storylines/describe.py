"""Naming storylines: keywords, a representative headline, and the date span."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Sequence

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from ..documents import Article, stop_words

__all__ = ["Storyline", "describe_storylines"]

_TOKEN_PATTERN = r"(?u)\b[^\W\d_][\w'-]{2,}\b"
_TOKEN_RE = re.compile(_TOKEN_PATTERN)


@dataclass(frozen=True)
class Storyline:
    """One storyline: its label, articles, keywords, headline and dates."""

    label: int
    article_ids: tuple
    keywords: tuple
    headline: str | None
    start: datetime | None
    end: datetime | None

    @property
    def size(self) -> int:
        return len(self.article_ids)

    def to_dict(self) -> dict:
        return {
            "story_id": self.label,
            "size": self.size,
            "headline": self.headline,
            "keywords": list(self.keywords),
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
            "article_ids": list(self.article_ids),
        }


@lru_cache(maxsize=1)
def _stop_words() -> frozenset:
    """Stop words of all seven languages, plus the pieces the keyword tokenizer cuts them into."""
    words = stop_words()
    return words | frozenset(t for w in words for t in _TOKEN_RE.findall(w))  # "herself" as the tokenizer sees it


def describe_storylines(articles: Sequence[Article], labels: Sequence[int], vectors: np.ndarray | None = None,
                        n_keywords: int = 8) -> list[Storyline]:
    """One :class:`Storyline` per label other than -1, in label order.

    Keywords are the terms with the highest mean TF-IDF weight over the
    storyline's articles (stop words of seven languages left out). The
    headline is that of the article nearest the storyline's mean vector when
    ``vectors`` are given, else of its earliest article.
    """
    labels = np.asarray(labels)
    texts = [a.cleaned.full for a in articles]
    tfidf = TfidfVectorizer(stop_words=sorted(_stop_words()), token_pattern=_TOKEN_PATTERN,
                            sublinear_tf=True, max_features=200_000)
    try:
        m = tfidf.fit_transform(texts)
        vocab = tfidf.get_feature_names_out()
    except ValueError:  # nothing but stop words
        m, vocab = None, np.array([])
    out = []
    by_label = np.argsort(labels, kind="stable")  # rows grouped by label, in input order within a label
    bounds = np.flatnonzero(np.diff(labels[by_label])) + 1
    for idx in np.split(by_label, bounds):
        lab = labels[idx[0]] if len(idx) else -1
        if lab == -1:
            continue
        keywords: tuple = ()
        if m is not None:
            scores = np.asarray(m[idx].mean(axis=0)).ravel()
            top = np.argsort(-scores, kind="stable")[:n_keywords]
            keywords = tuple(str(vocab[t]) for t in top if scores[t] > 0)
        dates = [articles[i].date for i in idx if articles[i].date]
        if vectors is not None:
            centre = vectors[idx].mean(axis=0)
            rep = idx[int(np.argmax(vectors[idx] @ centre))]
        else:
            rep = min(idx, key=lambda i: articles[i].chronological_key)
        out.append(Storyline(int(lab), tuple(articles[i].id for i in idx), keywords, articles[rep].headline,
                             min(dates) if dates else None, max(dates) if dates else None))
    return out
