"""Storylines: candidate pairs (knn_graph, entities) -> pair signals (signals) -> same-story probability (trees as shipped,
or model; fitted by fitting) -> grouping (linkage) -> names (describe); StoryClusterer runs them in order, StoryTracker
runs them on each new batch and keeps storyline ids (story_ids)."""

from .clusterer import StoryClusterer
from .describe import Storyline, describe_storylines
from .entities import TermCounts, ages, entity_matrix, entity_terms, rare_term_matrix, times
from .fitting import CRAWL_VARIANTS, crawl_pair_sets, fit_same_story_model, recipe_pair_sets
from .knn_graph import bridge_components, candidate_pairs, knn_graph, nearest_neighbours
from .linkage import attach_alone, average_linkage
from .model import ADDITIVE, PairClassifier, SameStoryModel
from .story_ids import StoryIds, name_groups
from .tracker import StoryTracker
from .trees import SameStoryTrees
from .signals import DEFAULT_FEATURES, FEATURES, MONOTONE, ArticleSignals, article_signals, pair_features, story_pairs, support_signal

__all__ = ["ADDITIVE", "CRAWL_VARIANTS", "DEFAULT_FEATURES", "FEATURES", "MONOTONE", "ArticleSignals", "PairClassifier",
           "SameStoryModel", "SameStoryTrees",
           "StoryClusterer", "TermCounts", "StoryIds", "StoryTracker", "Storyline", "ages", "article_signals", "attach_alone", "average_linkage", "bridge_components",
           "candidate_pairs", "crawl_pair_sets", "describe_storylines", "entity_matrix", "entity_terms", "fit_same_story_model",
           "recipe_pair_sets",
           "knn_graph", "name_groups", "nearest_neighbours", "pair_features", "rare_term_matrix", "story_pairs", "support_signal",
           "times"]
