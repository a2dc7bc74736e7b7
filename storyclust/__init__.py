"""storyclust: find the same story across many news articles.

The pipeline, one subpackage per stage::

    documents   load_articles, iter_articles, Article   articles in, scraped noise out
    embeddings  Embedder                                unit-norm vectors (multilingual by default)
    index       StoryIndex                              FAISS search with metadata, save/load
    dedup       Deduplicator, find_duplicates           streaming exact / near-duplicate check, groups
    related     find_related                            top-k related stories, date windows
    storylines  StoryClusterer                          HDBSCAN-style storylines with keywords
    evaluation  bcubed, clustering_scores               scores against labeled data
"""

from .dedup import Decision, Deduplicator, DedupResult, DuplicateGroup, find_duplicates, find_paragraph_reuse
from .documents import Article, ArticleList, CleanText, clean_text, iter_articles, load_articles
from .embeddings import DEFAULT_MODEL, ArticleEmbeddings, Embedder
from .errors import InputError, ModelMismatchError, StoryclustError
from .index import Hit, StoryIndex
from .related import find_related
from .storylines import StoryClusterer, Storyline

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_MODEL", "Article", "ArticleEmbeddings", "ArticleList", "CleanText", "Decision", "Deduplicator",
    "DedupResult", "DuplicateGroup", "Embedder", "Hit", "InputError", "ModelMismatchError", "StoryClusterer",
    "StoryIndex", "StoryclustError", "Storyline", "clean_text", "find_duplicates", "find_paragraph_reuse",
    "find_related", "iter_articles", "load_articles",
]
