"""Stage 1b of storyline clustering: names and numbers, the words that tell two events of one kind apart.

Dense embeddings put two shootings in two towns close together; the town, the
victims' names, the ages and the dates differ. An article's *entity terms*
are its capitalised words that do not start a sentence, and its numbers, in
any language (in German every noun is capitalised, which adds words but the
TF-IDF weighting keeps the rare ones decisive). Names and numbers are also
what a German and an English report of one event share word for word.
"""

from __future__ import annotations

import re
from typing import Sequence

import numpy as np
from scipy.sparse import csr_matrix
from sklearn.feature_extraction.text import TfidfVectorizer

from ..documents import Article, stop_words

__all__ = ["entity_terms", "entity_matrix"]

_SENTENCE_END = re.compile(r"(?<=[.!?:;])\s+|\n+")
_STRIP = "\"'“”„‚‘’«»()[]{}<>.,;:!?*|/\\–—-"


def entity_terms(text: str) -> list[str]:
    """Capitalised words not at a sentence start, and numbers, lower-cased.

    >>> entity_terms("Police in Rocky Mount said 3 men were shot. The suspect, 19, fled to Durham.")
    ['rocky', 'mount', '3', '19', 'durham']
    """
    stop = stop_words()
    terms = []
    for sentence in _SENTENCE_END.split(text):
        for pos, raw in enumerate(sentence.split()):
            w = raw.strip(_STRIP)
            if len(w) < 2 and not w.isdigit():
                continue
            if any(c.isdigit() for c in w):
                terms.append(w.lower())
            elif pos > 0 and w[0].isupper() and w.lower() not in stop:
                terms.append(w.lower())
    return terms


def entity_matrix(articles: Sequence[Article]) -> csr_matrix:
    """One L2-normalised row of entity-term TF-IDF weights per article (title and cleaned text).

    Rows of articles without entity terms are all zero.
    """
    texts = [a.cleaned.full for a in articles]
    vec = TfidfVectorizer(analyzer=entity_terms, sublinear_tf=True, dtype=np.float32)
    try:
        return vec.fit_transform(texts).tocsr()
    except ValueError:  # not one entity term in the whole input
        return csr_matrix((len(texts), 1), dtype=np.float32)

