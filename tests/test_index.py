from datetime import datetime

import numpy as np
import pytest

from storyclust import InputError, ModelMismatchError, StoryIndex
from storyclust.documents.entities import RULES_VERSION
from storyclust.index import story_index as si


def _vecs(n, d=8, seed=0):
    return np.random.default_rng(seed).normal(size=(n, d)).astype(np.float32)


def test_add_search_range_remove():
    v = _vecs(50)
    idx = StoryIndex(8, "m@1")
    idx.add([f"d{i}" for i in range(50)], v, model="m@1",
            metadata=[{"date": datetime(2024, 1, 1 + i % 28), "source": "S", "lang": "en"} for i in range(50)])
    hits = idx.search(v[3], k=5)
    assert hits[0].id == "d3" and hits[0].score == pytest.approx(1.0, abs=1e-5)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert hits[0].date == datetime(2024, 1, 4) and hits[0].source == "S"
    unit = v / np.linalg.norm(v, axis=1, keepdims=True)
    sims = unit @ unit[3]
    got = {h.id for h in idx.range_search(v[3], 0.3)}
    assert got == {f"d{i}" for i in np.flatnonzero(sims >= 0.3)}
    idx.remove(["d3"])
    assert "d3" not in idx and len(idx) == 49
    assert idx.search(v[3], k=1)[0].id != "d3"
    with pytest.raises(InputError, match="not in the index"):
        idx.remove(["d3"])


def test_refuses_other_models_and_bad_vectors(tmp_path):
    idx = StoryIndex(8, "m@1")
    with pytest.raises(ModelMismatchError, match="'m@2'"):
        idx.add(["a"], _vecs(1), model="m@2")
    with pytest.raises(InputError, match=r"shape \(n, 8\)"):
        idx.add(["a"], _vecs(1, d=4), model="m@1")
    bad = _vecs(2)
    bad[1, 0] = np.nan
    with pytest.raises(InputError, match="id 'b'"):
        idx.add(["a", "b"], bad, model="m@1")
    idx.add(["a"], _vecs(1), model="m@1")
    with pytest.raises(InputError, match="already in the index"):
        idx.add(["a"], _vecs(1), model="m@1")
    idx.save(tmp_path)
    with pytest.raises(ModelMismatchError, match="rebuild"):
        StoryIndex.load(tmp_path, model="other@1")


def test_save_and_load_round_trip(tmp_path):
    v = _vecs(30)
    idx = StoryIndex(8, "m@1")
    idx.add([str(i) for i in range(30)], v, model="m@1", metadata=[{"date": datetime(2020, 5, 1)}] * 30)
    idx.remove(["4"])
    idx.save(tmp_path / "ix")
    back = StoryIndex.load(tmp_path / "ix", model="m@1")
    assert back.ids == idx.ids and back.factory_string == "Flat"
    assert [h.id for h in back.search(v[7], 5)] == [h.id for h in idx.search(v[7], 5)]
    assert back.search(v[7], 1)[0].date == datetime(2020, 5, 1)
    back.add(["new"], v[:1], model="m@1")  # ids continue after the saved ones
    assert back.search(v[0], 2)[1].id in {"0", "new"}


def test_load_refuses_other_format_or_rules_versions(tmp_path):
    idx = StoryIndex(8, "m@1")
    idx.add(["a"], _vecs(1), model="m@1")
    idx.save(tmp_path)
    meta = (tmp_path / "meta.json").read_text().replace(f'"format_version": {si.FORMAT_VERSION}', '"format_version": 99')
    (tmp_path / "meta.json").write_text(meta)
    with pytest.raises(InputError, match="format version 99.*rebuild"):
        StoryIndex.load(tmp_path)
    # an index whose entity terms were read by older rules (or saved before the field) would not match new ones
    meta = meta.replace('"format_version": 99', f'"format_version": {si.FORMAT_VERSION}')
    for older in (meta.replace(f'"entity_rules": {RULES_VERSION}', '"entity_rules": 1'),
                  meta.replace(f'"entity_rules": {RULES_VERSION}, ', '')):
        (tmp_path / "meta.json").write_text(older)
        with pytest.raises(InputError, match="rules version 1.*rebuild"):
            StoryIndex.load(tmp_path)
    with pytest.raises(InputError, match="not a storyclust index"):
        StoryIndex.load(tmp_path / "nothing")


def test_auto_switches_from_exact_to_ivf_past_the_size(monkeypatch):
    monkeypatch.setattr(si, "EXACT_MAX", 500)
    monkeypatch.setattr("storyclust.index.factory.EXACT_MAX", 500)
    v = _vecs(2000, d=16)
    idx = StoryIndex(16, "m@1", nprobe=64)
    idx.add([str(i) for i in range(400)], v[:400], model="m@1")
    assert idx.factory_string == "Flat"
    idx.add([str(i) for i in range(400, 2000)], v[400:], model="m@1")
    assert idx.factory_string.startswith("IVF")
    found = sum(idx.search(v[i], 1)[0].id == str(i) for i in range(0, 2000, 50))
    assert found >= 38  # approximate, but nearly always right for the vector itself


def test_explicit_factory_string_and_unsupported_one():
    v = _vecs(400, d=16)
    idx = StoryIndex(16, "m@1", factory="IVF8,Flat", nprobe=8)
    idx.add([str(i) for i in range(400)], v, model="m@1")
    assert idx.search(v[10], 1)[0].id == "10"
    with pytest.raises(InputError, match="removal by id"):
        StoryIndex(16, "m@1", factory="HNSW32").add(["a"], v[:1], model="m@1")
