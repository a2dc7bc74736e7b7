"""The storyline report: a self-contained page, checked in a real browser (Debian's chromium, headless)."""

import json
import os
import random
import re
import shutil
import struct
import subprocess
import zlib

import pytest

import numpy as np

from storyclust import InputError, StoryClusterer, find_duplicates, load_articles
from storyclust.cli import main
from storyclust.evaluation.damage import damage
from storyclust.report import render_report

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def gva_sample(gva_records):
    rows, seen = [], set()
    for r in gva_records:
        if r["doc_id"] not in seen and r["date"].startswith("2016-02"):
            seen.add(r["doc_id"])
            rows.append(r)
    rows = rows[:150]
    copy = dict(rows[0], doc_id="copy-of-" + rows[0]["doc_id"], url=None,
                text=damage(rows[0]["text"], "ocr", random.Random(0)))
    return load_articles(rows + [copy])


@pytest.fixture(scope="module")
def report(gva_sample, embedder, tmp_path_factory):
    clus = StoryClusterer(embedder=embedder).fit(gva_sample)
    dups = find_duplicates(gva_sample, semantic=True, embedder=embedder, embeddings=clus.embeddings_)
    path = tmp_path_factory.mktemp("report") / "report.html"
    path.write_text(render_report(clus, dups, title="GVA February 2016"), encoding="utf-8")
    return path, clus, dups


def test_the_page_is_self_contained_and_folds_duplicates(report, gva_sample):
    path, clus, dups = report
    page = path.read_text(encoding="utf-8")
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=", page)  # nothing fetched: works offline
    for s in clus.storylines_:
        assert f'id=s{s.label} ' in page
    copy = gva_sample[-1].id
    assert dups.duplicate_of[copy] == gva_sample[0].id
    # the copy is listed inside the fold under its kept article
    folds = re.findall(r"<details class=dups><summary>\d+ duplicates?</summary><ul>(.*?)</ul></details>", page)
    assert any(copy in fold for fold in folds), folds
    assert "in no storyline" in page and "Sources × storylines" in page and "<svg" in page


def _chromium():
    found = shutil.which("chromium")
    if not found:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing: .ci/run installs it with apt-get")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return found


def _browser(tmp_path, *args):
    return subprocess.run([_chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", *args],
                          capture_output=True, text=True, timeout=120)


def test_search_and_sort_run_in_a_real_browser(report, tmp_path):
    path, clus, _ = report
    story = max(clus.storylines_, key=lambda s: s.size)
    word = story.keywords[0]
    expected = {str(s.label) for s in clus.storylines_ if word in " ".join(
        [s.headline or "", " ".join(s.keywords), " ".join(s.sources)]).lower()}
    dom = _browser(tmp_path, "--dump-dom", f"{path.as_uri()}#q={word}&sort=-size").stdout
    rows = re.findall(r'<tr class="story( hidden)?" data-s="(\d+)"', dom)
    assert len(rows) == len(clus.storylines_)
    shown = [label for hidden, label in rows if not hidden]
    assert str(story.label) in shown and expected <= set(shown)
    assert len(shown) < len(rows)  # the search hid the others
    assert re.search(rf'<body data-shown="{len(shown)}"', dom)
    sizes = {str(s.label): s.size for s in clus.storylines_}
    order = [sizes[label] for _, label in rows]
    assert order == sorted(order, reverse=True)  # sorted by size, largest first
    dom = _browser(tmp_path, "--dump-dom", f"{path.as_uri()}#sort=headline").stdout
    heads = [h.lower() for h in re.findall(r'<tr class="story" data-s="\d+"><td data-v="-?\d+">\d+</td>'
                                           r'<td data-v="\d+">\d+</td><td><a href="#s\d+">(.*?)</a>', dom)]
    assert len(heads) == len(rows) and heads == sorted(heads)


def _png_pixels(path):
    """Width, height and the distinct bytes of the decompressed image data of a PNG."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    idat, pos = b"", 8
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if kind == b"IDAT":
            idat += data[pos + 8:pos + 8 + n]
        pos += 12 + n
    return width, height, set(zlib.decompress(idat)[:2_000_000])


def test_a_screenshot_shows_the_page(report, tmp_path):
    path, _, _ = report
    shot = tmp_path / "shot.png"
    _browser(tmp_path, "--window-size=1280,1400", f"--screenshot={shot}", path.as_uri())
    width, height, values = _png_pixels(shot)
    assert (width, height) == (1280, 1400)
    assert len(values) > 50  # text, dots and shaded cells: not a blank page


def test_report_command_writes_the_page(gva_sample, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("STORYCLUST_CACHE_DIR", str(tmp_path / "cache"))
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(a.to_dict(), default=str) + "\n" for a in gva_sample[:40]), encoding="utf-8")
    assert main(["report", str(src), "-o", str(tmp_path / "r.html"), "--title", "Forty"]) == 0
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "<title>Forty</title>" in page and "40 articles" in page
    with pytest.raises(InputError, match="fitted on articles"):
        render_report(StoryClusterer().fit(np.random.default_rng(0).normal(size=(10, 8))))
    assert f"report written to {tmp_path / 'r.html'}" in capsys.readouterr().err
