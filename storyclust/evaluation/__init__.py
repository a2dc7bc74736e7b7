"""Evaluation: clustering and retrieval scores against labeled data, and synthetic storylines (the last stage)."""

from .metrics import bcubed, clustering_scores, noise_as_singletons
from .synthetic import storyline_vectors

__all__ = ["bcubed", "clustering_scores", "noise_as_singletons", "storyline_vectors"]
