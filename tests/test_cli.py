import json
import subprocess
import sys

import pytest

from storyclust.cli import main

from conftest import SEEDS


def _lines(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("STORYCLUST_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cli-cache"))


def test_cluster_and_dedup_on_the_seed(tmp_path, capsys):
    assert main(["cluster", str(SEEDS), "-o", str(tmp_path / "out.jsonl")]) == 0
    (row,) = _lines(tmp_path / "out.jsonl")
    assert row["id"] == "000_282555f14cda5028" and row["story_id"] is None
    assert row["title"].startswith("Der russische Verteidigungsminister")
    assert (tmp_path / "out.storylines.jsonl").exists()
    assert main(["dedup", str(SEEDS), "-o", str(tmp_path / "d.jsonl")]) == 0
    assert _lines(tmp_path / "d.jsonl") == [{"id": "000_282555f14cda5028", "duplicate_of": None, "kind": None}]


def test_cluster_and_dedup_on_ecb_keep_every_id_once(ecb_file, ecb_records, tmp_path, capsys):
    ids = [r["doc_id"] for r in ecb_records]
    assert main(["cluster", str(ecb_file), "-o", str(tmp_path / "c.jsonl")]) == 0
    rows = _lines(tmp_path / "c.jsonl")
    assert [r["id"] for r in rows] == ids
    stories = _lines(tmp_path / "c.storylines.jsonl")
    assert len(stories) >= 10
    assert sorted(i for s in stories for i in s["article_ids"]) == sorted(r["id"] for r in rows if r["story_id"] is not None)
    assert "storylines" in capsys.readouterr().err
    assert main(["dedup", str(ecb_file), "-o", str(tmp_path / "d.jsonl")]) == 0
    drows = _lines(tmp_path / "d.jsonl")
    assert [r["id"] for r in drows] == ids
    assert any(r["duplicate_of"] for r in drows)
    assert all(r["duplicate_of"] in set(ids) for r in drows if r["duplicate_of"])


def test_index_build_query_and_related(ecb_file, tmp_path, capsys):
    assert main(["index", "build", str(ecb_file), "-o", str(tmp_path / "ix")]) == 0
    capsys.readouterr()
    assert main(["index", "query", str(tmp_path / "ix"), "--query", "Erdbeben in Indonesien", "-k", "3"]) == 0
    hits = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(hits) == 3 and hits[0]["score"] >= hits[-1]["score"]
    assert main(["related", str(ecb_file), "--id", "36_1ecb", "-k", "2"]) == 0
    rel = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["id"].split("_")[0] for r in rel] == ["36", "36"]


def test_bad_input_exits_2_with_a_message_and_no_traceback(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "text": "x"}\n{"id": "a", "text": "y"}\n', encoding="utf-8")
    p = subprocess.run([sys.executable, "-m", "storyclust.cli", "dedup", str(bad), "-o", str(tmp_path / "o.jsonl")],
                       capture_output=True, text=True)
    assert p.returncode == 2
    assert "bad.jsonl:2" in p.stderr and "duplicate id 'a'" in p.stderr and "Traceback" not in p.stderr
    p = subprocess.run([sys.executable, "-m", "storyclust.cli", "dedup", str(bad), "--skip-invalid",
                        "-o", str(tmp_path / "o.jsonl")], capture_output=True, text=True)
    assert p.returncode == 0 and "skipped" in p.stderr
    assert _lines(tmp_path / "o.jsonl") == [{"id": "a", "duplicate_of": None, "kind": None}]


def test_query_needs_exactly_one_of_query_or_id(ecb_file, capsys):
    assert main(["related", str(ecb_file)]) == 2
    assert "exactly one of --query" in capsys.readouterr().err
