"""Replaying labelled articles as a stream: batches, and what online storylines are scored by.

:func:`replay` feeds batches to a :class:`~storyclust.StoryTracker` and
records what each update gave and cost; :func:`id_churn` and
:func:`windowed_bcubed` score the record; :func:`growth_exponent` says how
the cost grows with the stream.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from ..documents import Article
from .metrics import bcubed, noise_as_singletons

__all__ = ["Replay", "daily_batches", "growth_exponent", "id_churn", "moves_that_mend", "random_batches", "replay",
           "windowed_bcubed"]


def daily_batches(articles: Sequence[Article]) -> list[list[Article]]:
    """Articles grouped by calendar day, in date order (undated articles last, as one batch).

    >>> from datetime import datetime
    >>> arts = [Article("a", "x", date=datetime(2024, 1, 2)), Article("b", "y", date=datetime(2024, 1, 1, 9)),
    ...         Article("c", "z", date=datetime(2024, 1, 1, 18)), Article("d", "w")]
    >>> [[a.id for a in b] for b in daily_batches(arts)]
    [['b', 'c'], ['a'], ['d']]
    """
    days: dict = {}
    for a in sorted(articles, key=lambda a: a.chronological_key):
        days.setdefault(a.date.date() if a.date else None, []).append(a)
    return list(days.values())


def random_batches(articles: Sequence[Article], n_batches: int, random_state=None) -> list[list[Article]]:
    """The articles shuffled and cut into ``n_batches`` batches of (nearly) equal size."""
    order = np.random.default_rng(random_state).permutation(len(articles))
    return [[articles[i] for i in part] for part in np.array_split(order, n_batches) if len(part)]


@dataclass
class Replay:
    """What :func:`replay` recorded: per article the id first given, per batch its size, seconds,
    active window and resident memory; ``final`` the ids at the end (after merges)."""

    first: dict = field(default_factory=dict)
    final: dict = field(default_factory=dict)
    batch_sizes: list = field(default_factory=list)
    seconds: list = field(default_factory=list)
    active: list = field(default_factory=list)
    rss_mb: list = field(default_factory=list)


def replay(tracker, batches: Sequence[Sequence[Article]], arrivals: Sequence | None = None, progress=None) -> Replay:
    """Feed ``batches`` to ``tracker.update`` in order, each with its arrival time from ``arrivals`` (``now``)
    when given; ``progress(k, rec)`` is called after each batch."""
    rec = Replay()
    for k, batch in enumerate(batches):
        start = time.perf_counter()
        got = tracker.update(batch, now=None if arrivals is None else arrivals[k])
        rec.seconds.append(time.perf_counter() - start)
        rec.batch_sizes.append(len(batch))
        rec.active.append(tracker.n_active)
        rec.rss_mb.append(_rss_mb())
        for a, s in zip(batch, got):
            rec.first.setdefault(a.id, s)
        if progress is not None:
            progress(k, rec)
    rec.final = tracker.assignments()
    return rec


def id_churn(first: dict, final: dict, resolve) -> dict:
    """Id churn: among articles first given a storyline id, the share whose id at the end is another
    (``resolve`` maps an id to the one it lives on as after merges, :meth:`StoryTracker.resolve`); and the share of articles first alone that
    joined a storyline later, which an online method cannot avoid.

    >>> id_churn({"a": 0, "b": 0, "c": None, "d": 1}, {"a": 0, "b": 2, "c": 0, "d": 0}, lambda s: {1: 0}.get(s, s))
    {'churn': 0.333, 'given_id': 3, 'joined_later': 1.0, 'first_alone': 1}
    """
    given = [i for i, s in first.items() if s is not None]
    moved = sum(resolve(first[i]) != final[i] for i in given)
    alone = [i for i, s in first.items() if s is None]
    joined = sum(final[i] is not None for i in alone)
    return {"churn": round(moved / max(len(given), 1), 3), "given_id": len(given),
            "joined_later": round(joined / max(len(alone), 1), 3), "first_alone": len(alone)}


def moves_that_mend(first: dict, final: dict, gold: dict, resolve) -> float:
    """Among articles whose storyline id changed (see :func:`id_churn`), the share that moved to a storyline
    holding a larger share of their own event (``gold``: article id -> event) than the one they left.

    >>> moves_that_mend({"a": 0, "b": 0, "c": 0}, {"a": 0, "b": 1, "c": 1}, {"a": "x", "b": "y", "c": "y"},
    ...                 lambda s: s)
    1.0
    """
    members: dict = {}
    for i, s in final.items():
        if s is not None:
            members.setdefault(s, []).append(i)

    def share(story, i):
        m = members.get(story, [])
        return sum(gold[j] == gold[i] for j in m if j != i) / max(len(m) - (i in m), 1)

    moved = [i for i, s in first.items() if s is not None and resolve(s) != final[i]]
    mended = sum(final[i] is not None and share(final[i], i) > share(resolve(first[i]), i) for i in moved)
    return round(mended / max(len(moved), 1), 3)


def windowed_bcubed(gold, pred, days: Sequence[float], window: float = 7.0) -> float:
    """Mean BCubed F1 over consecutive windows of ``window`` days (as SCStory reports), each window scored
    on the articles dated in it; undated articles (NaN) are left out.

    >>> windowed_bcubed([0, 0, 1, 1], [0, 0, 1, -1], [0.0, 1.0, 8.0, 9.0])
    0.833
    """
    gold, pred, days = np.asarray(gold), noise_as_singletons(pred), np.asarray(days, dtype=float)
    dated = ~np.isnan(days)
    if not dated.any():
        return float("nan")
    slot = np.floor((days[dated] - days[dated].min()) / window).astype(np.int64)
    scores = [bcubed(gold[dated][slot == s], pred[dated][slot == s])[2] for s in np.unique(slot)]
    return round(float(np.mean(scores)), 3)


def growth_exponent(batch_sizes: Sequence[int], seconds: Sequence[float], skip: float = 0.1) -> float:
    """``b`` in cumulative time ~ (cumulative articles) ** b, fitted on log-log after the first ``skip`` of
    the stream (warm-up): 1 is a flat cost per article, 2 a cost per article growing with the stream.

    >>> round(growth_exponent([10] * 100, [1.0] * 100), 2), round(growth_exponent([10] * 100, range(1, 101)), 2)
    (1.0, 1.97)
    """
    n = np.cumsum(batch_sizes).astype(float)
    t = np.cumsum(seconds).astype(float)
    keep = n >= skip * n[-1]
    return float(np.polyfit(np.log(n[keep]), np.log(t[keep]), 1)[0])


def _rss_mb() -> float:
    """Resident memory of this process now, in MiB (0 where /proc is missing)."""
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return 0.0
