"""Stage 2b, the shipped kind: boosted trees from pair signals to the probability of one storyline.

A :class:`SameStoryTrees` is a gradient-boosted tree ensemble held as plain
arrays, so it ships as a small ``.npz`` file and needs no pickled
scikit-learn object. It is fitted with scikit-learn's
``HistGradientBoostingClassifier`` under monotonic constraints
(:data:`~storyclust.storylines.signals.MONOTONE`): more of a signal that
speaks for one story never lowers the probability. A logistic regression
with products of signals (:class:`~storyclust.storylines.model.SameStoryModel`)
has no such guarantee, and on inputs unlike its tuning data (German
one-off reports, say) it extrapolated to near-certain links.

The shipped model (:data:`DEFAULT_ARTICLE_MODEL`, ``same_story.npz`` beside
this file) reads :data:`~storyclust.storylines.signals.DEFAULT_FEATURES` in
two stages: a first model without ``support``, then one that also reads the
strongest two-step path through the first model's probabilities. It was
fitted (:func:`~storyclust.storylines.fitting.fit_same_story_model`) on the
*tuning* parts only: ECB+ topics 1-35, GVA articles up to 2015, and a
tuning half of 10kGNAD (German reports, each taken as its own story); on
crawl-like inputs made from them
(:func:`~storyclust.storylines.fitting.crawl_pair_sets`: dates removed from
all or half of the articles, titles removed, one article per story, the
corpora mixed undated); and on German/English translation pairs of the
STS-B *dev* set for the cross-lingual signals.
``python benchmarks/storylines.py --fit-only --save storyclust/storylines/same_story.npz``
refits and writes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from ..errors import InputError
from .model import SameStoryModel, _check_model_features, _design
from .signals import MONOTONE

__all__ = ["DEFAULT_ARTICLE_MODEL", "SameStoryTrees", "monotone_trees"]

_ARRAYS = ("feature", "threshold", "value")


def monotone_trees(names: Sequence[str], random_state=0, monotone: Mapping[str, int] = MONOTONE, **params):
    """An unfitted ``HistGradientBoostingClassifier`` constrained by ``monotone`` over the signals ``names``."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    params.setdefault("max_depth", 6)
    return HistGradientBoostingClassifier(random_state=random_state,
                                          monotonic_cst=[monotone.get(f, 0) for f in names], **params)


