"""Stage 2 of storyline clustering: how likely two articles are to report the same story.

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
    (``Article.lang``, else :func:`~storyclust.documents.guess_language`), else 0:
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
    1 when both give ages (:func:`~storyclust.storylines.entities.ages`) and
    share one, or share none.
``days_beyond_month``
    ``max(0, days - log 31)``: past a month the date gap counts less (the trial
    of a shooting is months after it).
``headline``
    cosine of the headline vectors
    (:attr:`ArticleEmbeddings.headline_vectors <storyclust.embeddings.ArticleEmbeddings.headline_vectors>`).
``support``
    the strongest two-step path ``max_k p_ik * p_kj`` over candidate pairs,
    ``p`` being a first-stage model's probability (:attr:`SameStoryModel.support`):
    two reports of one event usually have a third report in common.

The shipped model uses :data:`DEFAULT_FEATURES`: all but ``days_beyond_month``
and ``support``, which do not help it (the ablation rows of
``benchmarks/results/storylines.md``).

A :class:`SameStoryModel` (logistic regression over these signals and the
products of every two of them but those in :data:`ADDITIVE`) turns them
into a probability that the two articles belong to one storyline; a
:class:`PairClassifier` does the same with any fitted scikit-learn classifier
(the non-linear row of ``benchmarks/storylines.py``). The shipped
coefficients were fitted once on the *tuning* parts of ECB+ (topics 1-35) and
GVA (articles up to 2015), on small inputs drawn from them
(:meth:`StoryClusterer.small_input_pairs
<storyclust.storylines.clusterer.StoryClusterer.small_input_pairs>`: given a
handful of articles every pair is scored, also two on nothing alike), and on
German/English translation pairs of the STS-B *dev* set for the cross-lingual
terms; ``python benchmarks/storylines.py`` refits them and reports whether
they still agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from typing import Mapping, Sequence

import numpy as np
from scipy.sparse import coo_matrix, spmatrix
from sklearn.preprocessing import MultiLabelBinarizer

from ..documents import Article, guess_language
from ..errors import InputError
from .entities import ages, entity_matrix, entity_terms, rare_term_matrix
from .knn_graph import candidate_pairs

__all__ = ["ADDITIVE", "DEFAULT_FEATURES", "FEATURES", "ArticleSignals", "PairClassifier", "SameStoryModel",
           "article_signals", "fit_same_story_model", "pair_features", "story_pairs", "support_signal"]

FEATURES = ("dense", "entity", "days", "undated", "rank", "cross_lingual", "cross_lingual_dense", "same_site",
            "rare_names", "age_match", "age_conflict", "days_beyond_month", "headline", "support")
# The shipped model's signals. ``days_beyond_month`` and ``support`` are there to fit your own model with; the
# shipped model does without them (with its products of two signals, adding them does not help on GVA: the
# "default + days_beyond_month" rows of benchmarks/results/storylines.md).
DEFAULT_FEATURES = tuple(f for f in FEATURES if f not in ("days_beyond_month", "support"))
# Signals a fit with ``interactions=True`` keeps additive (no products with the others). The cross-lingual terms
# are learned from translation pairs of STS-B sentences, all undated and without headlines, so their products with
# the date, the headline or the names would be guesses about news pairs those data do not have. ``undated`` marks
# whole tuning sets (ECB+ and the translation pairs have no dates, GVA always has): its products would fit each set
# apart rather than learn a rule, and leave a dated German/English pair to a part fitted on English GVA pairs only
# (in an exploratory refit it split the German and English reports of tests/test_storylines.py's MIXED).
ADDITIVE = ("undated", "cross_lingual", "cross_lingual_dense")
_MONTH = float(np.log1p(30.0))


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
    undated; ``headlines``: the article vectors stand in).
    """

    entities: spmatrix | None = None
    rare: spmatrix | None = None
    days: np.ndarray | None = None
    languages: Sequence[str | None] | None = None
    sites: Sequence[str | None] | None = None
    ages: Sequence[set] | None = None
    headlines: np.ndarray | None = None


def article_signals(articles: Sequence[Article], headlines: np.ndarray | None = None) -> ArticleSignals:
    """Entity terms, rare names, dates, languages, sites and ages of ``articles``; ``headlines`` as given."""
    terms = [entity_terms(a.cleaned.full) for a in articles]
    return ArticleSignals(
        entities=entity_matrix(articles, terms=terms),
        rare=rare_term_matrix(terms),
        days=np.array([a.date.timestamp() / 86400.0 if a.date else np.nan for a in articles]),
        languages=[a.lang or guess_language(a.cleaned.full) for a in articles],
        sites=[a.site for a in articles],
        ages=[ages(a.cleaned.full) for a in articles],
        headlines=headlines,
    )


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


