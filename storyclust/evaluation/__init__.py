"""Evaluation: clustering and retrieval scores against labeled data (the last stage)."""

from .metrics import bcubed, clustering_scores, noise_as_singletons

__all__ = ["bcubed", "clustering_scores", "noise_as_singletons"]
