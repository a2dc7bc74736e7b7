"""Storylines at a million articles: time, memory and quality of StoryClusterer on storyline-shaped vectors.

    python benchmarks/scale.py [--data ../shared/data] [--sizes 10000,30000,100000,300000,1000000]

Vectors come from ``storyclust.evaluation.storyline_vectors`` (384-d float32;
power-law storyline sizes from 2 to 5,000, 35 % of rows in no storyline,
storylines in kinds of 20 that sit near each other). Its two cosines are
measured first on real embeddings (the default model's vectors of GVA and
ECB+ articles, from ``--data``): the mean cosine between two articles of one
storyline (GVA incidents and ECB+ events), and the mean cosine between articles
of two different events of one ECB+ topic ("two celebrities entering rehab").

Each size runs in a fresh process (peak RSS is that process's high-water mark,
data generation included): ``StoryClusterer(linkage="average")`` on the
vectors (candidate pairs from a k-NN graph with FAISS, exact up to 50,000 rows
and above an inverted file of about 256 rows per list; each pair scored by the
shipped vector model; average linkage on the sparse graph). Up to 100,000 rows
also ``StoryClusterer()``, whose default for bare vectors is HDBSCAN on the
same k-NN graph (its ARI only). In the same run,
scikit-learn's ``HDBSCAN`` on the raw vectors, at each size until one takes
longer than ``--sklearn-timeout`` seconds. Then recall@10 of each FAISS index
type against exact search, and the storyline scores of the real benchmarks with
the large-n search forced on.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import markdown_table, parser, write_results  # noqa: E402

GIB = 2**30


def real_cosines(data: Path) -> dict:
    """Mean within-storyline and same-kind-other-event cosines of the default model's article vectors."""
    from storylines import load_ecb, load_gva

    from storyclust import Embedder

    emb = Embedder()
    ecb, ecb_gold, _ = load_ecb(data)
    gva, gva_gold, _, _ = load_gva(data)
    within = []
    for arts, gold in ((ecb, ecb_gold), (gva, gva_gold)):
        v = emb.embed_articles(arts).vectors
        for g in np.unique(gold):
            idx = np.flatnonzero(gold == g)
            if len(idx) > 1:
                s = v[idx] @ v[idx].T
                within.extend(s[np.triu_indices(len(idx), 1)].tolist())
        if arts is ecb:
            topic = np.array([a.extra["topic"] for a in ecb])
            cross = []
            for t in np.unique(topic):
                idx = np.flatnonzero(topic == t)
                s = v[idx] @ v[idx].T
                diff = gold[idx][:, None] != gold[idx][None, :]
                cross.extend(s[diff].tolist())
    w, c = float(np.mean(within)), float(np.mean(cross))
    return {"within": w, "cross": c, "sibling": c / w, "n_within_pairs": len(within), "n_cross_pairs": len(cross)}


def peak_rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / GIB  # ru_maxrss is in KiB on Linux


def one_run(n: int, method: str, within: float, sibling: float) -> dict:
    """Run in a child process: generate n vectors, cluster them, report times, peak RSS and ARI."""
    from sklearn.metrics import adjusted_rand_score

    from storyclust import StoryClusterer
    from storyclust.evaluation import noise_as_singletons, storyline_vectors

    t = time.perf_counter()
    X, truth = storyline_vectors(n, 384, within=within, sibling=sibling, random_state=0)
    gen = time.perf_counter() - t
    t = time.perf_counter()
    recall = default_ari = None
    if method == "storyclust":
        est = StoryClusterer(linkage="average", random_state=0).fit(X)
        labels, stages = est.labels_, est.timings_
        total = time.perf_counter() - t
        recall = graph_recall(X, est.same_story_)
        if n <= 100_000:
            default = StoryClusterer(random_state=0).fit_predict(X)
            default_ari = float(adjusted_rand_score(noise_as_singletons(truth), noise_as_singletons(default)))
    else:
        from sklearn.cluster import HDBSCAN

        labels, stages = HDBSCAN(min_cluster_size=2, min_samples=2, copy=True).fit_predict(X), {}
        total = time.perf_counter() - t
    return {"n": n, "method": method, "seconds": total, "generate": gen, **{k: v for k, v in stages.items()},
            "peak_rss_gib": peak_rss_gib(), "ari": float(adjusted_rand_score(noise_as_singletons(truth),
                                                                            noise_as_singletons(labels))),
            "storylines": int(labels.max() + 1), "true_storylines": int(truth.max() + 1), "graph_recall": recall,
            "default_ari": default_ari}