@dataclass(frozen=True, eq=False)
class SameStoryTrees:
    """Boosted decision trees over pair signals: the probability that two articles are one storyline.

    Each tree is stored complete, to one ``depth`` for all: internal node
    ``k`` of a tree (numbered level by level from 0) reads signal
    ``feature[t, k]`` and sends a pair to child ``2k + 1`` when its value is at
    most ``threshold[t, k]``, else to ``2k + 2``; a leaf the fitted tree reached
    early is padded with nodes that always go left. The log-odds are
    ``baseline`` plus the reached leaf's ``value[t, leaf]`` over all trees.
    :meth:`fit` fits one with scikit-learn; :meth:`save` and :meth:`load` keep
    it as arrays.

    Examples
    --------
    >>> f = {"dense": np.array([0.1, 0.2, 0.3, 0.7, 0.8, 0.9] * 10)}
    >>> same = np.array([0, 0, 0, 1, 1, 1] * 10)
    >>> m = SameStoryTrees.fit(f, same, ("dense",))
    >>> (m.probability({"dense": np.array([0.15, 0.85])}) > 0.5).tolist()
    [False, True]
    """

    features: tuple
    baseline: float
    feature: np.ndarray    # (trees, 2**depth - 1) signal index per internal node
    threshold: np.ndarray  # (trees, 2**depth - 1)
    value: np.ndarray      # (trees, 2**depth) log-odds per leaf
    support: "SameStoryTrees | SameStoryModel | None" = None

    monotone = MONOTONE  # the constraints fit() holds the trees to

    def __post_init__(self):
        self._check_features()
        t, leaves = np.shape(self.value) if np.ndim(self.value) == 2 else (0, 0)
        if leaves < 1 or leaves & (leaves - 1) or np.shape(self.feature) != (t, leaves - 1) \
                or np.shape(self.threshold) != (t, leaves - 1):
            raise InputError("value must be (trees, 2**depth) and feature and threshold (trees, 2**depth - 1)",
                             field="value")
        if self.feature.size and (self.feature.min() < 0 or self.feature.max() >= len(self.features)):
            raise InputError(f"node features must index the model's {len(self.features)} features", field="feature")

    def _check_features(self) -> None:
        _check_model_features(tuple(self.features), self.support)

    @property
    def depth(self) -> int:
        """Levels of internal nodes in every tree."""
        return int(np.shape(self.value)[1]).bit_length() - 1

    def probability(self, features: Mapping[str, np.ndarray], block: int = 4096) -> np.ndarray:
        """Same-story probability per pair."""
        X = np.column_stack([np.asarray(features[f], dtype=np.float64) for f in self.features])
        if np.isnan(X).any():
            raise InputError("pair signals must not be missing (NaN)", field="features")
        n_trees, n_inner = self.feature.shape
        feature, threshold = self.feature.ravel(), self.threshold.ravel()
        tree_inner = np.arange(n_trees) * n_inner
        out = np.empty(len(X))
        for s in range(0, len(X), block):  # in cache-sized blocks: a node index per pair and tree
            x = X[s:s + block]
            flat = x.ravel()
            row = (np.arange(len(x)) * X.shape[1])[:, None]
            node = np.zeros((len(x), n_trees), dtype=np.intp)
            for _ in range(self.depth):
                at = node + tree_inner
                node = 2 * node + 1 + (flat.take(row + feature.take(at)) > threshold.take(at))
            out[s:s + block] = self.baseline + self.value.ravel().take(node - n_inner
                                                                      + np.arange(n_trees) * (n_inner + 1)).sum(axis=1)
        return 1.0 / (1.0 + np.exp(-out))

    @classmethod
    def from_classifier(cls, estimator, names: Sequence[str], support=None) -> "SameStoryTrees":
        """The trees of a fitted binary ``HistGradientBoostingClassifier`` over the signals ``names``."""
        # scikit-learn keeps the fitted trees in a private attribute; read here, at fitting time only
        trees = [tree.nodes for (tree,) in estimator._predictors]  # one tree per iteration for two classes
        depth = max(int(nodes["depth"].max()) for nodes in trees)
        feature = np.zeros((len(trees), 2 ** depth - 1), dtype=np.int16)
        threshold = np.full((len(trees), 2 ** depth - 1), np.inf)
        value = np.zeros((len(trees), 2 ** depth))
        for t, nodes in enumerate(trees):
            stack = [(0, 0, 0)]  # (fitted node, complete node, level)
            while stack:
                i, k, level = stack.pop()
                if level == depth:
                    value[t, k - (2 ** depth - 1)] = nodes["value"][i]
                    continue
                if nodes["is_leaf"][i]:  # pad: always left, down to the leaf level
                    stack.append((i, 2 * k + 1, level + 1))
                    continue
                feature[t, k], threshold[t, k] = nodes["feature_idx"][i], nodes["num_threshold"][i]
                stack += [(int(nodes["left"][i]), 2 * k + 1, level + 1), (int(nodes["right"][i]), 2 * k + 2, level + 1)]
        return cls(tuple(names), float(np.ravel(estimator._baseline_prediction)[0]), feature, threshold, value,
                   support=support)

    @classmethod
    def fit(cls, features: Mapping[str, np.ndarray], same: np.ndarray, names: Sequence[str] | None = None,
            sample_weight: np.ndarray | None = None, support=None, random_state=0, **params) -> "SameStoryTrees":
        """Fit monotone boosted trees (:func:`monotone_trees`, ``params`` passed on) to pairs labelled 1 or 0."""
        names = tuple(names or features.keys())
        X, y = _design(features, same, names)
        est = monotone_trees(names, random_state, cls.monotone, **params).fit(X, y, sample_weight=sample_weight)
        return cls.from_classifier(est, names, support)

    def save(self, path) -> None:
        """Write the model (and its first stage) to one ``.npz`` file."""
        out, model, prefix = {}, self, ""
        while model is not None:
            if not isinstance(model, SameStoryTrees):
                raise InputError("only tree models can be saved; a SameStoryModel is its repr", field="support")
            out.update({prefix + a: getattr(model, a) for a in _ARRAYS})
            out[prefix + "features"] = np.array(model.features)
            out[prefix + "baseline"] = np.array(model.baseline)
            model, prefix = model.support, prefix + "support."
        with open(path, "wb") as fh:
            np.savez_compressed(fh, **out)

    @classmethod
    def load(cls, path) -> "SameStoryTrees":
        """A model written by :meth:`save`."""
        with np.load(Path(path), allow_pickle=False) as z:
            data = {k: z[k] for k in z.files}

        def build(prefix):
            if prefix + "features" not in data:
                return None
            return cls(tuple(str(f) for f in data[prefix + "features"]), float(data[prefix + "baseline"]),
                       **{a: data[prefix + a] for a in _ARRAYS}, support=build(prefix + "support."))

        model = build("")
        if model is None:
            raise InputError(f"{path} holds no same-story trees", field="path")
        return model

    def __repr__(self) -> str:
        first = f", support={self.support!r}" if self.support is not None else ""
        return f"{type(self).__name__}(features={self.features}, trees={len(self.value)}, depth={self.depth}{first})"


DEFAULT_ARTICLE_MODEL = SameStoryTrees.load(Path(__file__).with_name("same_story.npz"))
