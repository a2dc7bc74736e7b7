"""Finding exact and near-duplicate articles in a collection."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from .._words import plural
from ..documents import Article
from .stream import Deduplicator

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
        return (f"{plural(len(self.duplicate_of), 'article')}: {len(self.kept)} kept, "
                f"{plural(kinds.count('exact'), 'exact duplicate')}, {plural(kinds.count('near'), 'near duplicate')}, "
                f"in {plural(len(self.groups), 'group')}")


def find_duplicates(articles: Sequence[Article], *, threshold: float = 0.6, char_threshold: float = 0.65,
                    semantic: bool = False, min_shared: float = 0.7, min_length_ratio: float = 0.25,
                    embedder=None, embeddings=None, sketches=None,
                    show_progress: bool | None = None) -> DedupResult:
    """Group exact and near-duplicate articles of a collection.

    The articles go through a :class:`~storyclust.dedup.Deduplicator` (see there
    for the four stages and the parameters; ``embeddings``, the articles'
    :class:`~storyclust.ArticleEmbeddings`, spares the semantic stage from
    embedding their paragraphs again, and ``sketches``, their
    :class:`~storyclust.dedup.ArticleSketch`, from sketching them again) from the earliest to the latest
    (by date, undated last, then id). So each group's representative is its
    earliest article, and the groups do not depend on the input order. Each
    duplicate is linked to the representative it repeats.

    >>> from storyclust import Article
    >>> body = "The council approved the new budget on Monday after a long debate about schools and roads."
    >>> arts = [Article("a", body, title="Budget passes"),
    ...         Article("b", body + "\\n\\nShare this article", title="Council votes"),
    ...         Article("c", "A storm closed the harbour for two days and ferries were cancelled.")]
    >>> r = find_duplicates(arts)
    >>> r.duplicate_of
    {'a': None, 'b': 'a', 'c': None}
    """
    dd = Deduplicator(threshold, char_threshold=char_threshold, semantic=semantic, min_shared=min_shared,
                      min_length_ratio=min_length_ratio, embedder=embedder, show_progress=show_progress)
    decisions = {d.id: d for d in dd.check_all(articles, embeddings=embeddings, sketches=sketches)}
    ids = list(decisions)

    result = DedupResult(duplicate_of={i: decisions[i].duplicate_of for i in ids})
    members: dict[str, list[str]] = {}
    for i in ids:
        rep = decisions[i].duplicate_of
        if rep is not None:
            members.setdefault(rep, [rep]).append(i)
    position = {i: n for n, i in enumerate(ids)}
    for rep, group in sorted(members.items(), key=lambda kv: position[kv[0]]):
        group.sort(key=position.__getitem__)
        kind = "exact" if all(decisions[m].kind == "exact" for m in group if m != rep) else "near"
        result.groups.append(DuplicateGroup(rep, tuple(group), kind))
    return result
