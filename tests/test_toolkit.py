"""What a new user trips over (issue 18's numbered items): each has a test here or beside its module's."""

import json
import pickle
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from storyclust import Article, Embedder, InputError, StoryClusterer, StoryIndex, find_related, load_articles
from storyclust.cli import main

from conftest import DATA, SEEDS

TEXTS = ["The city council approved the new budget on Monday after a debate that lasted six hours.",
         "A storm closed the harbour for two days and ferries to the islands were cancelled.",
         "The museum reopened after a renovation that took two years and cost forty million."]


def _lines(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("STORYCLUST_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cli-cache"))


# 1. what a BERTopic user passes to fit
@pytest.mark.parametrize("given", ["strings", "series", "dataframe", "dicts", "path"])
def test_fit_takes_texts_dataframes_dicts_and_paths(given, embedder, tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps({"id": str(i), "text": t}) + "\n" for i, t in enumerate(TEXTS)))
    X = {"strings": TEXTS, "series": pd.Series(TEXTS), "dataframe": pd.DataFrame({"text": TEXTS}),
         "dicts": [{"id": str(i), "text": t} for i, t in enumerate(TEXTS)], "path": path}[given]
    clus = StoryClusterer(embedder=embedder).fit(X)
    ref = StoryClusterer(embedder=embedder).fit([Article(str(i), t) for i, t in enumerate(TEXTS)])
    assert clus.labels_.tolist() == ref.labels_.tolist()
    assert np.allclose(clus.embeddings_.vectors, ref.embeddings_.vectors)


def test_fit_refuses_mixed_input_with_a_message():
    with pytest.raises(InputError, match="mixed input"):
        StoryClusterer().fit(["a text", {"id": 1, "text": "another"}])


# 4. no silent empty results; an offline Hub name fails fast
def test_a_date_window_on_undated_articles_is_refused(embedder):
    idx = StoryIndex(embedder.dim, embedder.fingerprint)
    idx.add_articles(load_articles(SEEDS), embedder)
    with pytest.raises(InputError, match="no article in the index has a date"):
        find_related(idx, "Verteidigungsminister besucht Nordkorea", embedder, since="2024-11-01")
    assert find_related(idx, "Verteidigungsminister besucht Nordkorea", embedder)  # without a window: found


def test_cli_since_on_undated_input_and_all_records_skipped_exit_2(tmp_path, capsys):
    assert main(["related", str(SEEDS), "--query", "Nordkorea", "--since", "2024-01-01"]) == 2
    assert "no article in the index has a date" in capsys.readouterr().err
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "no id"}\n{"id": "b"}\n', encoding="utf-8")
    assert main(["cluster", str(bad), "--skip-invalid", "-o", str(tmp_path / "o.jsonl")]) == 2
    assert "every record was skipped (2)" in capsys.readouterr().err
    assert not (tmp_path / "o.jsonl").exists()


def test_an_unreachable_hub_model_fails_at_once_with_what_to_do(monkeypatch):
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(InputError, match="HF_HUB_OFFLINE is set; pass a local folder"):
        Embedder("someone/a-model-nobody-downloaded")


# 5. skipped records: tidy lines, no Python warning with a source line
def test_skip_invalid_prints_tidy_lines_only(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "text": "The council approved the budget."}\n{"text": "no id"}\n', encoding="utf-8")
    p = subprocess.run([sys.executable, "-m", "storyclust.cli", "cluster", str(bad), "--skip-invalid", "-q",
                        "-o", str(tmp_path / "o.jsonl")], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert p.stderr.splitlines() == [f"storyclust: skipped {bad}:2: field 'id': missing id; every article needs a "
                                     "unique 'id'"]


# 6. ISO 8601 everywhere
def test_dates_are_iso_8601_in_every_output(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps({"id": str(i), "text": t, "date": "2014-01-28"}) + "\n"
                            for i, t in enumerate(TEXTS[:1] * 2)), encoding="utf-8")
    assert main(["cluster", str(path), "-q", "-o", str(tmp_path / "c.jsonl")]) == 0
    assert {r["date"] for r in _lines(tmp_path / "c.jsonl")} == {"2014-01-28T00:00:00"}
    (story,) = _lines(tmp_path / "c.storylines.jsonl")
    assert story["start"] == "2014-01-28T00:00:00"


