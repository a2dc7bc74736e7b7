"""What reading and cleaning made of the input: languages, headlines, lines taken out."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Sequence

from .article import Article
from .._words import plural

__all__ = ["InputSummary", "summarize_input"]

_REASONS = {"repeat": "repeated headline"}


@dataclass(frozen=True)
class InputSummary:
    """Counts over a list of articles; ``str()`` says them in a line or two.

    >>> from storyclust import Article
    >>> s = summarize_input([Article("a", "Der Minister ist am Montag nach Berlin gereist, um zu sprechen.\\n"
    ...                                   "Foto: Reuters", title="Minister in Berlin")])
    >>> print(s)
    1 article: language de 1; 1 with a title; 0 dated; lines taken out: 1 caption
    """

    articles: int
    languages: Counter = field(default_factory=Counter)
    titled: int = 0
    headlines_found: int = 0
    dated: int = 0
    removed: Counter = field(default_factory=Counter)

    def __str__(self) -> str:
        langs = ", ".join(f"{k or 'unknown'} {v}" for k, v in self.languages.most_common())
        heads = f", {self.headlines_found} with a headline found in the text" if self.headlines_found else ""
        parts = [f"{plural(self.articles, 'article')}: language{'s' * (len(self.languages) > 1)} {langs}",
                 f"{self.titled} with a title{heads}", f"{self.dated} dated"]
        if self.removed:
            parts.append("lines taken out: " + ", ".join(f"{n} {_REASONS.get(r, r)}" for r, n in
                                                         sorted(self.removed.items())))
        return "; ".join(parts)


def summarize_input(articles: Sequence[Article]) -> InputSummary:
    """Languages (given or guessed), titles given or found in the text, dates, and the lines cleaning took out."""
    langs, removed = Counter(), Counter()
    titled = found = dated = 0
    for a in articles:
        c = a.cleaned
        langs[a.language] += 1
        titled += bool(a.title)
        found += bool(not a.title and c.title)
        dated += a.date is not None
        removed.update(r.reason for r in c.removed if r.reason != "headline")  # a found headline is counted above
    return InputSummary(len(articles), langs, titled, found, dated, removed)