def graph_recall(X: np.ndarray, graph, queries: int = 1000) -> float:
    """recall@10 of the candidate graph: each sampled row's 10 best-scored pairs against exact search.

    ``graph`` holds the same-story probability of each candidate pair, which rises with the cosine.
    """
    import faiss

    q = np.sort(np.random.default_rng(1).choice(len(X), queries, replace=False))
    exact = faiss.IndexFlatIP(X.shape[1])
    exact.add(X)
    _, truth = exact.search(X[q], 11)
    hits = []
    for i, t in zip(q.tolist(), truth.tolist()):
        lo, hi = graph.indptr[i], graph.indptr[i + 1]
        cols, d = graph.indices[lo:hi], graph.data[lo:hi]
        mine = set(cols[np.argsort(-d, kind="stable")[:10]].tolist())
        hits.append(len(mine & set([j for j in t if j != i][:10])) / 10)
    return float(np.mean(hits))


def recall_run(n: int, within: float, sibling: float, queries: int = 1000) -> list[dict]:
    """recall@10 against exact search for each index type, on n generated vectors."""
    import faiss

    from storyclust.evaluation import storyline_vectors
    from storyclust.index import choose_factory, trained_index

    X, _ = storyline_vectors(n, 384, within=within, sibling=sibling, random_state=0)
    q = X[np.random.default_rng(1).choice(n, queries, replace=False)]
    exact = faiss.IndexFlatIP(X.shape[1])
    exact.add(X)
    _, truth = exact.search(q, 10)
    ivf = choose_factory(max(n, 50_001)).split(",")[0]
    rows = []
    for factory, nprobe in [("Flat", 1), (f"{ivf},Flat", 16), (f"{ivf},Flat", 64), ("HNSW32", 1), (f"{ivf},PQ48x4", 16)]:
        t = time.perf_counter()
        index = trained_index(X, factory, nprobe=nprobe, random_state=0)
        build = time.perf_counter() - t
        t = time.perf_counter()
        _, found = index.search(q, 10)
        search = time.perf_counter() - t
        recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(found.tolist(), truth.tolist())])
        rows.append({"n": n, "index": factory + (f", nprobe {nprobe}" if "IVF" in factory else ""),
                     "recall@10": float(recall), "build s": build, "ms per query": 1000 * search / queries})
    return rows


def real_quality(data: Path) -> list[dict]:
    """Storyline scores on the real reporting splits with exact and with inverted-file neighbour search."""
    from storylines import load_ecb, load_gva, subset

    from storyclust import Embedder, StoryClusterer
    from storyclust.evaluation import clustering_scores
    from storyclust.storylines.knn_graph import CELL_SIZE

    emb = Embedder()
    ecb, eg, es = load_ecb(data)
    gva, gg, gs, _ = load_gva(data)
    rows = []
    for name, arts, gold, mask in (("ECB+ 36–45", ecb, eg, es["report"]), ("ECB+ all", ecb, eg, es["all"]),
                                   ("GVA 2016–17", gva, gg, gs["report"])):
        sub, g = subset(arts, mask), gold[mask]
        lists = max(1, round(len(sub) / CELL_SIZE))
        for index, nprobe in (("Flat", 16), ("IVF,Flat", 16), ("IVF,Flat", 1)):
            for linkage in ("average", "hdbscan"):
                est = StoryClusterer(embedder=emb, index=index, nprobe=nprobe, linkage=linkage,
                                     random_state=0).fit(sub)
                s = clustering_scores(g, est.labels_)
                rows.append({"data": f"{name} ({len(sub):,} articles)", "linkage": linkage,
                             "index": index if index == "Flat" else f"{index}, ~{lists} lists, nprobe {nprobe}",
                             "bcubed_f1": s["bcubed_f1"], "ari": s["ari"]})
    return rows


