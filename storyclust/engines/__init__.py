"""Engines: where the per-article steps run. A step (``steps``: embedding with cleaning, dedup sketches) is a
callable set up once that takes a batch of records and returns it with new columns; the local engine calls it in
this process, ``ray_engine`` on a Ray cluster's workers. The global stages (storylines, duplicate decisions) then
run on the gathered columns."""

from .steps import EmbedStep, SketchStep, articles_from_rows, embeddings_from_rows, sketches_from_rows

__all__ = ["EmbedStep", "SketchStep", "articles_from_rows", "embeddings_from_rows", "sketches_from_rows"]
