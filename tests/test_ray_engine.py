"""The Ray engine: the same output as the local engine, from a local Ray cluster (one per test session)."""

import json

import numpy as np
import pytest

from storyclust import StoryClusterer, find_duplicates, load_articles
from storyclust.cli import main
from storyclust.engines import EmbedStep, embeddings_from_rows


@pytest.fixture(scope="session")
def ray_local():
    from storyclust.engines import ray_engine

    ray = ray_engine.init(num_cpus=2)
    yield ray
    ray.shutdown()


def _lines(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_the_embed_step_gives_embed_articles_vectors(ecb_records, embedder):
    rows = ecb_records[:12]
    batch = {k: [r.get(k) for r in rows] for k in ("doc_id", "title", "text")}
    batch["id"] = batch.pop("doc_id")
    out = EmbedStep(cache=False)(batch)
    got = embeddings_from_rows([{k: out[k][i] for k in out} for i in range(len(rows))])
    want = embedder.embed_articles(load_articles(rows))
    assert np.array_equal(got.vectors, want.vectors) and np.array_equal(got.chunk_vectors, want.chunk_vectors)
    assert got.chunk_texts == want.chunk_texts and np.array_equal(got.chunk_offsets, want.chunk_offsets)
    assert np.array_equal(out["headline_vector"], want.headline_vectors)


def test_cli_cluster_on_ray_writes_the_local_output(ray_local, ecb_file, tmp_path, monkeypatch):
    monkeypatch.setenv("STORYCLUST_CACHE_DIR", str(tmp_path / "cache"))
    assert main(["cluster", str(ecb_file), "-o", str(tmp_path / "local.jsonl"), "-q", "--no-cache"]) == 0
    assert main(["cluster", str(ecb_file), "-o", str(tmp_path / "ray.jsonl"), "-q", "--no-cache",
                 "--engine", "ray"]) == 0
    local, ray = _lines(tmp_path / "local.jsonl"), _lines(tmp_path / "ray.jsonl")
    assert ray == local
    assert len({r["story_id"] for r in local} - {None}) >= 10
    assert (tmp_path / "ray.storylines.jsonl").read_text() == (tmp_path / "local.storylines.jsonl").read_text()


def test_a_ray_dataset_gets_story_ids_and_duplicates(ray_local, ecb_records, embedder):
    from storyclust.engines import ray_engine

    rows = [{"id": r["doc_id"], "title": r["title"], "text": r["text"]} for r in ecb_records[:60]]
    rows.append({**rows[0], "id": "reprint-of-" + rows[0]["id"]})
    ds = ray_local.data.from_items(rows)
    out = ray_engine.storylines(ds, cache=False).take_all()
    assert [r["id"] for r in out] == sorted(r["id"] for r in rows)
    arts = load_articles(sorted(rows, key=lambda r: r["id"]))
    labels = StoryClusterer(embedder=embedder).fit(arts).labels_
    assert [r["story_id"] for r in out] == [int(x) if x >= 0 else None for x in labels]
    dups = find_duplicates(arts, semantic=True, embedder=embedder)
    assert {r["id"]: r["duplicate_of"] for r in out} == {a.id: dups.duplicate_of.get(a.id) for a in arts}
    assert {r["id"]: r["duplicate_of"] for r in out}["reprint-of-" + rows[0]["id"]] == rows[0]["id"]
    assert all(r["text"] == next(x["text"] for x in rows if x["id"] == r["id"]) for r in out)
