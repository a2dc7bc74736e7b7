"""StoryIndex under crashes and threads: the guarantees in its docstring."""

import os
import threading

import numpy as np
import pytest

from storyclust import StoryIndex

from conftest import kill_while_writing


def _state(gen: int):
    """The articles of save generation ``gen``: ids and vectors that only that generation has."""
    rng = np.random.default_rng(gen)
    n = 3000 + 500 * (gen % 3)
    return [f"g{gen}-{i}" for i in range(n)], rng.normal(size=(n, 64)).astype(np.float32)


def _save(path, gen: int):
    ids, vecs = _state(gen)
    idx = StoryIndex(64, "m@1")
    idx.add(ids, vecs, model="m@1")
    if gen % 2:  # some generations remove a few, so the index and next_id differ in more ways
        idx.remove(ids[:10])
    idx.save(path)


def _check_loadable(path) -> int:
    idx = StoryIndex.load(path, model="m@1")
    gen = int(idx.ids[-1].split("-")[0][1:])
    ids, vecs = _state(gen)
    expected = ids[10:] if gen % 2 else ids
    assert idx.ids == expected
    for j in (-1, len(ids) // 2):
        assert idx.search(vecs[j], 1)[0].id == ids[j]
    return gen


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_save_killed_at_random_moments_leaves_old_or_new_state(tmp_path):
    path = tmp_path / "ix"
    _save(path, 0)
    seen = {_check_loadable(path) for _ in kill_while_writing(lambda gen: _save(path, gen))}
    # the kills landed after many different saves, not always before the first one
    assert len(seen) >= 25
    # interrupted saves leave temporaries and index files; the next save clears them
    _save(path, 7)
    assert sorted(p.name for p in path.iterdir() if not p.name.startswith(("index-", "headlines-"))) == ["meta.json"]
    assert len(list(path.glob("index-*.faiss"))) == len(list(path.glob("headlines-*.faiss"))) == 1


def test_concurrent_searches_while_one_thread_adds_and_removes():
    rng = np.random.default_rng(0)
    vecs = rng.normal(size=(2000, 16)).astype(np.float32)
    idx = StoryIndex(16, "m@1")
    idx.add([str(i) for i in range(200)], vecs[:200], model="m@1")
    stop = threading.Event()
    errors = []

    def reader(seed):
        r = np.random.default_rng(seed)
        try:
            while not stop.is_set():
                q = vecs[r.integers(0, 200)]
                hits = idx.search(q, k=5)
                assert len(hits) == 5
                assert all(0 <= int(h.id) < 2000 for h in hits)
                assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
                idx.range_search(q, 0.5)
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=reader, args=(s,)) for s in range(4)]
    for t in threads:
        t.start()
    for start in range(200, 2000, 100):
        idx.add([str(i) for i in range(start, start + 100)], vecs[start:start + 100], model="m@1")
        idx.remove([str(start)])  # one id of each batch goes again
    stop.set()
    for t in threads:
        t.join()
    assert not errors, errors[:3]
    assert len(idx) == 2000 - 18
    assert all(idx.search(vecs[i], 1)[0].id == str(i) for i in (250, 999, 1999))
