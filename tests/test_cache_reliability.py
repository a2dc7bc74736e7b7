"""EmbeddingCache under SIGKILL: every transaction is whole or absent, and the file stays readable."""

import os
import sqlite3
import zlib

import numpy as np
import pytest

from storyclust.embeddings import EmbeddingCache

from conftest import kill_while_writing

DIM = 32
BATCH = 200


def _batch(gen: int):
    """Texts and vectors of write number ``gen``; each vector is derived from its text alone."""
    texts = [f"text {gen}-{i}" for i in range(BATCH)]
    return texts, np.stack([_vector(t) for t in texts])


def _vector(text: str) -> np.ndarray:
    return np.random.default_rng(zlib.crc32(text.encode())).normal(size=DIM).astype(np.float32)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_cache_killed_while_writing_keeps_whole_batches(tmp_path):
    for _ in kill_while_writing(lambda gen: EmbeddingCache(tmp_path, "m@1", DIM).put(*_batch(gen)), max_sleep=0.1):
        pass

    with sqlite3.connect(tmp_path / "embeddings.sqlite") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    cache = EmbeddingCache(tmp_path, "m@1", DIM)
    complete = 0
    for trial in range(50):
        gen = 1000 * (trial + 1)
        while True:
            texts, vecs = _batch(gen)
            got = cache.get(texts)
            present = [v is not None for v in got]
            assert all(present) or not any(present), f"batch {gen} was written in part"
            if not any(present):
                break
            assert np.array_equal(np.stack(got), vecs)
            complete += 1
            gen += 1
    assert complete >= 50  # the kills landed after many writes, not always before the first


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_dedup_state_save_killed_at_random_moments_leaves_old_or_new_state(tmp_path):
    from storyclust import Article
    from storyclust.dedup import Deduplicator

    def generation(gen: int) -> Deduplicator:
        dd = Deduplicator(show_progress=False)
        dd.check([Article(f"g{gen}-{i}", " ".join(f"w{gen}x{i}x{j}" for j in range(40)))
                  for i in range(100 + gen % 7)])
        return dd

    path = tmp_path / "state"
    generation(0).save(path)
    seen = set()
    for _ in kill_while_writing(lambda gen: generation(gen).save(path), min_sleep=0.02, max_sleep=0.4, seed=1):
        dd = Deduplicator.load(path)
        gen = int(dd._ids[0].split("-")[0][1:])
        assert len(dd) == 100 + gen % 7 and all(i.startswith(f"g{gen}-") for i in dd._ids)
        seen.add(gen)
    assert len(seen) >= 10  # the kills landed after many different saves, not always before the first
