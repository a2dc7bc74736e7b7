"""Online storylines: each new batch of articles joins the storylines so far, with stable ids.

Each :meth:`StoryTracker.update` embeds only the new articles, then groups the
active window (the new articles and those of the storylines still active) as
:class:`~storyclust.StoryClusterer` groups a whole input (a name is rare or
common by the counts of the whole stream), and names the groups with the ids
they had (:mod:`~storyclust.storylines.story_ids`). A storyline
that hears nothing for ``dormant_after`` goes dormant: its articles leave the
window and keep their id, so the cost of a batch depends on the window, not on
how long the stream has run.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import time
import uuid
from dataclasses import dataclass, fields, is_dataclass
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Iterable

import numpy as np

from .._files import write_atomically
from ..documents import Article, as_articles, load_articles
from ..documents.entities import RULES_VERSION, check_rules_version
from ..documents.loading import parse_date
from ..errors import InputError, ModelMismatchError
from .describe import Storyline, describe_storylines
from .entities import TermCounts
from .model import SameStoryModel
from .story_ids import StoryIds, name_groups
from .trees import SameStoryTrees

__all__ = ["StoryTracker"]

FORMAT_VERSION = 1


@dataclass
class _Tracked:
    """What the tracker keeps of an article in the window."""

    article: Article
    vector: np.ndarray
    headline: np.ndarray
    time: float  # days since the epoch: its date, or its batch's arrival time
    seq: int  # arrival number
    origin: int | None = None  # the first storyline id it was given


class StoryTracker:
    """Assigns articles to storylines as they arrive; ids stay stable, state saves to a folder.

    Each call to :meth:`update` returns, per article, its storyline id or
    ``None`` (no other article reports its story yet). A storyline forms when
    two articles agree, by the same evidence and model as
    :class:`~storyclust.StoryClusterer` (vectors, headlines, names, numbers,
    dates, sites). When a new article joins two storylines, the older id
    survives and the other maps to it (:meth:`resolve`); an article's id is
    the one :meth:`story_id` gives now. Undated articles take the batch's
    arrival time (``update(..., now=)``, default the latest date seen):
    arrival order stands for time. Articles must carry ids (plain texts are
    refused); one seen before is not added again.

    Parameters
    ----------
    dormant_after : timedelta, default 60 days
        A storyline (or lone article) with no article newer than this, counted
        back from the latest date seen, goes dormant: it leaves the window and
        nothing joins it any more.
    max_active : int, default 20000
        The most articles kept in the window; past it the least recently
        active storylines go dormant first (what bounds memory when no article
        is dated).
    threshold, n_neighbors, model :
        As for :class:`~storyclust.StoryClusterer`.
    embedder : Embedder, optional
        Default ``Embedder()``.
    show_progress : bool, optional
        Progress bars while embedding; default: shown when stderr is a terminal.
    term_counts : TermCounts, optional
        An archive's entity-term counts (``TermCounts.of(past_articles)``) the
        stream's start from, so that its first batches have rare names too.

    Examples
    --------
    >>> from datetime import datetime
    >>> from storyclust import Article
    >>> tracker = StoryTracker()
    >>> tracker.update([Article("a1", "The council passed the budget for schools and roads after a six-hour debate.",
    ...                         date=datetime(2024, 3, 4))])
    [None]
    >>> tracker.update([
    ...     Article("b1", "After a six-hour debate the council passed the budget for schools and roads.",
    ...             date=datetime(2024, 3, 5)),
    ...     Article("b2", "A storm closed the harbour and the ferries to the islands were cancelled.",
    ...             date=datetime(2024, 3, 5))])
    [0, None]
    >>> tracker.story_id("a1")
    0
    """

    def __init__(self, *, dormant_after: timedelta = timedelta(days=60), max_active: int = 20_000,
                 threshold: float = 0.5, n_neighbors: int = 15, model=None, embedder=None,
                 show_progress: bool | None = None, term_counts: TermCounts | None = None):
        TermCounts.check(term_counts)
        self.dormant_after = dormant_after
        self.max_active = max_active
        self.threshold = threshold
        self.n_neighbors = n_neighbors
        self.model = model
        self.embedder = embedder
        self.show_progress = show_progress
        self._ids = StoryIds()
        self._story: dict[str, int | None] = {}  # every article seen -> its id when last grouped (resolve it)
        self._window: dict[str, _Tracked] = {}
        self._dormant: dict[int, Storyline] = {}
        # entity terms over the whole stream (and the archive it starts from): what makes a name rare
        self._terms = term_counts.copy() if term_counts is not None else TermCounts()
        self._clock = math.nan  # the latest time seen, in days since the epoch
        self._next_seq = 0
        self.timings_: dict[str, float] = {}  # seconds per stage of the last update
        self.last_update_: dict = {}  # what the last update did: new, seen, in_storyline, new_storylines, active
        self._state_embedder: str | None = None  # the model a loaded state's vectors came from

    # ------------------------------------------------------------ checks

    def _check_params(self) -> None:
        if not isinstance(self.dormant_after, timedelta) or self.dormant_after <= timedelta(0):
            raise InputError(f"dormant_after must be a positive timedelta, got {self.dormant_after!r}",
                             field="dormant_after")
        if not isinstance(self.max_active, (int, np.integer)) or self.max_active < 2:
            raise InputError(f"max_active must be an integer >= 2, got {self.max_active!r}", field="max_active")
        if self.model is not None and not isinstance(self.model, (SameStoryTrees, SameStoryModel)):
            raise InputError("model must be a SameStoryTrees or a SameStoryModel (a state must be able to "
                             f"name it), got {type(self.model).__name__}", field="model")

    def _embedder(self):
        if self.embedder is None:
            from ..embeddings import Embedder

            self.embedder = Embedder(show_progress=self.show_progress)
            self._check_embedder()
        return self.embedder

    def _check_embedder(self) -> None:
        """A loaded state's vectors and this tracker's embedder must come from one model."""
        made_by = self._state_embedder
        if made_by is not None and self.embedder.fingerprint != made_by:
            raise ModelMismatchError(f"the tracker state holds vectors from {made_by}, not "
                                     f"{self.embedder.fingerprint}; pass that model as embedder=")

    # ------------------------------------------------------------ reading

    def __len__(self) -> int:
        """Articles seen, active or dormant."""
        return len(self._story)

    def __contains__(self, article_id) -> bool:
        return article_id in self._story

    @property
    def n_active(self) -> int:
        """Articles in the active window."""
        return len(self._window)

    def story_id(self, article_id: str) -> int | None:
        """The article's storyline id now (after merges), None when it is in none."""
        if article_id not in self._story:
            raise InputError("not in the tracker; add it with update()", where=f"id {article_id!r}")
        return self._ids.resolve(self._story[article_id])

    def resolve(self, story_id: int | None) -> int | None:
        """The id a storyline id lives on as now (itself unless it merged into another)."""
        return self._ids.resolve(story_id)

    def assignments(self) -> dict[str, int | None]:
        """Every article seen, in arrival order, with its storyline id now."""
        return {i: self._ids.resolve(s) for i, s in self._story.items()}

    def storylines(self, dormant: bool = False) -> list[Storyline]:
        """The active storylines (``dormant=True``: the dormant ones too, as they were when they went quiet),
        by id; ``Storyline.label`` is the storyline id."""
        ids = list(self._window)
        labels = np.array([s if s is not None else -1 for s in (self._ids.resolve(self._story[i]) for i in ids)],
                          dtype=np.int64)
        active = describe_storylines([self._window[i].article for i in ids], labels, self._vectors(ids)) \
            if (labels >= 0).any() else []
        return sorted(active + (list(self._dormant.values()) if dormant else []), key=lambda s: s.label)

    # ------------------------------------------------------------ updating

    def update(self, articles, now: datetime | str | None = None) -> list[int | None]:
        """Add a batch; the storyline id (or None) of each of its articles, in order.

        ``now``: when the batch arrived (a crawl's time, a datetime or ISO 8601); its undated articles
        take it as their time. Default: the latest date seen so far. Articles
        already seen are not added again: their current id is returned. The
        result does not depend on the order of articles within the batch.
        """
        self._check_params()
        now = parse_date(now, "now")
        batch = _batch(articles)
        new = sorted((a for a in batch if a.id not in self._story), key=lambda a: a.id)
        self.timings_ = {}
        next_id = self._ids.next_id
        if new:
            start = time.perf_counter()
            emb = self._embedder().embed_articles(new)
            self.timings_["embed"] = time.perf_counter() - start
            days = np.array([_days(a.date) for a in new])
            arrived = _days(now)
            if not np.isnan(np.r_[days, arrived]).all():
                self._clock = float(np.nanmax(np.r_[days, arrived, self._clock]))
            if math.isnan(arrived):
                arrived = self._clock
            for a, v, h, d in zip(new, emb.vectors, emb.headline_vectors, days):
                self._window[a.id] = _Tracked(a, np.asarray(v, dtype=np.float32), np.asarray(h, dtype=np.float32),
                                              arrived if math.isnan(d) else float(d), self._next_seq)
                self._next_seq += 1
                self._story[a.id] = None
            self._terms.add([a.entity_terms for a in new])
            start = time.perf_counter()
            self._regroup()
            self.timings_["group"] = time.perf_counter() - start
            start = time.perf_counter()
            self._retire()
            self.timings_["retire"] = time.perf_counter() - start
        out = [self._ids.resolve(self._story[a.id]) for a in batch]
        fresh = {a.id for a in new}
        self.last_update_ = {"new": len(new), "seen": len(batch) - len(new),
                             "in_storyline": sum(s is not None for a, s in zip(batch, out) if a.id in fresh),
                             "new_storylines": self._ids.next_id - next_id, "active": self.n_active}
        return out

    def _regroup(self) -> None:
        from .clusterer import StoryClusterer

        ids = list(self._window)
        clus = StoryClusterer(threshold=self.threshold, n_neighbors=self.n_neighbors, model=self.model,
                              embedder=self._embedder(), random_state=0, show_progress=False)
        clus._fit_labels([self._window[i].article for i in ids],
                         embeddings=SimpleNamespace(vectors=self._vectors(ids),
                                                    headline_vectors=np.stack([self._window[i].headline
                                                                               for i in ids])),
                         corpus=self._terms)
        for i, s in zip(ids, name_groups([self._window[i].origin for i in ids], clus.labels_, self._ids)):
            self._story[i] = s
            if self._window[i].origin is None:
                self._window[i].origin = s

    def _retire(self) -> None:
        """Move storylines (and lone articles) quiet for ``dormant_after``, then the least recent past
        ``max_active``, out of the window."""
        units: dict = {}
        for i in self._window:
            s = self._ids.resolve(self._story[i])
            units.setdefault(("story", s) if s is not None else ("alone", i), []).append(i)
        recency = {u: (max(self._window[i].time for i in m), max(self._window[i].seq for i in m))
                   for u, m in units.items()}
        cutoff = self._clock - self.dormant_after / timedelta(days=1)
        quiet = [u for u, (t, _) in recency.items() if t < cutoff]  # NaN (nothing dated yet) is never quiet
        size = len(self._window) - sum(len(units[u]) for u in quiet)
        quiet_set = set(quiet)
        rest = sorted((u for u in units if u not in quiet_set),
                      key=lambda u: (-math.inf if math.isnan(recency[u][0]) else recency[u][0], recency[u][1]))
        for u in rest:
            if size <= self.max_active:
                break
            quiet.append(u)
            size -= len(units[u])
        for kind, key in quiet:
            members = units[(kind, key)]
            if kind == "story":
                arts = [self._window[i].article for i in members]
                story = describe_storylines(arts, np.full(len(arts), key), self._vectors(members))[0]
                self._dormant[key] = story
            for i in members:
                del self._window[i]
        # an article that moved out of a storyline now dormant no longer claims its id (dormant ids stay dormant)
        retired = {key for kind, key in quiet if kind == "story"}
        for t in self._window.values():
            if t.origin is not None and self._ids.resolve(t.origin) in retired:
                t.origin = None

    def _vectors(self, ids: list) -> np.ndarray:
        return np.stack([self._window[i].vector for i in ids])

    # ------------------------------------------------------------ persistence

    def save(self, path) -> Path:
        """Write the state to a folder (``tracker.json`` naming a ``state-*.npz`` and ``state-*.json``).

        Atomic: the new files get new names and ``tracker.json`` is replaced
        last, so a crash at any moment leaves the old or the new state. No pickles.
        """
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        name = f"state-{uuid.uuid4().hex}"
        kept = list(self._window.items())
        dim = self._embedder().dim
        arrays = io.BytesIO()
        np.savez(arrays, ids=np.array([i for i, _ in kept], dtype=str),
                 vectors=np.stack([t.vector for _, t in kept]) if kept else np.zeros((0, dim), np.float32),
                 headlines=np.stack([t.headline for _, t in kept]) if kept else np.zeros((0, dim), np.float32))
        write_atomically(path / f"{name}.npz", arrays.getvalue())
        state = {"clock": _nan_none(self._clock), "next_seq": self._next_seq,
                 "next_id": self._ids.next_id, "merged": [[k, v] for k, v in self._ids.merged.items()],
                 "story": list(self._story.items()),
                 "window": [{"article": t.article.to_dict(), "time": _nan_none(t.time), "seq": t.seq,
                             "origin": t.origin} for _, t in kept],
                 "dormant": [s.to_dict() for s in self._dormant.values()],
                 "terms": {"counts": self._terms.counts, "n_documents": self._terms.n_documents}}
        write_atomically(path / f"{name}.json", json.dumps(state, ensure_ascii=False).encode())
        meta = {"format": "storyclust-tracker", "format_version": FORMAT_VERSION, "entity_rules": RULES_VERSION,
                "state": name,
                "embedder": self._embedder().fingerprint, "model": model_fingerprint(self.model),
                "params": {"dormant_after_days": self.dormant_after / timedelta(days=1),
                           "max_active": int(self.max_active), "threshold": self.threshold,
                           "n_neighbors": self.n_neighbors}}
        write_atomically(path / "tracker.json", json.dumps(meta, ensure_ascii=False).encode())
        for p in path.iterdir():  # earlier states and temporaries of interrupted saves
            if p.name.startswith(("state-", ".tracker.json.", ".state-")) and name not in p.name:
                p.unlink(missing_ok=True)
        return path

    @classmethod
    def load(cls, path, *, model=None, embedder=None, show_progress: bool | None = None) -> "StoryTracker":
        """Read a state written by :meth:`save`; ``model`` and ``embedder`` must be those it was built with."""
        path = Path(path)
        meta_path = path / "tracker.json"
        if not meta_path.exists():
            raise InputError("no tracker.json here; save a StoryTracker to this folder first", where=str(path))
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if meta.get("format") != "storyclust-tracker" or meta.get("format_version") != FORMAT_VERSION:
            raise InputError(f"tracker format version {meta.get('format_version')!r} is not {FORMAT_VERSION}, "
                             "which this storyclust reads; rebuild the state", where=str(path))
        check_rules_version(meta.get("entity_rules"), str(path), "rebuild the state")
        if model_fingerprint(model) != meta["model"]:
            raise ModelMismatchError(f"the state at {path} was built with same-story model {meta['model']}, not "
                                     f"{model_fingerprint(model)}; pass that model as model=")
        p = meta["params"]
        tracker = cls(dormant_after=timedelta(days=p["dormant_after_days"]), max_active=p["max_active"],
                      threshold=p["threshold"], n_neighbors=p["n_neighbors"], model=model, embedder=embedder,
                      show_progress=show_progress)
        tracker._state_embedder = meta["embedder"]
        if embedder is not None:  # the default model is checked when first needed: reading needs none
            tracker._check_embedder()
        state = json.loads((path / f"{meta['state']}.json").read_text(encoding="utf-8"))
        with np.load(path / f"{meta['state']}.npz", allow_pickle=False) as z:
            ids, vectors, headlines = z["ids"].tolist(), z["vectors"], z["headlines"]
        tracker._clock = math.nan if state["clock"] is None else state["clock"]
        tracker._next_seq = state["next_seq"]
        tracker._ids = StoryIds(state["next_id"], {int(k): int(v) for k, v in state["merged"]})
        tracker._story = {i: s for i, s in state["story"]}
        arts = load_articles([w["article"] for w in state["window"]])
        for a, w, i, v, h in zip(arts, state["window"], ids, vectors, headlines):
            if a.id != i:
                raise InputError("state files disagree; rebuild the state", where=str(path))
            tracker._window[i] = _Tracked(a, v, h, math.nan if w["time"] is None else w["time"], w["seq"], w["origin"])
        tracker._dormant = {d["story_id"]: _storyline(d) for d in state["dormant"]}
        tracker._terms = TermCounts(state["terms"]["counts"], state["terms"]["n_documents"])
        return tracker


