"""Storylines: density clustering of articles (stages: knn_graph -> clusterer -> describe)."""

from .clusterer import StoryClusterer
from .describe import Storyline, describe_storylines
from .knn_graph import bridge_components, knn_graph

__all__ = ["StoryClusterer", "Storyline", "bridge_components", "describe_storylines", "knn_graph"]
