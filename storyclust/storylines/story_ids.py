"""Stable storyline ids: a new grouping of the tracked articles named with the ids they already had.

Each id goes home to the group that holds most of the articles that had it
(ties: the group with the smaller label). A group takes the oldest (smallest)
id among those whose home it is, and the other ids at home there merge into
it; a group that is home to no id gets a new one. So ids survive regrouping,
an article keeps its id unless it moved, and when two storylines join the older
id survives.
"""

from __future__ import annotations

from collections import Counter
from typing import Sequence

import numpy as np

__all__ = ["StoryIds", "name_groups"]


class StoryIds:
    """Storyline ids handed out so far and which merged into which.

    >>> ids = StoryIds()
    >>> a, b = ids.new(), ids.new()
    >>> ids.merge(b, into=a)
    >>> ids.resolve(b), ids.resolve(a), ids.resolve(None)
    (0, 0, None)
    """

    def __init__(self, next_id: int = 0, merged: dict[int, int] | None = None):
        self.next_id = int(next_id)
        self.merged: dict[int, int] = dict(merged or {})

    def new(self) -> int:
        self.next_id += 1
        return self.next_id - 1

    def merge(self, old: int, into: int) -> None:
        if old != into:
            self.merged[old] = into

    def resolve(self, story_id: int | None) -> int | None:
        """The id that ``story_id`` lives on as after merges (None stays None)."""
        seen = 0
        while story_id in self.merged:
            story_id = self.merged[story_id]
            seen += 1
            if seen > len(self.merged):  # a cycle would be a bug; refuse rather than loop forever
                raise RuntimeError(f"storyline id merges form a cycle at {story_id}")
        return story_id


def name_groups(origins: Sequence[int | None], labels: np.ndarray, ids: StoryIds) -> list[int | None]:
    """Storyline ids for ``labels`` (a grouping, -1 alone) given the id each article was first given
    (``origins``; None: none yet).

    Each first id goes home to the group holding most of the articles first
    given it (ties: the smaller label). A group takes the oldest id at home
    there and the others map to it (``ids.merged``); a group home to no id
    gets a new one, in label order. An id that had merged and now names a
    group of its own is split off again, so an article keeps the id it was
    first given whenever the articles that shared it stay together.

    >>> ids = StoryIds(next_id=3)
    >>> name_groups([1, 1, 2, None, None, None], np.array([0, 0, 0, 1, 1, -1]), ids), ids.merged
    ([1, 1, 1, 3, 3, None], {2: 1})
    >>> name_groups([1, 1, 2, 3, 3], np.array([0, 0, 1, 2, 2]), ids), ids.merged
    ([1, 1, 2, 3, 3], {})
    """
    labels = np.asarray(labels)
    count = Counter((int(lab), o) for lab, o in zip(labels, origins) if lab >= 0 and o is not None)
    home: dict[int, int] = {}
    for (lab, o), c in sorted(count.items()):  # ascending label: a tie goes to the smaller label
        if o not in home or c > count[(home[o], o)]:
            home[o] = lab
    at_home: dict[int, list[int]] = {}
    for o, lab in home.items():
        at_home.setdefault(lab, []).append(o)
    name: dict[int, int] = {}
    for lab in sorted(set(labels[labels >= 0].tolist())):
        owned = sorted(at_home.get(lab, []))
        if owned:
            name[lab] = owned[0]
            ids.merged.pop(owned[0], None)
            for other in owned[1:]:
                ids.merge(other, into=owned[0])
        else:
            name[lab] = ids.new()
    return [name[int(lab)] if lab >= 0 else None for lab in labels]