def child(args: list[str], timeout: float | None) -> dict | list | None:
    cmd = [sys.executable, str(Path(__file__).resolve())] + args
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=True)
    except subprocess.TimeoutExpired:
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--sizes", default="10000,30000,100000,300000,1000000")
    p.add_argument("--sklearn-timeout", type=float, default=600.0)
    p.add_argument("--recall-sizes", default="100000")
    p.add_argument("--child", nargs=4, metavar=("KIND", "N", "WITHIN", "SIBLING"), help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        kind, n, within, sibling = args.child[0], int(args.child[1]), float(args.child[2]), float(args.child[3])
        out = recall_run(n, within, sibling) if kind == "recall" else one_run(n, kind, within, sibling)
        print(json.dumps(out))
        return
    data = Path(args.data)
    sizes = [int(s) for s in args.sizes.split(",")]
    cos = real_cosines(data)
    print("real cosines:", cos, flush=True)
    within, sibling = f"{cos['within']:.4f}", f"{cos['sibling']:.4f}"
    runs, sk = [], {}
    sklearn_alive = True
    for n in sizes:
        r = child(["--child", "storyclust", str(n), within, sibling], None)
        runs.append(r)
        print(r, flush=True)
    for n in sizes:
        if sklearn_alive:
            s = child(["--child", "sklearn", str(n), within, sibling], args.sklearn_timeout)
            if s is None:
                sklearn_alive = False
                print(f"scikit-learn HDBSCAN at {n}: over {args.sklearn_timeout:.0f} s, stopped", flush=True)
            else:
                sk[n] = s
                print(s, flush=True)
    recall = []
    for n in [int(s) for s in args.recall_sizes.split(",") if s]:
        recall += child(["--child", "recall", str(n), within, sibling], None)
        print(recall[-1], flush=True)
    quality = real_quality(data)

    ns = np.array([r["n"] for r in runs], dtype=float)
    ts = np.array([r["seconds"] for r in runs])
    exponent = float(np.polyfit(np.log(ns), np.log(ts), 1)[0]) if len(ns) > 1 else float("nan")
    table = []
    for r in runs:
        s = sk.get(r["n"])
        table.append({"n": f"{r['n']:,}", "pairs s": r.get("pairs", 0.0), "linkage s": r.get("linkage", 0.0),
                      "total s": r["seconds"], "peak RSS GiB": r["peak_rss_gib"], "ARI": r["ari"],
                      "graph recall@10": r["graph_recall"],
                      "default (HDBSCAN) ARI": f"{r['default_ari']:.3f}" if r.get("default_ari") is not None else "",
                      "storylines (true)": f"{r['storylines']:,} ({r['true_storylines']:,})",
                      "sklearn HDBSCAN s": f"{s['seconds']:.1f}" if s else "> timeout" if r["n"] > min(sk, default=0)
                      else "", "sklearn ARI": f"{s['ari']:.3f}" if s else "",
                      "speed-up": f"{s['seconds'] / r['seconds']:.1f}×" if s else ""})
    largest = max(sk) if sk else None
    big = runs[-1]
    targets = [
        {"target": "1M clustered in ≤ 10 min", "measured": f"{big['seconds']:.0f} s at {big['n']:,}",
         "met": "yes" if big["n"] >= 1_000_000 and big["seconds"] <= 600 else "no"},
        {"target": "peak RSS ≤ 8 GiB at 1M", "measured": f"{big['peak_rss_gib']:.2f} GiB",
         "met": "yes" if big["n"] >= 1_000_000 and big["peak_rss_gib"] <= 8 else "no"},
        {"target": "growth exponent ≤ 1.2", "measured": f"{exponent:.2f} ({sizes[0]:,} to {sizes[-1]:,})",
         "met": "yes" if exponent <= 1.2 else "no"},
        {"target": "ARI ≥ 0.9 at every size", "measured": f"min {min(r['ari'] for r in runs):.3f}",
         "met": "yes" if min(r["ari"] for r in runs) >= 0.9 else "no"},
        {"target": "≥ 20× faster than sklearn HDBSCAN at the largest size it finishes",
         "measured": (f"{sk[largest]['seconds'] / next(r for r in runs if r['n'] == largest)['seconds']:.1f}× at "
                      f"{largest:,}") if largest else "sklearn finished no size",
         "met": "yes" if largest and sk[largest]["seconds"] / next(r for r in runs if r["n"] == largest)["seconds"]
         >= 20 else "no"},
    ]
    body = (
        __doc__.split("\n\n", 2)[2].strip() + "\n\n"
        f"Real cosines (default model): within a storyline {cos['within']:.3f} (mean over {cos['n_within_pairs']:,} "
        f"pairs), two events of one ECB+ topic {cos['cross']:.3f} ({cos['n_cross_pairs']:,} pairs); generator: "
        f"`within={cos['within']:.4f}`, `sibling={cos['sibling']:.4f}` (= {cos['cross']:.3f} / {cos['within']:.3f}).\n\n"
        "## Targets\n\n" + markdown_table(targets, ["target", "measured", "met"])
        + "\n\n## Time, memory and quality per size\n\n`pairs s` (k-NN graph and pair scores) and `linkage s` "
          "are `StoryClusterer(linkage=\"average\")`'s `timings_`; `total s` is the whole `fit`; the growth exponent is the slope of a "
          "least-squares line through log(total s) against log(n). ARI counts articles in no storyline as singletons "
          "on both sides; `graph recall@10`: each of 1,000 sampled rows' 10 best-scored candidate pairs against "
          "its 10 nearest by exact search.\n\n"
        + markdown_table(table, list(table[0].keys()))
        + "\n\n## recall@10 of each index type against exact search (1,000 queries from the data)\n\n"
        + markdown_table(recall, ["n", "index", "recall@10", "build s", "ms per query"])
        + "\n\n## The large-n search on the real storyline benchmarks\n\nThe same reporting splits as "
          "`benchmarks/storylines.py` (and all of ECB+), with the neighbour search exact (`Flat`) and forced to the inverted file "
          "that `index=\"auto\"` uses above 50,000 articles (`IVF,Flat`: about 256 rows per list). These splits "
          "have only a few lists, so nprobe 16 searches all of them; nprobe 1 (each row's own list only) is the "
          "stress test.\n\n"
        + markdown_table(quality, ["data", "linkage", "index", "bcubed_f1", "ari"]) + "\n"
    )
    print(body)
    print("written to", write_results("scale", args.out, "Storylines at scale", body))


if __name__ == "__main__":
    main()
