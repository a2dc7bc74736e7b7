"""Dedup: exact copies, edited reprints and reused paragraphs (a stage beside related and storylines).

``signatures`` (MinHash of word 5-grams and of character 7-grams) → ``bands`` (LSH candidates) →
``stream`` (the Deduplicator: exact, lexical, character and semantic stages) → ``duplicates`` (groups of a
collection); ``reuse`` reports paragraphs shared between articles.
"""

from .duplicates import DedupResult, DuplicateGroup, find_duplicates
from .reuse import ParagraphReuse, find_paragraph_reuse
from .signatures import ArticleSketch, Signature, containment_estimate, dedup_paragraphs, jaccard, signature
from .stream import Decision, Deduplicator

__all__ = ["ArticleSketch", "Decision", "Deduplicator", "DedupResult", "DuplicateGroup", "ParagraphReuse", "Signature",
           "containment_estimate", "dedup_paragraphs", "find_duplicates", "find_paragraph_reuse", "jaccard",
           "signature"]
