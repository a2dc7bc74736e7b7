"""Related-story lookup on labeled news (ECB+, GVA): an article's other reports, and an article from its headline.

    python benchmarks/related.py [--data ../shared/data] [--split report|tune]

Each split is indexed on its own (``StoryIndex.add_articles``, default model)
and every article is a query (``find_related(index, article)``, itself left
out): same-story ``recall@5`` (|top 5 ∩ same story| / min(5, |same story|)),
``acc@1`` and MRR over articles whose story has another article. Each
article's headline is also a free-text query that should return the article
(acc@1, MRR; a copy with the identical headline counts as the article). Rows:
storyclust's lookup (candidates from vectors, headlines and terms, ranked by
the same-story model), the article vectors alone (the lookup before it, and
what a plain FAISS search gives) and BM25 over the index's terms alone. The
same on the undated and untitled variants (ECB+'s untitled copies keep its title
field, the article's first sentence, as text). Tune on ``--split tune`` (ECB+
topics 1-35, GVA to 2015); the results file reports ``report`` (ECB+ 36-45,
GVA 2016-17).
"""

from __future__ import annotations

import functools
import sys
import time
from pathlib import Path


sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import TITLE_IN_TEXT, markdown_table, parser, write_results  # noqa: E402
from storylines import load_ecb, load_gva, subset  # noqa: E402

from storyclust import Embedder, StoryIndex, find_related  # noqa: E402
from storyclust.evaluation import lookup_scores, retrieval_scores, without_dates, without_titles  # noqa: E402
from storyclust.index.terms import query_terms  # noqa: E402

METHODS = {  # row name -> how the top k of a query is found
    "**storyclust (find_related)**": lambda idx, q, emb, k: find_related(idx, q, emb, k=k),
    "article vectors alone (FAISS)": lambda idx, q, emb, k: find_related(idx, q, emb, k=k, rerank=False),
    "terms alone (BM25)": lambda idx, q, emb, k: idx.search_terms(
        list(idx.metadata(q.id)["terms"]) if not isinstance(q, str) else query_terms(q), k=k + 1),
}
TARGETS = {"headline acc@1": 0.98, "ECB+ recall@5": 0.95}


def run(arts, gold, emb, k=10):
    """Scores of every method on one input: article queries and headline queries."""
    idx = StoryIndex(emb.dim, emb.fingerprint)
    idx.add_articles(arts, emb)
    labels = {a.id: g for a, g in zip(arts, gold)}
    titles = {}
    for a in arts:
        if a.headline:
            titles.setdefault(a.headline.strip().lower(), []).append(a.id)
    rows = []
    for name, method in METHODS.items():
        t = time.perf_counter()
        ranked = {a.id: [h.id for h in method(idx, a, emb, k) if h.id != a.id][:k] for a in arts}
        per_query = (time.perf_counter() - t) / len(arts)
        row = {"method": name, **retrieval_scores(ranked, labels, k=5), "ms/query": 1000 * per_query}
        heads = [a for a in arts if a.headline]
        if heads:
            found = {a.id: [h.id for h in method(idx, a.headline, emb, k)] for a in heads}
            same_title = {a.id: titles[a.headline.strip().lower()] for a in heads}
            look = lookup_scores(found, {a.id: a.id for a in heads}, same_title)
            row.update({"headline queries": look["queries"], "headline acc@1": look["acc@1"],
                        "headline mrr": look["mrr"]})
        rows.append(row)
    return rows


def main():
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--split", choices=("report", "tune"), default="report")
    args = p.parse_args()
    data = Path(args.data)
    emb = Embedder(show_progress=False)
    ecb, ecb_gold, ecb_splits = load_ecb(data)
    gva, gva_gold, gva_splits, _ = load_gva(data)
    cols = ["method", "queries", "recall@5", "acc@1", "mrr", "headline queries", "headline acc@1", "headline mrr",
            "ms/query"]
    lines, summary = [], []
    for name, (arts, gold, splits) in {"ECB+": (ecb, ecb_gold, ecb_splits), "GVA": (gva, gva_gold, gva_splits)}.items():
        arts, gold = subset(arts, splits[args.split]), gold[splits[args.split]]
        untitled = functools.partial(without_titles, into_text=TITLE_IN_TEXT[name])
        for variant, make in [("as given", None), ("undated", without_dates), ("untitled", untitled)]:
            if variant == "undated" and all(a.date is None for a in arts):
                continue  # ECB+ is undated as given
            rows = run(arts if make is None else make(arts), gold, emb)
            print(f"{name} {variant}:\n{markdown_table(rows, cols)}", flush=True)
            lines += [f"## {name} {args.split} split, {variant} ({len(arts)} articles)", "", markdown_table(rows, cols), ""]
            ours = rows[0]
            if variant == "as given":
                summary.append({"target": f"{name} headline → own article acc@1 ≥ 0.98",
                                "storyclust": ours["headline acc@1"], "vectors alone": rows[1]["headline acc@1"],
                                "met": "yes" if ours["headline acc@1"] >= 0.98 else "no"})
            if name == "ECB+":
                met = "yes" if ours["recall@5"] >= 0.95 else "no"
                summary.append({"target": f"ECB+ {variant} same-event recall@5 ≥ 0.95", "storyclust": ours["recall@5"],
                                "vectors alone": rows[1]["recall@5"],
                                "met": met if variant == "as given" else f"{met} (shown beside; the target is as given)"})
    body = "\n".join(["## Targets", "", markdown_table(summary, ["target", "storyclust", "vectors alone", "met"]), "",
                      *lines])
    out = write_results("related" if args.split == "report" else "related-tune", args.out,
                        "Related-story lookup", __doc__.split("\n\n", 2)[2].strip() + "\n\n" + body)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
