"""Stage 2b of storyline clustering: from pair signals to the probability that two articles are one story.

A :class:`SameStoryModel` (logistic regression over the signals and the
products of every two of them but those in :data:`ADDITIVE`) turns them
into a probability that the two articles belong to one storyline; a
:class:`PairClassifier` does the same with any fitted scikit-learn classifier.
The shipped article model is of a third kind, monotone boosted trees
(:mod:`~storyclust.storylines.trees`); the shipped bare-vector model is a
:class:`SameStoryModel` over the cosine alone (:data:`DEFAULT_VECTOR_MODEL`).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from typing import TYPE_CHECKING, Mapping, Sequence

import numpy as np

from ..errors import InputError
from .signals import FEATURES

if TYPE_CHECKING:
    from .trees import SameStoryTrees

__all__ = ["ADDITIVE", "DEFAULT_VECTOR_MODEL", "PairClassifier", "SameStoryModel"]

# Signals a fit with ``interactions=True`` keeps additive (no products with the others). The cross-lingual terms
# are learned from translation pairs of STS-B sentences, all undated and without headlines, so their products with
# the date, the headline or the names would be guesses about news pairs those data do not have.
ADDITIVE = ("cross_lingual", "cross_lingual_dense")


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
    what another means: shared rare names may count for more the further
    apart the two reports are (a trial months later names the victim of the
    shooting), two pages of one site that read alike for less (a station's
    pages share its boilerplate).

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
        of every two but those in :data:`ADDITIVE`, as ``fit_same_story_model``
        does for ``kind="logistic"``). The products are standardised for the fit (so that ``C``
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
    def default(cls, with_text: bool = True) -> "SameStoryModel | SameStoryTrees":
        """The shipped models: monotone boosted trees over all signals for articles
        (:data:`~storyclust.storylines.trees.DEFAULT_ARTICLE_MODEL`), ``dense`` alone for bare vectors.

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
        if not with_text:
            return DEFAULT_VECTOR_MODEL
        from .trees import DEFAULT_ARTICLE_MODEL

        return DEFAULT_ARTICLE_MODEL


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
    support : SameStoryTrees, SameStoryModel or PairClassifier, optional
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
    support: "SameStoryTrees | SameStoryModel | PairClassifier | None" = None

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


# The cosine alone, fitted on the vector-only candidate pairs of ECB+ topics 1-35 (bare vectors).
DEFAULT_VECTOR_MODEL = SameStoryModel(("dense",), (10.1028,), -6.4852)
