"""Embeddings: texts and articles to unit-norm vectors (the second stage)."""

from .adapter import E5Adapter
from .backends import DEFAULT_MODEL, E5_MODEL, E5_STORY_MODEL
from .cache import EmbeddingCache, default_cache_dir
from .embedder import ArticleEmbeddings, Embedder

__all__ = ["DEFAULT_MODEL", "E5_MODEL", "E5_STORY_MODEL", "E5Adapter", "ArticleEmbeddings", "Embedder", "EmbeddingCache", "default_cache_dir"]
