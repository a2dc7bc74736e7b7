"""Clustering quality against gold labels: BCubed, ARI and NMI."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score
from sklearn.metrics.cluster import contingency_matrix

__all__ = ["bcubed", "noise_as_singletons", "clustering_scores"]


def noise_as_singletons(labels) -> np.ndarray:
    """Labels with every -1 replaced by a label of its own."""
    labels = np.asarray(labels).copy()
    noise = labels == -1
    start = labels.max(initial=-1) + 1
    labels[noise] = np.arange(start, start + noise.sum())
    return labels


def bcubed(gold, pred) -> tuple[float, float, float]:
    """BCubed precision, recall and F1 (Bagga & Baldwin 1998); -1 in ``pred`` counts as singletons.

    >>> bcubed([0, 0, 1, 1], [0, 0, 1, 1])
    (1.0, 1.0, 1.0)
    >>> tuple(round(x, 3) for x in bcubed([0, 0, 1, 1], [0, 0, 0, 0]))
    (0.5, 1.0, 0.667)
    """
    gold = np.asarray(gold)
    pred = noise_as_singletons(pred)
    c = contingency_matrix(gold, pred, sparse=True).tocoo()
    # for an item in gold g and pred p: precision = n_gp / |p|, recall = n_gp / |g|
    gsize = np.bincount(np.unique(gold, return_inverse=True)[1])
    psize = np.bincount(np.unique(pred, return_inverse=True)[1])
    n = len(gold)
    p = float((c.data ** 2 / psize[c.col]).sum() / n)
    r = float((c.data ** 2 / gsize[c.row]).sum() / n)
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def clustering_scores(gold, pred) -> dict:
    """BCubed P/R/F1, ARI and NMI (noise as singletons) and the number of predicted clusters."""
    p, r, f = bcubed(gold, pred)
    single = noise_as_singletons(pred)
    return {
        "bcubed_p": p, "bcubed_r": r, "bcubed_f1": f,
        "ari": float(adjusted_rand_score(gold, single)),
        "nmi": float(normalized_mutual_info_score(gold, single)),
        "n_clusters": int(len(set(np.asarray(pred).tolist()) - {-1})),
    }
