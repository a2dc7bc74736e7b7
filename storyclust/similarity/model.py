"""Stage 3 of pair scoring: monotone boosted trees from pair signals to the probability of one story.

The shipped trees were fitted on two kinds of labelled pairs: the 1,283
SemEval-2022 Task 8 training pairs (multilingual news scored 1-4 by
annotators; one story when the annotators' mean "overall" is at most 2),
and every pair within an ECB+ tuning topic (topics 1-35: one story when both
report the same event, the other event of a topic being of the same kind),
weighing half as much as the SemEval pairs in total: SemEval teaches
languages and graded similarity, ECB+ that two earthquakes are two stories.
``python benchmarks/multilingual.py --save`` refits and writes them; the same
command reports the cross-validated figures.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import InputError
from ..storylines.trees import SameStoryTrees
from .signals import FEATURES, MONOTONE

__all__ = ["SimilarityTrees", "USE_FEATURES", "E5_FEATURES", "default_model", "fit_similarity_model", "pool_pairs"]

USE_FEATURES = ("dense", "headline", "aligned", "best_paragraph", "names", "shared_names", "numbers",
                "cross_lingual", "shorter")
E5_FEATURES = USE_FEATURES + ("second",)
_PARAMS = dict(max_depth=3, learning_rate=0.05, max_iter=200)
_FILES = {False: "similarity_use.npz", True: "similarity_use_e5.npz"}
STACK_FILE = "similarity_e5_head.npz"  # the head and blend stacked on the e5 trees


class SimilarityTrees(SameStoryTrees):
    """:class:`~storyclust.storylines.trees.SameStoryTrees` over the pair signals of :mod:`storyclust.similarity.signals`."""

    monotone = MONOTONE

    def _check_features(self) -> None:
        unknown = [f for f in self.features if f not in FEATURES]
        if unknown:
            raise InputError(f"unknown pair signals {unknown}; choose from {FEATURES}", field="features")
        if self.support is not None:
            raise InputError("a similarity model has one stage", field="support")

    @property
    def uses_second(self) -> bool:
        """Whether the model reads the second model's (multilingual-e5-small) cosine."""
        return "second" in self.features


def fit_similarity_model(features: dict, same: np.ndarray, names: Sequence[str] = USE_FEATURES,
                         sample_weight: np.ndarray | None = None, random_state=0) -> SimilarityTrees:
    """Fit a :class:`SimilarityTrees` to pair signals (:func:`pair_signals`) labelled 1 (one story) or 0."""
    return SimilarityTrees.fit(features, same, tuple(names), sample_weight=sample_weight, random_state=random_state,
                               **_PARAMS)


def pool_pairs(sets: Sequence[tuple[dict, np.ndarray]], shares: Sequence[float]) -> tuple[dict, np.ndarray, np.ndarray]:
    """Pairs ``(features, same)`` from several sources as one training set, source ``k`` weighing ``shares[k]`` in total.

    Returns ``(features, same, sample_weight)`` for :func:`fit_similarity_model`; the weights average 1.

    >>> f, y, w = pool_pairs([({"dense": np.zeros(2)}, np.array([0, 1])),
    ...                       ({"dense": np.ones(4)}, np.array([1, 1, 0, 0]))], shares=[1.0, 0.5])
    >>> w.tolist()
    [2.0, 2.0, 0.5, 0.5, 0.5, 0.5]
    """
    if len(sets) != len(shares) or not sets:
        raise InputError("give one share per set of pairs", field="shares")
    names = set.intersection(*(set(f) for f, _ in sets))
    features = {k: np.concatenate([np.asarray(f[k]) for f, _ in sets]) for k in sorted(names)}
    same = np.concatenate([np.asarray(y) for _, y in sets])
    weight = np.concatenate([np.full(len(y), share / max(len(y), 1)) for (_, y), share in zip(sets, shares)])
    return features, same, weight * len(same) / weight.sum()


@functools.cache
def default_model(second: bool = False):
    """The shipped model: trees over USE signals, or (``second=True``) a
    :class:`~storyclust.similarity.stack.SimilarityStack`: trees that also read the cosine of
    multilingual-e5-small with the shipped story adapter (``E5_STORY_MODEL``), stacked with a head on its
    vectors."""
    trees = SimilarityTrees.load(Path(__file__).with_name(_FILES[bool(second)]))
    if not second:
        return trees
    from .stack import SimilarityStack

    return SimilarityStack.load(Path(__file__).with_name(STACK_FILE), trees)
