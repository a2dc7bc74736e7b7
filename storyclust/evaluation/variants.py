"""Labelled inputs shaped like real crawls: dates or titles removed, one article per story, corpora mixed.

Benchmarks built from well-curated corpora flatter a storyline model: every
article is dated and titled, and every event has several reports. A day's
crawl is mostly one-off reports, often without dates or titles. These
functions make such inputs from labelled data, so that a model can be fitted
and checked on them (``benchmarks/storylines.py``). Articles are copied,
never changed in place; labels travel with them.

>>> from datetime import datetime
>>> from storyclust import Article
>>> arts = [Article(f"a{i}", "text", title="t", date=datetime(2016, 1, i + 1)) for i in range(4)]
>>> [a.date for a in without_dates(arts, share=1.0)]
[None, None, None, None]
>>> [a.title for a in without_titles(arts)]
[None, None, None, None]
>>> kept, y = one_per_story(arts, ["x", "x", "y", "z"], random_state=0)
>>> y.tolist()
['x', 'y', 'z']
"""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Sequence

import numpy as np

from ..documents import Article
from ..documents.article import forget_derived
from ..errors import InputError

__all__ = ["crawl_mixture", "crowded", "few_stories", "fit_in_pieces", "one_per_story", "split_by_story",
           "without_dates", "without_titles"]


def _copy(article: Article, **changes) -> Article:
    """A shallow copy with ``changes``; what is derived from the text (cleaning, language, entity terms, ages)
    is made again only when the title or text changes."""
    new = copy.copy(article)
    new.extra = dict(article.extra)
    for k, v in changes.items():
        setattr(new, k, v)
    if "title" in changes or "text" in changes:
        forget_derived(new)
    return new


def _check_share(share: float) -> float:
    if not isinstance(share, (int, float)) or not 0 <= share <= 1:
        raise InputError(f"share must be between 0 and 1, got {share!r}", field="share")
    return float(share)


def without_dates(articles: Sequence[Article], share: float = 1.0, random_state=None) -> list[Article]:
    """Copies of ``articles`` with the date removed from ``share`` of them (picked at random)."""
    share = _check_share(share)
    drop = np.random.default_rng(random_state).random(len(articles)) < share
    return [_copy(a, date=None) if d else a for a, d in zip(articles, drop)]


def without_titles(articles: Sequence[Article], share: float = 1.0, random_state=None,
                   into_text: bool = False) -> list[Article]:
    """Copies of ``articles`` with the given title removed from ``share`` of them (the body is kept as it is).

    ``into_text``: the title becomes the body's first paragraph instead of being dropped, for corpora whose
    "title" is the article's first sentence (ECB+), or pages whose headline was scraped as text.

    >>> [(a.title, a.text) for a in without_titles([Article("a", "Body.", title="Lead.")], into_text=True)]
    [(None, 'Lead.\\n\\nBody.')]
    """
    share = _check_share(share)
    drop = np.random.default_rng(random_state).random(len(articles)) < share
    return [(_copy(a, title=None, text=f"{a.title}\n\n{a.text}") if into_text and a.title else _copy(a, title=None))
            if d else a for a, d in zip(articles, drop)]


def one_per_story(articles: Sequence[Article], labels, random_state=None) -> tuple[list[Article], np.ndarray]:
    """One article drawn at random from each story of ``labels``: an input in which nothing should be linked."""
    labels = np.asarray(labels)
    if len(labels) != len(articles):
        raise InputError(f"{len(labels)} labels for {len(articles)} articles", field="labels")
    rng = np.random.default_rng(random_state)
    picked = sorted(int(rng.choice(m)) for m in _members(labels).values())
    return [articles[i] for i in picked], labels[picked]


def _members(labels: np.ndarray) -> dict:
    """Each story's article numbers, ascending, the stories in sorted order."""
    stories, story = np.unique(labels, return_inverse=True)
    order = np.argsort(story, kind="stable")
    return dict(zip(stories.tolist(), np.split(order, np.cumsum(np.bincount(story))[:-1])))


def few_stories(articles: Sequence[Article], labels, share: float = 0.1, random_state=None
                ) -> tuple[list[Article], np.ndarray]:
    """Every report of a few stories, one report of each other: a crawl of mostly one-off reports with a few
    storylines in it.

    ``share`` of the stories (drawn at random among those told more than once, at least one) keep all their
    reports. Unlike :func:`one_per_story`, an input where some articles belong together although most do not:
    a model must link those without linking the rest, whatever share of the input they are.

    >>> arts = [Article(f"a{i}", "text") for i in range(6)]
    >>> kept, y = few_stories(arts, ["x", "x", "y", "y", "z", "w"], share=0.25, random_state=0)
    >>> sorted(y.tolist())
    ['w', 'x', 'y', 'y', 'z']
    """
    labels = np.asarray(labels)
    if len(labels) != len(articles):
        raise InputError(f"{len(labels)} labels for {len(articles)} articles", field="labels")
    share = _check_share(share)
    rng = np.random.default_rng(random_state)
    members = _members(labels)
    told_often = np.array([s for s, m in members.items() if len(m) > 1])
    n_whole = min(len(told_often), max(1, round(share * len(members))))
    whole = set(rng.choice(told_often, size=n_whole, replace=False).tolist()) if len(told_often) else set()
    picked = sorted(i for s, m in members.items() for i in (m.tolist() if s in whole else [int(rng.choice(m))]))
    return [articles[i] for i in picked], labels[picked]


