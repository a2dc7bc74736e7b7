"""The Ray engine against the local one: the same output, the embedding's speed with 1 and 2 workers, Ray's overhead.

Input: ``--docs`` articles of GVA (non-suspect) and ECB+ mixed, written as JSONL. ``storyclust cluster IN
--no-cache`` runs as a whole process with the default engine and with ``--engine ray`` (a local Ray on this
machine's CPUs, started by the command), alternately ``--rounds`` times; the two outputs must be identical, as
must ``storyclust dedup IN`` and ``storyclust dedup IN --engine ray``. Then, ``--rounds`` times in turn, the
embedding step alone on 1 and on 2 Ray actors (no cache, a local Ray running), each time from actors started to
the last row back; and, as this machine's own limit, the same step in 1 and in 2 plain processes (spawned, one
thread each, half the articles each), timed the same way, with the CPU seconds the processes spent per article.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from multiprocessing import get_context
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import Timer, load_ecb, load_gva, markdown_table, parser, write_results  # noqa: E402


def run(command: str, path: Path, out: Path, engine: str) -> float:
    cmd = ["storyclust", command, str(path), "-o", str(out), "-q", "--engine", engine]
    start = time.perf_counter()
    subprocess.run(cmd + (["--no-cache"] if command == "cluster" else []), check=True)
    return time.perf_counter() - start


def _embed_part(records: list) -> None:
    """A plain process's share: EmbedStep (one thread, no cache) over its records in batches of 64."""
    from storyclust.engines import EmbedStep

    step = EmbedStep(cache=False)
    for k in range(0, len(records), 64):
        part = records[k:k + 64]
        step({f: [r.get(f) for r in part] for f in ("id", "title", "text", "date")})


def plain_rate(records: list, processes: int) -> tuple[float, float]:
    """Articles per second of the embedding step in ``processes`` spawned processes of one thread each, from
    the processes started to the last one done, and the CPU milliseconds they spent per article."""
    os.environ["OMP_NUM_THREADS"] = "1"  # inherited by the spawned processes: one thread each, as a Ray actor
    try:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        pool = get_context("spawn").Pool(processes)
        pool.map(_embed_part, [records[k::processes] for k in range(processes)])
        seconds = time.perf_counter() - start
        pool.close()
        pool.join()  # the children waited for: their CPU time is counted
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        return len(records) / seconds, 1000 * cpu / len(records)
    finally:
        del os.environ["OMP_NUM_THREADS"]


def cost_model(per_worker: float, local_seconds: float, n: int, dedup_bytes: float) -> list[str]:
    """A per-stage cost model for 100M articles from this run's embedding rate and the 1M-vector storyline
    run of ``benchmarks/results/scale.md`` (read from that file)."""
    scale = (Path(__file__).resolve().parent / "results" / "scale.md").read_text(encoding="utf-8")
    row = next(line for line in scale.splitlines() if line.startswith("| 1,000,000 |")).split("|")
    graph_s, graph_gib = float(row[4]), float(row[5])
    exponent = next(line for line in scale.splitlines() if line.startswith("| growth exponent")).split("|")[2].split()[0]
    online = (Path(__file__).resolve().parent / "results" / "online.md").read_text(encoding="utf-8")
    quiet_loss = next(line for line in online.splitlines()
                      if line.startswith("| GVA 2016–17, dated, one batch per day |")).split("|")[4].strip()
    target = 100_000_000
    core_hours = target / per_worker / 3600
    lines = ["## Cost model for 100M articles", "",
             f"- Embedding (per article, parallel): {per_worker:.1f} articles/s per one-core worker (this run), "
             f"so {core_hours:,.0f} core-hours for 100M articles: {core_hours / 100:,.1f} hours on 100 cores, "
             f"{core_hours / 1000:,.1f} on 1,000. At that rate 2 workers embed this run's {n:,} articles in "
             f"{100 * n / per_worker / 2 / local_seconds:.0f}% of the local main job's time; the rest is reading, "
             "start-up and the global stages.",
             f"- Storylines (global): {graph_s:.0f} s and {graph_gib:.1f} GiB for 1M vectors on one machine "
             f"(`benchmarks/results/scale.md`, growth exponent {exponent}), so about 100× that for 100M if it fitted: "
             f"{100 * graph_s / 3600:.1f} hours and {100 * graph_gib:.0f} GiB, which no single machine here has.",
             "- Plan past one machine: cut by time. A storyline's reports sit within weeks of each other "
             f"(`benchmarks/results/online.md`: a 60-day quiet period loses {quiet_loss} BCubed F1 on GVA 2016–17), so "
             "windows of a few months overlapping by the quiet period are clustered each on one machine (at "
             f"{graph_gib:.1f} GiB per million vectors, a window of about {24 / graph_gib:.0f}M articles fits 24 GiB) "
             "and stitched where they overlap with the tracker's "
             "id naming (`storylines/story_ids.py`: a group takes the oldest id at home). Undated input is cut "
             "instead into IVF partitions of the article vectors (k-means, each article also in its second-"
             "nearest partition), as NeMo Curator's semantic dedup does, each partition clustered on its own.",
             "- Dedup (global join): the sketches (digest and MinHash signatures) are made per article on the "
             "workers (`storyclust dedup --engine ray`); the decisions hold "
             f"{dedup_bytes:,.0f} bytes per kept article (`Deduplicator.state_bytes`, this run), "
             f"{dedup_bytes * 1e8 / 2**30:,.0f} GiB for 100M: past one machine the band join shards by band hash, each shard on one machine, and the "
             "earliest-first decisions run per connected group of candidates. Not built yet.", ""]
    return lines


