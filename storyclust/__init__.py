"""storyclust: find the same story across many news articles.

The pipeline, one subpackage per stage::

    documents   load_articles, iter_articles, Article   articles in, scraped noise out
    embeddings  Embedder                                unit-norm vectors (multilingual by default)
    index       StoryIndex                              FAISS search with metadata, save/load
    dedup       Deduplicator, find_duplicates           streaming exact / near-duplicate check, groups
    related     find_related                            top-k related stories, date windows
    storylines  StoryClusterer                          HDBSCAN-style storylines with keywords
                StoryTracker                            the same, online: batch by batch, stable storyline ids
    similarity  story_similarity                        one pair at a time: the probability of one story
    evaluation  bcubed, clustering_scores               scores against labeled data
    engines     EmbedStep, ray_engine                   per-article steps here or on a Ray cluster
"""

import importlib

from .errors import InputError, ModelMismatchError, StoryclustError

__version__ = "0.1.0"

# Imported on first use (PEP 562), so that `import storyclust` and `storyclust --help` do not load
# scikit-learn, faiss, pandas and pyarrow before anything is asked of them.
_EXPORTS = {
    **dict.fromkeys(["Decision", "Deduplicator", "DedupResult", "DuplicateGroup", "find_duplicates",
                     "find_paragraph_reuse"], "dedup"),
    **dict.fromkeys(["Article", "ArticleList", "CleanText", "clean_text", "iter_articles", "load_articles"],
                    "documents"),
    **dict.fromkeys(["DEFAULT_MODEL", "ArticleEmbeddings", "Embedder"], "embeddings"),
    **dict.fromkeys(["Hit", "StoryIndex"], "index"),
    "find_related": "related",
    "story_similarity": "similarity",
    **dict.fromkeys(["StoryClusterer", "StoryTracker", "Storyline"], "storylines"),
}
_SUBPACKAGES = {"dedup", "documents", "embeddings", "engines", "evaluation", "index", "related", "report", "similarity",
                "storylines"}

__all__ = [
    "DEFAULT_MODEL", "Article", "ArticleEmbeddings", "ArticleList", "CleanText", "Decision", "Deduplicator",
    "DedupResult", "DuplicateGroup", "Embedder", "Hit", "InputError", "ModelMismatchError", "StoryClusterer",
    "StoryIndex", "StoryTracker", "StoryclustError", "Storyline", "clean_text", "find_duplicates", "find_paragraph_reuse",
    "find_related", "iter_articles", "load_articles", "story_similarity",
]


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    if name in _SUBPACKAGES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'storyclust' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__) | _SUBPACKAGES)
