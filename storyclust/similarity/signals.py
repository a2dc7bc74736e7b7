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


def _jaccard(sets: list, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    return np.array([len(sets[i] & sets[j]) / len(sets[i] | sets[j]) if sets[i] | sets[j] else 0.0
                     for i, j in zip(rows, cols)])


def pair_signals(evidence: Evidence, rows, cols) -> dict[str, np.ndarray]:
    """The signals of pairs ``(rows[t], cols[t])`` of the articles in ``evidence``; ``second`` when it has those vectors.

    Each article's evidence is computed once however many pairs it is in.
    """
    rows, cols = np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)
    e = evidence.embeddings
    out = {"dense": _cosine(e.vectors[rows], e.vectors[cols]),
           "headline": _cosine(e.headline_vectors[rows], e.headline_vectors[cols])}
    aligned, best = np.zeros(len(rows)), np.zeros(len(rows))
    for t, (i, j) in enumerate(zip(rows, cols)):
        a, b = e.chunks(i)[1], e.chunks(j)[1]
        if len(a) and len(b):
            sim = a @ b.T
            aligned[t] = (sim.max(axis=1).mean() + sim.max(axis=0).mean()) / 2.0
            best[t] = sim.max()
    out["aligned"], out["best_paragraph"] = aligned, best
    if evidence.second is not None:
        out["second"] = _cosine(evidence.second[rows], evidence.second[cols])
    terms = evidence.terms
    out["names"] = _jaccard(terms, rows, cols)
    out["shared_names"] = np.log1p([len(terms[i] & terms[j]) for i, j in zip(rows, cols)])
    out["numbers"] = _jaccard(evidence.numbers, rows, cols)
    lang = evidence.languages
    out["cross_lingual"] = np.array([float(bool(lang[i] and lang[j] and lang[i] != lang[j]))
                                     for i, j in zip(rows, cols)])
    out["shorter"] = np.log1p(np.minimum(evidence.lengths[rows], evidence.lengths[cols]))
    return out
