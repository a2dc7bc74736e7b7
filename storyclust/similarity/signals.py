"""Stage 2 of pair scoring: the signals of one pair of articles, from their evidence alone.

Unlike the storyline signals (:mod:`storyclust.storylines.signals`), none of
these depends on the other articles of the input, so a pair scores the same
whatever else is compared beside it.

``dense``
    cosine of the article vectors.
``headline``
    cosine of the headline vectors (the first paragraph when there is none).
``aligned``
    how well the paragraphs of each find a match in the other: the mean over
    both articles' paragraphs of the best cosine to a paragraph of the other.
``best_paragraph``
    the highest paragraph-to-paragraph cosine: a shared quote or passage.
``second``
    cosine of the second model's vectors (multilingual-e5-small), when it is used.
``names``, ``shared_names``
    Jaccard overlap of the entity terms (names, places, numbers) and
    ``log(1 + number shared)``.
``numbers``
    Jaccard overlap of the numbers in the texts.
``cross_lingual``
    1 when the two are in different languages (as given, else guessed).
``shorter``
    ``log`` of the shorter text's length in characters: short texts carry
    less evidence either way.
"""

from __future__ import annotations

import numpy as np

from .evidence import Evidence

__all__ = ["FEATURES", "MONOTONE", "pair_signals"]

FEATURES = ("dense", "headline", "aligned", "best_paragraph", "second", "names", "shared_names", "numbers",
            "cross_lingual", "shorter")
# +1: more of the signal never lowers the score (SimilarityTrees holds its trees to this).
MONOTONE = {"dense": 1, "headline": 1, "aligned": 1, "best_paragraph": 1, "second": 1, "names": 1,
            "shared_names": 1, "numbers": 1}


def _cosine(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.clip(np.einsum("ij,ij->i", x, y, dtype=np.float64), -1.0, 1.0)


def _jaccard(a: list, b: list) -> np.ndarray:
    return np.array([len(x & y) / len(x | y) if x | y else 0.0 for x, y in zip(a, b)])


def pair_signals(left: Evidence, right: Evidence) -> dict[str, np.ndarray]:
    """The signals of pairs ``(left[i], right[i])``; ``second`` only when both sides have second vectors."""
    le, re_ = left.embeddings, right.embeddings
    out = {"dense": _cosine(le.vectors, re_.vectors), "headline": _cosine(le.headline_vectors, re_.headline_vectors)}
    aligned, best = np.zeros(len(left)), np.zeros(len(left))
    for i in range(len(left)):
        a, b = le.chunks(i)[1], re_.chunks(i)[1]
        if len(a) and len(b):
            sim = a @ b.T
            aligned[i] = (sim.max(axis=1).mean() + sim.max(axis=0).mean()) / 2.0
            best[i] = sim.max()
    out["aligned"], out["best_paragraph"] = aligned, best
    if left.second is not None and right.second is not None:
        out["second"] = _cosine(left.second, right.second)
    out["names"] = _jaccard(left.terms, right.terms)
    out["shared_names"] = np.log1p([len(x & y) for x, y in zip(left.terms, right.terms)])
    out["numbers"] = _jaccard(left.numbers, right.numbers)
    out["cross_lingual"] = np.array([float(bool(x and y and x != y))
                                     for x, y in zip(left.languages, right.languages)])
    out["shorter"] = np.log1p(np.minimum(left.lengths, right.lengths))
    return out
