"""The Ray engine: per-article steps on a Ray cluster's actors, the global stages on the gathered columns.

``embed`` runs :class:`~storyclust.engines.steps.EmbedStep` with
``map_batches`` on a pool of actors, each loading the model once;
``storylines`` gathers the vectors and runs the same
:class:`~storyclust.StoryClusterer` and :func:`~storyclust.find_duplicates`
as the local engine, so the output is the local engine's. ``embed_articles``
is what ``storyclust cluster --engine ray`` calls.
"""

from __future__ import annotations

import os
from typing import Sequence

from ..documents import Article, load_articles
from ..errors import StoryclustError
from .steps import _COLUMNS, EmbedStep, _plain, embeddings_from_rows

__all__ = ["embed", "embed_articles", "init", "storylines"]

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
          cache: bool = True, cache_dir=None):
    """A Ray Dataset of article records, with the columns :class:`EmbedStep` adds (one model per actor;
    ``concurrency`` actors, default one per CPU of the cluster)."""
    import ray

    workers = concurrency or max(1, int(ray.cluster_resources().get("CPU", 1)))
    return ds.map_batches(EmbedStep, fn_constructor_kwargs={"model": model, "cache": cache, "cache_dir": cache_dir},
                          batch_size=batch_size, batch_format="numpy", concurrency=workers, num_cpus=1)


def embed_articles(articles: Sequence[Article], model: str | None = None, *, address: str | None = None,
                   cache: bool = True, cache_dir=None, concurrency: int | None = None,
                   show_progress: bool | None = None):
    """The :class:`~storyclust.ArticleEmbeddings` of ``articles``, computed on Ray, in their order."""
    ray = init(address, show_progress=show_progress)
    records = [{**a.to_dict(), _ROW: i} for i, a in enumerate(articles)]
    rows = embed(ray.data.from_items(records), model, concurrency=concurrency, cache=cache,
                 cache_dir=cache_dir).take_all()
    rows.sort(key=lambda r: r[_ROW])
    return embeddings_from_rows(rows)


def storylines(ds, model: str | None = None, *, clusterer=None, concurrency: int | None = None,
               cache: bool = True, cache_dir=None):
    """A Ray Dataset of article records (each with an ``id``) with ``story_id`` and ``duplicate_of`` columns
    added, as ``storyclust cluster`` writes them, in id order: the embedding on the actors, the storylines
    and duplicate groups on the gathered vectors (one machine holds them up to millions of articles)."""
    import ray

    from ..dedup import find_duplicates
    from ..embeddings import Embedder
    from ..storylines import StoryClusterer

    rows = embed(ds, model, concurrency=concurrency, cache=cache, cache_dir=cache_dir).take_all()
    rows.sort(key=lambda r: str(r["id"]))  # the storylines do not depend on the order; the output is in id order
    records = [{k: v for k, v in r.items() if k not in _COLUMNS} for r in rows]
    articles = load_articles([{k: _plain(v) for k, v in r.items()} for r in records])
    embedded = embeddings_from_rows(rows)
    embedder = Embedder(model, cache=cache, cache_dir=cache_dir, show_progress=False)
    clus = clusterer or StoryClusterer(embedder=embedder, show_progress=False)
    labels = clus.fit(articles, embeddings=embedded).labels_
    dups = find_duplicates(articles, semantic=True, embedder=embedder, embeddings=embedded, show_progress=False)
    out = [{**r, "story_id": int(lab) if lab >= 0 else None, "duplicate_of": dups.duplicate_of.get(a.id)}
           for r, a, lab in zip(records, articles, labels)]
    return ray.data.from_items(out)

