"""Index: article vectors in FAISS with their metadata (the third stage)."""

from .factory import EXACT_MAX, choose_factory, trained_index
from .story_index import FORMAT_VERSION, Hit, StoryIndex

__all__ = ["EXACT_MAX", "FORMAT_VERSION", "Hit", "StoryIndex", "choose_factory", "trained_index"]
