"""Related stories: the articles in an index nearest to an article or a free-text query."""

from __future__ import annotations

from datetime import timedelta

import numpy as np

from .documents import Article, parse_date
from .errors import InputError, ModelMismatchError
from .index import Hit, StoryIndex

__all__ = ["find_related"]


def find_related(index: StoryIndex, query, embedder, *, k: int = 10, since=None, until=None,
                 window_days: float | None = None, exclude=()) -> list[Hit]:
    """The ``k`` articles in ``index`` most related to ``query``, best first, with cosine scores.

    Parameters
    ----------
    index : StoryIndex
    query : Article or str
        An article (itself excluded from the results) or a free-text query, in any
        language the model knows: a German query finds English articles.
    embedder : Embedder
        The model the index was built with.
    k : int
    since, until : datetime or ISO 8601 str, optional
        Keep articles dated in this window (articles without a date are left out when a window is set).
    window_days : float, optional
        Keep articles within this many days of the query article's date.
    exclude : iterable of str
        Ids never to return.

    >>> from storyclust import Article, Embedder, StoryIndex
    >>> emb = Embedder(cache=False)
    >>> arts = [Article("en", "Russia's defence minister arrived in North Korea for talks."),
    ...         Article("fr", "Un incendie a détruit une usine près de Lyon.")]
    >>> idx = StoryIndex(emb.dim, emb.fingerprint); idx.add_articles(arts, emb)
    >>> find_related(idx, "Verteidigungsminister besucht Nordkorea", emb, k=1)[0].id
    'en'
    """
    if embedder.fingerprint != index.model:
        raise ModelMismatchError(f"the index holds vectors from {index.model!r}, not {embedder.fingerprint!r}")
    exclude = set(exclude)
    since = parse_date(since, "since")
    until = parse_date(until, "until")
    if isinstance(query, Article):
        exclude.add(query.id)
        vec = index.vector(query.id) if query.id in index else embedder.embed_articles([query]).vectors[0]
        if window_days is not None:
            if query.date is None:
                raise InputError("window_days needs a dated query article", where=f"id {query.id!r}", field="date")
            since = max(filter(None, [since, query.date - timedelta(days=window_days)]))
            until = min(filter(None, [until, query.date + timedelta(days=window_days)]))
    elif isinstance(query, str):
        if not query.strip():
            raise InputError("empty query", field="query")
        if window_days is not None:
            raise InputError("window_days needs a query article with a date; use since/until with text",
                             field="window_days")
        vec = embedder.encode([query])[0]
    else:
        raise InputError(f"query must be an Article or a string, got {type(query).__name__}", field="query")

    def keep(h: Hit) -> bool:
        if h.id in exclude:
            return False
        if since is None and until is None:
            return True
        return h.date is not None and (since is None or h.date >= since) and (until is None or h.date <= until)

    fetch = k + len(exclude)
    while True:  # widen the search until k hits pass the filters or the index is exhausted
        hits = [h for h in index.search(np.asarray(vec), k=min(fetch, max(len(index), 1))) if keep(h)]
        if len(hits) >= k or fetch >= len(index):
            return hits[:k]
        fetch *= 4
