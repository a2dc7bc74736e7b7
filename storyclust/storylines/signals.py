"""Stage 2a of storyline clustering: the signals of a candidate pair, what the same-story model reads.

Each candidate pair (:func:`~storyclust.storylines.knn_graph.candidate_pairs`)
gets these signals:

``dense``
    cosine of the article vectors (multilingual: German and English agree).
``entity``
    cosine of the entity-term TF-IDF vectors (names, places, numbers;
    :mod:`~storyclust.storylines.entities`): what tells two events of one kind apart.
``days``
    ``log(1 + |date difference in days|)``, 0 when either article is undated.
``undated``
    1 when either article has no date, else 0.
``rank``
    ``log r_ij + log r_ji``, where ``r_ij`` is the rank of ``j`` among ``i``'s
    candidates by ``dense + entity`` (1 = nearest). It makes the similarity
    local, as density clustering does: a pair that is each other's nearest
    neighbour counts for more than an equally similar pair in a crowded region.
``cross_lingual``, ``cross_lingual_dense``
    1 (and ``dense``) when the two articles are in different languages
    (:attr:`~storyclust.Article.language`: given, else guessed), else 0:
    translations share few words, so across languages the vector cosine has
    to carry more of the decision.
``same_site``
    1 when both come from one site (:attr:`Article.site <storyclust.Article.site>`):
    a station's reports share its name, its town and its tip-line number
    whatever the event, so their overlap means less.
``rare_names``
    ``log(1 + number of shared rare entity terms)``, a rare term being one at
    most :data:`~storyclust.storylines.entities.RARE_MAX_ARTICLES` input
    articles, and at most 1% of them, mention (a victim's name, a bar's name).
``age_match``, ``age_conflict``
    1 when both give ages (:func:`~storyclust.documents.entities.ages`) and
    share one, or share none.
``time_match``, ``time_conflict``
    1 when both give clock times (:func:`~storyclust.documents.entities.times`)
    and two of them are about half an hour apart or less, or none are.
``days_beyond_month``
    ``max(0, days - log 31)``: past a month the date gap counts less (the trial
    of a shooting is months after it).
``headline``
    cosine of the headline vectors
    (:attr:`ArticleEmbeddings.headline_vectors <storyclust.embeddings.ArticleEmbeddings.headline_vectors>`).
``untitled``
    1 when either article has no headline (none given, none found in its
    body): the ``headline`` cosine then compares first paragraphs.
``crowding``
    ``log(1 + c)``, ``c`` the mean over the two articles of how many of
    each one's candidates are dated within three days of it (0 undated): where
    many reports of one kind fall in the same days, as in a day's crawl, a
    near date says less.
``support``
    the strongest two-step path ``max_k p_ik * p_kj`` over candidate pairs,
    ``p`` being a first-stage model's probability (:attr:`SameStoryModel.support`):
    two reports of one event usually have a third report in common.

:mod:`~storyclust.storylines.model` turns them into a probability.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

import numpy as np
from scipy.sparse import coo_matrix, spmatrix
from sklearn.preprocessing import MultiLabelBinarizer

from ..documents import Article
from ..errors import InputError
from .entities import TermCounts, entity_matrix, rare_term_matrix
from .knn_graph import candidate_pairs

if TYPE_CHECKING:
    from .model import PairClassifier, SameStoryModel
    from .trees import SameStoryTrees

__all__ = ["DEFAULT_FEATURES", "FEATURES", "MONOTONE", "ArticleSignals", "article_signals", "pair_features", "story_pairs",
           "support_signal"]

FEATURES = ("dense", "entity", "days", "undated", "rank", "cross_lingual", "cross_lingual_dense", "same_site",
            "rare_names", "age_match", "age_conflict", "time_match", "time_conflict", "days_beyond_month", "headline",
            "untitled", "crowding", "support")
# The shipped model's signals. ``days_beyond_month`` is there to fit your own model with (it does not help the
# shipped one: the "default + days_beyond_month" row of benchmarks/results/storylines.md).
DEFAULT_FEATURES = tuple(f for f in FEATURES if f != "days_beyond_month")
# The way each signal speaks: +1 when more of it speaks for one story, -1 against, 0 either way (it changes what
# the others mean). Tree models are held to these (SameStoryTrees), so what they learned cannot turn round
# on input unlike their tuning data.
MONOTONE = {"dense": 1, "entity": 1, "days": -1, "rank": -1, "cross_lingual_dense": 1, "rare_names": 1,
            "age_match": 1, "age_conflict": -1, "time_match": 1, "time_conflict": -1, "days_beyond_month": -1, "headline": 1, "support": 1}
_MONTH = float(np.log1p(30.0))
_CROWD_DAYS = 3.0  # "crowding" counts candidates dated this many days apart or less
_TIME_STEP, _NEAR_STEPS = 10, 3  # clock times in 10-minute steps; near: 3 steps apart or less ("about 6 p.m.", "6:04 p.m.")


def _rowwise_dot(m: spmatrix, rows: np.ndarray, cols: np.ndarray, block: int = 200_000,
                 other: spmatrix | None = None) -> np.ndarray:
    """``m[rows[t]] . other[cols[t]]`` (``other`` defaults to ``m``) for every t, in blocks (sparse rows)."""
    out = np.empty(len(rows), dtype=np.float64)
    m = m.tocsr()
    other = m if other is None else other.tocsr()
    for s in range(0, len(rows), block):
        a, b = m[rows[s:s + block]], other[cols[s:s + block]]
        out[s:s + block] = np.asarray(a.multiply(b).sum(axis=1)).ravel()
    return out


def _ranks(n: int, rows: np.ndarray, cols: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rank of ``cols[t]`` among ``rows[t]``'s neighbours, and of ``rows[t]`` among ``cols[t]``'s (1 = best)."""
    src = np.r_[rows, cols]
    dst = np.r_[cols, rows]
    s = np.r_[score, score]
    order = np.lexsort((dst, -s, src))  # by source, best first, ties to the smaller id
    starts = np.searchsorted(src[order], np.arange(n))
    rank = np.empty(len(src), dtype=np.float64)
    rank[order] = np.arange(len(src)) - starts[src[order]] + 1
    m = len(rows)
    return rank[:m], rank[m:]


