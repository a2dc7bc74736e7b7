"""Naming storylines: keywords, a representative headline, and the date span."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Sequence

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from ..documents import Article, stop_words

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Storyline", "describe_storylines", "storyline_counts_over_time", "storyline_table"]

_TOKEN_PATTERN = r"(?u)\b[^\W\d_][\w'-]{2,}\b"
_TOKEN_RE = re.compile(_TOKEN_PATTERN)


@dataclass(frozen=True)
class Storyline:
    """One storyline: its label, articles, keywords, headline and dates.

    ``representative`` is the id of the article the headline comes from; ``sources`` the sites
    (:attr:`~storyclust.Article.site`) that report it, in the order of their first report (undated last);
    ``languages`` its articles' languages, most frequent first.
    """

    label: int
    article_ids: tuple
    keywords: tuple
    headline: str | None
    start: datetime | None
    end: datetime | None
    representative: str | None = None
    sources: tuple = ()
    languages: tuple = ()

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
            "representative": self.representative,
            "sources": list(self.sources),
            "languages": list(self.languages),
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
        in_time = sorted(idx, key=lambda i: articles[i].chronological_key)
        sources = tuple(dict.fromkeys(articles[i].site for i in in_time if articles[i].site))
        langs = Counter(articles[i].language for i in idx)
        out.append(Storyline(int(lab), tuple(articles[i].id for i in idx), keywords, articles[rep].headline,
                             min(dates) if dates else None, max(dates) if dates else None,
                             articles[rep].id, sources,
                             tuple(k for k, _ in sorted(langs.items(), key=lambda kv: (-kv[1], kv[0] or "")) if k)))
    return out


def storyline_table(storylines: Sequence[Storyline], labels: Sequence[int]) -> "pd.DataFrame":
    """One row per storyline, largest first, and a last row ``storyline=-1`` for the articles in none.

    Columns: storyline, size, headline, keywords, start, end, sources, languages, representative,
    article_ids (BERTopic's ``get_topic_info`` for storylines).
    """
    import pandas as pd

    columns = ["storyline", "size", "headline", "keywords", "start", "end", "sources", "languages",
               "representative", "article_ids"]
    rows = [[s.label, s.size, s.headline, list(s.keywords), s.start, s.end, list(s.sources), list(s.languages),
             s.representative, list(s.article_ids)] for s in sorted(storylines, key=lambda s: (-s.size, s.label))]
    alone = int(np.sum(np.asarray(labels) == -1))
    if alone:
        rows.append([-1, alone, None, [], None, None, [], [], None, []])
    out = pd.DataFrame(rows, columns=columns)
    out["start"] = pd.to_datetime(out["start"])
    out["end"] = pd.to_datetime(out["end"])
    return out


def storyline_counts_over_time(articles: Sequence[Article], labels: Sequence[int],
                               freq: str = "D") -> "pd.DataFrame":
    """Articles per storyline per period (``freq``: a pandas frequency, ``"D"`` days, ``"W"`` weeks).

    Columns: storyline, date (the period's start; NaT counts the undated articles), articles. Articles in no
    storyline count under -1, so the counts add up to the input.
    """
    import pandas as pd

    frame = pd.DataFrame({"storyline": np.asarray(labels, dtype=int),
                          "date": pd.to_datetime([a.date for a in articles])})
    frame["date"] = frame["date"].dt.to_period(freq).dt.start_time
    return (frame.groupby(["storyline", "date"], dropna=False).size().rename("articles").reset_index()
            .sort_values(["storyline", "date"], kind="stable", na_position="last").reset_index(drop=True))
