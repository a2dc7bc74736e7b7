"""Scores for pair models: labelled article pairs read, folds that keep linked pairs together, correlations per
group, translation retrieval."""

from __future__ import annotations

from typing import Callable, Mapping, Sequence

import numpy as np

__all__ = ["cross_validated", "linked_groups", "pearson_by", "read_scored_pairs", "translation_accuracy"]


def read_scored_pairs(path) -> tuple[list, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Article pairs scored by people, in SemEval-2022 Task 8's JSONL (``pair_id`` "left_right", ``text1``,
    ``text2``, ``lang1``, ``lang2``, ``overall``): the articles (each once), each pair's left and right article
    index, its language key ("de", "de-en") and its score."""
    import json

    from ..documents import Article

    with open(path, encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh]
    articles: dict = {}
    for r in rows:
        for pid, text, lang in zip(r["pair_id"].split("_"), (r["text1"], r["text2"]), (r["lang1"], r["lang2"])):
            articles.setdefault(pid, Article(pid, text, lang=lang))
    index = {pid: k for k, pid in enumerate(articles)}
    left = np.array([index[r["pair_id"].split("_")[0]] for r in rows])
    right = np.array([index[r["pair_id"].split("_")[1]] for r in rows])
    keys = np.array([r["lang1"] if r["lang1"] == r["lang2"] else f"{r['lang1']}-{r['lang2']}" for r in rows])
    return list(articles.values()), left, right, keys, np.array([r["overall"] for r in rows])


def linked_groups(left_ids: Sequence, right_ids: Sequence) -> np.ndarray:
    """A group number per pair: pairs that share an article, directly or through others, share a group.

    Folds over these groups keep an article's pairs on one side, so no article is seen in fitting and scoring.

    >>> linked_groups(["a", "b", "d"], ["b", "c", "e"]).tolist()
    [0, 0, 1]
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    ids = {k: i for i, k in enumerate(dict.fromkeys([*left_ids, *right_ids]))}
    rows = np.array([ids[k] for k in left_ids], dtype=np.int64)
    cols = np.array([ids[k] for k in right_ids], dtype=np.int64)
    graph = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(ids), len(ids)))
    _, label = connected_components(graph, directed=False)
    return label[rows]


def cross_validated(features: Mapping[str, np.ndarray], same: np.ndarray, groups: np.ndarray,
                    fit: Callable, n_splits: int = 5) -> np.ndarray:
    """Out-of-fold probabilities: ``fit(features, same)`` on all folds but one, its ``probability`` on that one."""
    from sklearn.model_selection import GroupKFold

    same = np.asarray(same)
    out = np.zeros(len(same))
    for train, test in GroupKFold(n_splits).split(same, same, groups):
        model = fit({k: v[train] for k, v in features.items()}, same[train])
        out[test] = model.probability({k: v[test] for k, v in features.items()})
    return out


def pearson_by(score: np.ndarray, target: np.ndarray, keys: Sequence[str], min_pairs: int = 2) -> dict[str, float]:
    """Pearson correlation of ``score`` with ``target`` over all pairs (key ``"all"``) and per key.

    >>> r = pearson_by(np.array([1., 2, 3, 4]), np.array([2., 4, 5, 9]), ["x", "x", "y", "y"])
    >>> round(r["all"], 3), round(r["x"], 3)
    (0.965, 1.0)
    """
    score, target, keys = np.asarray(score, float), np.asarray(target, float), np.asarray(keys)
    out = {"all": float(np.corrcoef(score, target)[0, 1])}
    for k in dict.fromkeys(keys.tolist()):
        m = keys == k
        if m.sum() >= min_pairs:
            out[k] = float(np.corrcoef(score[m], target[m])[0, 1])
    return out


def translation_accuracy(queries: np.ndarray, candidates: np.ndarray) -> float:
    """Share of queries whose nearest candidate (by dot product) is their own: query ``i`` translates candidate ``i``.

    ``candidates`` may hold more rows than ``queries``: the rest are distractors.
    """
    return float((np.argmax(queries @ candidates.T, axis=1) == np.arange(len(queries))).mean())