def main():
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--docs", type=int, default=5000)
    p.add_argument("--rounds", type=int, default=3)
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
            times[engine].append(run("cluster", path, tmp / f"{engine}.jsonl", engine))
    same = (tmp / "local.jsonl").read_text() == (tmp / "ray.jsonl").read_text()
    same_stories = (tmp / "local.storylines.jsonl").read_text() == (tmp / "ray.storylines.jsonl").read_text()
    local, ray_t = min(times["local"]), min(times["ray"])
    overhead = ray_t / local - 1
    dedup_times = {}
    for engine in ("local", "ray"):
        print(f"storyclust dedup --engine {engine}", file=sys.stderr)
        dedup_times[engine] = run("dedup", path, tmp / f"dedup-{engine}.jsonl", engine)
    same_dedup = (tmp / "dedup-local.jsonl").read_text() == (tmp / "dedup-ray.jsonl").read_text()

    from storyclust.engines import ray_engine

    with Timer() as start_stop:  # Ray's fixed cost in a command: a local Ray started and stopped
        ray_engine.init(num_cpus=2).shutdown()
    records = [a.to_dict() for a in arts]
    cpu, rounds = {}, []
    for _ in range(args.rounds):  # Ray and plain processes in turn, so that both meet the machine as it is
        ray = ray_engine.init(num_cpus=2)
        ds = ray.data.from_items(records).materialize()
        got = {}
        for workers in (1, 2):
            print(f"embedding on {workers} actor(s)", file=sys.stderr)
            with Timer() as t:
                n = ray_engine.embed(ds, concurrency=workers, cache=False).materialize().count()
            got[("ray", workers)] = n / t.seconds
        ray.shutdown()
        for processes in (1, 2):
            print(f"embedding in {processes} plain process(es)", file=sys.stderr)
            got[("plain", processes)], cpu_ms = plain_rate(records, processes)
            cpu[processes] = min(cpu.get(processes, np.inf), cpu_ms)
        rounds.append(got)
    speed = {k: max(r[("ray", k)] for r in rounds) for k in (1, 2)}
    plain = {k: max(r[("plain", k)] for r in rounds) for k in (1, 2)}
    scaling, ceiling = speed[2] / speed[1], plain[2] / plain[1]

    rows = [{"target": "identical output (`storyclust cluster`, story ids, duplicate_of, storyline summaries)",
             "measured": f"{'identical' if same and same_stories else 'DIFFERENT'} on {len(arts)} articles",
             "met": "yes" if same and same_stories else "no"},
            {"target": "identical output (`storyclust dedup`: duplicate_of, kind, score, stage)",
             "measured": f"{'identical' if same_dedup else 'DIFFERENT'} on {len(arts)} articles",
             "met": "yes" if same_dedup else "no"},
            {"target": "embedding with 2 workers ≥ 1.8× its speed with 1",
             "measured": f"{scaling:.2f}× ({speed[1]:.1f} → {speed[2]:.1f} articles/s, best of {args.rounds}); "
                         f"this machine's own limit, 2 plain processes against 1: {ceiling:.2f}× ({plain[1]:.1f} → "
                         f"{plain[2]:.1f}), each process spending {cpu[2] / cpu[1]:.2f}× the CPU time per article "
                         "when two run at once",
             "met": "yes" if scaling >= 1.8 else "no"},
            {"target": f"Ray's overhead ≤ 15% of the default engine's time at {len(arts)} articles",
             "measured": f"{100 * overhead:.0f}% ({local:.1f} s → {ray_t:.1f} s, whole process, best of "
                         f"{args.rounds})", "met": "yes" if overhead <= 0.15 else "no"}]
    body = [__doc__.split("\n", 2)[2].strip(), "",
            f"{len(arts)} articles ({sum(a.id in {e.id for e in ecb} for a in arts)} ECB+, the rest GVA); "
            f"rounds: {args.rounds}; this machine's 2 cores are all the cluster has. Starting and stopping a local "
            f"Ray with nothing to do takes {start_stop.seconds:.1f} s; the actors' start and model load come on top.",
            "",
            "## Targets", "", markdown_table(rows, ["target", "measured", "met"]), "",
            "## Runs (seconds, whole process)", "",
            markdown_table([{"command": f"cluster --engine {e}", "seconds": ", ".join(f"{s:.1f}" for s in v)}
                            for e, v in times.items()]
                           + [{"command": f"dedup --engine {e}", "seconds": f"{v:.1f}"}
                              for e, v in dedup_times.items()], ["command", "seconds"]), "",
            "## Embedding step, articles/s per round", "",
            f"Plain processes' CPU time per article, best of the rounds: {cpu[1]:.1f} ms alone, {cpu[2]:.1f} ms with "
            "two at once (the two cores slow each other down: shared cache and memory bandwidth, and a host that "
            "gives this machine's two virtual cores more or less of itself from minute to minute).", "",
            markdown_table([{"round": k + 1, **{f"{kind} {w}": f"{r[(kind, w)]:.1f}" for kind, w in r},
                             "Ray 2 / 1": f"{r[('ray', 2)] / r[('ray', 1)]:.2f}",
                             "plain 2 / 1": f"{r[('plain', 2)] / r[('plain', 1)]:.2f}"} for k, r in enumerate(rounds)],
                           ["round", "ray 1", "ray 2", "plain 1", "plain 2", "Ray 2 / 1", "plain 2 / 1"]), ""]
    from storyclust.dedup import Deduplicator

    dd = Deduplicator()
    dd.check_all(arts)
    body += cost_model(speed[1], local, len(arts), dd.state_bytes / len(dd))
    out = write_results("scale_out", args.out, "Scale-out on Ray", "\n".join(body))
    print(f"wrote {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
