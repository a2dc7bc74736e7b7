import json
import subprocess
import sys

import pytest

from storyclust import load_articles
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
    assert "no date" in capsys.readouterr().err  # a .txt file is undated
    assert main(["dedup", str(SEEDS), "-o", str(tmp_path / "d.jsonl")]) == 0
    assert _lines(tmp_path / "d.jsonl") == [{"id": "000_282555f14cda5028", "duplicate_of": None, "kind": None,
                                             "score": 0.0, "stage": None}]


def test_cluster_and_dedup_on_ecb_keep_every_id_once(ecb_file, ecb_records, tmp_path, capsys):
    ids = [r["doc_id"] for r in ecb_records]
    assert main(["cluster", str(ecb_file), "-o", str(tmp_path / "c.jsonl")]) == 0
    rows = _lines(tmp_path / "c.jsonl")
    assert [r["id"] for r in rows] == ids
    stories = _lines(tmp_path / "c.storylines.jsonl")
    assert len(stories) >= 10
    assert sorted(i for s in stories for i in s["article_ids"]) == sorted(r["id"] for r in rows if r["story_id"] is not None)
    err = capsys.readouterr().err
    assert "storylines" in err
    undated = [line for line in err.splitlines() if "no date" in line]  # ECB+ has no dates: said once, in one line
    assert len(undated) == 1 and undated[0].startswith("storyclust: all articles have no date")
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
    # an id of the saved index is answered from its stored vectors and evidence, as `related --id` answers
    assert main(["index", "query", str(tmp_path / "ix"), "--id", "36_1ecb", "-k", "2"]) == 0
    assert [json.loads(line)["id"] for line in capsys.readouterr().out.splitlines()] == [r["id"] for r in rel]
    assert main(["index", "query", str(tmp_path / "ix"), "--id", "nope"]) == 2
    assert "'nope' is not in the index" in capsys.readouterr().err


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
    assert [r["id"] for r in _lines(tmp_path / "o.jsonl")] == ["a"]


def test_query_needs_exactly_one_of_query_or_id(ecb_file, capsys):
    assert main(["related", str(ecb_file)]) == 2
    assert "exactly one of --query" in capsys.readouterr().err


BUDGET = ("The city council approved a new budget on Monday after a debate that lasted more than six hours. "
          "The plan raises spending on schools by four percent and sets aside money to repair roads.")


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_dedup_streams_files_keeps_first_and_resumes_from_a_state(fmt, tmp_path, capsys):
    import pandas as pd

    day1 = pd.DataFrame([{"id": "a", "text": BUDGET, "source": "X"}, {"id": "b", "text": "By Jane Doe\n\n" + BUDGET}])
    day2 = pd.DataFrame([{"id": "c", "text": BUDGET.upper()}, {"id": "d", "text": "A storm closed the port."}])
    paths = []
    for n, df in (("day1", day1), ("day2", day2)):
        p = tmp_path / f"{n}.{fmt}"
        {"jsonl": lambda: df.to_json(p, orient="records", lines=True), "csv": lambda: df.to_csv(p, index=False),
         "parquet": lambda: df.to_parquet(p)}[fmt]()
        paths.append(p)
    state = tmp_path / "state"
    assert main(["dedup", str(paths[0]), "-o", str(tmp_path / "k1.jsonl"), "--keep", "first",
                 "--state", str(state)]) == 0
    assert [(r["id"], r["source"]) for r in _lines(tmp_path / "k1.jsonl")] == [("a", "X")]  # the whole record
    assert "2 articles: 1 kept, 0 exact duplicates, 1 near duplicate\n" in capsys.readouterr().err
    assert main(["dedup", str(paths[1]), "-o", str(tmp_path / "d2.jsonl"), "--state", str(state)]) == 0
    rows = _lines(tmp_path / "d2.jsonl")
    assert [(r["id"], r["duplicate_of"], r["kind"]) for r in rows] == [("c", "a", "exact"), ("d", None, None)]
    assert "checking against 1 articles" in capsys.readouterr().err
    # overlapping crawls: day 2 again, and days 1 and 2 together, report the checked ids as already seen
    assert main(["dedup", str(paths[1]), "-o", str(tmp_path / "d3.jsonl"), "--state", str(state)]) == 0
    assert [(r["id"], r["duplicate_of"], r["kind"]) for r in _lines(tmp_path / "d3.jsonl")] == [
        ("c", "c", "seen"), ("d", "d", "seen")]
    assert "2 already seen" in capsys.readouterr().err
    both = tmp_path / f"both.{fmt}"
    frame = pd.concat([day1, day2, pd.DataFrame([{"id": "e", "text": "By Jim Roe\n\n" + BUDGET}])])
    {"jsonl": lambda: frame.to_json(both, orient="records", lines=True),
     "csv": lambda: frame.to_csv(both, index=False), "parquet": lambda: frame.to_parquet(both)}[fmt]()
    assert main(["dedup", str(both), "-o", str(tmp_path / "k4.jsonl"), "--keep", "first",
                 "--state", str(state)]) == 0
    assert _lines(tmp_path / "k4.jsonl") == []  # e repeats a, the rest were written on earlier days
    assert "5 articles: 0 kept, 0 exact duplicates, 1 near duplicate, 4 already seen" in capsys.readouterr().err


