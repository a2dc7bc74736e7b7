"""Stage 1 of pair scoring: what each article brings to a comparison, computed once per article."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..documents import Article
from ..embeddings import ArticleEmbeddings, Embedder

__all__ = ["Evidence", "article_evidence"]

# Numbers as written in news text: "3", "2,500", "3:55", "12.5". Compared without their separators, so that
# German "6,1" and "2.500" meet English "6.1" and "2,500".
_NUMBER = re.compile(r"\b\d(?:[\d.,:]*\d)?\b")
_SEPARATORS = str.maketrans("", "", ".,")


@dataclass(frozen=True)
class Evidence:
    """Per article: USE vectors (article, headline, paragraphs), entity terms, numbers, language, length.

    ``second`` holds the articles' vectors from a second model (multilingual-e5-small) when one was asked for.
    """

    embeddings: ArticleEmbeddings
    terms: list
    numbers: list
    languages: list
    lengths: np.ndarray
    second: np.ndarray | None = None


def article_evidence(articles: Sequence[Article], embedder: Embedder, second: Embedder | None = None) -> Evidence:
    """The :class:`Evidence` of ``articles``: ``embedder`` embeds them by paragraphs, ``second`` (optional) whole."""
    texts = [a.cleaned.full for a in articles]
    return Evidence(
        embeddings=embedder.embed_articles(articles),
        terms=[set(a.entity_terms) for a in articles],
        numbers=[{n.translate(_SEPARATORS) for n in _NUMBER.findall(t)} for t in texts],
        languages=[a.language for a in articles],
        lengths=np.array([len(t) for t in texts], dtype=np.float64),
        second=second.encode(texts) if second is not None else None,
    )
