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

_ARRAYS = ("roots", "feature", "threshold", "missing_left", "left", "right", "value")


def monotone_trees(names: Sequence[str], random_state=0, **params):
    """An unfitted ``HistGradientBoostingClassifier`` constrained by :data:`MONOTONE` over the signals ``names``."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    params.setdefault("max_depth", 6)
    return HistGradientBoostingClassifier(random_state=random_state,
                                          monotonic_cst=[MONOTONE.get(f, 0) for f in names], **params)


@dataclass(frozen=True, eq=False)
class SameStoryTrees:
    """Boosted decision trees over pair signals: the probability that two articles are one storyline.

    Every node reads one signal: a pair goes left when its value is at most
    the node's ``threshold`` (or is missing and ``missing_left`` says so);
    the log-odds are ``baseline`` plus the leaf ``value`` of every tree.
    Leaves point to themselves. :meth:`fit` fits one with scikit-learn;
    :meth:`save` and :meth:`load` keep it as arrays.

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
    roots: np.ndarray
    feature: np.ndarray
    threshold: np.ndarray
    missing_left: np.ndarray
    left: np.ndarray
    right: np.ndarray
    value: np.ndarray
    support: "SameStoryTrees | SameStoryModel | None" = None

    def __post_init__(self):
        _check_model_features(tuple(self.features), self.support)
        n = len(self.feature)
        if any(len(getattr(self, a)) != n for a in _ARRAYS[1:]):
            raise InputError("feature, threshold, missing_left, left, right and value need one entry per node",
                             field="value")
        nodes = np.r_[self.roots, self.left, self.right]
        if len(nodes) and (nodes.min() < 0 or nodes.max() >= n):
            raise InputError(f"node indices must lie in [0, {n})", field="left")
        if n and (self.feature.min() < 0 or self.feature.max() >= len(self.features)):
            raise InputError(f"node features must index the model's {len(self.features)} features", field="feature")

    @property
    def depth(self) -> int:
        """Edges on the longest path from a root to a leaf."""
        node, depth = np.asarray(self.roots), 0
        while True:
            nxt = np.r_[self.left[node], self.right[node]]
            moving = nxt != np.r_[node, node]
            if not moving.any():
                return depth
            node, depth = np.unique(nxt[moving]), depth + 1

    def probability(self, features: Mapping[str, np.ndarray], block: int = 20_000) -> np.ndarray:
        """Same-story probability per pair."""
        X = np.column_stack([np.asarray(features[f], dtype=np.float64) for f in self.features])
        out = np.empty(len(X))
        depth = self.depth
        for s in range(0, len(X), block):  # in blocks: pairs x trees node indices at once
            x = X[s:s + block]
            node = np.broadcast_to(self.roots, (len(x), len(self.roots))).copy()
            base = (np.arange(len(x)) * X.shape[1])[:, None]
            flat = x.ravel()
            for _ in range(depth):  # leaves point to themselves, so every path may take the full depth
                v = flat.take(base + self.feature.take(node))
                go_left = (v <= self.threshold.take(node)) | (np.isnan(v) & self.missing_left.take(node))
                node = np.where(go_left, self.left.take(node), self.right.take(node))
            out[s:s + block] = self.baseline + self.value.take(node).sum(axis=1)
        return 1.0 / (1.0 + np.exp(-out))

    @classmethod
    def from_classifier(cls, estimator, names: Sequence[str], support=None) -> "SameStoryTrees":
        """The arrays of a fitted binary ``HistGradientBoostingClassifier`` over the signals ``names``."""
        offset, parts = 0, {a: [] for a in _ARRAYS}
        for (tree,) in estimator._predictors:  # one tree per iteration for two classes
            nodes = tree.nodes
            leaf = nodes["is_leaf"].astype(bool)
            own = np.arange(len(nodes)) + offset
            parts["roots"].append([offset])
            parts["feature"].append(np.where(leaf, 0, nodes["feature_idx"]))
            parts["threshold"].append(np.where(leaf, np.inf, nodes["num_threshold"]))
            parts["missing_left"].append(nodes["missing_go_to_left"].astype(bool))
            parts["left"].append(np.where(leaf, own, nodes["left"] + offset))
            parts["right"].append(np.where(leaf, own, nodes["right"] + offset))
            parts["value"].append(np.where(leaf, nodes["value"], 0.0))
            offset += len(nodes)
        arrays = {a: np.concatenate(v) for a, v in parts.items()}
        types = {"roots": np.int32, "feature": np.int32, "left": np.int32, "right": np.int32,
                 "missing_left": bool, "threshold": np.float64, "value": np.float64}
        return cls(tuple(names), float(np.ravel(estimator._baseline_prediction)[0]),
                   **{a: arrays[a].astype(types[a]) for a in _ARRAYS}, support=support)

    @classmethod
    def fit(cls, features: Mapping[str, np.ndarray], same: np.ndarray, names: Sequence[str] | None = None,
            sample_weight: np.ndarray | None = None, support=None, random_state=0, **params) -> "SameStoryTrees":
        """Fit monotone boosted trees (:func:`monotone_trees`, ``params`` passed on) to pairs labelled 1 or 0."""
        names = tuple(names or features.keys())
        X, y = _design(features, same, names)
        est = monotone_trees(names, random_state, **params).fit(X, y, sample_weight=sample_weight)
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
        return (f"SameStoryTrees(features={self.features}, trees={len(self.roots)}, nodes={len(self.feature)}, "
                f"depth={self.depth}{first})")


DEFAULT_ARTICLE_MODEL = SameStoryTrees.load(Path(__file__).with_name("same_story.npz"))
