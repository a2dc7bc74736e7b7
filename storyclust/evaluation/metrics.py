"""Quality against gold labels: BCubed, ARI and NMI of storylines; linked and mixed groups; calibration of
pair probabilities."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score
from sklearn.metrics.cluster import contingency_matrix

__all__ = ["bcubed", "clustering_scores", "mixed_groups", "noise_as_singletons", "reliability_table",
           "share_linked"]


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


def share_linked(pred) -> float:
    """Share of items in a predicted group of two or more (-1 is alone): 0 is right when nothing should be linked.

    >>> share_linked([-1, 0, 0, 1, 2])
    0.4
    """
    if not len(pred):
        return 0.0
    group = np.unique(noise_as_singletons(pred), return_inverse=True)[1]
    return float(np.mean(np.bincount(group)[group] >= 2))


def mixed_groups(classes, pred) -> tuple[int, int]:
    """``(groups of two or more items, of which those holding more than one of ``classes``)``.

    >>> mixed_groups(["a", "a", "b", "b", "c"], [0, 0, 1, 1, 1])
    (2, 1)
    """
    classes, pred = np.asarray(classes), np.asarray(pred)
    groups = [classes[pred == g] for g in np.unique(pred[pred != -1])]
    groups = [c for c in groups if len(c) >= 2]
    return len(groups), sum(len(set(c.tolist())) > 1 for c in groups)


def reliability_table(probability, same, bins=(0.0, 0.1, 0.3, 0.5, 0.7, 0.9, 1.0)) -> list[dict]:
    """Predicted against observed same-story rate per probability bin: a calibrated model has them close.

    >>> [r["pairs"] for r in reliability_table([0.05, 0.95, 0.92], [0, 1, 1], bins=(0, 0.5, 1))]
    [1, 2]
    """
    p, same = np.asarray(probability, dtype=float), np.asarray(same, dtype=float)
    which = np.clip(np.searchsorted(bins, p, side="right") - 1, 0, len(bins) - 2)
    rows = []
    for b in range(len(bins) - 1):
        m = which == b
        if m.any():
            rows.append({"predicted": f"{bins[b]:.1f}–{bins[b + 1]:.1f}", "pairs": int(m.sum()),
                         "mean predicted": float(p[m].mean()), "observed same-story rate": float(same[m].mean())})
    return rows
