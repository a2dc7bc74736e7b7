"""The Ray engine against the local one: the same output, the embedding's speed with 1 and 2 workers, Ray's overhead.

Input: ``--docs`` articles of GVA (non-suspect) and ECB+ mixed, written as JSONL. ``storyclust cluster IN
--no-cache`` runs as a whole process with the default engine and with ``--engine ray`` (a local Ray on this
machine's CPUs, started by the command), alternately ``--rounds`` times; the two outputs must be identical.
Then, in one process with a local Ray running, the embedding step alone on 1 and on 2 actors (no cache).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import Timer, load_ecb, load_gva, markdown_table, parser, write_results  # noqa: E402


def run_cluster(path: Path, out: Path, engine: str) -> float:
    cmd = ["storyclust", "cluster", str(path), "-o", str(out), "--no-cache", "-q", "--engine", engine]
    start = time.perf_counter()
    subprocess.run(cmd, check=True)
    return time.perf_counter() - start


def cost_model(per_worker: float, local_seconds: float, n: int) -> list[str]:
    """A per-stage cost model for 100M articles from this run's embedding rate and the 1M-vector storyline
    run of ``benchmarks/results/scale.md`` (read from that file)."""
    scale = (Path(__file__).resolve().parent / "results" / "scale.md").read_text(encoding="utf-8")
    row = next(line for line in scale.splitlines() if line.startswith("| 1,000,000 |")).split("|")
    graph_s, graph_gib = float(row[4]), float(row[5])
    target = 100_000_000
    core_hours = target / per_worker / 3600
    lines = ["## Cost model for 100M articles", "",
             f"- Embedding (per article, parallel): {per_worker:.1f} articles/s per one-core worker (this run), "
             f"so {core_hours:,.0f} core-hours for 100M articles: {core_hours / 100:,.1f} hours on 100 cores, "
             f"{core_hours / 1000:,.1f} on 1,000. At that rate 2 workers embed this run's {n:,} articles in "
             f"{100 * n / per_worker / 2 / local_seconds:.0f}% of the local main job's time; the rest is reading, "
             "start-up and the global stages.",
             f"- Storylines (global): {graph_s:.0f} s and {graph_gib:.1f} GiB for 1M vectors on one machine "
             "(`benchmarks/results/scale.md`, growth exponent 0.96), so about 100× that for 100M if it fitted: "
             f"{100 * graph_s / 3600:.1f} hours and {100 * graph_gib:.0f} GiB, which no single machine here has.",
             "- Plan past one machine: cut by time. A storyline's reports sit within weeks of each other "
             "(`benchmarks/results/online.md`: a 60-day quiet period loses 0.002 BCubed F1 on GVA 2016–17), so "
             "windows of a few months overlapping by the quiet period are clustered each on one machine (at "
             f"{graph_gib:.1f} GiB per million vectors, a window of about {24 / graph_gib:.0f}M articles fits 24 GiB) "
             "and stitched where they overlap with the tracker's "
             "id naming (`storylines/story_ids.py`: a group takes the oldest id at home). Undated input is cut "
             "instead into IVF partitions of the article vectors (k-means, each article also in its second-"
             "nearest partition), as NeMo Curator's semantic dedup does, each partition clustered on its own.",
             "- Dedup (global join): MinHash signatures are per article (parallel like the embedding); the band "
             "join shards by band hash, each shard on one machine. Not built yet: `storyclust dedup` runs "
             "locally.", ""]
    return lines


def main():
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--docs", type=int, default=5000)
    p.add_argument("--rounds", type=int, default=2)
    args = p.parse_args()
    data = Path(args.data)
    gva, _, _, _ = load_gva(data)
    ecb, _, _ = load_ecb(data)
    arts = (ecb + gva)[:args.docs]
    tmp = Path(tempfile.mkdtemp(prefix="scale-out-"))
    path = tmp / "in.jsonl"
    path.write_text("".join(json.dumps(a.to_dict(), ensure_ascii=False) + "\n" for a in arts), encoding="utf-8")

    times = {"local": [], "ray": []}
    for _ in range(args.rounds):
        for engine in ("local", "ray"):
            print(f"storyclust cluster --engine {engine}", file=sys.stderr)
            times[engine].append(run_cluster(path, tmp / f"{engine}.jsonl", engine))
    same = (tmp / "local.jsonl").read_text() == (tmp / "ray.jsonl").read_text()
    same_stories = (tmp / "local.storylines.jsonl").read_text() == (tmp / "ray.storylines.jsonl").read_text()
    local, ray_t = min(times["local"]), min(times["ray"])
    overhead = ray_t / local - 1

    from storyclust.engines import ray_engine

    ray = ray_engine.init(num_cpus=2)
    ds = ray.data.from_items([a.to_dict() for a in arts]).materialize()
    speed = {}
    for workers in (1, 2, 1, 2):
        print(f"embedding on {workers} actor(s)", file=sys.stderr)
        with Timer() as t:
            n = ray_engine.embed(ds, concurrency=workers, cache=False).materialize().count()
        speed[workers] = max(speed.get(workers, 0.0), n / t.seconds)
    ray.shutdown()
    scaling = speed[2] / speed[1]

    rows = [{"target": "identical output (`storyclust cluster`, story ids, duplicate_of, storyline summaries)",
             "measured": f"{'identical' if same and same_stories else 'DIFFERENT'} on {len(arts)} articles",
             "met": "yes" if same and same_stories else "no"},
            {"target": "embedding with 2 workers ≥ 1.8× its speed with 1",
             "measured": f"{scaling:.2f}× ({speed[1]:.1f} → {speed[2]:.1f} articles/s)",
             "met": "yes" if scaling >= 1.8 else "no"},
            {"target": f"Ray's overhead ≤ 15% of the default engine's time at {len(arts)} articles",
             "measured": f"{100 * overhead:.0f}% ({local:.1f} s → {ray_t:.1f} s, whole process, best of "
                         f"{args.rounds})", "met": "yes" if overhead <= 0.15 else "no"}]
    body = [__doc__.split("\n", 2)[2].strip(), "",
            f"{len(arts)} articles ({sum(a.id in {e.id for e in ecb} for a in arts)} ECB+, the rest GVA); "
            f"rounds: {args.rounds}; this machine's 2 cores are all the cluster has.", "",
            "## Targets", "", markdown_table(rows, ["target", "measured", "met"]), "",
            "## Runs (seconds, whole process)", "",
            markdown_table([{"engine": e, "seconds": ", ".join(f"{s:.1f}" for s in v)} for e, v in times.items()],
                           ["engine", "seconds"]), ""]
    body += cost_model(speed[1], local, len(arts))
    out = write_results("scale_out", args.out, "Scale-out on Ray", "\n".join(body))
    print(f"wrote {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
