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


def _damaged_copies(records, n=20):
    """ECB+ records and, for the first ``n``, an OCR-damaged and an abridged copy (later in id order)."""
    import random

    from storyclust.evaluation.damage import damage

    rng = random.Random(7)
    rows = [{"id": r["doc_id"], "title": r["title"], "text": r["text"]} for r in records]
    for r in rows[:n]:
        for kind in ("ocr", "abridged"):
            rows.append({"id": f"{r['id']}~{kind}", "title": r["title"], "text": damage(r["text"], kind, rng)})
    return rows


def test_sketches_made_elsewhere_give_the_same_decisions(ecb_records):
    from storyclust.dedup import ArticleSketch, Deduplicator
    from storyclust.errors import InputError

    arts = load_articles(_damaged_copies(ecb_records[:80]))
    sketches = [ArticleSketch.of(a) for a in arts]
    here = find_duplicates(arts)
    given = find_duplicates(arts, sketches=sketches)
    assert given.duplicate_of == here.duplicate_of and len(here.groups) >= 15
    with pytest.raises(InputError, match="sketches for"):
        Deduplicator().check_all(arts, sketches=sketches[1:])
    with pytest.raises(InputError, match="num_perm=64"):
        Deduplicator(num_perm=64).check_all(arts, sketches=sketches)


def test_the_prepared_embed_step_carries_cleaning_language_terms_and_sketches(ecb_records):
    from storyclust.dedup import ArticleSketch
    from storyclust.engines import articles_from_rows, sketches_from_rows

    rows = [{"id": r["doc_id"], "title": r["title"], "text": r["text"]} for r in ecb_records[:10]]
    rows[0]["text"] = "Photo: Reuters\n\n" + rows[0]["text"]  # a line cleaning takes out
    rows[1]["text"] += "\n\nA 17-year-old and John Doe, 35, were arrested."  # ages the storylines read
    rows[2]["text"] = "no names, no numbers here."
    out = EmbedStep(cache=False, prepare=True)({k: [r[k] for r in rows] for k in ("id", "title", "text")})
    made = [{k: out[k][i] for k in out} for i in range(len(rows))]
    fresh = load_articles(rows)
    adopted = articles_from_rows(made)
    assert all("cleaned" in a.__dict__ and "language" in a.__dict__ for a in adopted)
    assert [a.cleaned for a in adopted] == [a.cleaned for a in fresh]
    assert [a.language for a in adopted] == [a.language for a in fresh]
    assert all("entity_terms" in a.__dict__ and "ages" in a.__dict__ for a in adopted)
    assert [a.entity_terms for a in adopted] == [a.entity_terms for a in fresh]
    assert [a.ages for a in adopted] == [a.ages for a in fresh]
    assert {"17", "35"} <= adopted[1].ages and adopted[2].entity_terms == ()
    assert any(r.reason == "caption" for r in adopted[0].cleaned.removed)
    for got, want in zip(sketches_from_rows(made), [ArticleSketch.of(a) for a in fresh]):
        assert got.digest == want.digest and got.words.size == want.words.size and got.chars.size == want.chars.size
        assert np.array_equal(got.words.values, want.words.values)
        assert np.array_equal(got.chars.values, want.chars.values)


def test_prepared_articles_come_back_from_ray_as_made_here(ray_local, ecb_records):
    from storyclust.engines import ray_engine

    rows = [{"id": r["doc_id"], "title": r["title"], "text": r["text"]} for r in ecb_records[:20]]
    rows[0]["text"] += "\n\nThe 19-year-old, Jane Roe, 41, and a 7-year-old were hurt."
    rows[1] = {"id": "bare", "text": "no names or numbers in this one."}
    arts, fresh = load_articles(rows), load_articles(rows)
    made = ray_engine.prepare_articles(arts, cache=False)
    assert all("entity_terms" in a.__dict__ and "ages" in a.__dict__ for a in arts)  # adopted, not made again
    assert [(a.cleaned, a.language, a.entity_terms, a.ages) for a in arts] == \
           [(a.cleaned, a.language, a.entity_terms, a.ages) for a in fresh]
    assert arts[0].ages == {"19", "41", "7"} and arts[1].entity_terms == () and arts[1].ages == frozenset()
    assert len(made.sketches) == len(arts)


def test_cli_dedup_on_ray_writes_the_local_output(ray_local, ecb_records, tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in _damaged_copies(ecb_records[:60])), encoding="utf-8")
    assert main(["dedup", str(path), "-o", str(tmp_path / "local.jsonl"), "-q"]) == 0
    assert main(["dedup", str(path), "-o", str(tmp_path / "ray.jsonl"), "-q", "--engine", "ray"]) == 0
    local = _lines(tmp_path / "local.jsonl")
    assert _lines(tmp_path / "ray.jsonl") == local
    assert sum(r["duplicate_of"] is not None for r in local) >= 30
    for engine in ("local", "ray"):  # the semantic stage: paragraph vectors made on the workers too
        assert main(["dedup", str(path), "-o", str(tmp_path / f"semantic-{engine}.jsonl"), "-q", "--semantic",
                     "--no-cache", "--engine", engine]) == 0
    assert _lines(tmp_path / "semantic-ray.jsonl") == _lines(tmp_path / "semantic-local.jsonl")


def test_a_ray_dataset_gets_duplicate_of(ray_local, ecb_records, embedder):
    from storyclust.engines import ray_engine

    rows = _damaged_copies(ecb_records[:40], n=10)
    out = ray_engine.dedup(ray_local.data.from_items(rows[::-1])).take_all()
    assert [r["id"] for r in out] == sorted(r["id"] for r in rows)
    want = find_duplicates(load_articles(rows))
    assert {r["id"]: r["duplicate_of"] for r in out} == want.duplicate_of
    from storyclust.dedup import Deduplicator

    kinds = {d.id: d.kind for d in Deduplicator().check_all(load_articles(rows))}
    assert {r["id"]: r["duplicate_kind"] for r in out} == kinds and "exact" in kinds.values()
    assert all(r["text"] == next(x["text"] for x in rows if x["id"] == r["id"]) for r in out)
    semantic = ray_engine.dedup(ray_local.data.from_items(rows), semantic=True, cache=False).take_all()
    local = find_duplicates(load_articles(rows), semantic=True, embedder=embedder)
    assert {r["id"]: r["duplicate_of"] for r in semantic} == local.duplicate_of
