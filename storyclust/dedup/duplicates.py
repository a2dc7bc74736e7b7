"""Finding exact and near-duplicate articles in a collection."""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
from datasketch import MinHashLSH
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from tqdm.auto import tqdm

from ..documents import Article
from ..errors import InputError
from .shingles import containment, dedup_text, minhash, shingles

__all__ = ["find_duplicates", "DuplicateGroup", "DedupResult"]


@dataclass(frozen=True)
class DuplicateGroup:
    """Articles that are one article, and the one kept.

    ``kind`` is ``"exact"`` when every member has the same normalised body,
    else ``"near"``. ``members`` lists every id of the group (the
    representative included) in input order.
    """

    representative: str
    members: tuple
    kind: str

    @property
    def duplicates(self) -> tuple:
        """The members other than the representative."""
        return tuple(m for m in self.members if m != self.representative)


@dataclass
class DedupResult:
    """What :func:`find_duplicates` found.

    Attributes
    ----------
    groups : list of DuplicateGroup
        Groups of two or more articles, ordered by their representative's input position.
    duplicate_of : dict
        Every input id mapped to the id it duplicates, or None for kept articles.
    """

    groups: list = field(default_factory=list)
    duplicate_of: dict = field(default_factory=dict)

    @property
    def kept(self) -> list:
        """Ids of the articles that are kept (not a duplicate of another), in input order."""
        return [i for i, d in self.duplicate_of.items() if d is None]

    @property
    def kind_of(self) -> dict:
        """Every duplicate's id mapped to its group's kind (``"exact"`` or ``"near"``)."""
        return {m: g.kind for g in self.groups for m in g.duplicates}

    def summary(self) -> str:
        """One line: how many articles were kept, and how many were exact and near duplicates."""
        kinds = list(self.kind_of.values())
        return (f"{len(self.duplicate_of)} articles: {len(self.kept)} kept, {kinds.count('exact')} exact "
                f"duplicates, {kinds.count('near')} near duplicates, in {len(self.groups)} groups")


def find_duplicates(articles: Sequence[Article], *, threshold: float = 0.7, min_length_ratio: float = 0.25,
                    shingle_size: int = 5, num_perm: int = 128, show_progress: bool | None = None) -> DedupResult:
    """Group exact and near-duplicate articles.

    Exact duplicates have the same cleaned, normalised body (case, punctuation,
    white space, captions, banners and bylines do not count). Near duplicates
    are one article republished with edits (another headline or boilerplate, a
    trimmed or extended ending, a few changed words): at least ``threshold`` of
    the shorter article's word ``shingle_size``-grams appear in the other, and
    the shorter has at least ``min_length_ratio`` of the longer's length.
    Candidate pairs come from a MinHash LSH (datasketch); each candidate is then
    checked on the exact shingle sets. Different articles about one event share
    few 5-grams and are not duplicates; find them with related search.

    Groups are connected components of duplicate pairs. The representative of a
    group is its earliest article by date (articles without a date last), then
    the first in input order.

    >>> from storyclust import Article
    >>> body = "The council approved the new budget on Monday after a long debate about schools and roads."
    >>> arts = [Article("a", body, title="Budget passes"),
    ...         Article("b", body + " Share this article", title="Council votes"),
    ...         Article("c", "A storm closed the harbour for two days and ferries were cancelled.")]
    >>> r = find_duplicates(arts)
    >>> r.duplicate_of
    {'a': None, 'b': 'a', 'c': None}
    """
    if not 0 < threshold <= 1:
        raise InputError(f"threshold must be in (0, 1], got {threshold!r}", field="threshold")
    if not 0 <= min_length_ratio <= 1:
        raise InputError(f"min_length_ratio must be in [0, 1], got {min_length_ratio!r}", field="min_length_ratio")
    articles = list(articles)
    n = len(articles)
    ids = [a.id for a in articles]
    if len(set(ids)) != n:
        dup = next(i for i, c in Counter(ids).items() if c > 1)
        raise InputError("duplicate id; ids must be unique", where=f"id {dup!r}", field="id")

    texts = [dedup_text(a) for a in articles]
    digests = [hashlib.sha1(t.encode()).digest() for t in texts]
    rows, cols = [], []
    first_of: dict[bytes, int] = {}
    for i, d in enumerate(digests):  # exact duplicates: link to the first with the same digest
        if d in first_of:
            rows.append(first_of[d])
            cols.append(i)
        else:
            first_of[d] = i

    # near duplicates among the distinct texts
    uniq = sorted(first_of.values())
    sets = {i: shingles(texts[i], shingle_size) for i in uniq}
    # LSH threshold on Jaccard: a text trimmed to min_length_ratio of the other
    # has Jaccard about threshold * min_length_ratio with it
    lsh = MinHashLSH(threshold=max(0.05, threshold * min_length_ratio * 0.8), num_perm=num_perm)
    sigs = {}
    for i in tqdm(uniq, desc="dedup", unit="doc", disable=(None if show_progress is None and n > 5000
                                                            else not show_progress)):
        sigs[i] = minhash(sets[i], num_perm)
        for j in lsh.query(sigs[i]):
            a, b = sets[i], sets[j]
            small, large = sorted((len(a), len(b)))
            if small >= min_length_ratio * large and containment(a, b) >= threshold:
                rows.append(j)
                cols.append(i)
        lsh.insert(i, sigs[i])

    graph = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    members: dict[int, list[int]] = {}
    for i, lab in enumerate(labels):
        members.setdefault(int(lab), []).append(i)

    def rank(i):
        d = articles[i].date
        return (d is None, d or 0, i)

    result = DedupResult(duplicate_of={i: None for i in ids})
    reps = sorted((min(g, key=rank), g) for g in members.values() if len(g) > 1)
    for rep, group in reps:  # in the input order of their representatives
        kind = "exact" if len({digests[i] for i in group}) == 1 else "near"
        result.groups.append(DuplicateGroup(ids[rep], tuple(ids[i] for i in group), kind))
        for i in group:
            if i != rep:
                result.duplicate_of[ids[i]] = ids[rep]
    return result