def support_signal(n: int, rows: np.ndarray, cols: np.ndarray, p: np.ndarray, block: int = 100_000) -> np.ndarray:
    """``max_k p[i, k] * p[k, j]`` for each pair ``(rows[t], cols[t])``, over the scored pairs ``p``.

    >>> support_signal(3, np.array([0, 0, 1]), np.array([1, 2, 2]), np.array([0.9, 0.5, 0.8])).round(2).tolist()
    [0.4, 0.72, 0.45]
    """
    rows = np.asarray(rows, dtype=np.int64)
    cols = np.asarray(cols, dtype=np.int64)
    m = coo_matrix((np.r_[p, p], (np.r_[rows, cols], np.r_[cols, rows])), shape=(n, n)).tocsr()
    out = np.zeros(len(rows))
    for s in range(0, len(rows), block):  # in blocks: each block holds the neighbour lists of both ends
        both = m[rows[s:s + block]].multiply(m[cols[s:s + block]])
        out[s:s + block] = both.max(axis=1).toarray().ravel()
    return out


@dataclass
class ArticleSignals:
    """What :func:`pair_features` reads per article, besides its vector (see :func:`article_signals`).

    Any field may be ``None``: its signals are then 0 (``days``: all
    undated; ``headlines``: the article vectors stand in; ``titled``: all titled).
    """

    entities: spmatrix | None = None
    rare: spmatrix | None = None
    days: np.ndarray | None = None
    languages: Sequence[str | None] | None = None
    sites: Sequence[str | None] | None = None
    ages: Sequence[set] | None = None
    times: Sequence[set] | None = None
    headlines: np.ndarray | None = None
    titled: np.ndarray | None = None


def article_signals(articles: Sequence[Article], headlines: np.ndarray | None = None,
                    corpus: TermCounts | None = None) -> ArticleSignals:
    """Entity terms, rare names, dates, languages, sites and ages of ``articles``; ``headlines`` as given.

    ``corpus``: the term counts rare names are judged by (default: ``articles`` themselves).
    """
    languages = [a.language for a in articles]
    terms = [a.entity_terms for a in articles]
    return ArticleSignals(
        entities=entity_matrix(articles, terms=terms, corpus=corpus),
        rare=rare_term_matrix(terms, corpus=corpus),
        days=np.array([a.date.timestamp() / 86400.0 if a.date else np.nan for a in articles]),
        languages=languages,
        sites=[a.site for a in articles],
        ages=[a.ages for a in articles],
        times=[a.times for a in articles],
        headlines=headlines,
        titled=np.array([bool(a.headline) for a in articles]),
    )


