"""Stage 2 of storyline clustering: how likely two articles are to report the same story.

Each candidate pair (:func:`~storyclust.storylines.knn_graph.candidate_pairs`)
gets five signals:

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
    (``Article.lang``, else :func:`~storyclust.documents.guess_language`), else 0:
    translations share few words, so across languages the vector cosine has
    to carry more of the decision.

A :class:`SameStoryModel` (logistic regression over these signals) turns them
into a probability that the two articles belong to one storyline. The shipped
coefficients were fitted once on the *tuning* parts of ECB+ (topics 1-35) and
GVA (articles up to 2015), and on German/English translation pairs of the
STS-B *dev* set for the cross-lingual terms; ``python benchmarks/storylines.py``
refits them and reports whether they still agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
from scipy.sparse import spmatrix

from ..documents import Article, guess_language
from ..errors import InputError
from .entities import entity_matrix
from .knn_graph import candidate_pairs

__all__ = ["FEATURES", "SameStoryModel", "pair_features", "story_pairs"]

FEATURES = ("dense", "entity", "days", "undated", "rank", "cross_lingual", "cross_lingual_dense")


def _rowwise_dot(m: spmatrix, rows: np.ndarray, cols: np.ndarray, block: int = 200_000) -> np.ndarray:
    """``m[rows[t]] . m[cols[t]]`` for every t, in blocks (sparse rows)."""
    out = np.empty(len(rows), dtype=np.float64)
    m = m.tocsr()
    for s in range(0, len(rows), block):
        a, b = m[rows[s:s + block]], m[cols[s:s + block]]
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


def pair_features(rows: np.ndarray, cols: np.ndarray, vectors: np.ndarray, entities: spmatrix | None = None,
                  days: np.ndarray | None = None, languages: Sequence[str | None] | None = None,
                  names: Sequence[str] | None = None) -> dict[str, np.ndarray]:
    """The signals of :data:`FEATURES` (or only ``names`` of them) for each pair ``(rows[t], cols[t])``.

    ``vectors`` are unit rows; ``entities`` the entity-term matrix (``None``:
    entity is 0); ``days`` each article's date in days (NaN when undated;
    ``None``: all undated); ``languages`` a code per article (``None`` or ""
    when unknown; unknown never counts as different).

    >>> import numpy as np
    >>> f = pair_features(np.array([0]), np.array([1]), np.eye(2, dtype=np.float32), days=np.array([0.0, 3.0]),
    ...                   languages=["de", "en"])
    >>> {k: round(float(v[0]), 3) for k, v in f.items()}  # doctest: +NORMALIZE_WHITESPACE
    {'dense': 0.0, 'entity': 0.0, 'days': 1.386, 'undated': 0.0, 'rank': 0.0, 'cross_lingual': 1.0,
     'cross_lingual_dense': 0.0}
    """
    names = tuple(FEATURES if names is None else names)
    unknown = [f for f in names if f not in FEATURES]
    if unknown:
        raise InputError(f"unknown pair features {unknown}; choose from {FEATURES}", field="names")
    rows = np.asarray(rows, dtype=np.int64)
    cols = np.asarray(cols, dtype=np.int64)
    n = len(vectors)
    dense = np.empty(len(rows))
    for s in range(0, len(rows), 100_000):  # in blocks: a million rows have ~12 million pairs
        dense[s:s + 100_000] = np.einsum("ij,ij->i", vectors[rows[s:s + 100_000]], vectors[cols[s:s + 100_000]],
                                         dtype=np.float64)
    dense = np.clip(dense, 0.0, 1.0)
    out = {"dense": dense}
    needs = set(names)
    if needs & {"entity", "rank"}:
        out["entity"] = (np.clip(_rowwise_dot(entities, rows, cols), 0.0, 1.0) if entities is not None
                         else np.zeros(len(rows)))
    if needs & {"days", "undated"}:
        if days is None:
            days = np.full(n, np.nan)
        gap = np.abs(days[rows] - days[cols])
        undated = np.isnan(gap)
        out["days"] = np.where(undated, 0.0, np.log1p(np.nan_to_num(gap)))
        out["undated"] = undated.astype(np.float64)
    if "rank" in needs:
        r1, r2 = _ranks(n, rows, cols, dense + out["entity"])
        out["rank"] = np.log(r1) + np.log(r2)
    if needs & {"cross_lingual", "cross_lingual_dense"}:
        if languages is None:
            cross = np.zeros(len(rows))
        else:
            lang = np.array([x or "" for x in languages], dtype=object)
            cross = ((lang[rows] != lang[cols]) & (lang[rows] != "") & (lang[cols] != "")).astype(np.float64)
        out["cross_lingual"] = cross
        out["cross_lingual_dense"] = cross * dense
    return {f: out[f] for f in names}


def story_pairs(vectors: np.ndarray, articles: Sequence[Article] | None = None, n_neighbors: int = 15,
                index: str = "auto", random_state=None, nprobe: int = 16, show_progress: bool | None = None,
                names: Sequence[str] | None = None) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Candidate pairs and their signals (all, or ``names``), as ``StoryClusterer`` computes them.

    ``vectors`` are unit rows; ``articles`` (same order) add the entity, date
    and language signals. ``index``, ``nprobe``, ``random_state`` and
    ``show_progress`` go to the neighbour search. Returns ``(rows, cols, features)`` with ``rows < cols``.
    """
    search = dict(index=index, random_state=random_state, nprobe=nprobe, show_progress=show_progress)
    if articles is None:
        rows, cols = candidate_pairs(vectors, n_neighbors, **search)
        return rows, cols, pair_features(rows, cols, vectors, names=names)
    entities = entity_matrix(articles)
    days = np.array([a.date.timestamp() / 86400.0 if a.date else np.nan for a in articles])
    languages = [a.lang or guess_language(a.cleaned.full) for a in articles]
    rows, cols = candidate_pairs(vectors, n_neighbors, entities, **search)
    return rows, cols, pair_features(rows, cols, vectors, entities, days, languages, names=names)