def test_an_interrupted_run_leaves_no_partial_output(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "a", "text": BUDGET}) + "\n" + "{not json\n", encoding="utf-8")
    out = tmp_path / "d.jsonl"
    out.write_text("yesterday's output\n", encoding="utf-8")
    assert main(["dedup", str(src), "-o", str(out)]) == 2
    assert out.read_text(encoding="utf-8") == "yesterday's output\n"  # the old file stands, untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.jsonl", "in.jsonl"]  # no temporary left


def test_dedup_writes_a_paragraph_reuse_report(tmp_path):
    wire = ("The storm closed the port of Valencia on Tuesday and ferries to the Balearic islands were "
            "cancelled until further notice, the port authority said.")
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "a", "text": BUDGET + "\n\n" + wire}) + "\n"
                   + json.dumps({"id": "b", "text": "Valencia (dpa)\n\n" + wire}) + "\n", encoding="utf-8")
    assert main(["dedup", str(src), "-o", str(tmp_path / "d.jsonl"), "--reuse", str(tmp_path / "r.jsonl")]) == 0
    (r,) = _lines(tmp_path / "r.jsonl")
    assert (r["source"], r["source_paragraph"], r["target"], r["target_paragraph"]) == ("a", 1, "b", 1)


def test_dedup_cli_and_find_duplicates_keep_the_same_representative(ecb_file, ecb_records, tmp_path):
    from storyclust import find_duplicates

    expected = find_duplicates(load_articles(ecb_file)).duplicate_of
    assert any(expected.values())
    shuffled = tmp_path / "shuffled.jsonl"
    recs = list(reversed(ecb_records))
    shuffled.write_text("".join(json.dumps(r) + "\n" for r in recs), encoding="utf-8")
    for src in (ecb_file, shuffled):  # whatever the order of the file
        assert main(["dedup", str(src), "-o", str(tmp_path / "d.jsonl")]) == 0
        assert {r["id"]: r["duplicate_of"] for r in _lines(tmp_path / "d.jsonl")} == expected


def test_dedup_finds_an_ocr_damaged_copy_unless_the_character_stage_is_off(ecb_records, tmp_path):
    import random

    from storyclust.evaluation.damage import damage

    orig = max(ecb_records, key=lambda r: len(r["text"]))
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "orig", "text": orig["text"]}) + "\n" + json.dumps(
        {"id": "scan", "text": damage(orig["text"], "ocr", random.Random(0))}) + "\n", encoding="utf-8")
    assert main(["dedup", str(src), "-o", str(tmp_path / "d.jsonl")]) == 0
    assert [(r["id"], r["duplicate_of"], r["stage"]) for r in _lines(tmp_path / "d.jsonl")] == [
        ("orig", None, None), ("scan", "orig", "character")]
    assert main(["dedup", str(src), "-o", str(tmp_path / "d.jsonl"), "--char-threshold", "1"]) == 0
    assert [r["duplicate_of"] for r in _lines(tmp_path / "d.jsonl")] == [None, None]