def _default_names(names, support) -> tuple:
    if names is not None:
        return tuple(names)
    return tuple(f for f in DEFAULT_FEATURES if f != "support" or support is not None)


def _cosine(x: np.ndarray, rows: np.ndarray, cols: np.ndarray, block: int = 100_000) -> np.ndarray:
    out = np.empty(len(rows))
    for s in range(0, len(rows), block):  # in blocks: a million rows have ~12 million pairs
        out[s:s + block] = np.einsum("ij,ij->i", x[rows[s:s + block]], x[cols[s:s + block]], dtype=np.float64)
    return np.clip(out, 0.0, 1.0)


def _compare(values: Sequence | None, rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per pair: both ends know the value and it is the same; both know it and it differs (0/1 floats)."""
    if values is None:
        return np.zeros(len(rows)), np.zeros(len(rows))
    v = np.array([x or "" for x in values], dtype=object)
    known = (v[rows] != "") & (v[cols] != "")
    equal = v[rows] == v[cols]
    return (known & equal).astype(np.float64), (known & ~equal).astype(np.float64)


def _shared_and_given(sets: Sequence[set] | None, rows: np.ndarray, cols: np.ndarray,
                      near: Sequence[set] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Per pair: whether the two sets share an element, and whether both are non-empty.

    ``near``: each set widened to what counts as the same (a clock time and its neighbouring steps); the row
    end's widened set is then matched against the column end's own set.
    """
    if sets is None:
        return np.zeros(len(rows), dtype=bool), np.zeros(len(rows), dtype=bool)
    binarize = MultiLabelBinarizer(sparse_output=True).fit(list(sets) + list(near or ()))
    m = binarize.transform(sets).tocsr().astype(np.float32)
    given = np.diff(m.indptr) > 0
    left = m if near is None else binarize.transform(near).tocsr().astype(np.float32)
    return _rowwise_dot(left, rows, cols, other=m) > 0, given[rows] & given[cols]


def _near_times(times: Sequence[set] | None, rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per pair: whether two of the clock times are about half an hour apart or less (in 10-minute steps, round
    the clock), and whether both articles give one."""
    if times is None:
        return _shared_and_given(None, rows, cols)
    steps = 1440 // _TIME_STEP
    exact = [{t // _TIME_STEP for t in ts} for ts in times]
    around = [{(b + d) % steps for b in bs for d in range(-_NEAR_STEPS, _NEAR_STEPS + 1)} for bs in exact]
    return _shared_and_given(exact, rows, cols, near=around)


def pair_features(rows: np.ndarray, cols: np.ndarray, vectors: np.ndarray, signals: ArticleSignals | None = None,
                  names: Sequence[str] | None = None, support: "SameStoryTrees | SameStoryModel | PairClassifier | None" = None
                  ) -> dict[str, np.ndarray]:
    """The signals ``names`` for each pair ``(rows[t], cols[t])``.

    Default ``names``: :data:`DEFAULT_FEATURES`, without ``support`` unless
    ``support`` is given.

    ``vectors`` are unit rows; ``signals`` the per-article inputs
    (:func:`article_signals`; ``None``: bare vectors, only ``dense`` and
    ``rank`` carry information). ``support`` is the first-stage model the
    ``support`` signal is computed with (needed only when it is asked for).

    >>> import numpy as np
    >>> sig = ArticleSignals(days=np.array([0.0, 3.0]), languages=["de", "en"], sites=["a.com", "a.com"],
    ...                      ages=[{"17"}, {"35"}])
    >>> f = pair_features(np.array([0]), np.array([1]), np.eye(2, dtype=np.float32), sig,
    ...                   names=["dense", "days", "cross_lingual", "same_site", "age_conflict"])
    >>> {k: round(float(v[0]), 3) for k, v in f.items()}
    {'dense': 0.0, 'days': 1.386, 'cross_lingual': 1.0, 'same_site': 1.0, 'age_conflict': 1.0}
    """
    names = _default_names(names, support)
    unknown = [f for f in names if f not in FEATURES]
    if unknown:
        raise InputError(f"unknown pair features {unknown}; choose from {FEATURES}", field="names")
    if "support" in names and support is None:
        raise InputError("the 'support' signal needs the first-stage model it is computed with; pass support=...",
                         field="support")
    sig = signals or ArticleSignals()
    rows = np.asarray(rows, dtype=np.int64)
    cols = np.asarray(cols, dtype=np.int64)
    n = len(vectors)
    needs = set(names) | (set(support.features) if "support" in names else set())  # the first stage's too
    out = {"dense": _cosine(vectors, rows, cols)}
    if needs & {"entity", "rank"}:
        out["entity"] = (np.clip(_rowwise_dot(sig.entities, rows, cols), 0.0, 1.0) if sig.entities is not None
                         else np.zeros(len(rows)))
    if needs & {"days", "undated", "days_beyond_month", "crowding"}:
        days = sig.days if sig.days is not None else np.full(n, np.nan)
        gap = np.abs(days[rows] - days[cols])
        undated = np.isnan(gap)
        out["days"] = np.where(undated, 0.0, np.log1p(np.nan_to_num(gap)))
        out["undated"] = undated.astype(np.float64)
        out["days_beyond_month"] = np.maximum(out["days"] - _MONTH, 0.0)
        near = np.nan_to_num(gap, nan=np.inf) <= _CROWD_DAYS  # an undated pair is never near
        count = np.bincount(rows[near], minlength=n) + np.bincount(cols[near], minlength=n)
        out["crowding"] = np.log1p((count[rows] + count[cols]) / 2.0)
    if "rank" in needs:
        r1, r2 = _ranks(n, rows, cols, out["dense"] + out["entity"])
        out["rank"] = np.log(r1) + np.log(r2)
    if needs & {"cross_lingual", "cross_lingual_dense"}:
        cross = _compare(sig.languages, rows, cols)[1]  # an unknown language never counts as different
        out["cross_lingual"] = cross
        out["cross_lingual_dense"] = cross * out["dense"]
    if "same_site" in needs:
        out["same_site"] = _compare(sig.sites, rows, cols)[0]
    if "rare_names" in needs:
        out["rare_names"] = (np.log1p(_rowwise_dot(sig.rare, rows, cols)) if sig.rare is not None
                             else np.zeros(len(rows)))
    if needs & {"age_match", "age_conflict"}:
        shared, both = _shared_and_given(sig.ages, rows, cols)
        out["age_match"] = shared.astype(np.float64)
        out["age_conflict"] = (both & ~shared).astype(np.float64)
    if needs & {"time_match", "time_conflict"}:
        near, both = _near_times(sig.times, rows, cols)
        out["time_match"] = near.astype(np.float64)
        out["time_conflict"] = (both & ~near).astype(np.float64)
    if "headline" in needs:
        out["headline"] = _cosine(sig.headlines if sig.headlines is not None else vectors, rows, cols)
    if "untitled" in needs:
        out["untitled"] = (np.zeros(len(rows)) if sig.titled is None
                           else (~(sig.titled[rows] & sig.titled[cols])).astype(np.float64))
    if "support" in names:
        out["support"] = support_signal(n, rows, cols, support.probability(out))
    return {f: out[f] for f in names}


def story_pairs(vectors: np.ndarray, articles: Sequence[Article] | None = None, n_neighbors: int = 15,
                index: str = "auto", random_state=None, nprobe: int = 16, show_progress: bool | None = None,
                names: Sequence[str] | None = None, headlines: np.ndarray | None = None,
                support: "SameStoryTrees | SameStoryModel | PairClassifier | None" = None,
                corpus: TermCounts | None = None) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Candidate pairs and their signals ``names`` (default as in :func:`pair_features`), as ``StoryClusterer`` computes them.

    ``vectors`` are unit rows; ``articles`` (same order) add the entity, date,
    language, site and age signals; ``headlines`` are the articles' headline
    vectors (:attr:`ArticleEmbeddings.headline_vectors
    <storyclust.embeddings.ArticleEmbeddings.headline_vectors>`; default: ``vectors``).
    ``support``: the first-stage model for the ``support`` signal (needed
    only when it is asked for). ``corpus``: the term counts rare names are
    judged by (:func:`article_signals`). ``index``, ``nprobe``, ``random_state`` and
    ``show_progress`` go to the neighbour search. Returns ``(rows, cols, features)`` with ``rows < cols``.
    """
    search = dict(index=index, random_state=random_state, nprobe=nprobe, show_progress=show_progress)
    names = _default_names(names, support)
    if articles is None:
        rows, cols = candidate_pairs(vectors, n_neighbors, **search)
        return rows, cols, pair_features(rows, cols, vectors, names=names, support=support)
    signals = article_signals(articles, headlines, corpus)
    rows, cols = candidate_pairs(vectors, n_neighbors, signals.entities, **search)
    return rows, cols, pair_features(rows, cols, vectors, signals, names=names, support=support)