def model_fingerprint(model) -> str:
    """A short hash of a same-story model's parameters (``"default"`` for None)."""
    if model is None:
        return "default"
    h = hashlib.blake2b(digest_size=8)

    def feed(m):
        h.update(type(m).__name__.encode())
        for f in fields(m):
            v = getattr(m, f.name)
            if is_dataclass(v):
                feed(v)
            elif isinstance(v, np.ndarray):
                h.update(np.ascontiguousarray(v).tobytes())
            else:
                h.update(repr(v).encode())

    feed(model)
    return f"{type(model).__name__}:{h.hexdigest()}"


def _batch(articles) -> list[Article]:
    """The batch as Articles; plain texts are refused (they carry no id to track them by) and ids must be unique."""
    if isinstance(articles, (Article, str, bytes)):
        raise InputError("update() takes a batch (a list of articles, dicts or a DataFrame), not one article",
                         field="articles")
    items = list(articles) if isinstance(articles, Iterable) and not hasattr(articles, "columns") else articles
    if isinstance(items, list):
        if not items:
            return []
        for k, x in enumerate(items):
            if isinstance(x, str):
                raise InputError("a plain text has no id to track it by; pass Articles or dicts with an 'id'",
                                 where=f"record {k}", field="id")
    batch = as_articles(items)
    if batch is None:
        raise InputError("update() takes articles (Articles, dicts with id and text, a DataFrame), not vectors",
                         field="articles")
    seen: set = set()
    for a in batch:
        if a.id in seen:
            raise InputError("the id appears twice in this batch; ids must be unique", where=f"id {a.id!r}",
                             field="id")
        seen.add(a.id)
    return batch


def _days(date: datetime | None) -> float:
    return date.timestamp() / 86400.0 if date else math.nan


def _nan_none(x: float):
    return None if math.isnan(x) else x


def _storyline(d: dict) -> Storyline:
    return Storyline(d["story_id"], tuple(d["article_ids"]), tuple(d["keywords"]), d["headline"],
                     datetime.fromisoformat(d["start"]) if d["start"] else None,
                     datetime.fromisoformat(d["end"]) if d["end"] else None,
                     d["representative"], tuple(d["sources"]), tuple(d["languages"]))