def test_cluster_marks_reprints_from_its_own_paragraph_vectors(ecb_records, tmp_path, capsys):
    import random

    from storyclust.evaluation.damage import damage

    base = [r for r in ecb_records if len(r["text"]) > 1500][:6]
    copy = dict(base[0], doc_id="copy-of-" + base[0]["doc_id"], text=damage(base[0]["text"], "ocr", random.Random(1)))
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in base + [copy]), encoding="utf-8")
    assert main(["cluster", str(path), "-o", str(tmp_path / "c.jsonl")]) == 0
    rows = {r["id"]: r for r in _lines(tmp_path / "c.jsonl")}
    assert rows[copy["doc_id"]]["duplicate_of"] == base[0]["doc_id"]
    assert [i for i, r in rows.items() if r["duplicate_of"]] == [copy["doc_id"]]
    assert "1 duplicate of another article" in capsys.readouterr().err


def test_related_names_the_original_of_a_reprint_among_the_hits(ecb_records, tmp_path, capsys):
    import random

    from storyclust.evaluation.damage import damage

    base = [r for r in ecb_records if len(r["text"]) > 1500][:8]
    copy = dict(base[0], doc_id="copy", text=damage(base[0]["text"], "re-led", random.Random(2)))
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in base + [copy]), encoding="utf-8")
    assert main(["related", str(path), "--id", base[0]["doc_id"], "-k", "3", "-o", str(tmp_path / "r.jsonl")]) == 0
    hits = _lines(tmp_path / "r.jsonl")
    assert hits[0]["id"] == "copy" and hits[0]["duplicate_of"] == base[0]["doc_id"]
    assert all(h["duplicate_of"] is None for h in hits[1:])


def test_import_and_help_load_no_heavy_library():
    """`import storyclust` and the CLI's parser load neither scikit-learn, faiss, pandas, pyarrow nor torch."""
    code = ("import sys, storyclust; from storyclust.cli import build_parser; build_parser().format_help(); "
            "print(sorted({'sklearn', 'faiss', 'pandas', 'pyarrow', 'torch', 'scipy'} & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_names_are_loaded_on_first_use():
    import storyclust

    assert storyclust.StoryClusterer.__name__ == "StoryClusterer" and "Embedder" in dir(storyclust)
    assert storyclust.storylines.SameStoryTrees.__name__ == "SameStoryTrees"
    with pytest.raises(AttributeError, match="no attribute 'Clusterer'"):
        storyclust.Clusterer


def test_the_main_job_opens_no_network_connection(tmp_path):
    """The bundled default model and everything after it run with every outgoing connection refused."""
    code = f"""
import socket, sys
def refuse(*args, **kwargs):
    raise OSError("network access attempted")
socket.socket.connect = refuse
socket.socket.connect_ex = refuse
socket.create_connection = refuse
from storyclust.cli import main
sys.exit(main(["cluster", {str(SEEDS)!r}, "-o", {str(tmp_path / "out.jsonl")!r}, "--no-cache", "-q"]))
"""
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]
    assert (tmp_path / "out.jsonl").read_text().strip()


def test_cluster_judges_names_with_an_archive(tmp_path, capsys):
    """Alone, three short reports all name Akron, and the storm joins the shooting; an archive where every
    article names Akron says it is no link."""
    rows = [{"id": "a", "text": "Police named the victim as Jimmy Shopteese of Akron. He was shot on Friday night."},
            {"id": "b", "text": "Jimmy Shopteese was remembered at a vigil in Akron on Sunday."},
            {"id": "c", "text": "A storm closed the harbour in Akron and ferries to the islands were cancelled."}]
    (tmp_path / "in.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    (tmp_path / "archive.jsonl").write_text("".join(
        json.dumps({"id": str(i), "text": f"Police in Akron said {i} people were hurt in Summit County."}) + "\n"
        for i in range(300)), encoding="utf-8")
    story = {}
    for name, extra in (("alone", []), ("archive", ["--archive", str(tmp_path / "archive.jsonl")])):
        assert main(["cluster", str(tmp_path / "in.jsonl"), "-o", str(tmp_path / f"{name}.jsonl"), *extra]) == 0
        story[name] = {r["id"]: r["story_id"] for r in _lines(tmp_path / f"{name}.jsonl")}
    assert story["alone"]["c"] is not None and story["alone"]["c"] == story["alone"]["a"]
    assert story["archive"]["c"] is None or story["archive"]["c"] != story["archive"]["a"]
    assert "with 300 archive articles" in capsys.readouterr().err
