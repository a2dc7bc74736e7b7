"""The Ray engine: per-article steps on a Ray cluster's actors, the global stages on the gathered columns.

``embed`` runs :class:`~storyclust.engines.steps.EmbedStep` with
``map_batches`` on a pool of actors, each loading the model once; ``sketch``
runs :class:`~storyclust.engines.steps.SketchStep` (dedup signatures) as tasks.
``storylines`` and ``dedup`` gather those columns and run the same
:class:`~storyclust.StoryClusterer` and :func:`~storyclust.find_duplicates`
as the local engine, so the output is the local engine's. ``prepare_articles``
and ``dedup_articles`` are what ``storyclust cluster|dedup --engine ray`` call.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from typing import TYPE_CHECKING, NamedTuple, Sequence

from ..documents import Article
from ..errors import StoryclustError
from .steps import _COLUMNS, EmbedStep, _adopt, SketchStep, articles_from_rows, embeddings_from_rows, sketches_from_rows

if TYPE_CHECKING:
    from ..dedup import ArticleSketch
    from ..embeddings import ArticleEmbeddings

__all__ = ["Prepared", "dedup", "embed", "embed_articles", "init", "dedup_articles", "prepare_articles", "sketch",
           "storylines"]

_ROW = "_storyclust_row"  # the input position, so that results come back in input order


def init(address: str | None = None, num_cpus: int | None = None, show_progress: bool | None = None):
    """Connect to the Ray cluster at ``address``, or start a local one on this machine's usable CPUs
    (dashboard and usage statistics off); nothing is done when Ray is already initialised."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    try:
        import ray
        import ray.data
    except ImportError:
        raise StoryclustError("the Ray engine needs Ray: pip install 'storyclust[ray]'") from None
    if not ray.is_initialized():
        if address:
            ray.init(address=address, log_to_driver=False)
        else:
            from ..embeddings.backends import usable_cpus

            ray.init(num_cpus=num_cpus or usable_cpus(), include_dashboard=False, log_to_driver=False,
                     object_store_memory=512 * 2**20)
    ray.data.DataContext.get_current().enable_progress_bars = bool(show_progress)
    return ray


def embed(ds, model: str | None = None, *, concurrency: int | None = None, batch_size: int = 64,
          cache: bool = True, cache_dir=None, prepare: bool = False, num_perm: int = 128):
    """A Ray Dataset of article records, with the columns :class:`EmbedStep` adds (one model per actor;
    ``concurrency`` actors, default one per CPU of the cluster)."""
    import ray

    workers = concurrency or max(1, int(ray.cluster_resources().get("CPU", 1)))
    kwargs = {"model": model, "cache": cache, "cache_dir": cache_dir, "prepare": prepare, "num_perm": num_perm}
    return ds.map_batches(EmbedStep, fn_constructor_kwargs=kwargs, batch_size=batch_size, batch_format="numpy",
                          compute=ray.data.ActorPoolStrategy(size=workers), num_cpus=1)


def sketch(ds, *, num_perm: int = 128, batch_size: int = 256):
    """A Ray Dataset of article records, with the dedup sketch columns :class:`SketchStep` adds (as tasks)."""
    return ds.map_batches(SketchStep(num_perm), batch_size=batch_size, batch_format="numpy", num_cpus=1)


class Prepared(NamedTuple):
    """What the workers made of a list of articles: their embeddings and their dedup sketches."""

    embeddings: ArticleEmbeddings | None  # None when only the sketches were asked for
    sketches: list[ArticleSketch]


def embed_articles(articles: Sequence[Article], model: str | None = None, *, address: str | None = None,
                   cache: bool = True, cache_dir=None, concurrency: int | None = None,
                   show_progress: bool | None = None):
    """The :class:`~storyclust.ArticleEmbeddings` of ``articles``, computed on Ray, in their order."""
    rows = _run(articles, address, show_progress,
                lambda ds: embed(ds, model, concurrency=concurrency, cache=cache, cache_dir=cache_dir))
    return embeddings_from_rows(rows)


def prepare_articles(articles: Sequence[Article], model: str | None = None, *, address: str | None = None,
                     cache: bool = True, cache_dir=None, concurrency: int | None = None, num_perm: int = 128,
                     show_progress: bool | None = None) -> Prepared:
    """Embed, clean and sketch ``articles`` on Ray: their embeddings and dedup sketches, in their order; each
    article keeps the cleaned text and language made on the workers (``storyclust cluster --engine ray``)."""
    rows = _run(articles, address, show_progress,
                lambda ds: embed(ds, model, concurrency=concurrency, cache=cache, cache_dir=cache_dir, prepare=True,
                                 num_perm=num_perm))
    for a, r in zip(articles, rows):
        _adopt(a, r)
    return Prepared(embeddings_from_rows(rows), sketches_from_rows(rows))


