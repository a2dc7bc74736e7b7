"""Shared helpers of the benchmark scripts: data paths, machine description, result files."""

from __future__ import annotations

import argparse
import collections
import csv
import json
import os
import platform
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--data", default=str(ROOT.parent / "shared" / "data"),
                   help="folder of the labeled data (default ../shared/data)")
    p.add_argument("--out", default=None, help="results file (default benchmarks/results/<name>.md)")
    return p


def stsb_translations(data: Path, part: str = "test") -> tuple[list[str], list[str], list[int]]:
    """German and English STS-B sentences, row-aligned translations, and their row numbers in the files; rows
    whose sentence repeats are left out."""
    def read(lang):
        with open(data / "stsb_multi_mt" / f"stsb-{lang}-{part}.csv", newline="", encoding="utf-8") as fh:
            return [row[0] for row in csv.reader(fh)]

    de, en = read("de"), read("en")
    keep = [i for i, s in enumerate(en) if en.count(s) == 1 and de.count(de[i]) == 1]
    return [de[i] for i in keep], [en[i] for i in keep], keep


def parallel_news() -> list[dict]:
    """tests/data/parallel_news.tsv: news sentences in en, de, fr, es, it and nl, one row per sentence."""
    with open(ROOT / "tests" / "data" / "parallel_news.tsv", encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


# ECB+'s "title" field is each article's first sentence (ecbplus/SOURCE.txt), not a headline: an untitled ECB+
# article keeps that sentence as the first paragraph of its text (without_titles(into_text=True)).
TITLE_IN_TEXT = {"ECB+": True, "GVA": False}


def load_ecb(data: Path):
    """ECB+ documents, their gold events, and the splits: tuning topics 1-35, reporting 36-45."""
    from storyclust import load_articles

    arts = load_articles(data / "ecbplus" / "documents.jsonl")
    topic = np.array([a.extra["topic"] for a in arts])
    gold = np.array([a.extra["cluster_id"] for a in arts])
    return arts, gold, {"tune": topic <= 35, "report": topic >= 36, "all": np.ones(len(arts), bool)}


def load_gva(data: Path):
    """GVA articles (suspect pages and articles under two incidents dropped), incidents, splits by year, notes."""
    from storyclust import load_articles

    recs = [json.loads(line) for line in open(data / "gva" / "articles.jsonl", encoding="utf-8")]
    twice = {d for d, c in collections.Counter(r["doc_id"] for r in recs).items() if c > 1}
    n_suspect = sum(r["suspect"] for r in recs)
    kept = [r for r in recs if not r["suspect"] and r["doc_id"] not in twice]
    notes = (f"{len(recs)} records; {n_suspect} suspect dropped; {len(twice)} articles listed under two incidents "
             f"dropped ({sum(r['doc_id'] in twice and not r['suspect'] for r in recs)} non-suspect records); "
             f"{len(kept)} articles kept")
    arts = load_articles([{"id": r["doc_id"], "title": r["title"], "text": r["text"], "date": r["date"],
                           "url": r["url"], "incident_id": r["incident_id"]} for r in kept])
    year = np.array([a.date.year for a in arts])
    gold = np.array([a.extra["incident_id"] for a in arts])
    return arts, gold, {"tune": year <= 2015, "report": year >= 2016}, notes


def machine() -> str:
    import numpy

    mem = ""
    try:
        kb = int(next(line for line in open("/proc/meminfo") if line.startswith("MemTotal")).split()[1])
        mem = f", {kb / 2**20:.0f} GiB RAM"
    except (OSError, StopIteration):
        pass
    from storyclust.embeddings.use_torch import native_bfloat16

    # the default model's vectors, and so the quality figures, differ a little between the two precisions
    precision = "bfloat16 (native)" if native_bfloat16() else "float32"
    return (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores{mem}; "
            f"Python {platform.python_version()}, numpy {numpy.__version__}; default model precision {precision}")


def markdown_table(rows: list[dict], columns: list[str]) -> str:
    def fmt(v):
        return f"{v:.3f}" if isinstance(v, float) else str(v)
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(fmt(r.get(c, "")) for c in columns) + " |" for r in rows]
    return "\n".join(lines)


def write_results(name: str, out: str | None, title: str, body: str) -> Path:
    path = Path(out) if out else RESULTS / f"{name}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    cmd = "python " + " ".join([os.path.relpath(sys.argv[0], ROOT)] + sys.argv[1:])
    head = (f"# {title}\n\n- command: `{cmd}`\n- date: {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC\n"
            f"- machine: {machine()}\n\n")
    path.write_text(head + body + "\n", encoding="utf-8")
    return path


class Timer:
    def __enter__(self):
        self.t = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.t
