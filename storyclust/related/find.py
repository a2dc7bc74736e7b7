"""Related-story lookup: candidates from the index's vectors and terms, ranked by the same-story model.

Stage 1 gathers candidates three ways, so that neither a paraphrase nor an
exact name is missed: the article vectors, the headline vectors and the terms
(BM25 over names, numbers and headline words). Stage 2
(:mod:`~storyclust.related.rerank`) scores each with the evidence the
storylines use.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import numpy as np
from sklearn.preprocessing import normalize

from ..documents import Article, guess_language, parse_date
from ..errors import InputError, ModelMismatchError
from ..index import Hit, StoryIndex
from ..index.story_index import article_evidence
from ..index.terms import article_terms, query_terms
from ..documents.entities import ages, times
from .rerank import candidate_probabilities, evidence_signals

__all__ = ["find_related"]

# Candidates gathered per source (article vectors, headline vectors, terms) beyond ``k``.
_EXTRA_CANDIDATES = 20
# Weight of the lexical score for free-text queries, against the cosine (chosen on the tuning splits, whose
# headline lookups are in benchmarks/results/related-tune.md).
_LEXICAL_WEIGHT = 0.5


def _text_record(text: str) -> dict:
    """The evidence of a free-text query: read as an undated headline."""
    return {"date": None, "lang": guess_language(text), "site": None, "ages": sorted(ages(text)),
            "times": sorted(times(text)),
            "titled": True, "terms": article_terms(text, text)}


def find_related(index: StoryIndex, query, embedder, *, k: int = 10, since=None, until=None,
                 window_days: float | None = None, exclude=(), rerank: bool = True, model=None) -> list[Hit]:
    """The ``k`` articles in ``index`` most likely to report the same story as ``query``, best first.

    Parameters
    ----------
    index : StoryIndex
    query : Article or str
        An article (itself excluded from the results) or a free-text query (a
        headline, a name), in any language the model knows: a German query
        finds English articles.
    embedder : Embedder
        The model the index was built with.
    k : int
    since, until : datetime or ISO 8601 str, optional
        Keep articles dated in this window (articles without a date are left out when a window is set; an
        index without any dated article is refused, rather than answering nothing).
    window_days : float, optional
        Keep articles within this many days of the query article's date.
    exclude : iterable of str
        Ids never to return.
    rerank : bool, default True
        Rank candidates from vectors, headlines and terms: for an article by
        the same-story probability (``Hit.score``), for a text by the closer
        of its cosines to the article and to its headline plus half the share
        of the query's BM25 evidence the article holds. ``False``: the article vectors
        alone, ranked by cosine. ``Hit.cosine`` is always the article cosine.
    model : SameStoryModel, optional
        The same-story model (default: the one ``StoryClusterer`` uses).

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
    if not isinstance(k, int) or k < 1:
        raise InputError(f"k must be a positive integer, got {k!r}", field="k")
    exclude = set(exclude)
    since = parse_date(since, "since")
    until = parse_date(until, "until")
    if (since or until or window_days is not None) and len(index) and not index.has_dates:
        raise InputError("no article in the index has a date, so a date window would leave none; leave out "
                         "since/until/window_days, or give the articles dates", field="since")
    if isinstance(query, Article):
        exclude.add(query.id)
        if query.id in index:
            vec, head = index.vector(query.id), index.headline_vector(query.id)
            record = index.metadata(query.id)
        else:
            emb = embedder.embed_articles([query])
            vec, head = emb.vectors[0], emb.headline_vectors[0]
            record = article_evidence(query)
        lexical = list(record["terms"])
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
        vec = head = embedder.encode([query])[0]
        record = _text_record(query)
        lexical = query_terms(query)
    else:
        raise InputError(f"query must be an Article or a string, got {type(query).__name__}", field="query")

    def keep(h: Hit) -> bool:
        if h.id in exclude:
            return False
        if since is None and until is None:
            return True
        return h.date is not None and (since is None or h.date >= since) and (until is None or h.date <= until)

    n = max(len(index), 1)
    want = k if not rerank else k + _EXTRA_CANDIDATES
    fetch = want + len(exclude)
    while True:  # widen the search until enough hits pass the filters or the index is exhausted
        hits = [h for h in index.search(np.asarray(vec), k=min(fetch, n)) if keep(h)]
        if rerank:
            hits += [h for h in index.search_headlines(np.asarray(head), k=min(fetch, n)) if keep(h)]
            hits += [h for h in index.search_terms(lexical, k=min(fetch, n)) if keep(h)]
        hits = list({h.id: h for h in hits}.values())  # one hit per id, in order of first sighting
        if len(hits) >= want or fetch >= len(index):
            break
        fetch *= 4
    if not rerank:
        return hits[:k]
    if isinstance(query, str):
        return _text_ranked(index, vec, lexical, hits)[:k]
    return _reranked(index, vec, head, record, hits, model, query_in_index=query.id in index)[:k]


def _text_ranked(index, vec, lexical, hits) -> list[Hit]:
    """``hits`` ordered for a free-text query: the closer of the article and headline cosines, plus half the
    share of the query's BM25 evidence the article holds (a headline finds its article, a name the articles
    that have it; words the index lacks, such as a query's in another language, weigh against no one)."""
    if not hits:
        return []
    ids = [h.id for h in hits]
    q = normalize(np.asarray(vec, dtype=np.float32)[None])[0]
    cos = normalize(np.vstack([index.vector(i) for i in ids])) @ q
    head = normalize(np.vstack([index.headline_vector(i) for i in ids])) @ q
    lexical_share = np.array(index.term_scores(lexical, ids))
    return _ordered(hits, np.maximum(cos, head) + _LEXICAL_WEIGHT * lexical_share, cos)


def _reranked(index, vec, head, record, hits, model, query_in_index: bool) -> list[Hit]:
    """``hits`` ordered by same-story probability (ties: cosine, then id), with both on each hit."""
    if not hits:
        return []
    ids = [h.id for h in hits]
    records = [record] + [index.metadata(i) for i in ids]
    vectors = normalize(np.vstack([vec] + [index.vector(i) for i in ids]).astype(np.float32))
    headlines = normalize(np.vstack([head] + [index.headline_vector(i) for i in ids]).astype(np.float32))
    terms = {t for r in records for t in r["terms"]}
    outside = 0 if query_in_index else 1  # a query from outside counts as one more article
    df = {t: index.document_frequency(t) + (outside if t in record["terms"] else 0) for t in terms}
    signals = evidence_signals(records, headlines, df, len(index) + outside)
    return _ordered(hits, candidate_probabilities(vectors, signals, model), vectors[1:] @ vectors[0])


def _ordered(hits, score: np.ndarray, cos: np.ndarray) -> list[Hit]:
    """``hits`` by ``score``, best first (ties: cosine, then id), each with its score and cosine."""
    order = sorted(range(len(hits)), key=lambda j: (-score[j], -cos[j], hits[j].id))
    return [replace(hits[j], score=float(score[j]), cosine=float(cos[j])) for j in order]