def _shared_and_given(sets: Sequence[set] | None, rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per pair: whether the two sets share an element, and whether both are non-empty."""
    if sets is None:
        return np.zeros(len(rows), dtype=bool), np.zeros(len(rows), dtype=bool)
    m = MultiLabelBinarizer(sparse_output=True).fit_transform(sets).tocsr().astype(np.float32)
    given = np.diff(m.indptr) > 0
    return _rowwise_dot(m, rows, cols) > 0, given[rows] & given[cols]


def pair_features(rows: np.ndarray, cols: np.ndarray, vectors: np.ndarray, signals: ArticleSignals | None = None,
                  names: Sequence[str] | None = None, support: "SameStoryModel | PairClassifier | None" = None
                  ) -> dict[str, np.ndarray]:
    """The signals ``names`` (default: :data:`DEFAULT_FEATURES`) for each pair ``(rows[t], cols[t])``.

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
    names = tuple(DEFAULT_FEATURES if names is None else names)
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
    if needs & {"days", "undated", "days_beyond_month"}:
        days = sig.days if sig.days is not None else np.full(n, np.nan)
        gap = np.abs(days[rows] - days[cols])
        undated = np.isnan(gap)
        out["days"] = np.where(undated, 0.0, np.log1p(np.nan_to_num(gap)))
        out["undated"] = undated.astype(np.float64)
        out["days_beyond_month"] = np.maximum(out["days"] - _MONTH, 0.0)
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
    if "headline" in needs:
        out["headline"] = _cosine(sig.headlines if sig.headlines is not None else vectors, rows, cols)
    if "support" in names:
        out["support"] = support_signal(n, rows, cols, support.probability(out))
    return {f: out[f] for f in names}


def story_pairs(vectors: np.ndarray, articles: Sequence[Article] | None = None, n_neighbors: int = 15,
                index: str = "auto", random_state=None, nprobe: int = 16, show_progress: bool | None = None,
                names: Sequence[str] | None = None, headlines: np.ndarray | None = None,
                support: "SameStoryModel | PairClassifier | None" = None
                ) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Candidate pairs and their signals ``names`` (default: :data:`DEFAULT_FEATURES`), as ``StoryClusterer`` computes them.

    ``vectors`` are unit rows; ``articles`` (same order) add the entity, date,
    language, site and age signals; ``headlines`` are the articles' headline
    vectors (:attr:`ArticleEmbeddings.headline_vectors
    <storyclust.embeddings.ArticleEmbeddings.headline_vectors>`; default: ``vectors``).
    ``support``: the first-stage model for the ``support`` signal (needed
    only when it is asked for). ``index``, ``nprobe``, ``random_state`` and
    ``show_progress`` go to the neighbour search. Returns ``(rows, cols, features)`` with ``rows < cols``.
    """
    search = dict(index=index, random_state=random_state, nprobe=nprobe, show_progress=show_progress)
    names = tuple(DEFAULT_FEATURES if names is None else names)
    if articles is None:
        rows, cols = candidate_pairs(vectors, n_neighbors, **search)
        return rows, cols, pair_features(rows, cols, vectors, names=names, support=support)
    signals = article_signals(articles, headlines)
    rows, cols = candidate_pairs(vectors, n_neighbors, signals.entities, **search)
    return rows, cols, pair_features(rows, cols, vectors, signals, names=names, support=support)


def _design(features: Mapping[str, np.ndarray], same, names: tuple) -> tuple[np.ndarray, np.ndarray]:
    """The pair-by-signal matrix (columns in ``names`` order) and 0/1 labels a model is fitted on."""
    y = np.asarray(same).astype(int)
    if len(np.unique(y)) < 2:
        raise InputError("fitting needs both same-story and different-story pairs", field="same")
    return np.column_stack([np.asarray(features[f], dtype=np.float64) for f in names]), y


def _check_model_features(features: tuple, support) -> None:
    """The checks every same-story model makes: known signals, and a first-stage model exactly when ``support`` needs one."""
    unknown = [f for f in features if f not in FEATURES]
    if unknown:
        raise InputError(f"unknown pair features {unknown}; choose from {FEATURES}", field="features")
    if "support" in features and support is None:
        raise InputError("a model using 'support' needs its first-stage model: support=SameStoryModel(...) "
                         "(fit_same_story_model fits both stages)", field="support")
    if support is not None and "support" in support.features:
        raise InputError("the first-stage model cannot use 'support' itself", field="support")


@dataclass(frozen=True)
class SameStoryModel:
    """Logistic regression from pair signals (and products of two) to the probability of one storyline.

    ``StoryClusterer`` links articles whose average probability is at least
    its ``threshold`` (0.5: more likely the same story than not). The
    log-odds are ``intercept + sum(coef[k] * x[k]) + sum(w * x[a] * x[b])``
    over the ``interactions`` ``(a, b, w)``. Products let one signal change
    what another means. In the shipped model, for instance, shared rare
    names count for more the further apart the two reports are (a trial
    months later names the victim of the shooting), and two pages of one
    site that read alike count for less (a station's pages share its
    boilerplate).

    Parameters
    ----------
    features : tuple of str
        Names from :data:`FEATURES`, in the order of ``coef``.
    coef : tuple of float
    intercept : float
    support : SameStoryModel, optional
        The first-stage model the ``support`` signal is computed with
        (required when ``features`` has ``support``; it must not use
        ``support`` itself). :func:`fit_same_story_model` fits both stages.
    interactions : tuple of (str, str, float)
        Weights of products of two of ``features`` (default: none, an additive model).

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

    A rule no additive model can learn, "one of the two signals is high, not
    both", needs their product:

    >>> f = {"dense": np.array([0.0, 0.0, 1.0, 1.0] * 5), "entity": np.array([0.0, 1.0, 0.0, 1.0] * 5)}
    >>> same = np.array([0, 1, 1, 0] * 5)
    >>> SameStoryModel.fit(f, same).probability(f)[:4].round(1).tolist()
    [0.5, 0.5, 0.5, 0.5]
    >>> m = SameStoryModel.fit(f, same, interactions=True)
    >>> m.interactions[0][:2], (m.probability(f)[:4] > 0.5).tolist()
    (('dense', 'entity'), [False, True, True, False])
    """

    features: tuple
    coef: tuple
    intercept: float
    support: "SameStoryModel | None" = None
    interactions: tuple = ()

    def __post_init__(self):
        _check_model_features(self.features, self.support)
        if len(self.coef) != len(self.features):
            raise InputError(f"{len(self.coef)} coefficients for {len(self.features)} features", field="coef")
        for term in self.interactions:
            if len(term) != 3 or term[0] not in self.features or term[1] not in self.features:
                raise InputError(f"an interaction is (feature, feature, weight) over the model's features "
                                 f"{self.features}, got {term!r}", field="interactions")

    def probability(self, features: Mapping[str, np.ndarray]) -> np.ndarray:
        """Same-story probability per pair."""
        x = {name: np.asarray(features[name], dtype=np.float64) for name in self.features}
        z = np.full(len(x[self.features[0]]), float(self.intercept))
        for name, w in zip(self.features, self.coef):
            z += w * x[name]
        for a, b, w in self.interactions:
            z += w * x[a] * x[b]
        return 1.0 / (1.0 + np.exp(-z))

    @classmethod
    def fit(cls, features: Mapping[str, np.ndarray], same: np.ndarray, names: Sequence[str] | None = None,
            sample_weight: np.ndarray | None = None, C: float = 10.0,
            support: "SameStoryModel | None" = None, interactions: bool | Sequence[str] = False) -> "SameStoryModel":
        """Fit the coefficients to pairs labelled 1 (same storyline) or 0.

        ``support``: the first-stage model ``features["support"]`` was
        computed with, kept in the fitted model. ``interactions``: also fit
        a weight for the product of every two of these signals (``True``:
        of every two but those in :data:`ADDITIVE`, as the shipped model
        does). The products are standardised for the fit (so that ``C``
        treats them alike) and their weights then written back in terms of
        the raw signals; products that are 0 on every training pair get no
        weight.
        """
        from sklearn.linear_model import LogisticRegression
        from sklearn.preprocessing import StandardScaler

        names = tuple(names or features.keys())
        X, y = _design(features, same, names)
        if interactions is True:
            interactions = [f for f in names if f not in ADDITIVE]
        interactions = list(interactions or [])
        unknown = [f for f in interactions if f not in names]
        if unknown:
            raise InputError(f"interactions {unknown} are not among the signals fitted {names}", field="interactions")
        pairs = list(combinations(sorted(names.index(f) for f in set(interactions)), 2))
        if not pairs:
            lr = LogisticRegression(C=C, max_iter=1000).fit(X, y, sample_weight=sample_weight)
            return cls(names, tuple(round(float(c), 4) for c in lr.coef_[0]), round(float(lr.intercept_[0]), 4),
                       support)
        Z = np.column_stack([X] + [X[:, i] * X[:, j] for i, j in pairs])
        scaler = StandardScaler().fit(Z, sample_weight=sample_weight)
        lr = LogisticRegression(C=C, max_iter=5000).fit(scaler.transform(Z), y, sample_weight=sample_weight)
        raw = lr.coef_[0] / scaler.scale_  # w * (z - mean) / scale = (w / scale) * z - w * mean / scale
        intercept = float(lr.intercept_[0] - raw @ scaler.mean_)
        k = len(names)
        terms = tuple((names[i], names[j], round(float(w), 4)) for (i, j), w, col in zip(pairs, raw[k:], Z[:, k:].T)
                      if col.any())
        return cls(names, tuple(round(float(c), 4) for c in raw[:k]), round(intercept, 4), support, terms)

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


@dataclass(frozen=True)
class PairClassifier:
    """A same-story model from any fitted scikit-learn classifier over pair signals.

    For non-linear models (gradient boosting, random forests) where
    :class:`SameStoryModel`'s logistic regression is too simple. Its columns
    are the signals ``features``, in that order; class 1 means one storyline.
    :func:`fit_same_story_model` with ``estimator=`` fits one on labelled
    pairs; ``StoryClusterer(model=...)`` uses it like a :class:`SameStoryModel`.
    Unlike a :class:`SameStoryModel` it is not a few numbers to write down:
    keep it with ``pickle`` or refit it.

    Parameters
    ----------
    estimator : fitted classifier
        With ``predict_proba`` and ``classes_`` holding 0 and 1.
    features : tuple of str
        Names from :data:`FEATURES`, the estimator's columns in order.
    support : SameStoryModel or PairClassifier, optional
        The first-stage model the ``support`` signal is computed with
        (required when ``features`` has ``support``).

    Examples
    --------
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> f = {"dense": np.array([0.1, 0.2, 0.8, 0.9]), "days": np.array([0.0, 5.0, 0.0, 5.0])}
    >>> tree = DecisionTreeClassifier(random_state=0).fit(np.column_stack([f["dense"], f["days"]]), [0, 0, 1, 1])
    >>> PairClassifier(tree, ("dense", "days")).probability(f).tolist()
    [0.0, 0.0, 1.0, 1.0]
    """

    estimator: object
    features: tuple
    support: "SameStoryModel | PairClassifier | None" = None

    def __post_init__(self):
        object.__setattr__(self, "features", tuple(self.features))
        _check_model_features(self.features, self.support)
        classes = getattr(self.estimator, "classes_", None)
        if not hasattr(self.estimator, "predict_proba") or classes is None:
            raise InputError(f"estimator must be a fitted classifier with predict_proba, got "
                             f"{type(self.estimator).__name__}; fit it first (fit_same_story_model does)",
                             field="estimator")
        if sorted(np.asarray(classes).tolist()) != [0, 1]:
            raise InputError(f"estimator must be fitted on labels 0 and 1, it knows {list(classes)}", field="estimator")
        n_in = getattr(self.estimator, "n_features_in_", len(self.features))
        if n_in != len(self.features):
            raise InputError(f"the estimator takes {n_in} columns but {len(self.features)} features are named",
                             field="features")

    def probability(self, features: Mapping[str, np.ndarray]) -> np.ndarray:
        """Same-story probability per pair."""
        X = np.column_stack([np.asarray(features[f], dtype=np.float64) for f in self.features])
        if not len(X):
            return np.zeros(0)
        column = list(np.asarray(self.estimator.classes_).tolist()).index(1)
        return self.estimator.predict_proba(X)[:, column]

    @classmethod
    def fit(cls, estimator, features: Mapping[str, np.ndarray], same: np.ndarray, names: Sequence[str],
            sample_weight: np.ndarray | None = None, support=None) -> "PairClassifier":
        """Fit a clone of the unfitted ``estimator`` to pairs labelled 1 (same storyline) or 0."""
        from sklearn.base import clone

        names = tuple(names)
        X, y = _design(features, same, names)
        return cls(clone(estimator).fit(X, y, sample_weight=sample_weight), names, support)


def fit_same_story_model(pair_sets: Sequence[tuple], names: Sequence[str] = FEATURES, C: float = 10.0,
                         estimator=None, interactions: bool | Sequence[str] = True
                         ) -> "SameStoryModel | PairClassifier":
    """Fit a same-story model on labelled candidate pairs of one or more article sets.

    ``pair_sets`` holds ``(n_articles, rows, cols, features, same, weight)``
    per set: its candidate pairs and their signals (:func:`story_pairs`, with
    every name but ``support``), whether each pair is one storyline, and a
    weight per pair. With ``support`` in ``names`` the fit has two stages: a
    model without it, then the model with ``support`` computed from the first.
    The model is a :class:`SameStoryModel` (logistic regression, inverse
    regularisation ``C``; ``interactions`` as in :meth:`SameStoryModel.fit`,
    by default a weight for the product of every two signals but those in
    :data:`ADDITIVE`, as in the shipped model), or with ``estimator`` (an
    unfitted scikit-learn classifier taking ``sample_weight``) a
    :class:`PairClassifier` around a fitted clone of it.

    >>> rows, cols = np.array([0, 0, 1, 2, 3]), np.array([1, 2, 2, 3, 4])
    >>> f = {"dense": np.array([0.9, 0.8, 0.85, 0.2, 0.3])}
    >>> m = fit_same_story_model([(5, rows, cols, f, np.array([1, 1, 1, 0, 0]), np.ones(5))], ("dense", "support"))
    >>> m.features, m.support.features
    (('dense', 'support'), ('dense',))
    """
    names = tuple(names)
    first = None
    if "support" in names:
        first = fit_same_story_model(pair_sets, tuple(f for f in names if f != "support"), C, estimator, interactions)
    feats, same, weights = {f: [] for f in names}, [], []
    for n, rows, cols, f, s, w in pair_sets:
        for name in names:
            feats[name].append(support_signal(n, rows, cols, first.probability(f)) if name == "support" else f[name])
        same.append(np.asarray(s))
        weights.append(np.asarray(w, dtype=np.float64))
    feats = {k: np.concatenate(v) for k, v in feats.items()}
    same, weights = np.concatenate(same), np.concatenate(weights)
    if estimator is None:
        return SameStoryModel.fit(feats, same, names, weights, C, support=first, interactions=interactions)
    return PairClassifier.fit(estimator, feats, same, names, weights, support=first)


# Fitted by `python benchmarks/storylines.py --fit-only` (tuning splits; see benchmarks/results/storylines.md).
# Its log-odds: intercept + coef . signals + the weight of each product of two signals below.
DEFAULT_ARTICLE_MODEL = SameStoryModel(
    DEFAULT_FEATURES,
    (7.0661, 11.2117, -0.5221, 0.4576, -0.4972, -8.4093, 7.5205, -0.2889, 1.7083, -3.2062, -2.7295, 1.9806),
    -2.3588,
    interactions=(
        ("dense", "entity", -6.5965), ("dense", "days", -1.3849), ("dense", "rank", -1.47),
        ("dense", "same_site", -2.9479), ("dense", "rare_names", -1.262), ("dense", "age_match", -6.068),
        ("dense", "age_conflict", -4.5896), ("dense", "headline", 5.8324),
        ("entity", "days", 0.0476), ("entity", "rank", 0.9817), ("entity", "same_site", 1.8734),
        ("entity", "rare_names", 0.5845), ("entity", "age_match", 19.791), ("entity", "age_conflict", 12.1134),
        ("entity", "headline", -14.0563),
        ("days", "rank", 0.0988), ("days", "same_site", 0.1085), ("days", "rare_names", 0.4142),
        ("days", "age_match", 0.0166), ("days", "age_conflict", -0.1343), ("days", "headline", -0.6366),
        ("rank", "same_site", 0.2827), ("rank", "rare_names", -0.0637), ("rank", "age_match", 0.5653),
        ("rank", "age_conflict", 0.1683), ("rank", "headline", 0.067),
        ("same_site", "rare_names", -0.179), ("same_site", "age_match", -0.0829),
        ("same_site", "age_conflict", -1.0168), ("same_site", "headline", -0.8369),
        ("rare_names", "age_match", -0.1672), ("rare_names", "age_conflict", 0.6893),
        ("rare_names", "headline", -0.969),
        ("age_match", "headline", 4.9405),
        ("age_conflict", "headline", 2.3716),
    ),
)
DEFAULT_VECTOR_MODEL = SameStoryModel(("dense",), (10.1028,), -6.4852)