# 7. the CLI's missing pieces
def test_version_flag(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0 and capsys.readouterr().out.startswith("storyclust 0.")


def test_semicolon_csv_without_header_and_stdin(tmp_path):
    gnad = DATA / "gnad10k" / "test.csv"
    if not gnad.exists():
        pytest.skip(f"{gnad} not found")
    head = tmp_path / "gnad.csv"
    head.write_text("".join(gnad.read_text(encoding="utf-8").splitlines(keepends=True)[:20]), encoding="utf-8")
    assert main(["dedup", str(head), "--delimiter", ";", "--quotechar", "'", "--columns", "label,text", "-q",
                 "-o", str(tmp_path / "d.jsonl")]) == 0
    assert [r["id"] for r in _lines(tmp_path / "d.jsonl")] == [str(i) for i in range(1, 21)]
    records = "".join(json.dumps({"id": str(i), "text": t}) + "\n" for i, t in enumerate(TEXTS))
    p = subprocess.run([sys.executable, "-m", "storyclust.cli", "dedup", "-", "-o", "-", "-q"], input=records,
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert [json.loads(line)["id"] for line in p.stdout.splitlines()] == ["0", "1", "2"] and p.stderr == ""


def test_help_names_what_each_option_does():
    from storyclust.cli import build_parser

    sub = build_parser()._subparsers._group_actions[0].choices["cluster"]
    helps = {a.dest: a.help for a in sub._actions}
    assert helps["min_cluster_size"] and "fewest articles" in helps["min_cluster_size"]
    assert "duplicate_of" in helps["output"] and "keywords" in helps["storylines"]


# 8. a fitted clusterer pickles
def test_a_fitted_clusterer_pickles(embedder):
    clus = StoryClusterer(embedder=embedder).fit(load_articles(SEEDS))
    again = pickle.loads(pickle.dumps(clus))
    assert again.labels_.tolist() == clus.labels_.tolist()
    assert np.allclose(again.embedder_.encode(["Nordkorea"]), embedder.encode(["Nordkorea"]), atol=1e-5)


# 9. the main job on the seed says what it did
def test_the_seed_run_says_what_was_done(tmp_path, capsys):
    assert main(["cluster", str(SEEDS), "-o", str(tmp_path / "o.jsonl")]) == 0
    err = capsys.readouterr().err
    assert "read 1 article: language de 1; 0 with a title, 1 with a headline found in the text" in err
    assert "lines taken out: 1 caption" in err
    assert "1 article, 0 storylines" in err and "each article stands alone" in err
    assert "time: read" in err and "embed" in err
    assert main(["cluster", str(SEEDS), "-q", "-o", str(tmp_path / "o.jsonl")]) == 0
    assert capsys.readouterr().err == ""


# DataFrames, as BERTopic's get_topic_info and topics_over_time
def test_storyline_info_and_storylines_over_time(ecb_articles, embedder):
    from datetime import datetime, timedelta

    # ECB+ is undated: give every article of a topic a day of its own, one in ten none
    arts = [Article(a.id, a.text, title=a.title, source=f"site{i % 3}.example",
                    date=None if i % 10 == 0 else datetime(2024, 1, 1) + timedelta(days=int(a.id.split("_")[0])))
            for i, a in enumerate(ecb_articles)]
    clus = StoryClusterer(embedder=embedder).fit(arts)
    info = clus.storyline_info()
    assert list(info.columns) == ["storyline", "size", "headline", "keywords", "start", "end", "sources",
                                  "languages", "representative", "article_ids"]
    stories = info[info.storyline >= 0]
    assert len(stories) == len(clus.storylines_) and stories["size"].is_monotonic_decreasing
    assert info["size"].sum() == len(arts)  # the -1 row holds the rest
    for row in stories.itertuples():
        members = np.flatnonzero(clus.labels_ == row.storyline)
        assert sorted(row.article_ids) == sorted(arts[i].id for i in members)
        assert row.representative in row.article_ids and set(row.sources) <= {"site0.example", "site1.example",
                                                                              "site2.example"}
        assert row.languages == ["en"]
    over = clus.storylines_over_time()
    assert list(over.columns) == ["storyline", "date", "articles"] and over["articles"].sum() == len(arts)
    assert over["date"].isna().sum() >= 1  # undated articles are counted, under NaT
    weekly = clus.storylines_over_time(freq="W")
    assert weekly["articles"].sum() == len(arts) and len(weekly) <= len(over)
    with pytest.raises(InputError, match="after fit"):
        StoryClusterer().fit(np.random.default_rng(0).normal(size=(10, 8))).storyline_info()


def test_storylines_of_mixed_and_unknown_languages_are_described(embedder):
    arts = [Article("en", "The Russian defence minister, Andrei Belousov, arrived in Pyongyang on Friday for talks "
                          "with the military and the government of the North."),
            Article("de", "Der russische Verteidigungsminister Andrei Belousov ist am Freitag in Pjöngjang eingetroffen."),
            Article("xx", "Belousov Pyongyang 2024 Belousov Pyongyang 2024")]  # no language to guess
    clus = StoryClusterer(embedder=embedder, threshold=0.01).fit(arts)
    (story,) = clus.storylines_
    assert story.size == 3 and set(story.languages) == {"en", "de"}


def test_outputs_are_written_whole_with_the_usual_permissions(tmp_path):
    import os

    from storyclust._files import atomic_output

    old = os.umask(0o022)
    try:
        with atomic_output(tmp_path / "out.jsonl") as fh:
            fh.write("{}\n")
        with pytest.raises(RuntimeError):
            with atomic_output(tmp_path / "out.jsonl") as fh:
                fh.write("partial")
                raise RuntimeError("interrupted")
    finally:
        os.umask(old)
    assert (tmp_path / "out.jsonl").read_text() == "{}\n"  # the interrupted write left the old file
    assert oct((tmp_path / "out.jsonl").stat().st_mode & 0o777) == oct(0o644)
    assert [p.name for p in tmp_path.iterdir()] == ["out.jsonl"]  # no temporary left behind
