"""Quality against gold labels: BCubed, ARI and NMI of storylines; linked and mixed groups; calibration of
pair probabilities; related-story retrieval."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score
from sklearn.metrics.cluster import contingency_matrix

from ..errors import InputError

__all__ = ["alone_linked", "bcubed", "clustering_scores", "lookup_scores", "mixed_groups", "noise_as_singletons",
           "reliability_table", "retrieval_scores", "share_linked"]


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
    return float(np.mean(_group_sizes(noise_as_singletons(pred)) >= 2))


def _group_sizes(labels) -> np.ndarray:
    """The size of each item's group."""
    group = np.unique(np.asarray(labels), return_inverse=True)[1]
    return np.bincount(group)[group]


def alone_linked(gold, pred) -> float:
    """Share of the lone reports (the only item of their ``gold`` story) that ``pred`` puts in a group of two or
    more: what :func:`share_linked` measures, on an input where some items do belong together. 0 when none is alone.

    >>> alone_linked(["x", "x", "y", "z"], [0, 0, 1, 1])
    1.0
    >>> alone_linked(["x", "x", "y", "z"], [0, 0, -1, 1])
    0.0
    """
    if len(gold) != len(pred):
        raise InputError(f"{len(gold)} gold labels for {len(pred)} predicted", field="pred")
    alone = _group_sizes(gold) == 1
    if not alone.any():
        return 0.0
    return float(np.mean(_group_sizes(noise_as_singletons(pred))[alone] >= 2))


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


def retrieval_scores(results, labels, k: int = 5) -> dict:
    """How well ranked results find the other articles of each query's story.

    ``results`` maps each query id to its ranked result ids (the query
    itself left out); ``labels`` maps every article id to its story. Over the
    queries whose story has another article: ``recall@k`` is
    ``|top k ∩ same story| / min(k, |same story|)``, ``acc@1`` the share whose
    first result is of the story, ``mrr`` the mean of 1 / rank of the first
    such result (0 when none is returned).

    >>> retrieval_scores({"a": ["b", "c"], "c": ["a", "b"]}, {"a": 1, "b": 1, "c": 2}, k=2)
    {'queries': 1, 'recall@2': 1.0, 'acc@1': 1.0, 'mrr': 1.0}
    """
    size = {}
    for story in labels.values():
        size[story] = size.get(story, 0) + 1
    recall, first, rr = [], [], []
    for q, ranked in results.items():
        others = size[labels[q]] - 1
        if others < 1:
            continue
        same = [labels[r] == labels[q] for r in ranked]
        recall.append(sum(same[:k]) / min(k, others))
        first.append(bool(same[:1] and same[0]))
        rr.append(1.0 / (same.index(True) + 1) if True in same else 0.0)
    n = len(recall)
    return {"queries": n, f"recall@{k}": float(np.mean(recall)) if n else float("nan"),
            "acc@1": float(np.mean(first)) if n else float("nan"), "mrr": float(np.mean(rr)) if n else float("nan")}


def lookup_scores(results, targets, equivalent=None) -> dict:
    """How well queries made from an article (its headline, a name) find that article.

    ``results`` maps each query key to its ranked result ids, ``targets`` each
    key to the article it was made from. ``equivalent`` optionally maps a key
    to other ids that answer it as well (copies with the identical headline).
    Gives ``acc@1`` and ``mrr`` (0 when the target is not returned).

    >>> lookup_scores({"q1": ["a", "b"], "q2": ["a", "b"]}, {"q1": "a", "q2": "b"})
    {'queries': 2, 'acc@1': 0.5, 'mrr': 0.75}
    """
    equivalent = equivalent or {}
    first, rr = [], []
    for key, ranked in results.items():
        good = {targets[key], *equivalent.get(key, ())}
        pos = next((i for i, r in enumerate(ranked) if r in good), None)
        first.append(pos == 0)
        rr.append(0.0 if pos is None else 1.0 / (pos + 1))
    return {"queries": len(first), "acc@1": float(np.mean(first)) if first else float("nan"),
            "mrr": float(np.mean(rr)) if rr else float("nan")}
