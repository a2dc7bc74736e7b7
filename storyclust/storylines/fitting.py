"""Fitting a same-story model on labelled candidate pairs, as the shipped one was fitted.

:func:`crawl_pair_sets` gives the pairs of a labelled corpus *and* of inputs
shaped like real crawls made from it (dates or titles removed, one article
per story), so that the model is right where same-story pairs are rare;
:func:`recipe_pair_sets` gives them for several corpora as the shipped model's
recipe does; :func:`fit_same_story_model` fits a model on any such sets.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..errors import InputError
from ..evaluation.variants import crawl_mixture, crowded, one_per_story, split_by_story, without_dates, without_titles
from .model import PairClassifier, SameStoryModel
from .signals import FEATURES, support_signal
from .trees import SameStoryTrees

__all__ = ["CRAWL_VARIANTS", "crawl_pair_sets", "fit_same_story_model", "recipe_pair_sets"]

# The inputs crawl_pair_sets makes from a corpus. A day's crawl mixes dated and undated, titled and untitled
# pages, most of its articles are the only report of their event ("one_per_story"), and it holds many events of
# one kind in the same days ("crowded": the stories moved closer in time; "crowded_day": all begun within two days).
CRAWL_VARIANTS = ("given", "undated", "half_undated", "untitled", "untitled_undated", "one_per_story",
                  "one_per_story_undated", "crowded", "crowded_half_undated", "one_per_story_crowded",
                  "crowded_day", "one_per_story_crowded_day")
_DAY_SPAN = 2.0  # the "crowded_day" variants: every story's first report within this many days


def fit_same_story_model(pair_sets: Sequence[tuple], names: Sequence[str] = FEATURES, kind: str = "trees",
                         C: float = 10.0, estimator=None, interactions: bool | Sequence[str] = True
                         ) -> "SameStoryTrees | SameStoryModel | PairClassifier":
    """Fit a same-story model on labelled candidate pairs of one or more article sets.

    ``pair_sets`` holds ``(n_articles, rows, cols, features, same, weight)``
    per set: its candidate pairs and their signals (:func:`story_pairs`, with
    every name but ``support``), whether each pair is one storyline, and a
    weight per pair (relative: rescaled to average 1 over all pairs). With
    ``support`` in ``names`` the fit has two stages: a model without it, then
    the model with ``support`` computed from the first.

    ``kind``: ``"trees"`` (as shipped) fits a :class:`SameStoryTrees`, boosted
    trees monotone in the signals of :data:`MONOTONE`; ``"logistic"`` a
    :class:`SameStoryModel` (inverse regularisation ``C``; ``interactions`` as
    in :meth:`SameStoryModel.fit`, by default a weight for the product of
    every two signals but those in :data:`ADDITIVE`). With ``estimator`` (an
    unfitted scikit-learn classifier taking ``sample_weight``) it is a
    :class:`PairClassifier` around a fitted clone of it, whatever ``kind``.

    >>> rows, cols = np.array([0, 0, 1, 2, 3]), np.array([1, 2, 2, 3, 4])
    >>> f = {"dense": np.array([0.9, 0.8, 0.85, 0.2, 0.3])}
    >>> m = fit_same_story_model([(5, rows, cols, f, np.array([1, 1, 1, 0, 0]), np.ones(5))], ("dense", "support"))
    >>> m.features, m.support.features
    (('dense', 'support'), ('dense',))
    """
    names = tuple(names)
    if not pair_sets:
        raise InputError("no pair sets to fit on", field="pair_sets")
    if kind not in ("trees", "logistic"):
        raise InputError(f"kind must be 'trees' or 'logistic', got {kind!r}", field="kind")
    first = None
    if "support" in names:
        first_inter = (interactions if isinstance(interactions, bool)
                       else [f for f in interactions if f != "support"])  # the first stage has no support signal
        first = fit_same_story_model(pair_sets, tuple(f for f in names if f != "support"), kind, C, estimator,
                                     first_inter)
    feats, same, weights = {f: [] for f in names}, [], []
    for n, rows, cols, f, s, w in pair_sets:
        for name in names:
            feats[name].append(support_signal(n, rows, cols, first.probability(f)) if name == "support" else f[name])
        same.append(np.asarray(s))
        weights.append(np.asarray(w, dtype=np.float64))
    feats = {k: np.concatenate(v) for k, v in feats.items()}
    same, weights = np.concatenate(same), np.concatenate(weights)
    weights = weights * (len(weights) / weights.sum())  # relative weights: C means the same whatever their scale
    if estimator is not None:
        return PairClassifier.fit(estimator, feats, same, names, weights, support=first)
    if kind == "trees":
        return SameStoryTrees.fit(feats, same, names, weights, support=first)
    return SameStoryModel.fit(feats, same, names, weights, C, support=first, interactions=interactions)


def crawl_pair_sets(clusterer, articles, labels, variants: Sequence[str] = CRAWL_VARIANTS, random_state=0,
                    small_inputs: int = 150, small_weight: float = 0.05, one_per_story_weight: float = 2.0,
                    title_in_text: bool = False, crowd_factor: float = 8.0) -> list[tuple]:
    """Weighted candidate pairs of a labelled corpus and of crawl-like inputs made from it.

    For each of ``variants`` (from :data:`CRAWL_VARIANTS`) the corpus is
    changed accordingly (:mod:`storyclust.evaluation.variants`) and its
    candidate pairs are scored as ``clusterer`` (a
    :class:`~storyclust.storylines.clusterer.StoryClusterer`) would score
    them. Each variant weighs 1 in total, ``one_per_story_weight`` for the
    one-per-story ones (where every pair is two stories: the base rate of a
    real crawl). ``"given"`` and ``"undated"`` also add ``small_inputs``
    small inputs (:meth:`StoryClusterer.small_input_pairs`) weighing
    ``small_weight`` in total. ``title_in_text``: the corpus's titles are
    its articles' first sentences (ECB+), so an untitled copy keeps them as
    the body's first paragraph (:func:`without_titles` ``into_text``).
    ``crowd_factor``: how much closer in time the ``crowded`` variants move the
    stories (:func:`~storyclust.evaluation.crowded`; the ``crowded_day`` ones move
    them until all begin within two days).
    Variants that would not change the corpus (it has no dates, no titles)
    are skipped. Returns
    ``(n, rows, cols, features, same, weights)`` tuples for
    :func:`fit_same_story_model`; rows index the variant's own articles.
    """
    unknown = [v for v in variants if v not in CRAWL_VARIANTS]
    if unknown:
        raise InputError(f"unknown variants {unknown}; choose from {CRAWL_VARIANTS}", field="variants")
    labels = np.asarray(labels)
    if len(labels) != len(articles):
        raise InputError(f"{len(labels)} labels for {len(articles)} articles", field="labels")
    dated = any(a.date is not None for a in articles)
    titled = any(a.title for a in articles)
    out = []
    for variant in variants:
        if (("undated" in variant or "crowded" in variant) and not dated) or ("untitled" in variant and not titled):
            continue
        arts, y = list(articles), labels
        # a seed per kind of variant, so that a variant is drawn alike whichever others are asked for
        seed = None if random_state is None else random_state + CRAWL_VARIANTS.index(variant)
        if "crowded" in variant:
            arts = crowded(arts, y, crowd_factor, days=_DAY_SPAN if variant.endswith("_day") else None)
        if variant.startswith("one_per_story"):
            arts, y = one_per_story(arts, y, random_state=seed)
        if "untitled" in variant:
            arts = without_titles(arts, into_text=title_in_text)
        if variant.endswith("undated"):
            arts = without_dates(arts, share=0.5 if variant.endswith("half_undated") else 1.0, random_state=seed)
        rows, cols, f, same = clusterer.training_pairs(arts, y)
        if not len(rows):
            continue
        weight = one_per_story_weight if variant.startswith("one_per_story") else 1.0
        out.append((len(arts), rows, cols, f, same, np.full(len(rows), weight / len(rows))))
        if variant in ("given", "undated") and small_inputs:
            drawn = clusterer.small_input_pairs(arts, y, small_inputs, random_state=seed)
            n_pairs = sum(len(r) for _, r, *_ in drawn)
            out += [(n, r, c, g, s, np.full(len(r), small_weight / n_pairs)) for n, r, c, g, s in drawn]
    return out


def recipe_pair_sets(clusterer, corpora: Sequence[tuple], singles: Sequence = (), translations: tuple | None = None,
                     pieces: int = 1, random_state=0) -> list[tuple[str, tuple]]:
    """The pair sets the shipped model is fitted on, each tagged with the variant it comes from.

    ``corpora`` holds ``(articles, labels, title_in_text)`` per labelled
    corpus: each is cut into ``pieces`` inputs by story
    (:func:`~storyclust.evaluation.split_by_story`, to fit on smaller inputs)
    and gives every one of :data:`CRAWL_VARIANTS` (:func:`crawl_pair_sets`).
    Then the whole corpora mixed undated with ``singles`` (articles each
    its own story, as most of a crawl is; tagged ``"given"``), the singles alone
    (``"one_per_story"``), and ``translations``, ``(articles, labels)`` of
    sentences and their translations, whose pairs across languages alone count
    (``"cross_lingual"``, weighing 1 in total). Fit with
    ``fit_same_story_model([s for _, s in recipe_pair_sets(...)])``.
    """
    if pieces < 1:
        raise InputError(f"pieces must be at least 1, got {pieces}", field="pieces")
    if not corpora:
        raise InputError("no labelled corpus to fit on", field="corpora")
    inputs = [(a, y, CRAWL_VARIANTS, title) for arts, labels, title in corpora
              for a, y in split_by_story(arts, labels, pieces, random_state=random_state)]
    inputs.append((*crawl_mixture([(arts, labels) for arts, labels, _ in corpora] + [(singles, None)]),
                   ("given",), False))
    if len(singles):
        inputs.append((singles, np.arange(len(singles)), ("one_per_story",), False))
    out = []
    for arts, labels, variants, title in inputs:
        for v in variants:
            out += [(v, ps) for ps in crawl_pair_sets(clusterer, arts, labels, (v,), title_in_text=title,
                                                      random_state=random_state)]
    if translations is not None:
        rows, cols, f, same = clusterer.training_pairs(*translations)
        out.append(("cross_lingual", (len(translations[0]), rows, cols, f, same,
                                      f["cross_lingual"] / max(f["cross_lingual"].sum(), 1.0))))
    return out
