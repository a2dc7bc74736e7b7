"""Evaluation: clustering and retrieval scores against labeled data, crawl-like variants of it, damaged copies
of articles, and streams replayed for online storylines,
synthetic storylines (the last stage)."""

from .metrics import (alone_linked, bcubed, clustering_scores, lookup_scores, mixed_groups, noise_as_singletons,
                      reliability_table, retrieval_scores, share_linked)
from .damage import DAMAGE, damage
from .pairs import cross_validated, linked_groups, pearson_by, read_scored_pairs, translation_accuracy
from .stream import (Replay, daily_batches, growth_exponent, id_churn, moves_that_mend, random_batches, replay,
                     windowed_bcubed)
from .synthetic import storyline_vectors
from .variants import (crawl_mixture, crowded, few_stories, fit_in_pieces, one_per_story, split_by_story,
                       without_dates, without_titles)

__all__ = ["DAMAGE", "Replay", "daily_batches", "growth_exponent", "id_churn", "moves_that_mend", "random_batches",
           "replay",
           "windowed_bcubed", "alone_linked", "bcubed", "clustering_scores", "crawl_mixture", "crowded",
           "cross_validated", "damage", "few_stories",
           "fit_in_pieces",
           "linked_groups",
           "pearson_by", "read_scored_pairs", "translation_accuracy", "lookup_scores", "mixed_groups",
           "noise_as_singletons", "one_per_story", "reliability_table", "retrieval_scores", "share_linked", "split_by_story",
           "storyline_vectors",
           "without_dates", "without_titles"]
