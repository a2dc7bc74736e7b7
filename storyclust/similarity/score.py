"""The library entry: :func:`story_similarity` scores pairs of articles."""

from __future__ import annotations

import functools
import warnings
from typing import Any, Sequence

import numpy as np

from ..documents import Article
from ..documents.loading import as_articles
from ..embeddings import DEFAULT_MODEL, E5_MODEL, Embedder
from ..errors import InputError
from .evidence import article_evidence
from .model import SimilarityTrees, default_model
from .signals import pair_signals
from .stack import SimilarityStack

__all__ = ["story_similarity"]

def _side(values: Any, name: str) -> list:
    if isinstance(values, (str, dict, Article)):
        raise InputError(f"{name} must be a sequence of articles, texts or dicts; wrap a single one in a list",
                         field=name)
    values = list(values)
    articles = as_articles(values) if values else []
    if articles is None:
        raise InputError(f"{name} must hold Articles, texts or dicts", field=name)
    return articles


def story_similarity(left: Sequence, right: Sequence, *, embedder: Embedder | None = None, e5: bool = False,
                     model: SimilarityTrees | SimilarityStack | None = None) -> np.ndarray:
    """How likely ``left[i]`` and ``right[i]`` report the same story, per pair, in [0, 1].

    The score is a calibrated probability: of the pairs scored about p, about
    a share p are one story (``benchmarks/results/multilingual.md``). It reads the evidence the storylines read, pair by pair:
    article, headline and paragraph vectors (across languages), entity names
    and numbers, language, length. Each pair is scored on its own, so a score
    does not depend on the other pairs passed with it.

    Parameters
    ----------
    left, right : sequences of Article, str or dict, equal length
    embedder : Embedder, optional
        The multilingual default (USE) when not given; the shipped models were
        fitted on its vectors (another model's scores are not calibrated: a warning says so).
    e5 : bool, default False
        Also read multilingual-e5-small's vectors (``pip install 'storyclust[e5]'``), adapted to the task
        (:data:`~storyclust.embeddings.E5_STORY_MODEL`: an :class:`~storyclust.embeddings.E5Adapter`
        fitted on SemEval-2022 Task 8's graded pairs, reading each article's first 256 tokens): their
        cosine, and a head learned on them (:class:`~storyclust.similarity.SimilarityStack`); closer to
        human judgements on German and cross-language pairs, several times slower.
    model : SimilarityTrees or SimilarityStack, optional
        A model of your own (:func:`~storyclust.similarity.fit_similarity_model`,
        :func:`~storyclust.similarity.fit_similarity_stack`).

    Examples
    --------
    >>> from storyclust import Embedder, story_similarity
    >>> emb = Embedder(cache=False)
    >>> de = "Erdbeben in Japan: Ein Beben der Stärke 6,1 erschütterte am Sonntag die Küste vor Fukushima."
    >>> en = "Earthquake in Japan: a 6.1 magnitude quake shook the coast off Fukushima on Sunday."
    >>> other = "The central bank raised interest rates for the third time this year."
    >>> p = story_similarity([de, de], [en, other], embedder=emb)
    >>> bool(p[0] > 0.5 > p[1])
    True
    """
    left, right = _side(left, "left"), _side(right, "right")
    if len(left) != len(right):
        raise InputError(f"left has {len(left)} articles and right {len(right)}; pass pairs of equal-length "
                         "sequences", field="right")
    model = model if model is not None else default_model(second=e5)
    if not len(left):
        return np.zeros(0)
    embedder = embedder if embedder is not None else Embedder()
    if model is default_model(second=e5) and embedder.model_name != DEFAULT_MODEL:
        warnings.warn(f"the shipped similarity models read {DEFAULT_MODEL} cosines, not {embedder.model_name}'s: "
                      "scores are not calibrated; fit your own with fit_similarity_model", stacklevel=2)
    second = (_second_embedder(getattr(model, "second_model", E5_MODEL), embedder.cache, embedder.cache_dir)
              if model.uses_second else None)
    articles = list({id(a): a for a in (*left, *right)}.values())  # an Article in many pairs is read once
    index = {id(a): k for k, a in enumerate(articles)}
    rows, cols = [index[id(a)] for a in left], [index[id(a)] for a in right]
    evidence = article_evidence(articles, embedder, second)
    signals = pair_signals(evidence, rows, cols)
    if isinstance(model, SimilarityStack):
        signals["head"] = model.head.predict(evidence.second[rows], evidence.second[cols])
    return model.probability(signals)


@functools.cache
def _second_embedder(model: str, cache: bool, cache_dir) -> Embedder:
    """The second model (multilingual-e5-small, or it with the shipped adapter), loaded once per cache setting
    (it takes seconds to load)."""
    return Embedder(model, cache=cache, cache_dir=cache_dir)
