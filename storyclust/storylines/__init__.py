"""Storylines: candidate pairs (knn_graph, entities) -> same-story probability (similarity)
-> grouping (linkage) -> names (describe); StoryClusterer runs them in order."""

from .clusterer import StoryClusterer
from .describe import Storyline, describe_storylines
from .entities import entity_matrix, entity_terms
from .knn_graph import bridge_components, candidate_pairs, knn_graph, nearest_neighbours
from .linkage import average_linkage
from .similarity import FEATURES, SameStoryModel, pair_features, story_pairs

__all__ = ["FEATURES", "SameStoryModel", "StoryClusterer", "Storyline", "average_linkage", "bridge_components",
           "candidate_pairs", "describe_storylines", "entity_matrix", "entity_terms", "knn_graph", "nearest_neighbours", "pair_features",
           "story_pairs"]