def crowded(articles: Sequence[Article], labels, factor: float = 8.0, days: float | None = None) -> list[Article]:
    """Copies of ``articles`` with their stories moved ``factor`` times closer in time: each story's dates shifted
    alike by whole days, so gaps within a story are kept and the gaps between the stories' first reports shrink.

    A curated corpus spreads its stories over years; a crawl holds many events of one kind in the same days, where
    a near date says less. ``days``: move them closer until every story's first report falls within that many
    days instead (a day's crawl). Undated articles are kept as they are.

    >>> from datetime import datetime
    >>> arts = [Article(f"a{i}", "text", date=datetime(2016, 1, d)) for i, d in enumerate([1, 3, 17, 19])]
    >>> [a.date.day for a in crowded(arts, ["x", "x", "y", "y"], factor=8)]
    [1, 3, 3, 5]
    >>> [a.date.day for a in crowded(arts, ["x", "x", "y", "y"], days=1)]
    [1, 3, 2, 4]
    """
    labels = np.asarray(labels)
    if len(labels) != len(articles):
        raise InputError(f"{len(labels)} labels for {len(articles)} articles", field="labels")
    if days is None and (not isinstance(factor, (int, float)) or factor < 1):
        raise InputError(f"factor must be a number of at least 1, got {factor!r}", field="factor")
    if days is not None and (not isinstance(days, (int, float)) or days <= 0):
        raise InputError(f"days must be a positive number of days, got {days!r}", field="days")
    first = {}
    for a, y in zip(articles, labels):
        if a.date is not None and (y not in first or a.date < first[y]):
            first[y] = a.date
    if not first:
        return list(articles)
    start = min(first.values())
    if days is not None:
        span = (max(first.values()) - start).total_seconds() / 86400.0
        factor = max(1.0, span / days)
    # whole days, so that dates given as days stay days and two stories may share one, as in a crawl
    shift = {y: timedelta(days=round((d - start).total_seconds() / 86400.0 * (1 - 1 / factor)))
             for y, d in first.items()}
    return [a if a.date is None else _copy(a, date=a.date - shift[y]) for a, y in zip(articles, labels)]


def split_by_story(articles: Sequence, labels, parts: int, random_state=None
                   ) -> list[tuple[list, np.ndarray]]:
    """``articles`` cut into ``parts`` inputs, each story whole in one, its stories drawn at random: smaller
    inputs of the same kind, to see how a result moves with input size. Any sequence will do (row numbers, to
    split a corpus into folds by story).

    >>> arts = [Article(f"a{i}", "text") for i in range(5)]
    >>> [y.tolist() for _, y in split_by_story(arts, ["x", "x", "y", "z", "z"], 2, random_state=0)]
    [['y', 'z', 'z'], ['x', 'x']]
    """
    labels = np.asarray(labels)
    if len(labels) != len(articles):
        raise InputError(f"{len(labels)} labels for {len(articles)} articles", field="labels")
    stories = np.unique(labels)
    if not isinstance(parts, (int, np.integer)) or not 1 <= parts <= len(stories):
        raise InputError(f"parts must be an integer from 1 to the number of stories ({len(stories)}), got {parts!r}",
                         field="parts")
    part_of = dict(zip(np.random.default_rng(random_state).permutation(stories), np.arange(len(stories)) % parts))
    which = np.array([part_of[y] for y in labels])
    return [([articles[i] for i in np.flatnonzero(which == q)], labels[which == q]) for q in range(parts)]


def fit_in_pieces(estimator, articles: Sequence, labels, parts: int,
                  random_state=None, **fit_params) -> tuple[np.ndarray, np.ndarray]:
    """Cut ``articles`` into ``parts`` inputs (:func:`split_by_story`), fit ``estimator`` on each alone, and return
    the labels and the predicted storylines of all of them, in the pieces' order: the scores of smaller inputs of
    the same kind, to compare with the whole. Storyline numbers are kept apart across pieces; -1 stays alone.
    ``fit_params`` go to each ``fit`` (``term_counts=``).

    >>> class FirstTwo:  # a stand-in clusterer: the first two articles of each input together, the rest alone
    ...     def fit(self, X):
    ...         self.labels_ = np.where(np.arange(len(X)) < 2, 0, -1)
    ...         return self
    >>> y, pred = fit_in_pieces(FirstTwo(), list("abcde"), ["x", "x", "y", "y", "z"], 2, random_state=0)
    >>> y.tolist(), pred.tolist()
    (['y', 'y', 'z', 'x', 'x'], [0, 0, -1, 5, 5])
    """
    gold, pred = [], []
    for q, (sub, y) in enumerate(split_by_story(articles, labels, parts, random_state=random_state)):
        lab = np.asarray(estimator.fit(sub, **fit_params).labels_)
        pred.append(np.where(lab >= 0, lab + len(articles) * q, -1))
        gold.append(y)
    return np.concatenate(gold), np.concatenate(pred)


def crawl_mixture(parts: Sequence[tuple[Sequence[Article], Sequence]], undated_share: float = 1.0,
                  random_state=None) -> tuple[list[Article], np.ndarray]:
    """Several labelled corpora as one input, with dates removed from ``undated_share`` of the articles (all by default).

    ``parts`` holds ``(articles, labels)`` per corpus; labels are made
    distinct across corpora (``"<part>:<label>"``), so a story never spans
    two corpora. ``labels=None`` marks a corpus whose articles each stand
    alone (a label of its own per article).
    """
    arts, gold = [], []
    for k, (part, labels) in enumerate(parts):
        labels = [f"{k}:single:{i}" for i in range(len(part))] if labels is None else [f"{k}:{x}" for x in labels]
        if len(labels) != len(part):
            raise InputError(f"part {k}: {len(labels)} labels for {len(part)} articles", field="parts")
        arts += list(part)
        gold += labels
    return without_dates(arts, undated_share, random_state), np.array(gold)