@dataclass(frozen=True)
class SameStoryModel:
    """Logistic regression from pair signals to the probability of one storyline.

    ``StoryClusterer`` links articles whose average probability is at least
    its ``threshold`` (0.5: more likely the same story than not).

    Parameters
    ----------
    features : tuple of str
        Names from :data:`FEATURES`, in the order of ``coef``.
    coef : tuple of float
    intercept : float

    Examples
    --------
    >>> m = SameStoryModel(("dense",), (10.0,), -5.0)
    >>> m.probability({"dense": np.array([0.2, 0.5, 0.9])}).round(3).tolist()
    [0.047, 0.5, 0.982]

    Fit on your own labelled pairs (features from :func:`pair_features`):

    >>> f = {"dense": np.array([0.1, 0.2, 0.8, 0.9])}
    >>> p = SameStoryModel.fit(f, np.array([0, 0, 1, 1])).probability(f)
    >>> bool(p[1] < 0.5 < p[2])
    True
    """

    features: tuple
    coef: tuple
    intercept: float

    def __post_init__(self):
        unknown = [f for f in self.features if f not in FEATURES]
        if unknown:
            raise InputError(f"unknown pair features {unknown}; choose from {FEATURES}", field="features")
        if len(self.coef) != len(self.features):
            raise InputError(f"{len(self.coef)} coefficients for {len(self.features)} features", field="coef")

    def probability(self, features: Mapping[str, np.ndarray]) -> np.ndarray:
        """Same-story probability per pair."""
        z = np.full(len(features[self.features[0]]), float(self.intercept))
        for name, w in zip(self.features, self.coef):
            z += w * np.asarray(features[name], dtype=np.float64)
        return 1.0 / (1.0 + np.exp(-z))

    @classmethod
    def fit(cls, features: Mapping[str, np.ndarray], same: np.ndarray, names: Sequence[str] | None = None,
            sample_weight: np.ndarray | None = None, C: float = 10.0) -> "SameStoryModel":
        """Fit the coefficients to pairs labelled 1 (same storyline) or 0."""
        from sklearn.linear_model import LogisticRegression

        names = tuple(names or features.keys())
        X = np.column_stack([np.asarray(features[f], dtype=np.float64) for f in names])
        y = np.asarray(same).astype(int)
        if len(np.unique(y)) < 2:
            raise InputError("fitting needs both same-story and different-story pairs", field="same")
        lr = LogisticRegression(C=C, max_iter=1000).fit(X, y, sample_weight=sample_weight)
        return cls(names, tuple(round(float(c), 4) for c in lr.coef_[0]), round(float(lr.intercept_[0]), 4))

    @classmethod
    def default(cls, with_text: bool = True) -> "SameStoryModel":
        """The shipped model: all signals for articles, ``dense`` alone for bare vectors.

        (``StoryClusterer`` uses the vector model with ``linkage="average"`` on
        bare vectors; their default linkage is HDBSCAN.)

        The vector model is fitted on the vector-only candidate pairs of ECB+
        topics 1-35, whose topics each hold several events of one kind (two
        earthquakes, two celebrities entering rehab): the case bare vectors
        must tell apart. It links pairs whose average cosine is about 0.64 or
        more, for the default embedder's vectors.
        On GVA, whose incidents are all US shootings, vectors alone hardly
        separate incidents (the bare-vector rows of ``benchmarks/storylines.py``).
        """
        return DEFAULT_ARTICLE_MODEL if with_text else DEFAULT_VECTOR_MODEL


# Fitted by `python benchmarks/storylines.py --fit-only` (tuning splits; see benchmarks/results/storylines.md).
DEFAULT_ARTICLE_MODEL = SameStoryModel(FEATURES, (1.7831, 4.9583, -1.0983, 1.5694, -1.3707, -12.865, 15.8279), 2.6511)
DEFAULT_VECTOR_MODEL = SameStoryModel(("dense",), (10.1028,), -6.4852)
