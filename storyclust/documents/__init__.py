"""Documents: reading articles and cleaning scraped noise (the first stage of the pipeline)."""

from .article import Article
from .cleaning import CleanText, clean_text, normalize_for_hash, split_paragraphs
from .language import guess_language, stop_words
from .summary import InputSummary, summarize_input
from .loading import ArticleList, SkippedRecord, as_articles, iter_articles, load_articles, parse_date

__all__ = ["Article", "ArticleList", "CleanText", "SkippedRecord", "as_articles", "clean_text", "guess_language",
           "iter_articles", "load_articles", "normalize_for_hash", "parse_date", "split_paragraphs", "stop_words",
           "InputSummary", "summarize_input"]
