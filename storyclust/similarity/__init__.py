"""Pair scoring: how likely two articles report the same story, each pair on its own.

The stages, one module each::

    evidence   article_evidence       per article: vectors, names, numbers, language
    signals    pair_signals           per pair: cosines, paragraph alignment, overlaps
    model      SimilarityTrees        monotone boosted trees: signals to a probability
    stack      SimilarityStack        the trees and a head on the second model's vectors, blended
    score      story_similarity       the entry point
"""

from .evidence import Evidence, article_evidence
from .model import E5_FEATURES, USE_FEATURES, SimilarityTrees, default_model, fit_similarity_model, pool_pairs
from .score import story_similarity
from .signals import FEATURES, MONOTONE, pair_signals
from .stack import PairHead, SimilarityStack, fit_similarity_stack

__all__ = ["E5_FEATURES", "FEATURES", "MONOTONE", "USE_FEATURES", "Evidence", "PairHead", "SimilarityStack",
           "SimilarityTrees", "article_evidence", "default_model", "fit_similarity_model", "fit_similarity_stack",
           "pair_signals", "pool_pairs", "story_similarity"]
