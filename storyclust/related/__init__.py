"""Related stories: the articles in an index that report the same story as an article or a free-text query."""

from .find import find_related
from .rerank import candidate_probabilities, evidence_signals

__all__ = ["candidate_probabilities", "evidence_signals", "find_related"]