def dedup_articles(articles: Sequence[Article], *, semantic: bool = False, model: str | None = None,
                   address: str | None = None, cache: bool = True, cache_dir=None, concurrency: int | None = None,
                   num_perm: int = 128, show_progress: bool | None = None) -> Prepared:
    """What the dedup reads of ``articles``, made on Ray, in their order: their sketches, and with
    ``semantic=True`` their embeddings (else None), as ``storyclust dedup --engine ray`` passes them on."""
    if semantic:  # the semantic stage reads the cleaned text and the paragraph vectors: made there together
        return prepare_articles(articles, model, address=address, cache=cache, cache_dir=cache_dir,
                                concurrency=concurrency, num_perm=num_perm, show_progress=show_progress)
    rows = _run(articles, address, show_progress, lambda ds: sketch(ds, num_perm=num_perm))
    return Prepared(None, sketches_from_rows(rows))


def _dedup_columns(ds, semantic: bool, model, concurrency, cache, cache_dir, num_perm: int):
    """The columns the dedup reads: sketches as tasks, or with the semantic stage the prepared embedding."""
    if semantic:
        return embed(ds, model, concurrency=concurrency, cache=cache, cache_dir=cache_dir, prepare=True,
                     num_perm=num_perm)
    return sketch(ds, num_perm=num_perm)


def _run(articles: Sequence[Article], address: str | None, show_progress: bool | None, step) -> list:
    """The rows ``step`` (a Dataset in, a Dataset out) makes of the articles' records, in their order."""
    with _session(address, show_progress) as ray:
        records = [{**a.to_dict(), _ROW: i} for i, a in enumerate(articles)]
        rows = step(ray.data.from_items(records)).take_all()
    rows.sort(key=lambda r: r[_ROW])
    return rows


@contextmanager
def _session(address: str | None, show_progress: bool | None):
    """Ray, initialised for the block; shut down after it when the block started it, so that its workers
    leave the CPUs to the global stages that follow."""
    import ray

    started = not ray.is_initialized()
    init(address, show_progress=show_progress)
    try:
        yield ray
    finally:
        if started:
            ray.shutdown()


def storylines(ds, model: str | None = None, *, clusterer=None, concurrency: int | None = None,
               cache: bool = True, cache_dir=None):
    """A Ray Dataset of article records (each with an ``id``) with ``story_id`` and ``duplicate_of`` columns
    added, as ``storyclust cluster`` writes them, in id order: the embedding on the actors, the storylines
    and duplicate groups on the gathered vectors (one machine holds them up to millions of articles)."""
    import ray

    from ..dedup import find_duplicates
    from ..embeddings import Embedder
    from ..storylines import StoryClusterer

    rows = embed(ds, model, concurrency=concurrency, cache=cache, cache_dir=cache_dir, prepare=True).take_all()
    rows.sort(key=lambda r: str(r["id"]))  # the storylines do not depend on the order; the output is in id order
    articles = articles_from_rows(rows)
    embedded = embeddings_from_rows(rows)
    embedder = Embedder(model, cache=cache, cache_dir=cache_dir, show_progress=False)
    clus = clusterer or StoryClusterer(embedder=embedder, show_progress=False)
    labels = clus.fit(articles, embeddings=embedded).labels_
    dups = find_duplicates(articles, semantic=True, embedder=embedder, embeddings=embedded,
                           sketches=sketches_from_rows(rows), show_progress=False)
    return ray.data.from_items([{**_record(r), "story_id": int(lab) if lab >= 0 else None,
                                 "duplicate_of": dups.duplicate_of.get(a.id)}
                                for r, a, lab in zip(rows, articles, labels)])


def dedup(ds, *, threshold: float = 0.6, char_threshold: float = 0.65, semantic: bool = False,
          model: str | None = None, concurrency: int | None = None, cache: bool = True, cache_dir=None,
          num_perm: int = 128):
    """A Ray Dataset of article records (each with an ``id``) with ``duplicate_of`` (the id of the earlier
    article it repeats, or None) and ``duplicate_kind`` (``exact``, ``near`` or None) columns added, in id
    order: the sketches (and with ``semantic=True`` the paragraph vectors) made on the workers, the decisions
    on the gathered sketches, as :func:`~storyclust.find_duplicates` makes them. Keep the first of each group
    with ``.filter(lambda r: r["duplicate_of"] is None)``."""
    import ray

    from ..dedup import Deduplicator

    made = _dedup_columns(ds, semantic, model, concurrency, cache, cache_dir, num_perm)
    rows = sorted(made.take_all(), key=lambda r: str(r["id"]))
    articles = articles_from_rows(rows)
    embedder = None
    if semantic:
        from ..embeddings import Embedder

        embedder = Embedder(model, cache=cache, cache_dir=cache_dir, show_progress=False)
    dd = Deduplicator(threshold, char_threshold=char_threshold, semantic=semantic, embedder=embedder,
                      num_perm=num_perm, show_progress=False)
    decisions = dd.check_all(articles, embeddings=embeddings_from_rows(rows) if semantic else None,
                             sketches=sketches_from_rows(rows))
    return ray.data.from_items([{**_record(r), "duplicate_of": d.duplicate_of, "duplicate_kind": d.kind}
                                for r, d in zip(rows, decisions)])


def _record(row) -> dict:
    """The input record of a row the steps went through (their columns left out)."""
    return {k: v for k, v in row.items() if k not in _COLUMNS}

