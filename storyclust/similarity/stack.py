"""Stage 3b of pair scoring: a head learned on two articles' vectors, stacked on the trees.

The trees (:mod:`storyclust.similarity.model`) read cosines, which weigh every
direction of an embedding alike. :class:`PairHead` learns which directions
matter for people's judgement of a pair, from the product and absolute
difference of the two vectors per dimension (the usual head of a
sentence-pair model), as a ridge regression on the annotators' similarity.
:class:`SimilarityStack` joins the trees' log-odds and the head's score in one
logistic regression fitted on out-of-fold predictions, so that its output stays
a calibrated probability of one story. The blend weighs them differently for pairs
across languages, where names and words are shared less and the vectors carry
more of the decision.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping

import numpy as np

from ..embeddings import E5_MODEL
from ..errors import InputError
from .model import SimilarityTrees

__all__ = ["PairHead", "SimilarityStack", "fit_similarity_stack"]


def _pair_design(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    left, right = np.asarray(left, dtype=np.float64), np.asarray(right, dtype=np.float64)
    if left.shape != right.shape or left.ndim != 2:
        raise InputError(f"left and right must be matrices of one shape, got {left.shape} and {right.shape}",
                         field="right")
    return np.hstack([left * right, np.abs(left - right)])


class PairHead:
    """Ridge regression from a pair of vectors (product and absolute difference per dimension) to a similarity.

    Parameters
    ----------
    alpha : float, default 3.0
        Ridge penalty: larger keeps the head closer to zero.

    Attributes
    ----------
    coef_ : ndarray, shape (2 * dim,)
    intercept_ : float

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> a = rng.normal(size=(200, 8))
    >>> b = a + rng.normal(size=(200, 8)) * np.linspace(0, 2, 200)[:, None]
    >>> head = PairHead().fit(a, b, -np.linspace(0, 2, 200))
    >>> bool(head.predict(a[:1], a[:1] + 0.01)[0] > head.predict(a[:1], a[:1] + 2.0)[0])
    True
    """

    def __init__(self, alpha: float = 3.0):
        self.alpha = alpha

    def fit(self, left: np.ndarray, right: np.ndarray, similarity: np.ndarray) -> "PairHead":
        from sklearn.linear_model import Ridge

        if not isinstance(self.alpha, (int, float)) or self.alpha <= 0:
            raise InputError(f"alpha must be a positive number, got {self.alpha!r}", field="alpha")
        X = _pair_design(left, right)
        y = np.asarray(similarity, dtype=np.float64)
        if len(y) != len(X):
            raise InputError(f"{len(y)} similarities for {len(X)} pairs", field="similarity")
        ridge = Ridge(alpha=self.alpha).fit(X, y)
        self.coef_, self.intercept_ = ridge.coef_, float(ridge.intercept_)
        return self

    def predict(self, left: np.ndarray, right: np.ndarray) -> np.ndarray:
        if not hasattr(self, "coef_"):
            raise InputError("fit the PairHead before predict", field="head")
        X = _pair_design(left, right)
        if X.shape[1] != len(self.coef_):
            raise InputError(f"vectors of {X.shape[1] // 2} dimensions; the head was fitted on "
                             f"{len(self.coef_) // 2}", field="left")
        return X @ self.coef_ + self.intercept_


@dataclass(frozen=True)
class SimilarityStack:
    """The trees' log-odds and a :class:`PairHead`'s score on the second model's vectors, joined by a logistic
    regression: ``sigmoid(weights · (t, h, c, c·t, c·h) + intercept)``, ``t`` the trees' log-odds, ``h`` the
    head's score, ``c`` the ``cross_lingual`` signal (1 for a pair across languages, 0 when absent); with two
    weights, ``(t, h)``: one blend for all pairs.

    :meth:`probability` reads the trees' signals and ``head``, the head's score of each pair
    (:func:`~storyclust.story_similarity` adds it). ``second_model`` names the embedding model whose vectors
    the ``second`` signal and the head read.
    """

    trees: SimilarityTrees
    head: PairHead
    weights: tuple
    intercept: float
    second_model: str = E5_MODEL

    @property
    def features(self) -> tuple:
        return tuple(self.trees.features) + ("head",)

    @property
    def uses_second(self) -> bool:
        return True

    def probability(self, features: Mapping[str, np.ndarray]) -> np.ndarray:
        if "head" not in features:
            raise InputError("the stack reads the head's score of each pair: add features['head'] = "
                             "stack.head.predict(left_vectors, right_vectors)", field="features")
        design = _blend_design(self.trees.probability(features), features["head"], features, len(self.weights))
        z = design @ np.asarray(self.weights)
        return 1.0 / (1.0 + np.exp(-(z + self.intercept)))

    def save(self, path) -> None:
        """Write the head and the blend to ``path`` (an ``.npz``); the trees are saved on their own."""
        with open(path, "wb") as fh:
            np.savez_compressed(fh, coef=self.head.coef_, head_intercept=np.array(self.head.intercept_),
                                alpha=np.array(self.head.alpha), weights=np.array(self.weights),
                                intercept=np.array(self.intercept), second_model=np.array(self.second_model))

    @classmethod
    def load(cls, path, trees: SimilarityTrees) -> "SimilarityStack":
        """The stack written by :meth:`save` to ``path``, over ``trees``."""
        with np.load(Path(path), allow_pickle=False) as z:
            if len(z["weights"]) not in BLEND_COLUMNS:
                raise InputError(f"{path} holds a blend of {len(z['weights'])} weights, this storyclust reads 2 "
                                 "or 5: refit it with fit_similarity_stack", field="path")
            head = PairHead(float(z["alpha"]))
            head.coef_, head.intercept_ = z["coef"], float(z["head_intercept"])
            second = str(z["second_model"]) if "second_model" in z.files else E5_MODEL
            return cls(trees, head, tuple(float(w) for w in z["weights"]), float(z["intercept"]), second)

    def __repr__(self) -> str:
        return (f"SimilarityStack(trees={self.trees!r}, head=PairHead(alpha={self.head.alpha}), "
                f"weights=({', '.join(f'{w:.3f}' for w in self.weights)}), intercept={self.intercept:.3f}, "
                f"second_model={self.second_model!r})")


BLEND_COLUMNS = (2, 5)  # one blend for all pairs; apart across languages


def _blend_design(trees: np.ndarray, head, features: Mapping[str, np.ndarray], columns: int) -> np.ndarray:
    t, h = _logit(trees), np.asarray(head, dtype=np.float64)
    if columns == 2:
        return np.column_stack([t, h])
    c = np.asarray(features.get("cross_lingual", np.zeros(len(t))), dtype=np.float64)
    return np.column_stack([t, h, c, c * t, c * h])


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=np.float64), 1e-4, 1 - 1e-4)
    return np.log(p / (1 - p))


def fit_similarity_stack(features: Mapping[str, np.ndarray], same: np.ndarray, similarity: np.ndarray,
                         left: np.ndarray, right: np.ndarray, groups: np.ndarray,
                         fit_trees: Callable[[Mapping, np.ndarray], SimilarityTrees], alpha: float = 3.0,
                         n_splits: int = 5, across_languages: bool = True,
                         second_model: str = E5_MODEL) -> SimilarityStack:
    """Fit a :class:`SimilarityStack` on graded pairs: ``same`` (one story or not) and ``similarity`` (the
    people's grade) per pair, ``left``/``right`` the pairs' second-model vectors, ``groups`` the folds' groups
    (:func:`~storyclust.evaluation.linked_groups`). ``fit_trees(features, same)`` fits the trees (it may pool
    other pairs in). With ``across_languages`` (and ``features["cross_lingual"]``) the blend weighs pairs
    across languages apart; without, one blend serves all pairs. The blend is fitted on the trees' and the
    head's out-of-fold scores over ``n_splits`` folds, then the trees and the head are refitted on all pairs.
    ``second_model``: the embedding model ``left`` and ``right`` (and the ``second`` signal) come from.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold

    same, similarity = np.asarray(same), np.asarray(similarity, dtype=np.float64)
    trees_oof, head_oof = np.zeros(len(same)), np.zeros(len(same))
    for train, test in GroupKFold(n_splits).split(same, same, groups):
        sub = {k: np.asarray(v)[train] for k, v in features.items()}
        trees_oof[test] = fit_trees(sub, same[train]).probability({k: np.asarray(v)[test]
                                                                   for k, v in features.items()})
        head_oof[test] = PairHead(alpha).fit(left[train], right[train], similarity[train]).predict(left[test],
                                                                                                 right[test])
    design = _blend_design(trees_oof, head_oof, features, 5 if across_languages else 2)
    blend = LogisticRegression().fit(design, same)
    return SimilarityStack(fit_trees(features, same), PairHead(alpha).fit(left, right, similarity),
                           tuple(float(w) for w in blend.coef_[0]), float(blend.intercept_[0]), second_model)

