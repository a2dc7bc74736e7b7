"""Stage 2 of related-story lookup: the same-story probability of each candidate, from the storylines' evidence.

The query and its candidates form a small input of their own; every pair of
it gets the signals :class:`~storyclust.StoryClusterer` reads
(:func:`~storyclust.storylines.signals.pair_features`: vectors, headlines,
names and numbers, rare names, ages, dates where given, languages, sites, the
rank of each among the other's neighbours and the support of third reports),
and the same-story model scores the query's pairs. Entity weights and rare
names use the document frequencies of the whole index, as the clusterer
uses those of its whole input.
"""

from __future__ import annotations

import math
from typing import Mapping, Sequence

import numpy as np
from scipy.sparse import csr_matrix

from ..storylines.entities import RARE_MAX_ARTICLES, RARE_MAX_SHARE
from ..storylines.trees import DEFAULT_ARTICLE_MODEL
from ..storylines.signals import ArticleSignals, pair_features

__all__ = ["candidate_probabilities", "evidence_signals"]


def evidence_signals(records: Sequence[Mapping], headlines: np.ndarray, df: Mapping[str, int], n_docs: int
                     ) -> ArticleSignals:
    """:class:`ArticleSignals` of ``records`` (the evidence fields of :meth:`StoryIndex.metadata`).

    ``df`` gives each term's document frequency among ``n_docs`` articles:
    entity rows are TF-IDF weighted as :func:`~storyclust.storylines.entities.entity_matrix`
    weights them (sublinear counts, smoothed idf, unit rows); a term is rare
    when at most ``min(RARE_MAX_ARTICLES, RARE_MAX_SHARE * n_docs)`` articles have it.
    """
    vocab: dict[str, int] = {}
    rare_limit = int(min(RARE_MAX_ARTICLES, RARE_MAX_SHARE * n_docs))
    ent_rows, ent_cols, ent_vals, rare_rows, rare_cols = [], [], [], [], []
    for i, rec in enumerate(records):
        terms = rec.get("terms") or {}
        weights = []
        for t, c in terms.items():
            j = vocab.setdefault(t, len(vocab))
            d = df.get(t, 0)
            weights.append((j, (1.0 + math.log(c)) * (math.log((1.0 + n_docs) / (1.0 + d)) + 1.0)))
            if 2 <= d <= rare_limit:
                rare_rows.append(i)
                rare_cols.append(j)
        norm = math.sqrt(sum(w * w for _, w in weights)) or 1.0
        for j, w in weights:
            ent_rows.append(i)
            ent_cols.append(j)
            ent_vals.append(w / norm)
    shape = (len(records), max(len(vocab), 1))
    day = [r["date"].timestamp() / 86400.0 if r.get("date") else np.nan for r in records]
    return ArticleSignals(
        entities=csr_matrix((ent_vals, (ent_rows, ent_cols)), shape=shape, dtype=np.float32),
        rare=csr_matrix((np.ones(len(rare_rows), dtype=np.float32), (rare_rows, rare_cols)), shape=shape),
        days=np.array(day, dtype=np.float64),
        languages=[r.get("lang") for r in records],
        sites=[r.get("site") for r in records],
        ages=[set(r.get("ages") or ()) for r in records],
        times=[set(r.get("times") or ()) for r in records],
        headlines=headlines,
        titled=np.array([bool(r.get("titled", True)) for r in records]),
    )


def candidate_probabilities(vectors: np.ndarray, signals: ArticleSignals, model=None) -> np.ndarray:
    """The same-story probability of row 0 (the query) with each other row (its candidates).

    ``vectors`` are unit rows, query first; ``model`` a
    same-story model (default: the shipped one, :data:`~storyclust.storylines.trees.DEFAULT_ARTICLE_MODEL`).
    """
    model = DEFAULT_ARTICLE_MODEL if model is None else model
    m = len(vectors)
    if m < 2:
        return np.zeros(0)
    rows, cols = np.triu_indices(m, k=1)
    feats = pair_features(rows, cols, vectors, signals, names=model.features, support=model.support)
    p = model.probability(feats)
    return p[:m - 1]  # triu_indices lists the pairs (0, 1) .. (0, m - 1) first
