"""Dedup: exact and near-duplicate articles (a fourth stage, beside related and storylines)."""

from .duplicates import DedupResult, DuplicateGroup, find_duplicates
from .shingles import containment, dedup_text, minhash, shingles

__all__ = ["DedupResult", "DuplicateGroup", "containment", "dedup_text", "find_duplicates", "minhash", "shingles"]
